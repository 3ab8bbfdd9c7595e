// Swap preemption (docs/serving.md, "Preemption"): a preempted request's KV blocks copied to host
// memory over the host link and back, timed from the profile's own link figures; the copies'
// place in the iteration structure in closed form; swap against recomputation; the host swap
// space running out; bad input; determinism, and recompute as before.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "serving_util.hpp"
#include "workloads/serving/iteration_cost.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::serving {
namespace {

// Two requests at time 0, prompt 1000 and output 200 tokens, on a cache of 140 blocks of 16:
// request 0 prefills alone (its arrival starts the replica), request 1 in the next iteration with
// request 0's first decode, one token behind (63 blocks each). They decode together until request
// 0 holds 70 blocks (1120 tokens computed) and needs a 71st: request 1, the newest, is preempted
// with 70 blocks (1119 tokens computed, 120 generated). Request 0 then runs alone (up to 75 blocks,
// so the 71 request 1 needs to go on are not free) and request 1 resumes when it finishes.
nlohmann::json two_requests(const std::string& mode) {
  const std::string path = ::testing::TempDir() + "/swap_two.csv";
  std::ofstream(path) << "arrival_s,prompt_tokens,output_tokens\n0,1000,200\n0,1000,200\n";
  auto j = test::base_scenario();
  j["serving"].erase("lengths");
  j["serving"].erase("requests");
  j["serving"]["arrivals"] = {{"kind", "trace"}, {"file", path}};
  j["serving"]["kv_cache"] = {{"num_blocks", 140}};
  j["serving"]["preemption"] = mode;
  return j;
}

// The KV bytes of `tokens` tokens on one GPU, written out: K and V, each layer, kv_heads / tp heads
// of head_dim elements of 2 bytes (bf16).
double kv_bytes(double tokens, const nlohmann::json& model, int tp) {
  const double head_dim = model["hidden"].get<double>() / model["heads"].get<double>();
  return tokens * 2 * model["layers"].get<double>() * model["kv_heads"].get<double>() / tp * head_dim * 2;
}

// alpha + bytes / bandwidth of a host link, read from the profile's document.
double link_s(const ServingScenario& s, const char* cls, double bytes) {
  const auto& l = s.profile.json().at("links").at(cls);
  return l.at("alpha_s").at("value").get<double>() + bytes / l.at("bandwidth_Bps").at("value").get<double>();
}

TEST(ServingSwap, ClosedFormCopiesAndTheirPlaceInTheIterations) {
  const nlohmann::json js = two_requests("swap");
  const ServingScenario ss = test::parse(js), sr = test::parse(two_requests("recompute"));
  const ServingResult sw = simulate_serving(ss), rc = simulate_serving(sr);
  ASSERT_EQ(sw.requests.size(), 2u);
  EXPECT_EQ(sw.requests[0].preemptions, 0);
  EXPECT_EQ(sw.requests[1].preemptions, 1);
  EXPECT_EQ(rc.requests[1].preemptions, 1);
  EXPECT_EQ(sw.preemptions, 1);
  EXPECT_EQ(sw.swap.swap_outs, 1);
  EXPECT_EQ(sw.swap.swap_ins, 1);
  EXPECT_EQ(sw.swap.requests_swapped, 1);
  EXPECT_EQ(sw.swap.fallbacks, 0);
  // 70 blocks of 16 tokens each way: 146,800,640 bytes on the one GPU.
  const double bytes = kv_bytes(70 * 16, js["model"], 1);
  EXPECT_DOUBLE_EQ(bytes, 146800640.0);
  EXPECT_DOUBLE_EQ(sw.swap.bytes_out, bytes);
  EXPECT_DOUBLE_EQ(sw.swap.bytes_in, bytes);
  EXPECT_EQ(sw.swap.host_peak_blocks, 70);
  EXPECT_EQ(sw.swap.host_blocks_per_replica, std::int64_t(4 * 1073741824.0 / kv_bytes(16, js["model"], 1)));
  const double out_s = link_s(ss, "host_pinned_d2h", bytes), in_s = link_s(ss, "host_pinned_h2d", bytes);
  EXPECT_NEAR(sw.swap.out_s, out_s, 1e-12 * out_s);
  EXPECT_NEAR(sw.swap.in_s, in_s, 1e-12 * in_s);
  // Request 0: the step that preempted is longer by the swap-out, and nothing else changes.
  const double ps = 1e-12;
  EXPECT_NEAR(sw.requests[0].e2e_s - rc.requests[0].e2e_s, out_s, 2 * ps);
  EXPECT_DOUBLE_EQ(sw.requests[1].ttft_s, rc.requests[1].ttft_s);
  // Request 1, after request 0 ends: recomputation prefills its 1,120 tokens (the prompt and the
  // 120 generated) in one iteration that samples token 121; swap copies its 1,119 tokens back and
  // decodes one token on 1,120 of context. From there both decode the same 79 tokens alone.
  IterationCost cost(ss);
  const double prefill = cost.iteration_s(1120, cost.prefill_attention_s(1120, 0), 1, false);
  const double decode = cost.iteration_s(1, cost.decode_attention_s(1120), 1, true);
  const double expected = out_s + in_s + decode - prefill;
  EXPECT_NEAR(sw.requests[1].e2e_s - rc.requests[1].e2e_s, expected, 4 * ps);
  EXPECT_LT(expected, 0);  // the copies (2 x 2.66 ms) are cheaper than the prefill they spare
  std::printf(
      "swap: out %.6f ms, in %.6f ms (expected %.6f, %.6f); request 1 end %+.6f ms against recompute "
      "(expected %+.6f: prefill %.6f ms, decode %.6f ms)\n",
      1e3 * sw.swap.out_s, 1e3 * sw.swap.in_s, 1e3 * out_s, 1e3 * in_s,
      1e3 * (sw.requests[1].e2e_s - rc.requests[1].e2e_s), 1e3 * expected, 1e3 * prefill, 1e3 * decode);
}

nlohmann::json loaded(int prompt, int output, int blocks, const std::string& mode) {
  auto j = test::base_scenario();
  j["serving"]["lengths"] = {{"prompt_tokens", prompt}, {"output_tokens", output}};
  j["serving"]["kv_cache"] = {{"num_blocks", blocks}};
  j["serving"]["arrivals"]["rate_per_s"] = 1;
  j["serving"]["requests"] = 200;
  j["serving"]["preemption"] = mode;
  return j;
}

// Long prompts: a recomputation prefills thousands of tokens again (tens of ms of GEMMs); their
// KV crosses the host link at ~55 GB/s twice in a few ms.
TEST(ServingSwap, BeatsRecomputationOnLongPrompts) {
  const ServingResult sw = simulate_serving(test::parse(loaded(6000, 1024, 1500, "swap")));
  const ServingResult rc = simulate_serving(test::parse(loaded(6000, 1024, 1500, "recompute")));
  EXPECT_GT(rc.preemptions, 50);
  EXPECT_GT(sw.swap.swap_outs, 50);
  EXPECT_EQ(sw.swap.fallbacks, 0);
  EXPECT_EQ(sw.swap.swap_outs, sw.preemptions);
  EXPECT_EQ(sw.swap.swap_ins, sw.swap.swap_outs);
  EXPECT_LT(sw.e2e.mean, rc.e2e.mean);
  EXPECT_LT(sw.duration_s, rc.duration_s);
  std::printf("long prompts: mean E2EL swap %.3f s (%lld preemptions), recompute %.3f s (%lld)\n", sw.e2e.mean,
              static_cast<long long>(sw.preemptions), rc.e2e.mean, static_cast<long long>(rc.preemptions));
}

TEST(ServingSwap, FullSwapSpaceFallsBackToRecomputation) {
  // No swap space: every preemption is recomputed and counted; the run is recompute's.
  auto none = loaded(6000, 1024, 1500, "swap");
  none["serving"]["swap_space_GiB"] = 0;
  const ServingResult z = simulate_serving(test::parse(none));
  const ServingResult rc = simulate_serving(test::parse(loaded(6000, 1024, 1500, "recompute")));
  EXPECT_EQ(z.swap.host_blocks_per_replica, 0);
  EXPECT_EQ(z.swap.swap_outs, 0);
  EXPECT_EQ(z.swap.fallbacks, rc.preemptions);
  EXPECT_EQ(z.preemptions, rc.preemptions);
  EXPECT_EQ(requests_json(z).dump(), requests_json(rc).dump());
  // 0.5 GiB (256 blocks of 2 MiB): a victim whose blocks do not fit in what is free of it (the
  // newest running request is often a prompt part-prefilled, with fewer blocks) is recomputed.
  auto half = loaded(6000, 1024, 1500, "swap");
  half["serving"]["swap_space_GiB"] = 0.5;
  const ServingResult o = simulate_serving(test::parse(half));
  const ServingResult sw = simulate_serving(test::parse(loaded(6000, 1024, 1500, "swap")));
  EXPECT_EQ(o.swap.host_blocks_per_replica, 256);
  EXPECT_GT(o.swap.swap_outs, 0);
  EXPECT_GT(o.swap.fallbacks, 0);
  EXPECT_EQ(o.swap.swap_outs + o.swap.fallbacks, o.preemptions);
  EXPECT_EQ(o.swap.swap_ins, o.swap.swap_outs);
  EXPECT_LE(o.swap.host_peak_blocks, 256);
  EXPECT_EQ(sw.swap.fallbacks, 0);  // 4 GiB: room for every victim
  EXPECT_GT(o.e2e.mean, sw.e2e.mean);
  EXPECT_LT(o.e2e.mean, rc.e2e.mean);
  std::printf("0.5 GiB of swap: %lld swap-outs, %lld recomputed; mean E2EL %.3f s (4 GiB %.3f s, recompute %.3f s)\n",
              static_cast<long long>(o.swap.swap_outs), static_cast<long long>(o.swap.fallbacks), o.e2e.mean,
              sw.e2e.mean, rc.e2e.mean);
}

void expect_error(const nlohmann::json& j, const std::string& what) {
  try {
    (void)simulate_serving(test::parse(j));
    ADD_FAILURE() << "no error for " << what;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(ServingSwap, BadInput) {
  auto j = loaded(512, 64, 0, "swapp");
  j["serving"].erase("kv_cache");
  expect_error(j, "<test>: $.serving.preemption: expected");
  j["serving"]["preemption"] = "swap";
  j["serving"]["swap_space_GiB"] = -1;
  expect_error(j, "<test>: $.serving.swap_space_GiB: expected GiB of host memory per GPU, >= 0");
  j["serving"]["preemption"] = "recompute";
  j["serving"]["swap_space_GiB"] = 4;
  expect_error(j, "<test>: $.serving.swap_space_GiB: expected no swap_space_GiB with preemption \"recompute\"");
  auto d = test::base_scenario();
  d["serving"].erase("replicas");
  d["serving"]["disaggregated"] = {{"prefill_replicas", 1}, {"decode_replicas", 1}};
  d["serving"]["preemption"] = "swap";
  expect_error(d, "<test>: $.serving.preemption: expected \"recompute\" with disaggregated");
  // A profile without a host-link figure: the profile and its field named, no default.
  auto prof = test::parse(test::base_scenario()).profile.json();
  prof["links"].erase("host_pinned_h2d");
  const std::string path = ::testing::TempDir() + "/swap_nolink.json";
  std::ofstream(path) << prof.dump();
  auto p = loaded(512, 64, 0, "swap");
  p["serving"].erase("kv_cache");
  p["profile"] = path;
  expect_error(p, path + ": $.links.host_pinned_h2d: expected a link class this profile has");
  p["serving"]["preemption"] = "recompute";
  EXPECT_NO_THROW((void)test::parse(p));  // recompute needs no host link
}

TEST(ServingSwap, DeterministicAndRecomputeAsBefore) {
  const auto j = loaded(6000, 1024, 1500, "swap");
  const ServingResult a = simulate_serving(test::parse(j)), b = simulate_serving(test::parse(j));
  EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
  EXPECT_EQ(requests_json(a).dump(), requests_json(b).dump());
  // "recompute" is the default: the same result as without the key, and no "swap" in it.
  auto r = loaded(6000, 1024, 1500, "recompute");
  const ServingResult x = simulate_serving(test::parse(r));
  r["serving"].erase("preemption");
  const ServingResult y = simulate_serving(test::parse(r));
  EXPECT_EQ(to_json(x).dump(), to_json(y).dump());
  EXPECT_EQ(requests_json(x).dump(), requests_json(y).dump());
  EXPECT_FALSE(to_json(x).contains("swap"));
  EXPECT_FALSE(x.provenance.contains("preemption"));
  EXPECT_TRUE(to_json(a).contains("swap"));
}

}  // namespace
}  // namespace knee::serving

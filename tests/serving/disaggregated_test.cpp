// Disaggregated prefill and decode: the KV cache crosses the simulated fabric, its time from the
// flow network (so transfers that share a link slow each other down).
#include <gtest/gtest.h>

#include <fstream>

#include "serving_util.hpp"
#include "workloads/model/model_shape.hpp"

namespace knee::serving {
namespace {

// Two servers; prefill replicas on the first, decode replicas on the second (rank order).
nlohmann::json disaggregated(int prefill, int decode) {
  auto j = test::base_scenario();
  j["nodes"] = 2;
  j["serving"].erase("replicas");
  j["serving"]["disaggregated"] = {{"prefill_replicas", prefill}, {"decode_replicas", decode}};
  return j;
}

TEST(ServingDisaggregated, ConservedAndEveryKvSent) {
  auto j = disaggregated(8, 8);
  j["serving"]["requests"] = 2000;
  j["serving"]["arrivals"]["rate_per_s"] = 60;
  j["serving"]["lengths"] = {{"prompt_tokens", {{"kind", "lognormal"}, {"mean", 1500}, {"cv", 1}}},
                             {"output_tokens", {{"kind", "uniform"}, {"min", 1}, {"max", 200}}}};
  const auto r = simulate_once(test::parse(j));
  ASSERT_EQ(r.completed, 2000);
  std::int64_t gaps = 0, sent = 0;
  for (const auto& q : r.requests) {
    gaps += q.output_tokens - 1;
    if (q.output_tokens > 1) {  // a one-token output ends on the prefill replica
      ++sent;
      EXPECT_GT(q.kv_transfer_s, 0);
      EXPECT_GE(q.replica, 8);  // finished on a decode replica
    }
  }
  EXPECT_EQ(r.itl.count, gaps);
  EXPECT_EQ(r.kv_transfer.count, sent);
}

TEST(ServingDisaggregated, LoneTransferAtTheNicRate) {
  auto j = disaggregated(1, 1);
  j["serving"]["requests"] = 1;
  j["serving"]["lengths"] = {{"prompt_tokens", 4000}, {"output_tokens", 50}};
  // GPU 0 and GPU 1 of one server are both on the first server: put the decode replica on the
  // second by giving the prefill pool all eight GPUs of the first.
  j["serving"]["disaggregated"]["prefill_replicas"] = 8;
  const auto s = test::parse(j);
  const auto r = simulate_once(s);
  ASSERT_EQ(r.requests[0].replica, 8);
  const double bytes = 4000 * model::kv_bytes_per_token(s.model);
  const double wire = bytes / s.cluster.system.nic_Bps;
  // No faster than the NIC's line rate; no slower than NCCL's efficiency on it (0.94) allows,
  // with the path's latencies (microseconds).
  EXPECT_GE(r.requests[0].kv_transfer_s, wire);
  EXPECT_LE(r.requests[0].kv_transfer_s, wire / 0.94 * 1.01 + 20e-6);
  // Against the same request co-located: the same prefill, and the end later by the transfer.
  auto c = test::base_scenario();
  c["serving"]["requests"] = 1;
  c["serving"]["lengths"] = j["serving"]["lengths"];
  const auto co = simulate_once(test::parse(c));
  EXPECT_DOUBLE_EQ(r.requests[0].ttft_s, co.requests[0].ttft_s);
  EXPECT_NEAR(r.requests[0].e2e_s - co.requests[0].e2e_s, r.requests[0].kv_transfer_s, 1e-11);
}

TEST(ServingDisaggregated, TransfersIntoOneNicShareIt) {
  // Two prefill replicas on the first server, one decode replica on the second: two requests at
  // once finish their prefills together and both send into the decode GPU's one NIC.
  const std::string trace = ::testing::TempDir() + "/serving_disagg_trace.csv";
  std::ofstream(trace) << "arrival_s,prompt_tokens,output_tokens\n0,4000,20\n0,4000,20\n";
  auto j = disaggregated(8, 1);
  j["serving"].erase("lengths");
  j["serving"].erase("requests");
  j["serving"]["arrivals"] = {{"kind", "trace"}, {"file", trace}};
  const auto both = simulate_once(test::parse(j));
  std::ofstream(trace) << "arrival_s,prompt_tokens,output_tokens\n0,4000,20\n";
  const auto one = simulate_once(test::parse(j));
  ASSERT_EQ(both.completed, 2);
  for (const auto& q : both.requests) EXPECT_GT(q.kv_transfer_s, 1.9 * one.requests[0].kv_transfer_s);
}

TEST(ServingDisaggregated, PoolsAreChecked) {
  auto j = disaggregated(8, 8);
  j["serving"]["replicas"] = 16;
  EXPECT_THROW(test::parse(j), InputError);
  j = disaggregated(12, 8);  // 20 replicas of one GPU on 16 GPUs
  try {
    test::parse(j);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.serving.disaggregated: expected at most gpus / tp"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace knee::serving

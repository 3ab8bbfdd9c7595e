// Prefix caching and the prefix-aware router (docs/serving.md, "Prefix caching"): exact hits and
// TTFTs of multi-turn sessions served one at a time, eviction with a small cache and its block
// conservation, affinity against round robin, caching off as before, bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "serving_util.hpp"
#include "workloads/serving/iteration_cost.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::serving {
namespace {

struct Row {
  double arrival_s;
  int prompt, output;
  std::string session;
};

// Turns of sessions, each prompt the previous turn's context plus a new user message (so the
// shared prefix is the previous prompt + output), 20 s apart: each is served alone.
std::vector<Row> chat_rows(int sessions, int turns) {
  std::vector<Row> rows;
  std::map<std::string, int> context;
  double t = 0;
  for (int k = 0; k < turns; ++k)
    for (int s = 0; s < sessions; ++s) {
      const std::string id = "s" + std::to_string(s);
      const int prompt = context[id] + 100 + 37 * s + 11 * k;               // the first turn: 100 + 37 s tokens
      const int output = 20 + 13 * s + 5 * k + (s == 0 && k == 0 ? 8 : 0);  // 100 + 28: 8 whole blocks
      rows.push_back({t, prompt, output, id});
      context[id] = prompt + output;
      t += 20;
    }
  return rows;
}

std::string write_trace(const std::string& name, const std::vector<Row>& rows, bool sessions = true) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream f(path);
  f << "# synthetic test trace\narrival_s,prompt_tokens,output_tokens" << (sessions ? ",session_id" : "") << "\n";
  for (const Row& r : rows)
    f << r.arrival_s << "," << r.prompt << "," << r.output << (sessions ? "," + r.session : "") << "\n";
  return path;
}

nlohmann::json trace_scenario(const std::string& trace, bool caching) {
  auto j = test::base_scenario();
  j["serving"].erase("lengths");
  j["serving"].erase("requests");
  j["serving"]["arrivals"] = {{"kind", "trace"}, {"file", trace}};
  j["serving"]["prefix_caching"] = caching;
  return j;
}

// What each turn finds cached (the closed form): the previous turn's computed tokens (prompt +
// output - 1: the last token is sampled, not fed back) in whole blocks of 16, within prompt - 1.
std::vector<std::int64_t> expected_hits(const std::vector<Row>& rows) {
  std::map<std::string, std::int64_t> prev;  // session -> previous prompt + output
  std::vector<std::int64_t> hit;
  for (const Row& r : rows) {
    const auto it = prev.find(r.session);
    const std::int64_t shared = it == prev.end() ? 0 : std::min<std::int64_t>(it->second, r.prompt);
    hit.push_back(it == prev.end() ? 0
                                   : std::min(it->second - 1, std::min<std::int64_t>(shared, r.prompt - 1)) / 16 * 16);
    prev[r.session] = r.prompt + r.output;
  }
  return hit;
}

TEST(PrefixCache, TurnsHitTheirPreviousContextExactly) {
  const auto rows = chat_rows(3, 4);
  const auto s = test::parse(trace_scenario(write_trace("prefix_turns.csv", rows), true));
  const auto r = simulate_once(s);
  ASSERT_EQ(r.completed, std::int64_t(rows.size()));
  const auto hits = expected_hits(rows);
  std::int64_t cached = 0, prompts = 0;
  IterationCost c(s);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& q = r.requests[i];
    EXPECT_EQ(q.cached_tokens, hits[i]) << i;
    cached += hits[i];
    prompts += rows[i].prompt;
    // Alone on the replica: TTFT is one iteration prefilling only the uncached tokens, with
    // attention over the whole context (the cost model's chunk after `hit` cached tokens).
    const std::int64_t rest = rows[i].prompt - hits[i];
    const TimePs prefill = s_to_ps_ceil(c.iteration_s(rest, c.prefill_attention_s(rest, hits[i]), 1, false));
    EXPECT_DOUBLE_EQ(q.ttft_s, ps_to_s(prefill)) << i;
  }
  EXPECT_GT(hits[3], 0);
  // 128 tokens of context, 127 computed: 7 whole blocks cached, not 8.
  EXPECT_EQ(rows[0].prompt + rows[0].output, 128);
  EXPECT_EQ(hits[3], 112);
  ASSERT_TRUE(r.prefix_cache.on);
  EXPECT_EQ(r.prefix_cache.cached_prompt_tokens, cached);
  EXPECT_EQ(r.prefix_cache.prompt_tokens_computed, prompts - cached);
  EXPECT_DOUBLE_EQ(r.prefix_cache.hit_rate, double(cached) / double(prompts));
  EXPECT_EQ(r.prefix_cache.hit_requests, 9);
  EXPECT_EQ(r.prefix_cache.evicted_blocks, 0);

  // The same trace without caching: every TTFT of a hit turn strictly longer, none shorter.
  const auto off = simulate_once(test::parse(trace_scenario(write_trace("prefix_turns.csv", rows), false)));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(off.requests[i].cached_tokens, 0);
    if (hits[i] > 0) {
      EXPECT_LT(r.requests[i].ttft_s, off.requests[i].ttft_s) << i;
    } else {
      EXPECT_DOUBLE_EQ(r.requests[i].ttft_s, off.requests[i].ttft_s) << i;
    }
  }
  const auto j = to_json(r);
  ASSERT_TRUE(j.contains("prefix_cache"));
  EXPECT_DOUBLE_EQ(j["prefix_cache"]["hit_rate"].get<double>(), r.prefix_cache.hit_rate);
  EXPECT_EQ(to_json(simulate_once(s)).dump(), j.dump());  // deterministic
}

TEST(PrefixCache, SmallCacheEvictsAndConservesBlocks) {
  const auto rows = chat_rows(6, 4);
  const std::string trace = write_trace("prefix_evict.csv", rows);
  auto j = trace_scenario(trace, true);
  const auto ample = simulate_once(test::parse(j));
  std::int64_t longest = 0;
  for (const Row& r : rows) longest = std::max<std::int64_t>(longest, r.prompt + r.output);
  // Room for the longest request and a little more: the sessions' contexts do not all fit.
  const std::int64_t blocks = (longest + 15) / 16 + 40;
  j["serving"]["kv_cache"] = {{"num_blocks", blocks}};
  const auto small = simulate_once(test::parse(j));
  ASSERT_EQ(small.completed, std::int64_t(rows.size()));
  EXPECT_GT(small.prefix_cache.evicted_blocks, 0);
  EXPECT_LT(small.prefix_cache.cached_prompt_tokens, ample.prefix_cache.cached_prompt_tokens);
  EXPECT_GT(small.prefix_cache.cached_prompt_tokens, 0);  // the most recent session still hits
  ASSERT_EQ(small.prefix_cache.free_blocks_end.size(), 1u);
  EXPECT_EQ(small.prefix_cache.in_use_blocks_end[0], 0);
  EXPECT_GT(small.prefix_cache.cached_blocks_end[0], 0);
  EXPECT_EQ(small.prefix_cache.free_blocks_end[0] + small.prefix_cache.cached_blocks_end[0] +
                small.prefix_cache.in_use_blocks_end[0],
            blocks);
  EXPECT_LE(small.kv_peak_fraction, 1.0);  // cached blocks are not "in use"

  // Many sessions at once on the small cache: requests still complete, the blocks still add up.
  std::vector<Row> busy = rows;
  for (std::size_t i = 0; i < busy.size(); ++i) busy[i].arrival_s = 0.05 * double(i);
  j["serving"]["arrivals"]["file"] = write_trace("prefix_evict_busy.csv", busy);
  const auto b = simulate_once(test::parse(j));
  ASSERT_EQ(b.completed, std::int64_t(busy.size()));
  EXPECT_EQ(b.prefix_cache.free_blocks_end[0] + b.prefix_cache.cached_blocks_end[0], blocks);
  EXPECT_EQ(b.prefix_cache.in_use_blocks_end[0], 0);
}

TEST(PrefixCache, PrefixAwareRouterKeepsSessionsOnTheirReplica) {
  const auto rows = chat_rows(3, 4);  // 3 sessions over 2 replicas: round robin moves them
  auto j = trace_scenario(write_trace("prefix_router.csv", rows), true);
  j["serving"]["replicas"] = 2;
  const auto rr = simulate_once(test::parse(j));
  j["serving"]["router"] = "prefix_aware";
  const auto pa = simulate_once(test::parse(j));
  std::int64_t closed = 0;
  for (std::int64_t h : expected_hits(rows)) closed += h;
  EXPECT_EQ(pa.prefix_cache.cached_prompt_tokens, closed);  // every turn back on its session's replica
  EXPECT_LT(rr.prefix_cache.cached_prompt_tokens, pa.prefix_cache.cached_prompt_tokens);
  EXPECT_GT(rr.prefix_cache.cached_prompt_tokens, 0);
  EXPECT_EQ(rr.prefix_cache.free_blocks_end.size(), 2u);
  // Without caching the router still routes (affinity only): the same replicas, no hits.
  j["serving"]["prefix_caching"] = false;
  const auto aff = simulate_once(test::parse(j));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(aff.requests[i].replica, pa.requests[i].replica) << i;
    EXPECT_EQ(aff.requests[i].cached_tokens, 0);
  }
}

TEST(PrefixCache, PrefixAwareRouterBalancesALoadedReplica) {
  // Session s0's replica 0 is busy with a long request when s0's second turn arrives: past twice
  // the idle replica's load and one token budget above it, the turn goes to replica 1.
  const std::string trace = ::testing::TempDir() + "/prefix_balance.csv";
  std::ofstream(trace) << "arrival_s,prompt_tokens,output_tokens,session_id\n0,200,10,s0\n5,7000,1000,\n"
                          "5.001,300,10,s0\n";
  auto j = trace_scenario(trace, true);
  j["serving"]["replicas"] = 2;
  j["serving"]["router"] = "prefix_aware";
  j["serving"]["batching"] = {{"max_tokens_per_iter", 4096}};
  const auto r = simulate_once(test::parse(j));
  EXPECT_EQ(r.requests[0].replica, 0);
  EXPECT_EQ(r.requests[1].replica, 0);  // both idle: ties to the lowest
  EXPECT_EQ(r.requests[2].replica, 1);
  EXPECT_EQ(r.requests[2].cached_tokens, 0);
}

TEST(PrefixCache, OffIsAsBefore) {
  // Without caching, session ids change nothing: the same trace without them gives identical
  // results, with no prefix_cache key; prefix_caching: false is the default.
  const auto rows = chat_rows(3, 3);
  auto with = trace_scenario(write_trace("prefix_off_a.csv", rows, true), false);
  auto without = trace_scenario(write_trace("prefix_off_b.csv", rows, false), false);
  without["serving"].erase("prefix_caching");
  for (auto* j : {&with, &without}) {
    (*j)["serving"]["replicas"] = 2;
    (*j)["serving"]["router"] = "least_outstanding_tokens";
  }
  const auto a = simulate_once(test::parse(with)), b = simulate_once(test::parse(without));
  auto ja = to_json(a), jb = to_json(b);
  EXPECT_FALSE(ja.contains("prefix_cache"));
  EXPECT_EQ(ja.dump(), jb.dump());
  EXPECT_EQ(requests_json(a).dump(), requests_json(b).dump());
}

TEST(PrefixCache, BadInputNamesTheField) {
  auto j = test::base_scenario();
  j["serving"]["prefix_caching"] = "yes";
  EXPECT_NE(test::parse_error(j).find("$.serving.prefix_caching"), std::string::npos) << test::parse_error(j);
  j = test::base_scenario();
  j["serving"]["router"] = "cache_aware";
  const std::string e = test::parse_error(j);
  EXPECT_NE(e.find("$.serving.router"), std::string::npos) << e;
  EXPECT_NE(e.find("prefix_aware"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  j = test::base_scenario();
  j["serving"].erase("replicas");
  j["serving"]["disaggregated"] = {{"prefill_replicas", 1}, {"decode_replicas", 1}};
  j["serving"]["prefix_caching"] = true;
  EXPECT_NE(test::parse_error(j).find("$.serving.prefix_caching"), std::string::npos) << test::parse_error(j);
  // A JSON trace's session_id: a string or an integer.
  const std::string trace = ::testing::TempDir() + "/prefix_bad.json";
  std::ofstream(trace) << R"([{"arrival_s": 0, "prompt_tokens": 10, "output_tokens": 2, "session_id": 1.5}])";
  const std::string t = test::parse_error(trace_scenario(trace, true));
  EXPECT_NE(t.find("session_id"), std::string::npos) << t;
}

}  // namespace
}  // namespace knee::serving

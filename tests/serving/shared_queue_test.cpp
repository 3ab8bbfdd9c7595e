// The shared_queue router (one FIFO queue at the router, a replica takes a request only while it
// holds fewer than max_ongoing) against queueing theory: c replicas serving one request at a time
// with geometric output lengths are an M/M/c queue (Erlang C), up to the service's shape.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "serving_util.hpp"
#include "workloads/serving/iteration_cost.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::serving {
namespace {

// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load a = lambda E[S].
double erlang_c(int c, double a) {
  double term = 1, sum = 1;  // a^k / k!, k = 0 .. c - 1
  for (int k = 1; k < c; ++k) {
    term *= a / k;
    sum += term;
  }
  const double last = term * a / c * c / (c - a);  // a^c / c! x c / (c - a)
  return last / (sum + last);
}

// Mean of x and its standard error from B batch means of consecutive values (the values are
// correlated; batches much longer than the correlation are nearly independent).
struct BatchMean {
  double mean = 0, se = 0;
};
BatchMean batch_means(const std::vector<double>& x, int B = 20) {
  const std::size_t per = x.size() / std::size_t(B);
  std::vector<double> m(std::size_t(B), 0);
  BatchMean r;
  for (int b = 0; b < B; ++b) {
    for (std::size_t i = 0; i < per; ++i) m[std::size_t(b)] += x[std::size_t(b) * per + i];
    m[std::size_t(b)] /= double(per);
    r.mean += m[std::size_t(b)] / B;
  }
  double var = 0;
  for (double v : m) var += (v - r.mean) * (v - r.mean) / (B - 1);
  r.se = std::sqrt(var / B);
  return r;
}

constexpr int kC = 4;
constexpr double kMeanOutput = 100, kRho = 0.7;

// kC replicas, one request at a time each (max_batch 1, max_ongoing 1), a 1-token prompt and
// geometric outputs: a request's service is one prefill iteration and a geometric number of decode
// iterations of nearly one length (8B weights read per iteration; a context of ~100 tokens adds
// 0.1% of KV reads).
nlohmann::json mmc_scenario(std::int64_t requests) {
  auto j = test::base_scenario();
  j["serving"]["replicas"] = kC;
  j["serving"]["router"] = "shared_queue";
  j["serving"]["max_ongoing"] = 1;
  j["serving"]["batching"] = {{"max_batch", 1}, {"max_tokens_per_iter", 1024}};
  j["serving"]["lengths"] = {{"prompt_tokens", 1}, {"output_tokens", {{"kind", "geometric"}, {"mean", kMeanOutput}}}};
  j["serving"]["requests"] = requests;
  // The rate for rho = 0.7 from the cost model's E[S] = prefill + (mean - 1) decodes.
  const ServingScenario s = test::parse(j);
  IterationCost c(s);  // holds a reference to the scenario
  const double prefill = c.iteration_s(1, c.prefill_attention_s(1, 0), 1, false);
  const double decode = c.iteration_s(1, c.decode_attention_s(kMeanOutput), 1, true);
  j["serving"]["arrivals"]["rate_per_s"] = kRho * kC / (prefill + (kMeanOutput - 1) * decode);
  return j;
}

TEST(ServingSharedQueue, MMcMatchesErlangC) {
  const auto j = mmc_scenario(400000);
  const auto s = test::parse(j);
  const ServingResult r = simulate_once(s);
  ASSERT_EQ(r.completed, 400000);
  const double lambda = s.serving.arrivals.rate_per_s;
  // Service times from the run itself: first scheduled to last token (one request at a time).
  std::vector<double> S, wait, waited, out;
  for (const auto& q : r.requests) {
    S.push_back(q.e2e_s - q.queue_s);
    wait.push_back(q.queue_s);
    waited.push_back(q.queue_s > 0 ? 1 : 0);
    out.push_back(q.output_tokens);
  }
  double ES = 0, ES2 = 0;
  for (double x : S) ES += x / double(S.size());
  for (double x : S) ES2 += (x - ES) * (x - ES) / double(S.size() - 1);
  const double cv2 = ES2 / (ES * ES);
  // The geometric draws: mean 100 within 4 standard errors (sd sqrt(1 - p) / p, i.i.d.).
  const BatchMean n = batch_means(out);
  EXPECT_NEAR(n.mean, kMeanOutput, 4 * std::sqrt(1 - 1 / kMeanOutput) * kMeanOutput / std::sqrt(4e5));
  const double a = lambda * ES, C = erlang_c(kC, a);
  const double Wq = C * ES / (kC - a);
  // Model error: the service is a geometric count (CV^2 = 1 - p = 0.99) of nearly equal iterations
  // plus a prefill, not exponential. Allen-Cunneen: W_q(M/G/c) ~ W_q(M/M/c) (1 + CV^2) / 2, so the
  // M/M/c value is off by W_q |1 - CV^2| / 2 (0.5% here); the same relative bound is allowed for
  // P(wait > 0), which M/G/c approximations leave at Erlang C.
  const double model = std::abs(1 - cv2) / 2;
  const BatchMean w = batch_means(wait), pw = batch_means(waited);
  EXPECT_NEAR(a / kC, kRho, 0.02);  // the utilization asked for
  EXPECT_LT(w.se, 0.05 * Wq);       // enough requests for the check to mean something
  EXPECT_NEAR(w.mean, Wq, 4 * w.se + model * Wq)
      << "E[S] " << ES << " s, CV^2 " << cv2 << ", a " << a << ", C " << C << ", se " << w.se;
  EXPECT_NEAR(pw.mean, C, 4 * pw.se + model * C) << "se " << pw.se;
  EXPECT_GT(cv2, 0.9);
  EXPECT_LT(cv2, 1.05);
  std::printf(
      "M/M/%d: rho %.4f, E[S] %.4f s, CV^2 %.4f; W_q %.4f s simulated, Erlang C %.4f s (se %.4f, model %.4f); "
      "P(wait) %.4f simulated, C(c, a) %.4f (se %.4f)\n",
      kC, a / kC, ES, cv2, w.mean, Wq, w.se, model * Wq, pw.mean, C, pw.se);
}

TEST(ServingSharedQueue, BeatsRoundRobin) {
  // The same arrivals and lengths: one queue for 4 servers against 4 queues fed in turn.
  auto j = mmc_scenario(20000);
  const ServingResult shared = simulate_once(test::parse(j));
  j["serving"]["router"] = "round_robin";
  j["serving"].erase("max_ongoing");
  const ServingResult rr = simulate_once(test::parse(j));
  EXPECT_LT(shared.queue.mean, 0.5 * rr.queue.mean) << shared.queue.mean << " against " << rr.queue.mean;
  EXPECT_LT(shared.e2e.mean, rr.e2e.mean);
  std::printf("mean wait: shared_queue %.4f s, round_robin %.4f s\n", shared.queue.mean, rr.queue.mean);
}

// One replica: the shared queue hands it each request as the replica's own queue would have
// admitted it, so the per-request table is the same as round robin's (max_ongoing = max_batch, the
// default), with batching, chunked prefill and preemption in play.
TEST(ServingSharedQueue, OneReplicaIsTheReplicaItself) {
  auto j = test::base_scenario();
  j["serving"]["batching"] = {{"max_batch", 8}, {"max_tokens_per_iter", 1024}};
  j["serving"]["lengths"] = {{"prompt_tokens", {{"kind", "lognormal"}, {"mean", 600}, {"cv", 1}}},
                             {"output_tokens", {{"kind", "geometric"}, {"mean", 80}}}};
  j["serving"]["arrivals"]["rate_per_s"] = 20;
  j["serving"]["requests"] = 400;
  j["serving"]["kv_cache"] = {{"num_blocks", 300}};  // 4,800 tokens: preemptions
  const ServingResult rr = simulate_once(test::parse(j));
  j["serving"]["router"] = "shared_queue";
  const ServingResult sq = simulate_once(test::parse(j));
  EXPECT_GT(rr.preemptions, 0);
  EXPECT_GT(rr.queue.mean, 0);
  EXPECT_EQ(requests_json(rr).dump(), requests_json(sq).dump());
  // And one request at a time.
  j["serving"]["batching"] = {{"max_batch", 1}, {"max_tokens_per_iter", 1024}};
  j["serving"].erase("kv_cache");
  const ServingResult sq1 = simulate_once(test::parse(j));
  j["serving"]["router"] = "round_robin";
  const ServingResult rr1 = simulate_once(test::parse(j));
  EXPECT_EQ(requests_json(rr1).dump(), requests_json(sq1).dump());
  EXPECT_EQ(sq.provenance["max_ongoing"], 8);
}

// max_ongoing above one: each replica holds up to that many (batched), the rest wait at the
// router; the fewest ongoing gets the next, so replicas fill evenly.
TEST(ServingSharedQueue, MaxOngoingBoundsEachReplica) {
  auto j = test::base_scenario();
  j["serving"]["replicas"] = 2;
  j["serving"]["router"] = "shared_queue";
  j["serving"]["max_ongoing"] = 3;
  j["serving"]["arrivals"]["rate_per_s"] = 200;  // far above what 2 replicas of 3 serve
  j["serving"]["requests"] = 300;
  const ServingResult r = simulate_once(test::parse(j));
  ASSERT_EQ(r.completed, 300);
  // At any time a replica holds at most 3: at each request's first scheduling, count the requests
  // of its replica scheduled and not finished.
  for (const auto& q : r.requests) {
    int held = 0;
    const double t = q.arrival_s + q.queue_s;
    for (const auto& o : r.requests)
      held += o.replica == q.replica && o.arrival_s + o.queue_s <= t + 1e-9 && o.arrival_s + o.e2e_s > t + 1e-9;
    ASSERT_LE(held, 3) << "at " << t;
  }
  int on0 = 0;
  for (const auto& q : r.requests) on0 += q.replica == 0;
  EXPECT_NEAR(on0, 150, 15);
  EXPECT_GT(r.queue.mean, 0.1);  // the router's queue counts in the wait
}

// With prefix caching a session's request goes to its last replica when that one is free.
TEST(ServingSharedQueue, PrefixCachingKeepsSessionsWhenFree) {
  const std::string trace = ::testing::TempDir() + "/shared_queue_sessions.csv";
  {
    std::ofstream f(trace);
    f << "arrival_s,prompt_tokens,output_tokens,session_id\n";
    int ctx[2] = {0, 0};
    for (int k = 0; k < 8; ++k)
      for (int s = 0; s < 2; ++s) {
        const int prompt = ctx[s] + 100;
        f << 10 * (2 * k + s) << "," << prompt << ",20,s" << s << "\n";
        ctx[s] = prompt + 20;
      }
  }
  auto j = test::base_scenario();
  j["serving"].erase("lengths");
  j["serving"].erase("requests");
  j["serving"]["replicas"] = 2;
  j["serving"]["arrivals"] = {{"kind", "trace"}, {"file", trace}};
  j["serving"]["prefix_caching"] = true;
  j["serving"]["router"] = "shared_queue";
  const ServingResult sq = simulate_once(test::parse(j));
  j["serving"]["router"] = "prefix_aware";
  const ServingResult pa = simulate_once(test::parse(j));
  // Served one at a time (10 s apart): every turn after a session's first hits, as prefix_aware.
  EXPECT_EQ(sq.prefix_cache.hit_requests, 14);
  EXPECT_EQ(sq.prefix_cache.cached_prompt_tokens, pa.prefix_cache.cached_prompt_tokens);
}

TEST(ServingSharedQueue, BadInputNamesTheField) {
  auto j = mmc_scenario(10);
  j["serving"]["max_ongoing"] = 0;
  test::expect_parse_error(j, "$.serving.max_ongoing");
  j["serving"]["max_ongoing"] = 1.5;
  test::expect_parse_error(j, "$.serving.max_ongoing");
  j = mmc_scenario(10);
  j["serving"]["router"] = "round_robin";
  test::expect_parse_error(j, "$.serving.max_ongoing");
  j["serving"]["router"] = "least_outstanding_tokens";
  test::expect_parse_error(j, "$.serving.max_ongoing");
  j = mmc_scenario(10);
  j["serving"]["lengths"]["output_tokens"]["mean"] = 0.5;
  test::expect_parse_error(j, "$.serving.lengths.output_tokens.mean");
  j["serving"]["lengths"]["output_tokens"]["mean"] = 10;
  j["serving"]["lengths"]["output_tokens"]["min"] = 20;
  test::expect_parse_error(j, "$.serving.lengths.output_tokens.mean");
  j = test::base_scenario();
  j["serving"].erase("replicas");
  j["serving"]["disaggregated"] = {{"prefill_replicas", 1}, {"decode_replicas", 1}};
  j["serving"]["router"] = "shared_queue";
  test::expect_parse_error(j, "$.serving.router");
}

// Geometric lengths of mean 1 are all 1; a mean within [min, max] is kept there.
TEST(ServingSharedQueue, GeometricLengths) {
  auto j = test::base_scenario();
  j["serving"]["lengths"]["output_tokens"] = {{"kind", "geometric"}, {"mean", 1}};
  const ServingResult one = simulate_once(test::parse(j));
  for (const auto& q : one.requests) ASSERT_EQ(q.output_tokens, 1);
  j["serving"]["lengths"]["output_tokens"] = {{"kind", "geometric"}, {"mean", 30}, {"min", 10}, {"max", 40}};
  j["serving"]["requests"] = 2000;
  j["serving"]["arrivals"]["rate_per_s"] = 1;
  const ServingResult r = simulate_once(test::parse(j));
  int at_min = 0, at_max = 0;
  for (const auto& q : r.requests) {
    ASSERT_GE(q.output_tokens, 10);
    ASSERT_LE(q.output_tokens, 40);
    at_min += q.output_tokens == 10;
    at_max += q.output_tokens == 40;
  }
  // P(n <= 10) = 1 - (29/30)^10 = 0.288; P(n >= 40) = (29/30)^39 = 0.267 (sd of a count ~20).
  EXPECT_NEAR(at_min, 2000 * (1 - std::pow(29.0 / 30, 10)), 100);
  EXPECT_NEAR(at_max, 2000 * std::pow(29.0 / 30, 39), 100);
  EXPECT_NE(r.provenance["lengths"].get<std::string>().find("geometric, mean 30"), std::string::npos);
}

}  // namespace
}  // namespace knee::serving

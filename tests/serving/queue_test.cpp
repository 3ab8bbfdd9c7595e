// Queueing theory where it applies: one replica serving one request at a time, each a single
// prefill iteration of a fixed prompt (one output token), is an M/D/1 queue.
#include <gtest/gtest.h>

#include <cmath>

#include "serving_util.hpp"
#include "workloads/serving/iteration_cost.hpp"

namespace knee::serving {
namespace {

TEST(ServingQueue, MD1MeanWait) {
  auto j = test::base_scenario();
  j["serving"]["batching"] = {{"max_batch", 1}, {"max_tokens_per_iter", 1024}};
  j["serving"]["lengths"] = {{"prompt_tokens", 512}, {"output_tokens", 1}};
  j["serving"]["requests"] = 100000;
  auto s = test::parse(j);
  IterationCost c(s);
  // The service time as the simulation takes it: one iteration, rounded up to whole picoseconds.
  const double S = ps_to_s(s_to_ps_ceil(c.iteration_s(512, c.prefill_attention_s(512, 0), 1, false)));
  const double rho = 0.5, mu = 1 / S;
  j["serving"]["arrivals"]["rate_per_s"] = rho * mu;
  s = test::parse(j);
  const ServingResult r = simulate_once(s);
  ASSERT_EQ(r.completed, 100000);
  // Pollaczek-Khinchine for deterministic service: W = rho / (2 mu (1 - rho)).
  const double W = rho / (2 * mu * (1 - rho));
  // Tolerance from the run itself: 20 batch means of 5,000 consecutive requests (each much
  // longer than the queue's relaxation time, about S / (1 - sqrt(rho))^2 = 12 S), 4 standard errors.
  const int B = 20;
  const std::size_t per = r.requests.size() / B;
  double m[B], mean = 0;
  for (int b = 0; b < B; ++b) {
    m[b] = 0;
    for (std::size_t i = 0; i < per; ++i) m[b] += r.requests[std::size_t(b) * per + i].queue_s;
    m[b] /= double(per);
    mean += m[b] / B;
  }
  double var = 0;
  for (double x : m) var += (x - mean) * (x - mean) / (B - 1);
  const double se = std::sqrt(var / B);
  EXPECT_LT(se, 0.05 * W);  // enough requests for the check to mean something
  EXPECT_NEAR(r.queue.mean, W, 4 * se) << "S " << S << " s, se " << se;
  // Every request's first token comes one service time after it starts: TTFT = wait + S exactly.
  for (const auto& q : r.requests) ASSERT_NEAR(q.ttft_s - q.queue_s, S, 1e-12);
  // Utilization: busy time / duration is rho.
  EXPECT_NEAR(double(r.completed) * S / r.duration_s, rho, 0.02);
}

TEST(ServingQueue, LowLoadHasNoQueue) {
  auto j = test::base_scenario();
  j["serving"]["arrivals"]["rate_per_s"] = 0.01;  // gaps of 100 s, requests of well under 1 s
  j["serving"]["requests"] = 50;
  const auto r = simulate_once(test::parse(j));
  EXPECT_EQ(r.queue.p999, 0);
  EXPECT_EQ(r.preemptions, 0);
}

}  // namespace
}  // namespace knee::serving

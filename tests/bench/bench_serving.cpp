// Simulation speed of serving (docs/performance.md): one hour of traffic at 100 requests/s on 64
// GPUs (8 dgx-h200, 64 replicas of a Llama-3-8B-like model at TP 1): 360,000 requests.
#include <benchmark/benchmark.h>

#include "tests/serving/serving_util.hpp"
#include "workloads/serving/serving.hpp"

namespace {

// The tests' Llama-3-8B-like model (tests/serving/serving_util.hpp) on 8 servers, 64 replicas.
knee::serving::ServingScenario hour_at_100_rps(std::int64_t requests) {
  nlohmann::json j = knee::serving::test::base_scenario();
  j["nodes"] = 8;
  j["serving"] = {{"replicas", 64},
                  {"tp", 1},
                  {"arrivals", {{"kind", "poisson"}, {"rate_per_s", 100}}},
                  {"lengths",
                   {{"prompt_tokens", {{"kind", "lognormal"}, {"mean", 1024}, {"cv", 1}, {"max", 6144}}},
                    {"output_tokens", {{"kind", "lognormal"}, {"mean", 256}, {"cv", 1}, {"max", 2048}}}}},
                  {"router", "least_outstanding_tokens"},
                  {"requests", requests},
                  {"seed", 1}};
  return knee::serving::parse_serving_scenario(j, "<bench>");
}

void BM_Serving360kRequestsOn64Gpus(benchmark::State& st) {
  const auto s = hour_at_100_rps(360000);
  for (auto _ : st) {
    const auto r = knee::serving::simulate_once(s);
    benchmark::DoNotOptimize(r.ttft.p99);
    st.counters["iterations"] = double(r.iterations);
    st.counters["events"] = double(r.events);
  }
}
BENCHMARK(BM_Serving360kRequestsOn64Gpus)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Serving10kRequestsOn64Gpus(benchmark::State& st) {
  const auto s = hour_at_100_rps(10000);
  for (auto _ : st) benchmark::DoNotOptimize(knee::serving::simulate_once(s).ttft.p99);
}
BENCHMARK(BM_Serving10kRequestsOn64Gpus)->Unit(benchmark::kMillisecond);

}  // namespace
BENCHMARK_MAIN();

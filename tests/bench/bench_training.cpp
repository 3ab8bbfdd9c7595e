// Simulation speed of training steps and scaling sweeps (docs/workloads.md, Performance).
#include <benchmark/benchmark.h>

#include "workloads/training/training.hpp"

namespace {

knee::Scenario gpt3(std::int64_t gpus, std::int64_t pp, bool stragglers = false) {
  const std::int64_t nodes = gpus / 8, dp = gpus / (8 * pp);
  nlohmann::json j = {
      {"system", "dgx-h100"},
      {"nodes", nodes},
      {"gpus", gpus},
      {"model", {{"layers", 96}, {"hidden", 12288}, {"heads", 96}, {"seq_len", 2048}, {"vocab", 51200}}},
      {"parallelism",
       {{"tp", 8},
        {"pp", pp},
        {"dp", dp},
        {"micro_batch", 1},
        {"global_batch", 1536 / 16 * dp},
        {"sequence_parallel", true},
        {"zero", 1}}}};
  if (stragglers) j["stragglers"] = {{"from_profile", true}};  // one pipeline per replica
  return knee::parse_scenario(j, "<bench>");
}

void BM_Gpt175bOn1024(benchmark::State& st) {
  const auto s = gpt3(1024, 8);
  for (auto _ : st) benchmark::DoNotOptimize(knee::simulate(s).step_time_s);
}
BENCHMARK(BM_Gpt175bOn1024)->Unit(benchmark::kMillisecond);

// Every rank on one network (docs/workloads.md, "Folding and its limits"): 128 units of 8 GPUs,
// every send and every DP collective as flows; two runs (the second with free sends, for the
// bubble split) on two threads.
void BM_Gpt175bOn1024EveryRank(benchmark::State& st) {
  const auto s = gpt3(1024, 8);
  knee::SimOptions o;
  o.every_rank = true;
  for (auto _ : st) benchmark::DoNotOptimize(knee::simulate(s, o).step_time_s);
}
BENCHMARK(BM_Gpt175bOn1024EveryRank)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Gpt175bOn16384(benchmark::State& st) {
  const auto s = gpt3(16384, 8);
  for (auto _ : st) benchmark::DoNotOptimize(knee::simulate(s).step_time_s);
}
BENCHMARK(BM_Gpt175bOn16384)->Unit(benchmark::kMillisecond)->Iterations(1);

// Issue 14's scale target for every rank: 16,384 GPUs (DP 256) in at most 120 s and 8 GiB.
void BM_Gpt175bOn16384EveryRank(benchmark::State& st) {
  const auto s = gpt3(16384, 8);
  knee::SimOptions o;
  o.every_rank = true;
  for (auto _ : st) benchmark::DoNotOptimize(knee::simulate(s, o).step_time_s);
}
BENCHMARK(BM_Gpt175bOn16384EveryRank)->Unit(benchmark::kMillisecond)->Iterations(1);

// Stragglers unfold the data-parallel replicas: dp pipeline simulations instead of one.
void BM_Gpt175bOn1024Stragglers(benchmark::State& st) {
  const auto s = gpt3(1024, 8, true);
  for (auto _ : st) benchmark::DoNotOptimize(knee::simulate(s).step_time_s);
}
BENCHMARK(BM_Gpt175bOn1024Stragglers)->Unit(benchmark::kMillisecond);

void BM_Gpt175bOn16384Stragglers(benchmark::State& st) {
  const auto s = gpt3(16384, 8, true);
  for (auto _ : st) benchmark::DoNotOptimize(knee::simulate(s).step_time_s);
}
BENCHMARK(BM_Gpt175bOn16384Stragglers)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Gpt175bOn102400(benchmark::State& st) {
  const auto s = gpt3(102400, 16);  // "a 100,000-GPU layout completes"
  for (auto _ : st) benchmark::DoNotOptimize(knee::simulate(s).step_time_s);
}
BENCHMARK(BM_Gpt175bOn102400)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Sweep20Points(benchmark::State& st) {
  const auto s = gpt3(1024, 8);
  std::vector<std::int64_t> g;
  for (int i = 1; i <= 20; ++i) g.push_back(64LL * i);  // 64 .. 1280 GPUs, 20 points
  for (auto _ : st) benchmark::DoNotOptimize(knee::sweep(s, g, "strong", 0, 0.8).knee);
}
BENCHMARK(BM_Sweep20Points)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

// Hold model: with P events pending, pop the earliest and push one at now + Exp(1) (mean 1 us).
// The goal: >= 5 M events/s at 10^5 pending on the 2-core machine.
#include <benchmark/benchmark.h>

#include <random>

#include "sim/engine/engine.hpp"

using namespace knee;

namespace {
struct Hold : EventSink {
  std::mt19937_64 rng{1};
  std::exponential_distribution<double> exp1{1.0};
  SinkId self = 0;
  TimePs delay() { return static_cast<TimePs>(exp1(rng) * 1e6); }
  void handle(Engine& e, std::uint32_t, std::uint64_t) override { e.schedule_in(delay(), self, 0); }
};
}  // namespace

static void BM_HoldModel(benchmark::State& state) {
  Engine e;
  Hold h;
  h.self = e.add_sink(&h);
  const auto pending = state.range(0);
  for (int64_t i = 0; i < pending; ++i) e.schedule_at(h.delay(), h.self, 0);
  for (int i = 0; i < 200000; ++i) e.step();  // warm-up: reach the steady-state distribution
  for (auto _ : state) e.step();
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HoldModel)->Arg(1000)->Arg(100000)->Arg(1000000);

BENCHMARK_MAIN();

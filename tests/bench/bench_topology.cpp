// Topology benchmarks: build time and memory of dgx-h100 rail-fat-trees from 1,024 to 131,072
// GPUs, and route throughput (structured and search routing) for a ring over all GPUs.
#include <benchmark/benchmark.h>

#include <string>

#include "tests/bench/bench_util.hpp"
#include "topologies/fabric.hpp"

using namespace knee;
using knee::bench::vm_hwm_kB;

namespace {
Topology build(std::int64_t gpus) { return bench::dgx_h100_rail(gpus); }

void BM_Build(benchmark::State& state) {
  std::size_t bytes = 0, links = 0;
  for (auto _ : state) {
    Topology t = build(state.range(0));
    bytes = t.memory_bytes();
    links = t.num_links();
    benchmark::DoNotOptimize(t);
  }
  state.counters["gpus"] = static_cast<double>(state.range(0));
  state.counters["links"] = static_cast<double>(links);
  state.counters["structure_MiB"] = static_cast<double>(bytes) / (1 << 20);
  state.counters["process_peak_MiB"] = vm_hwm_kB() / 1024;
}
BENCHMARK(BM_Build)->Arg(1024)->Arg(16384)->Arg(131072)->Unit(benchmark::kMillisecond);

// One route per GPU to its ring successor, the pattern of a ring all-reduce.
void BM_RingRoutes(benchmark::State& state) {
  Topology t = build(state.range(0));
  const auto n = static_cast<std::uint32_t>(t.num_gpus());
  std::uint64_t hops = 0, flow = 0;
  for (auto _ : state) {
    for (std::uint32_t r = 0; r < n; ++r) {
      auto p = t.route(t.gpu_node(r), t.gpu_node((r + 1) % n), flow++);
      hops += p.size();
    }
  }
  benchmark::DoNotOptimize(hops);
  state.counters["routes_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * n, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RingRoutes)->Arg(16384)->Arg(131072)->Unit(benchmark::kMillisecond);

// The same ring by breadth-first search (what file topologies use). At 1,024 GPUs every
// destination's table stays cached after the first pass; at 16,384 the cache (64 MiB) holds a
// few hundred tables, so every route runs a BFS.
void BM_RingRoutesBySearch(benchmark::State& state) {
  Topology t = build(state.range(0));
  const auto n = static_cast<std::uint32_t>(t.num_gpus());
  std::uint64_t hops = 0;
  for (auto _ : state) {
    for (std::uint32_t r = 0; r < n; ++r) hops += t.route_by_search(t.gpu_node(r), t.gpu_node((r + 1) % n), r).size();
  }
  benchmark::DoNotOptimize(hops);
  state.counters["routes_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * n, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RingRoutesBySearch)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RingRoutesBySearch)->Arg(16384)->Iterations(1)->Unit(benchmark::kMillisecond);

// Cached search routes: many flows towards few destinations (e.g. all-to-one).
void BM_CachedSearchRoutes(benchmark::State& state) {
  Topology t = build(1024);
  std::uint64_t hops = 0, i = 0;
  for (auto _ : state) {
    std::uint32_t src = static_cast<std::uint32_t>(i % 1024), dst = static_cast<std::uint32_t>((i / 1024) % 4);
    hops += t.route_by_search(t.gpu_node(src), t.gpu_node(dst), i).size();
    ++i;
  }
  benchmark::DoNotOptimize(hops);
}
BENCHMARK(BM_CachedSearchRoutes);

void BM_MaxFlowBisection(benchmark::State& state) {
  Topology t = build(state.range(0));
  double v = 0;
  for (auto _ : state) v = t.max_flow_Bps(t.bisection_split());
  state.counters["bisection_GBps"] = v * 1e-9;
}
BENCHMARK(BM_MaxFlowBisection)->Arg(1024)->Unit(benchmark::kMillisecond);
}  // namespace

BENCHMARK_MAIN();

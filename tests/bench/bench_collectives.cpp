// Collective benchmarks: one 1 GiB ring all-reduce (Simple, channels chosen by the tuner) on every
// GPU of a dgx-h100 rail-fat-tree, 1,024 and 16,384 GPUs: wall time to select, build the flow DAG
// and simulate it. Peak memory (VmHWM) is process-wide and monotonic: run one size per process
// (--benchmark_filter=.../16384) for a clean figure. Results: docs/collectives.md, Performance.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/collectives/collective.hpp"
#include "tests/bench/bench_util.hpp"
#include "topologies/fabric.hpp"

using namespace knee;
using knee::bench::vm_hwm_kB;

namespace {

void BM_RingAllReduce1GiB(benchmark::State& state) {
  const Topology topo = bench::dgx_h100_rail(state.range(0));
  const NcclParams P = nccl_params_for_gpu("h100");
  CollOptions o;
  o.op = CollOp::allreduce;
  o.bytes = kGiB;
  o.algo = CollAlgo::ring;
  o.proto = CollProto::simple;
  CollResult r{};
  for (auto _ : state) {
    r = simulate_collective(topo, P, o, "bench");
    benchmark::DoNotOptimize(r);
  }
  state.counters["gpus"] = static_cast<double>(topo.num_gpus());
  state.counters["channels"] = r.choice.channels;
  state.counters["flows"] = static_cast<double>(r.flows);
  state.counters["sim_time_ms"] = r.time_s * 1e3;
  state.counters["predicted_ms"] = r.choice.predicted_s * 1e3;
  state.counters["busbw_GBps"] = r.busbw_GBps;
  state.counters["peak_MiB"] = vm_hwm_kB() / 1024;
}
BENCHMARK(BM_RingAllReduce1GiB)->Arg(1024)->Arg(16384)->Unit(benchmark::kMillisecond)->Iterations(1);
}  // namespace

BENCHMARK_MAIN();

// Flow network benchmarks on a k=32 fat-tree (8,192 hosts) with random permutation traffic.
// The fat-tree is built here rather than taken from topologies/ so the network's figures do not
// depend on another module. Goal (issue): a full solve of 8,192 flows in <= 5 ms; an incremental
// update after one flow ends far cheaper than a full solve.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "sim/network/flow_network.hpp"

using namespace knee;

namespace {

constexpr int kK = 32, kHalf = kK / 2;
constexpr int kHosts = kK * kK * kK / 4;  // 8192
constexpr int kEdges = kK * kHalf;        // 512 edge switches (and as many aggregation)
constexpr LinkId kHostUp = 0, kHostDown = kHosts;
constexpr LinkId kEdgeUp = 2 * kHosts, kEdgeDown = kEdgeUp + kEdges * kHalf;
constexpr LinkId kAggUp = kEdgeDown + kEdges * kHalf, kAggDown = kAggUp + kEdges * kHalf;
constexpr LinkId kNumLinks = kAggDown + kEdges * kHalf;  // 49,152 directed links
constexpr BytesPerSec kLinkBps = 50e9;                   // 400 Gb/s
constexpr TimePs kHopPs = 500'000;                       // 500 ns per hop

std::vector<DirectedLink> fat_tree_links() {
  return std::vector<DirectedLink>(kNumLinks, DirectedLink{kLinkBps, kHopPs});
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64: the deterministic "ECMP hash"
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Up-down route: host -> edge [-> agg [-> core -> agg] -> edge] -> host.
std::vector<LinkId> route(int s, int d) {
  if (s == d) return {};
  int es = s / kHalf, ed = d / kHalf;  // global edge switch index
  int ps = es / kHalf, pd = ed / kHalf;
  if (es == ed) return {kHostUp + LinkId(s), kHostDown + LinkId(d)};
  std::uint64_t h = mix((std::uint64_t(s) << 32) | std::uint64_t(d));
  int a = int(h % kHalf), c = int((h / kHalf) % kHalf);
  LinkId up1 = kEdgeUp + LinkId(es * kHalf + a), down1 = kEdgeDown + LinkId(ed * kHalf + a);
  if (ps == pd) return {kHostUp + LinkId(s), up1, down1, kHostDown + LinkId(d)};
  LinkId up2 = kAggUp + LinkId((ps * kHalf + a) * kHalf + c);
  LinkId down2 = kAggDown + LinkId((pd * kHalf + a) * kHalf + c);
  return {kHostUp + LinkId(s), up1, up2, down2, down1, kHostDown + LinkId(d)};
}

// Random permutation without fixed points (fixed seed).
std::vector<int> permutation(std::uint64_t seed) {
  std::vector<int> p(kHosts);
  for (int i = 0; i < kHosts; ++i) p[i] = i;
  std::mt19937_64 rng(seed);
  for (int i = kHosts - 1; i > 0; --i) std::swap(p[i], p[rng() % (i + 1)]);
  for (int i = 0; i < kHosts; ++i)
    if (p[i] == i) std::swap(p[i], p[(i + 1) % kHosts]);
  return p;
}

struct NullSink : EventSink {
  void handle(Engine&, std::uint32_t, std::uint64_t) override {}
};

// 8,192 permutation flows far from done, all in their bandwidth phase and solved.
struct Loaded {
  Engine engine;
  NullSink sink;
  SinkId sink_id = engine.add_sink(&sink);
  FlowNetwork net{engine, fat_tree_links()};
  std::vector<FlowId> ids;
  Loaded() {
    std::vector<int> p = permutation(42);
    for (int s = 0; s < kHosts; ++s)
      ids.push_back(net.start_flow(route(s, p[s]), Bytes{1} << 50, FlowDone{sink_id, 0, 0}));
    engine.run_until(6 * kHopPs);
  }
};

void BM_FullSolve8192(benchmark::State& state) {
  Loaded x;
  for (auto _ : state) x.net.solve_all();
  state.counters["flows"] = double(x.net.active_flows());
}
BENCHMARK(BM_FullSolve8192)->Unit(benchmark::kMillisecond);

// One more flow between random hosts on the loaded fabric: the cost of its start (activation
// event plus selective re-solve) or of its end (completion event plus selective re-solve).
void incremental(benchmark::State& state, bool time_start) {
  Loaded x;
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    int s = int(rng() % kHosts), d = int(rng() % kHosts);
    if (!time_start) state.PauseTiming();
    FlowId id = x.net.start_flow(route(s, d), 64 * kKiB, FlowDone{x.sink_id, 0, 0});
    while (x.net.rate_Bps(id) == 0 && x.engine.step()) {}
    if (time_start) state.PauseTiming();
    else state.ResumeTiming();
    x.engine.step();  // its completion: re-solves what its departure affects
    if (!time_start) state.PauseTiming();
    while (x.engine.next_time() == x.engine.now()) x.engine.step();  // the notification
    state.ResumeTiming();
  }
}
void BM_OneFlowStarts(benchmark::State& state) { incremental(state, true); }
void BM_OneFlowEnds(benchmark::State& state) { incremental(state, false); }
BENCHMARK(BM_OneFlowStarts)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_OneFlowEnds)->Unit(benchmark::kMicrosecond);

// All 8,192 flows starting at once: 8,192 activation events and one selective solve.
void BM_StartAll8192(benchmark::State& state) {
  std::vector<int> p = permutation(42);
  std::vector<std::vector<LinkId>> paths;
  for (int s = 0; s < kHosts; ++s) paths.push_back(route(s, p[s]));
  for (auto _ : state) {
    state.PauseTiming();
    Engine engine;
    NullSink sink;
    SinkId id = engine.add_sink(&sink);
    FlowNetwork net(engine, fat_tree_links());
    state.ResumeTiming();
    for (int s = 0; s < kHosts; ++s) net.start_flow(paths[s], Bytes{1} << 50, FlowDone{id, 0, 0});
    engine.run_until(6 * kHopPs);
  }
}
BENCHMARK(BM_StartAll8192)->Unit(benchmark::kMillisecond);

// A whole permutation to completion: sizes uniform in [1, 64] MiB, so about 8,192 distinct
// completion instants, each a selective update.
void BM_RunToCompletion8192(benchmark::State& state) {
  std::vector<int> p = permutation(42);
  std::mt19937_64 rng(3);
  std::vector<std::vector<LinkId>> paths;
  std::vector<Bytes> sizes;
  for (int s = 0; s < kHosts; ++s) {
    paths.push_back(route(s, p[s]));
    sizes.push_back(Bytes(1 + rng() % 64) * kMiB);
  }
  std::uint64_t events = 0;
  TimePs end = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Engine engine;
    NullSink sink;
    SinkId id = engine.add_sink(&sink);
    FlowNetwork net(engine, fat_tree_links());
    state.ResumeTiming();
    for (int s = 0; s < kHosts; ++s) net.start_flow(paths[s], sizes[s], FlowDone{id, 0, 0});
    engine.run();
    events = engine.events_processed();
    end = engine.now();
    if (net.flows_completed() != kHosts) state.SkipWithError("not every flow completed");
  }
  state.counters["events"] = double(events);
  state.counters["sim_ms"] = double(end) * 1e-9;
}
BENCHMARK(BM_RunToCompletion8192)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

// Randomized checks with fixed seeds: invariants after every instant, the selective update against
// an independent full solve, conservation of bytes, and bit-identical reruns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "sim/network/flow_network.hpp"

using namespace knee;

namespace {

constexpr double G = 1e9;
constexpr double kRelTol = 1e-9;

bool close(double a, double b) { return std::abs(a - b) <= kRelTol * std::max(std::abs(a), std::abs(b)) + 1e-6; }

struct FlowSpec {
  std::vector<LinkId> path;
  Bytes size;
  BytesPerSec cap;
  TimePs start;
};
struct CapacityChange {
  LinkId link;
  BytesPerSec capacity;
  TimePs at;
};
struct Scenario {
  std::vector<DirectedLink> links;
  std::vector<FlowSpec> flows;
  std::vector<CapacityChange> changes;
};

Scenario make_scenario(std::uint64_t seed, int num_links, int num_flows) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::uint64_t n) { return rng() % n; };
  const double caps[] = {10 * G, 25 * G, 40 * G, 50 * G, 100 * G};
  Scenario s;
  for (int i = 0; i < num_links; ++i) s.links.push_back({caps[pick(5)], static_cast<TimePs>(pick(4)) * 500});
  for (int i = 0; i < num_flows; ++i) {
    FlowSpec f;
    std::size_t len = 1 + pick(5);
    while (f.path.size() < len) {
      LinkId l = static_cast<LinkId>(pick(num_links));
      if (std::find(f.path.begin(), f.path.end(), l) == f.path.end()) f.path.push_back(l);
    }
    f.size = pick(20) == 0 ? 0 : static_cast<Bytes>(1 + pick(5'000'000));
    f.cap = pick(5) == 0 ? static_cast<double>(5 + pick(56)) * G : 0;
    f.start = static_cast<TimePs>(pick(200)) * 1'000'000;  // a coarse grid: many start together
    s.flows.push_back(std::move(f));
  }
  for (int i = 0; i < 6; ++i)
    s.changes.push_back(
        {static_cast<LinkId>(pick(num_links)), caps[pick(5)], static_cast<TimePs>(pick(200)) * 1'000'000 + 123});
  return s;
}

// Starts flows and applies capacity changes at their scheduled times; records completions.
struct Driver : EventSink {
  enum : std::uint32_t { kStart, kChange, kDone };
  const Scenario& sc;
  FlowNetwork* net = nullptr;
  SinkId self = 0;
  std::vector<FlowId> ids;
  std::vector<TimePs> done_at;
  explicit Driver(const Scenario& s) : sc(s), ids(s.flows.size(), 0), done_at(s.flows.size(), -1) {}
  void handle(Engine& e, std::uint32_t tag, std::uint64_t p) override {
    if (tag == kStart) {
      const FlowSpec& f = sc.flows[p];
      ids[p] = net->start_flow(f.path, f.size, FlowDone{self, kDone, p}, f.cap);
    } else if (tag == kChange) {
      net->set_link_capacity(sc.changes[p].link, sc.changes[p].capacity);
    } else {
      done_at[p] = e.now();
    }
  }
};

TimePs path_latency(const Scenario& sc, const FlowSpec& f) {
  TimePs t = 0;
  for (LinkId l : f.path) t += sc.links[l].latency_ps;
  return t;
}

// Rates from a fresh network holding only the flows now in their bandwidth phase: a from-scratch
// max-min solve that shares no state with the network under test.
std::vector<double> oracle_rates(const Scenario& sc, const Driver& d, const FlowNetwork& net,
                                 const std::vector<std::size_t>& live) {
  Engine e;
  std::vector<DirectedLink> links;
  for (std::size_t l = 0; l < net.num_links(); ++l) links.push_back({net.link_capacity_Bps(l), 0});
  FlowNetwork fresh(e, links);
  Driver sink(sc);
  SinkId id = e.add_sink(&sink);
  std::vector<FlowId> ids;
  for (std::size_t i : live)
    ids.push_back(fresh.start_flow(sc.flows[i].path, Bytes{1} << 50, FlowDone{id, 0, 0}, sc.flows[i].cap));
  e.run_until(0);
  std::vector<double> r;
  for (FlowId f : ids) r.push_back(fresh.rate_Bps(f));
  (void)d;
  return r;
}

struct Options {
  bool check_invariants = false;
  bool check_oracle = false;
  bool check_solve_all = false;
};

// Void so that ASSERT_* can stop it; results go through the out-parameters.
void run(const Scenario& sc, Options opt, std::vector<TimePs>* done_at = nullptr, double* delivered = nullptr) {
  Engine engine;
  FlowNetwork net(engine, sc.links);
  Driver d(sc);
  d.net = &net;
  d.self = engine.add_sink(&d);
  for (std::size_t i = 0; i < sc.flows.size(); ++i) engine.schedule_at(sc.flows[i].start, d.self, Driver::kStart, i);
  for (std::size_t i = 0; i < sc.changes.size(); ++i) engine.schedule_at(sc.changes[i].at, d.self, Driver::kChange, i);
  int instants = 0;
  while (engine.step()) {
    if (engine.next_time() == engine.now()) continue;  // check once the instant is settled
    ++instants;
    TimePs now = engine.now();
    if (opt.check_invariants) {
      for (LinkId l = 0; l < net.num_links(); ++l)
        ASSERT_LE(net.link_load_Bps(l), net.link_capacity_Bps(l) * (1 + kRelTol)) << "link " << l;
      ASSERT_LE(net.bytes_delivered(), 1e18);
    }
    std::vector<std::size_t> live;
    for (std::size_t i = 0; i < sc.flows.size(); ++i) {
      const FlowSpec& f = sc.flows[i];
      bool started = d.ids[i] != 0;
      if (started && d.done_at[i] < 0 && f.size > 0 && now >= f.start + path_latency(sc, f)) live.push_back(i);
    }
    if (opt.check_invariants) {
      std::vector<double> load(net.num_links(), 0);
      for (std::size_t i : live) {
        double r = net.rate_Bps(d.ids[i]);
        ASSERT_GT(r, 0) << "flow " << i << " in its bandwidth phase has no rate";
        if (sc.flows[i].cap > 0) { ASSERT_LE(r, sc.flows[i].cap * (1 + kRelTol)); }
        for (LinkId l : sc.flows[i].path) load[l] += r;
      }
      for (LinkId l = 0; l < net.num_links(); ++l) ASSERT_TRUE(close(load[l], net.link_load_Bps(l)));
    }
    if (opt.check_oracle && !live.empty()) {
      std::vector<double> want = oracle_rates(sc, d, net, live);
      for (std::size_t k = 0; k < live.size(); ++k)
        ASSERT_TRUE(close(net.rate_Bps(d.ids[live[k]]), want[k]))
            << "flow " << live[k] << " at " << now << " ps: selective " << net.rate_Bps(d.ids[live[k]]) << " vs full "
            << want[k];
    }
    if (opt.check_solve_all && instants % 10 == 0 && !live.empty()) {
      std::vector<double> before;
      for (std::size_t i : live) before.push_back(net.rate_Bps(d.ids[i]));
      net.solve_all();
      for (std::size_t k = 0; k < live.size(); ++k)
        ASSERT_TRUE(close(net.rate_Bps(d.ids[live[k]]), before[k])) << "flow " << live[k];
    }
  }
  if (opt.check_invariants) {
    // Conservation: everything sent arrived, per flow and per link.
    double total = 0;
    std::vector<double> per_link(net.num_links(), 0);
    for (const FlowSpec& f : sc.flows) {
      total += static_cast<double>(f.size);
      for (LinkId l : f.path) per_link[l] += static_cast<double>(f.size);
    }
    EXPECT_EQ(net.flows_completed(), sc.flows.size());
    EXPECT_EQ(net.active_flows(), 0u);
    EXPECT_TRUE(close(net.bytes_delivered(), total)) << net.bytes_delivered() << " vs " << total;
    for (LinkId l = 0; l < net.num_links(); ++l) {
      EXPECT_TRUE(close(net.link_bytes(l), per_link[l])) << "link " << l;
      EXPECT_EQ(net.link_load_Bps(l), 0) << "link " << l;
    }
    for (std::size_t i = 0; i < sc.flows.size(); ++i) {
      EXPECT_GE(d.done_at[i], sc.flows[i].start + path_latency(sc, sc.flows[i])) << "flow " << i;
    }
  }
  if (delivered) *delivered = net.bytes_delivered();
  if (done_at) *done_at = d.done_at;
}

}  // namespace

TEST(FlowNetworkRandom, InvariantsHoldAfterEveryInstant) {
  for (std::uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    run(make_scenario(seed, 30, 300), {.check_invariants = true});
  }
}

TEST(FlowNetworkRandom, SelectiveUpdateMatchesFullSolve) {
  for (std::uint64_t seed : {11, 12}) {
    SCOPED_TRACE(seed);
    run(make_scenario(seed, 30, 300), {.check_oracle = true});
  }
  // Dense: few links, so components are large and saturation chains long.
  run(make_scenario(13, 8, 200), {.check_oracle = true});
}

// Links carrying hundreds of flows at once keep their loads by differences rather than sums
// (kExactLoadFlows in flow_network.cpp) and take the set's spare capacity from those loads.
TEST(FlowNetworkRandom, BusyLinksMatchFullSolveAndKeepInvariants) {
  run(make_scenario(41, 6, 1200), {.check_invariants = true, .check_oracle = true});
  run(make_scenario(42, 6, 1200), {.check_invariants = true, .check_solve_all = true});
}

TEST(FlowNetworkRandom, SolveAllAgreesWithIncrementalRates) {
  run(make_scenario(21, 30, 300), {.check_invariants = true, .check_solve_all = true});
}

TEST(FlowNetworkRandom, RerunsAreBitIdentical) {
  Scenario sc = make_scenario(31, 30, 300);
  double b1 = 0, b2 = 0;
  std::vector<TimePs> a, b;
  run(sc, {}, &a, &b1);
  run(sc, {}, &b, &b2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(b1, b2);
  EXPECT_EQ(std::count(a.begin(), a.end(), TimePs{-1}), 0);
}

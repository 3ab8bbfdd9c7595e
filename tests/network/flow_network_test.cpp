#include "sim/network/flow_network.hpp"
#include "tests/common/error_of.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "common/error.hpp"

using namespace knee;
using knee::test::error_of;

namespace {

// Records every completion notification: (time, payload).
struct Recorder : EventSink {
  std::vector<std::pair<TimePs, std::uint64_t>> got;
  void handle(Engine& e, std::uint32_t, std::uint64_t payload) override { got.push_back({e.now(), payload}); }
  TimePs time_of(std::uint64_t payload) const {
    for (auto& [t, p] : got)
      if (p == payload) return t;
    return -1;
  }
};

struct Fixture {
  Engine engine;
  Recorder rec;
  SinkId sink = engine.add_sink(&rec);
  FlowNetwork net;
  explicit Fixture(std::vector<DirectedLink> links) : net(engine, std::move(links)) {}
  FlowId start(std::vector<LinkId> path, Bytes size, std::uint64_t payload, BytesPerSec cap = 0) {
    return net.start_flow(std::move(path), size, FlowDone{sink, 7, payload}, cap);
  }
  // Runs every event of the current instant, so that rates of flows started now are solved.
  void settle() { engine.run_until(engine.now()); }
};

constexpr double G = 1e9;

}  // namespace

TEST(FlowNetwork, SingleFlowTakesLatencyPlusSizeOverBottleneck) {
  Fixture x({{100 * G, 1000}, {50 * G, 500}});
  x.start({0, 1}, 1'000'000, 1);
  x.engine.run();
  // 1e6 B / 50 GB/s = 20 us = 2e7 ps, after 1500 ps of latency.
  ASSERT_EQ(x.rec.got.size(), 1u);
  EXPECT_EQ(x.rec.got[0].first, 1500 + 20'000'000);
  EXPECT_EQ(x.net.flows_completed(), 1u);
  EXPECT_EQ(x.net.active_flows(), 0u);
  EXPECT_DOUBLE_EQ(x.net.bytes_delivered(), 1e6);
}

TEST(FlowNetwork, CompletionRoundsUpToWholePicoseconds) {
  Fixture x({{30 * G, 0}});
  x.start({0}, 1000, 1);
  x.engine.run();
  // 1000 B / 30 GB/s = 33333.33 ps -> 33334 ps.
  EXPECT_EQ(x.rec.time_of(1), 33334);
}

TEST(FlowNetwork, EqualFlowsSplitABottleneckEvenly) {
  Fixture x({{100 * G, 1000}});
  std::vector<FlowId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(x.start({0}, 1'000'000, 10 + i));
  x.engine.run_until(1000);
  for (FlowId id : ids) EXPECT_EQ(x.net.rate_Bps(id), 25 * G);
  EXPECT_EQ(x.net.link_load_Bps(0), 100 * G);
  x.engine.run();
  ASSERT_EQ(x.rec.got.size(), 4u);
  for (int i = 0; i < 4; ++i) {  // same picosecond, notified in start order
    EXPECT_EQ(x.rec.got[i].first, 1000 + 40'000'000);
    EXPECT_EQ(x.rec.got[i].second, 10u + i);
  }
  for (FlowId id : ids) EXPECT_EQ(x.net.rate_Bps(id), 0);
}

TEST(FlowNetwork, ParkingLotGivesEveryFlowHalf) {
  Fixture x({{100 * G, 0}, {100 * G, 0}, {100 * G, 0}});
  FlowId lng = x.start({0, 1, 2}, 1'000'000, 0);
  FlowId s0 = x.start({0}, 1'000'000, 1), s1 = x.start({1}, 1'000'000, 2), s2 = x.start({2}, 1'000'000, 3);
  x.settle();
  for (FlowId id : {lng, s0, s1, s2}) EXPECT_EQ(x.net.rate_Bps(id), 50 * G);
  x.engine.run();
  for (std::uint64_t p = 0; p < 4; ++p) EXPECT_EQ(x.rec.time_of(p), 20'000'000);
}

TEST(FlowNetwork, ClassicThreeLinkMaxMin) {
  // L0 = 10, L1 = 20, L2 = 30 GB/s. L0 saturates first at 5 (f0, f1), then L1 at 7.5 (f2, f4),
  // and f3 takes what is left of L2: 30 - 7.5 = 22.5.
  Fixture x({{10 * G, 0}, {20 * G, 0}, {30 * G, 0}});
  FlowId f0 = x.start({0, 1}, 1 << 30, 0), f1 = x.start({0}, 1 << 30, 1), f2 = x.start({1, 2}, 1 << 30, 2),
         f3 = x.start({2}, 1 << 30, 3), f4 = x.start({1}, 1 << 30, 4);
  x.settle();
  EXPECT_EQ(x.net.rate_Bps(f0), 5 * G);
  EXPECT_EQ(x.net.rate_Bps(f1), 5 * G);
  EXPECT_EQ(x.net.rate_Bps(f2), 7.5 * G);
  EXPECT_EQ(x.net.rate_Bps(f3), 22.5 * G);
  EXPECT_EQ(x.net.rate_Bps(f4), 7.5 * G);
  EXPECT_EQ(x.net.link_load_Bps(0), 10 * G);
  EXPECT_EQ(x.net.link_load_Bps(1), 20 * G);
  EXPECT_EQ(x.net.link_load_Bps(2), 30 * G);
}

TEST(FlowNetwork, RateCapFreesBandwidthForOthers) {
  Fixture x({{90 * G, 0}});
  FlowId capped = x.start({0}, 1 << 30, 0, 10 * G);
  FlowId a = x.start({0}, 1 << 30, 1), b = x.start({0}, 1 << 30, 2);
  x.settle();
  EXPECT_EQ(x.net.rate_Bps(capped), 10 * G);
  EXPECT_EQ(x.net.rate_Bps(a), 40 * G);
  EXPECT_EQ(x.net.rate_Bps(b), 40 * G);
  // A cap above the fair share changes nothing.
  Fixture y({{90 * G, 0}});
  FlowId loose = y.start({0}, 1 << 30, 0, 50 * G);
  y.start({0}, 1 << 30, 1);
  y.start({0}, 1 << 30, 2);
  y.settle();
  EXPECT_EQ(y.net.rate_Bps(loose), 30 * G);
}

TEST(FlowNetwork, FinishingFlowFreesItsShareAtThatInstant) {
  Fixture x({{100 * G, 1000}});
  x.start({0}, 1'000'000, 1);
  FlowId b = x.start({0}, 3'000'000, 2);
  x.engine.run_until(1000);
  EXPECT_EQ(x.net.rate_Bps(b), 50 * G);
  // A: 1e6 at 50 GB/s -> 2e7 ps. B has 2e6 left, alone at 100 GB/s -> 2e7 ps more.
  x.engine.run_until(1000 + 20'000'000);
  EXPECT_EQ(x.rec.time_of(1), 1000 + 20'000'000);
  EXPECT_EQ(x.net.rate_Bps(b), 100 * G);
  EXPECT_DOUBLE_EQ(x.net.link_bytes(0), 2e6);
  x.engine.run();
  EXPECT_EQ(x.rec.time_of(2), 1000 + 40'000'000);
}

TEST(FlowNetwork, StaggeredArrivals) {
  Fixture x({{100 * G, 0}});
  FlowId a = x.start({0}, 3'000'000, 1);
  x.engine.run_until(10'000'000);  // A alone has sent 1e6
  EXPECT_DOUBLE_EQ(x.net.link_bytes(0), 1e6);
  FlowId b = x.start({0}, 1'000'000, 2);
  x.settle();
  EXPECT_EQ(x.net.rate_Bps(a), 50 * G);
  EXPECT_EQ(x.net.rate_Bps(b), 50 * G);
  x.engine.run();
  EXPECT_EQ(x.rec.time_of(2), 30'000'000);  // B: 1e6 at 50 GB/s
  EXPECT_EQ(x.rec.time_of(1), 40'000'000);  // A: 1e6 at 100, 1e6 at 50, 1e6 at 100
}

TEST(FlowNetwork, ZeroByteFlowsTakeLatencyOnly) {
  Fixture x({{100 * G, 700}, {100 * G, 300}});
  FlowId big = x.start({0}, 1'000'000, 1);
  x.start({0, 1}, 0, 2);
  x.start({}, 0, 3);
  x.settle();
  EXPECT_EQ(x.rec.time_of(3), 0);  // empty path, nothing to send: done at once
  x.engine.run_until(700);
  EXPECT_EQ(x.net.rate_Bps(big), 100 * G);
  x.engine.run();
  EXPECT_EQ(x.rec.time_of(2), 1000);
  EXPECT_EQ(x.rec.time_of(1), 700 + 10'000'000);  // never shared with the 0-byte flow
}

TEST(FlowNetwork, EmptyPathTakesSizeOverCap) {
  Fixture x({{100 * G, 0}});
  x.start({}, 1'000'000, 1, 10 * G);
  x.start({}, 1'000'000, 2);
  x.engine.run();
  EXPECT_EQ(x.rec.time_of(2), 0);
  EXPECT_EQ(x.rec.time_of(1), 100'000'000);
  EXPECT_DOUBLE_EQ(x.net.bytes_delivered(), 2e6);
}

TEST(FlowNetwork, LatencyPhaseFlowsConsumeNoBandwidth) {
  Fixture x({{100 * G, 0}, {100 * G, 5'000'000}});
  FlowId a = x.start({0}, 1 << 30, 1);
  FlowId b = x.start({1, 0}, 1 << 30, 2);
  x.engine.run_until(1'000'000);
  EXPECT_EQ(x.net.rate_Bps(a), 100 * G);
  EXPECT_EQ(x.net.rate_Bps(b), 0);
  EXPECT_EQ(x.net.link_load_Bps(0), 100 * G);
  EXPECT_EQ(x.net.active_flows(), 2u);  // in flight counts the latency phase
  x.engine.run_until(5'000'000);
  EXPECT_EQ(x.net.rate_Bps(a), 50 * G);
  EXPECT_EQ(x.net.rate_Bps(b), 50 * G);
}

TEST(FlowNetwork, SameInstantCompletionsNotifyInStartOrderAfterSlotReuse) {
  Fixture x({{100 * G, 0}, {100 * G, 0}, {100 * G, 0}});
  for (int i = 0; i < 3; ++i) x.start({static_cast<LinkId>(i)}, 1000, 100 + i);
  x.engine.run();
  x.rec.got.clear();
  // Freed slots come back in reverse order; notifications must still follow start order.
  for (int i = 0; i < 3; ++i) x.start({static_cast<LinkId>(2 - i)}, 1'000'000, i);
  x.engine.run();
  ASSERT_EQ(x.rec.got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(x.rec.got[i].second, static_cast<std::uint64_t>(i));
    EXPECT_EQ(x.rec.got[i].first, x.rec.got[0].first);
  }
}

TEST(FlowNetwork, LinkCapacityChangeMidFlow) {
  Fixture x({{100 * G, 0}});
  FlowId a = x.start({0}, 2'000'000, 1);
  x.engine.run_until(10'000'000);  // 1e6 sent
  x.net.set_link_capacity(0, 50 * G);
  EXPECT_EQ(x.net.rate_Bps(a), 50 * G);
  EXPECT_EQ(x.net.link_capacity_Bps(0), 50 * G);
  x.engine.run();
  EXPECT_EQ(x.rec.time_of(1), 30'000'000);  // 1e6 left at 50 GB/s
}

TEST(FlowNetwork, CapacityChangePropagatesThroughSaturatedLinks) {
  // f0 crosses L0 and L1; f1 shares L1. Degrading L0 leaves L1 room that f1 takes.
  Fixture x({{100 * G, 0}, {100 * G, 0}, {100 * G, 0}});
  FlowId f0 = x.start({0, 1}, 1 << 30, 0), f1 = x.start({1, 2}, 1 << 30, 1);
  x.settle();
  EXPECT_EQ(x.net.rate_Bps(f1), 50 * G);
  x.net.set_link_capacity(0, 20 * G);
  EXPECT_EQ(x.net.rate_Bps(f0), 20 * G);
  EXPECT_EQ(x.net.rate_Bps(f1), 80 * G);
}

TEST(FlowNetwork, RejectsBadInput) {
  EXPECT_NE(error_of([] {
              Engine e;
              FlowNetwork n(e, {{1e9, 0}, {0, 0}});
            }).find("network: links[1].capacity_Bps: expected a finite capacity > 0 B/s, got 0"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Engine e;
              FlowNetwork n(e, {{std::nan(""), 0}});
            }).find("got nan"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Engine e;
              FlowNetwork n(e, {{HUGE_VAL, 0}});
            }).find("got inf"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Engine e;
              FlowNetwork n(e, {{1e9, -1}});
            }).find("links[0].latency_ps: expected a latency >= 0 ps, got -1"),
            std::string::npos);
  Fixture x({{100 * G, 0}, {100 * G, 0}});
  EXPECT_NE(error_of([&] {
              x.start({0, 2}, 1, 0);
            }).find("path[1]: expected a link id below 2, got 2"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              x.start({1, 0, 1}, 1, 0);
            }).find("path[2]: expected a path without repeated links"),
            std::string::npos);
  EXPECT_NE(error_of([&] { x.start({0}, -5, 0); }).find("size: expected a size >= 0 bytes, got -5"), std::string::npos);
  EXPECT_NE(error_of([&] { x.start({0}, 5, 0, std::nan("")); }).find("max_rate_Bps"), std::string::npos);
  EXPECT_NE(error_of([&] { x.net.set_link_capacity(0, -1); }).find("expected a finite capacity > 0"),
            std::string::npos);
  EXPECT_NE(error_of([&] { x.net.set_link_capacity(9, 1); }).find("expected a link id below 2"), std::string::npos);
  EXPECT_NE(error_of([&] { (void)x.net.link_bytes(2); }).find("got 2"), std::string::npos);
  EXPECT_EQ(x.net.active_flows(), 0u);  // rejected flows leave no trace
  EXPECT_EQ(x.net.rate_Bps(0), 0);
  EXPECT_EQ(x.net.rate_Bps(12345), 0);
}

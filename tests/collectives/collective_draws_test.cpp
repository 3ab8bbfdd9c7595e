// Intervals of a collective from draws of a profile's link parameters (sim/collectives/
// collective_draws.hpp, docs/uncertainty.md "Collectives").
#include <gtest/gtest.h>

#include <algorithm>

#include "common/draw_interval.hpp"
#include "sim/collectives/collective_draws.hpp"
#include "sim/collectives/nccl_params.hpp"
#include "tests/collectives/collective_util.hpp"
#include "tests/common/error_of.hpp"

namespace knee {
namespace {

using Json = nlohmann::ordered_json;

// h200 with its NVLink bandwidth given a measured-style interval of +-10% (the shipped one is a
// datasheet value, which has none).
Profile with_nvlink_interval() {
  Json j = Profile::builtin("h200").json();
  Json& beta = j["links"]["nvlink"]["beta_s_per_byte"];
  const double v = beta["value"].get<double>();
  beta["provenance"] = "measured";
  beta["ci95"] = {0.9 * v, 1.1 * v};
  return Profile::from_json(j, "h200 with an nvlink interval");
}

struct Case {
  Topology topo = test::cluster("dgx-h100", 1, FabricKind::single_node);
  NcclParams params = nccl_params_for_gpu("h100");
  CollOptions o;
  std::vector<CollResult> nominal;
  explicit Case(Bytes bytes) {
    o.op = CollOp::allreduce;
    o.algo = CollAlgo::ring;
    o.ranks = test::strided(8);
    o.bytes = bytes;
    nominal.push_back(simulate_collective(topo, params, o, "test"));
  }
};

TEST(CollectiveDraws, DatasheetLinksCollapseToThePointExactly) {
  Case c(Bytes(1) << 28);
  CollectiveDrawOptions d;
  d.samples = 8;
  const auto iv = collective_intervals(c.topo, c.params, c.o, c.nominal, Profile::builtin("h100"), d, "test");
  ASSERT_EQ(iv.size(), 1u);
  EXPECT_EQ(iv[0]["time_s"][0].get<double>(), c.nominal[0].time_s);
  EXPECT_EQ(iv[0]["time_s"][1].get<double>(), c.nominal[0].time_s);
  EXPECT_EQ(iv[0]["busbw_GBps"][0].get<double>(), c.nominal[0].busbw_GBps);
  EXPECT_EQ(iv[0]["busbw_GBps"][1].get<double>(), c.nominal[0].busbw_GBps);
  EXPECT_TRUE(iv[0]["sources"].empty());
}

TEST(CollectiveDraws, IntervalIsTheRuleOverDrawsComputedIndependently) {
  // Each draw is the collective on a server whose NVLink bandwidth is the datasheet's x beta /
  // beta_drawn: built here from the system spec (not by scaling links), the draws' betas read from
  // profile_draw directly, and the interval computed with the t-rule by hand.
  Case c(Bytes(1) << 30);
  const Profile p = with_nvlink_interval();
  CollectiveDrawOptions d;
  d.samples = 8;
  const auto iv = collective_intervals(c.topo, c.params, c.o, c.nominal, p, d, "test");
  const double beta0 = p.link("nvlink").beta_s_per_byte;
  std::vector<double> times, betas;
  for (std::uint64_t seed : collective_draw_seeds(0, 8)) {
    const Json drawn = draw_profile(p.json(), seed, DrawSources{});
    const double beta = drawn["links"]["nvlink"]["beta_s_per_byte"]["value"].get<double>();
    betas.push_back(beta);
    SystemSpec sys = load_system("dgx-h100");
    sys.nvlink_Bps *= beta0 / beta;
    FabricOptions fo;
    fo.kind = FabricKind::single_node;
    fo.nodes = 1;
    times.push_back(simulate_collective(build_topology(sys, fo), c.params, c.o, "test").time_s);
  }
  double sum = 0;
  for (double t : times) sum += t;
  const double mean = sum / 8;
  double ss = 0;
  for (double t : times) ss += (t - mean) * (t - mean);
  const double half = 2.365 * std::sqrt(ss / 7) * std::sqrt(1 + 1.0 / 8);  // t(0.975, 7)
  EXPECT_NEAR(iv[0]["time_s"][0].get<double>(), mean - half, 1e-9 * mean);
  EXPECT_NEAR(iv[0]["time_s"][1].get<double>(), mean + half, 1e-9 * mean);
  EXPECT_GT(half, 0.01 * mean);  // +-10% on the bandwidth of a bandwidth-bound all-reduce
  // Bandwidth-bound: the slowest draw is the one with the largest beta.
  const auto slowest = std::max_element(times.begin(), times.end()) - times.begin();
  EXPECT_EQ(slowest, std::max_element(betas.begin(), betas.end()) - betas.begin());
  EXPECT_LE(iv[0]["time_s"][0].get<double>(), c.nominal[0].time_s);
  EXPECT_GE(iv[0]["time_s"][1].get<double>(), c.nominal[0].time_s);
  EXPECT_EQ(iv[0]["sources"].size(), 1u);  // nvlink beta only
}

TEST(CollectiveDraws, BitIdenticalOnOneOrSeveralThreads) {
  Case c(Bytes(1) << 24);
  const Profile p = with_nvlink_interval();
  CollectiveDrawOptions d;
  d.samples = 5;
  d.threads = 1;
  const auto one = collective_intervals(c.topo, c.params, c.o, c.nominal, p, d, "test");
  d.threads = 3;
  const auto three = collective_intervals(c.topo, c.params, c.o, c.nominal, p, d, "test");
  EXPECT_EQ(one[0].dump(), three[0].dump());
}

TEST(CollectiveDraws, ScaleLinksScalesOnlyItsClass) {
  Topology t = test::cluster("dgx-h100", 2);
  const Topology before = t;
  t.scale_links(LinkClass::nvlink, 0.5, 2);
  for (std::uint32_t l = 0; l < t.num_links(); ++l) {
    const Link &a = before.link(l), &b = t.link(l);
    const bool nv = a.cls == LinkClass::nvlink;
    EXPECT_EQ(b.bw_ab_Bps, nv ? a.bw_ab_Bps * 0.5 : a.bw_ab_Bps);
    EXPECT_EQ(b.latency_ps, nv ? 2 * a.latency_ps : a.latency_ps);
  }
}

TEST(CollectiveDraws, OneSampleIsRefused) {
  Case c(1024);
  CollectiveDrawOptions d;
  d.samples = 1;
  EXPECT_EQ(test::error_of([&] {
              collective_intervals(c.topo, c.params, c.o, c.nominal, Profile::builtin("h100"), d, "knee collective");
            }),
            "knee collective: samples: expected 0 (no intervals) or an integer >= 2, got 1");
}

}  // namespace
}  // namespace knee

// draw_profile: what a draw moves, by how much, and together with what. The oracles are the
// profile's own numbers (ci95, the second run), read here independently of the drawing code.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "profile/profile.hpp"
#include "profile/profile_draw.hpp"

using namespace knee;
using Json = nlohmann::ordered_json;

namespace {

const Json& h200() {
  static const Json j = Profile::builtin("h200").json();
  return j;
}

double value_at(const Json& j, const char* pointer) { return j.at(Json::json_pointer(pointer)).get<double>(); }

}  // namespace

TEST(ProfileDraw, SameSeedSameDrawOtherSeedOtherDraw) {
  const Json a = draw_profile(h200(), 7, {}), b = draw_profile(h200(), 7, {}), c = draw_profile(h200(), 8, {});
  EXPECT_EQ(a.dump(), b.dump());
  EXPECT_NE(a.dump(), c.dump());
  EXPECT_NE(a.dump(), h200().dump());
}

TEST(ProfileDraw, NoSourcesNoChange) {
  DrawCounts n;
  EXPECT_EQ(draw_profile(h200(), 7, {false, false}, &n).dump(), h200().dump());
  EXPECT_EQ(n.drawn, 0);
}

TEST(ProfileDraw, EveryShippedProfileStillReadsAfterDraws) {
  for (const auto& name : Profile::builtin_names()) {
    const Json base = Profile::builtin(name).json();
    for (std::uint64_t seed = 0; seed < 40; ++seed)
      EXPECT_NO_THROW(Profile::from_json(draw_profile(base, seed, {}), name + " draw")) << name << " seed " << seed;
  }
}

// The spread of ln(drawn / value) of one parameter is what its ci95 and second run say.
TEST(ProfileDraw, SpreadIsTheCi95AndTheSecondRun) {
  const char* p = "/memory/ops/add/beta_s_per_byte";
  const Json& o = h200().at(Json::json_pointer(p));
  const double v = o.at("value").get<double>();
  const double lo = o.at("ci95")[0].get<double>(), hi = o.at("ci95")[1].get<double>();
  const double other = o.at("run_to_run").at("other_value").get<double>();
  const double s_ci = std::log(hi / lo) / (2 * 1.96), s_rr = std::fabs(std::log(other / v)) / std::sqrt(2.0);
  // Only the op's own subtree is drawn (a family's draw depends on its name alone, tested below).
  Json small;
  small["memory"]["ops"]["add"] = h200().at("memory").at("ops").at("add");
  for (DrawSources src : {DrawSources{true, false}, DrawSources{false, true}, DrawSources{true, true}}) {
    const double want = std::sqrt((src.parameters ? s_ci * s_ci : 0) + (src.run_to_run ? s_rr * s_rr : 0));
    const int n = 4000;
    double sum = 0, ss = 0;
    for (int seed = 0; seed < n; ++seed) {
      const double x = std::log(value_at(draw_profile(small, seed, src), (std::string(p) + "/value").c_str()) / v);
      sum += x;
      ss += x * x;
    }
    const double mean = sum / n, sd = std::sqrt(ss / n - mean * mean);
    // sd of a sample sd: sd / sqrt(2n) (1.1%); of the mean: sd / sqrt(n) (1.6% of sd). 5 sigma.
    EXPECT_NEAR(sd / want, 1.0, 0.06) << src.parameters << src.run_to_run;
    EXPECT_NEAR(mean / want, 0.0, 0.08) << src.parameters << src.run_to_run;
  }
}

// One family moves together: every bf16 GEMM sample by exp(z s_i) with the same z, so the ratio
// of two samples' log multipliers is the ratio of their s, in every draw; a curve's segments move
// with the curve; bandwidth_Bps follows beta.
TEST(ProfileDraw, FamiliesMoveTogether) {
  const Json& samples = h200().at(Json::json_pointer("/compute/gemm/bf16/samples"));
  auto s_of = [&](std::size_t i) {
    const auto& ci = samples[i].at("ci95_s");
    return std::log(ci[1].get<double>() / ci[0].get<double>()) / (2 * 1.96);
  };
  const std::size_t i = 10, k = samples.size() - 1;
  ASSERT_GT(s_of(i), 0);
  ASSERT_GT(s_of(k), 0);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const Json d = draw_profile(h200(), seed, {true, false});
    const auto& ds = d.at(Json::json_pointer("/compute/gemm/bf16/samples"));
    const double li = std::log(ds[i].at("median_s").get<double>() / samples[i].at("median_s").get<double>());
    const double lk = std::log(ds[k].at("median_s").get<double>() / samples[k].at("median_s").get<double>());
    EXPECT_NEAR(li / s_of(i), lk / s_of(k), 1e-9);
    const double beta = value_at(d, "/memory/ops/add/beta_s_per_byte/value");
    EXPECT_DOUBLE_EQ(value_at(d, "/memory/ops/add/bandwidth_Bps/value"), 1 / beta);
    // The copy curve's segment moved by the same z (its own s) as the curve.
    const double top = std::log(beta / value_at(h200(), "/memory/ops/add/beta_s_per_byte/value"));
    const double seg = std::log(value_at(d, "/memory/ops/add/segments/0/beta_s_per_byte/value") /
                                value_at(h200(), "/memory/ops/add/segments/0/beta_s_per_byte/value"));
    const auto& c0 = h200().at(Json::json_pointer("/memory/ops/add/beta_s_per_byte/ci95"));
    const auto& c1 = h200().at(Json::json_pointer("/memory/ops/add/segments/0/beta_s_per_byte/ci95"));
    EXPECT_NEAR(top / std::log(c0[1].get<double>() / c0[0].get<double>()),
                seg / std::log(c1[1].get<double>() / c1[0].get<double>()), 1e-9);
  }
}

// A family's draw depends on the seed and its name only: removing another op changes nothing.
TEST(ProfileDraw, RemovingAParameterDoesNotMoveTheOthers) {
  Json fewer = h200();
  fewer["memory"]["ops"].erase("gelu");
  const Json a = draw_profile(h200(), 3, {}), b = draw_profile(fewer, 3, {});
  EXPECT_EQ(a.at("compute").dump(), b.at("compute").dump());
  EXPECT_EQ(a.at("memory").at("ops").at("add").dump(), b.at("memory").at("ops").at("add").dump());
}

// Datasheet figures, the manifest and values without an interval stay; a derived profile keeps
// its GEMM samples' intervals (scaled with them) but fewer values with one than its base.
TEST(ProfileDraw, DatasheetsManifestAndUnmeasuredValuesStay) {
  const Json d = draw_profile(h200(), 5, {});
  EXPECT_EQ(d.at("manifest").dump(), h200().at("manifest").dump());
  EXPECT_EQ(d.at("compute").at("peak_tflops").at("bf16").at("datasheet").dump(),
            h200().at("compute").at("peak_tflops").at("bf16").at("datasheet").dump());
  EXPECT_EQ(value_at(d, "/memory/capacity_bytes/value"), value_at(h200(), "/memory/capacity_bytes/value"));
  DrawCounts measured, derived;
  draw_profile(h200(), 5, {}, &measured);
  draw_profile(Profile::builtin("h100").json(), 5, {}, &derived);
  EXPECT_GT(measured.drawn, 100);
  EXPECT_GT(measured.families, 10);
  EXPECT_GT(derived.without_interval, measured.without_interval);
  EXPECT_LT(derived.drawn, measured.drawn);
}

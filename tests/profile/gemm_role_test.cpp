// GEMMs timed by their role in a linear layer (fwd, bwd_data, bwd_weight; docs/calibration.md,
// "GEMM roles"): exactness at the role's own samples, tokens held out of the shipped H200 table,
// interpolation and extrapolation in tokens, and no change where a table has no labelled samples.
// Oracles: the measured medians and shapes written in profile/shipped/h200.json, and the layer
// shapes of the PyTorch measurement (shared data, measure.py: fwd (tokens, out, in), bwd_data
// (tokens, in, out), bwd_weight (in, out, tokens)).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "profile/profile.hpp"
#include "tests/common/error_of.hpp"

using namespace knee;
using knee::test::error_of;

namespace {

using Json = nlohmann::ordered_json;

struct Labelled {
  std::string layer, role;
  int hidden, tokens;
};

// "fc2.bwd_weight hidden=12288 tokens=8192" -> its parts; false for "square" and the like.
bool parse_label(const std::string& label, Labelled& out) {
  const auto dot = label.find('.'), sp = label.find(' ');
  if (dot == std::string::npos || sp == std::string::npos || dot > sp) return false;
  out.layer = label.substr(0, dot);
  out.role = label.substr(dot + 1, sp - dot - 1);
  const auto h = label.find("hidden="), t = label.find("tokens=");
  out.hidden = std::stoi(label.substr(h + 7));
  out.tokens = std::stoi(label.substr(t + 7));
  return true;
}

// The (m, n, k) of a layer's GEMM in a role, as the measurement defines them.
std::array<std::int64_t, 3> layer_shape(const std::string& layer, const std::string& role, std::int64_t h,
                                        std::int64_t tokens) {
  std::int64_t din = h, dout = h;
  if (layer == "qkv") dout = 3 * h;
  if (layer == "fc1") dout = 4 * h;
  if (layer == "fc2") din = 4 * h;
  if (role == "fwd") return {tokens, dout, din};
  if (role == "bwd_data") return {tokens, din, dout};
  return {din, dout, tokens};
}

const Json& shipped_h200() {
  static const Json j = Profile::builtin("h200").json();
  return j;
}

// The shipped H200 profile less the labelled bf16 samples measured at `tokens`.
Profile without_tokens(int tokens, std::vector<Json>* removed) {
  Json j = shipped_h200();
  Json kept = Json::array();
  for (const auto& s : j["compute"]["gemm"]["bf16"]["samples"]) {
    Labelled l;
    if (parse_label(s["label"].get<std::string>(), l) && l.tokens == tokens) {
      removed->push_back(s);
    } else {
      kept.push_back(s);
    }
  }
  j["compute"]["gemm"]["bf16"]["samples"] = kept;
  return Profile::from_json(j, "h200 less tokens=" + std::to_string(tokens));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const std::vector<std::string> kRoles = {"fwd", "bwd_data", "bwd_weight"};
const std::vector<std::string> kLayers = {"qkv", "proj", "fc1", "fc2"};
const std::vector<int> kHidden = {1024, 2048, 4096, 8192, 12288};

}  // namespace

TEST(GemmRole, ParsesOnceAndNamesTheChoices) {
  for (GemmRole r : {GemmRole::none, GemmRole::fwd, GemmRole::bwd_data, GemmRole::bwd_weight})
    EXPECT_EQ(parse_gemm_role(to_string(r), "role"), r);
  EXPECT_EQ(error_of([] { parse_gemm_role("dgrad", "gemm role"); }),
            "gemm role: expected one of none, fwd, bwd_data, bwd_weight, got 'dgrad'");
}

TEST(GemmRole, AMisspeltRoleInALabelIsAnErrorNamingTheSample) {
  Json j = shipped_h200();
  j["compute"]["gemm"]["bf16"]["samples"][20]["label"] = "fc1.bwd_wieght hidden=1024 tokens=2048";
  const std::string e = error_of([&] { Profile::from_json(j, "typo.json"); });
  EXPECT_NE(e.find("typo.json"), std::string::npos) << e;
  EXPECT_NE(e.find("$.compute.gemm.bf16.samples[20].label"), std::string::npos) << e;
  EXPECT_NE(e.find("bwd_weight"), std::string::npos) << e;
}

TEST(GemmRole, AtAMeasuredShapeEachRoleGetsItsOwnMedian) {
  Profile p = Profile::builtin("h200");
  const auto& samples = shipped_h200()["compute"]["gemm"]["bf16"]["samples"];
  int checked = 0, differs = 0;
  for (const auto& s : samples) {
    Labelled l;
    if (!parse_label(s["label"].get<std::string>(), l)) continue;
    // The oracle: the geometric mean of this role's medians at this shape (one in the shipped data).
    double lsum = 0;
    int cnt = 0;
    for (const auto& o : samples) {
      Labelled lo;
      if (o["m"] == s["m"] && o["n"] == s["n"] && o["k"] == s["k"] && parse_label(o["label"].get<std::string>(), lo) &&
          lo.role == l.role) {
        lsum += std::log(o["median_s"].get<double>());
        ++cnt;
      }
    }
    const double want = std::exp(lsum / cnt);
    const double t = p.gemm_time_s(s["m"], s["n"], s["k"], "bf16", parse_gemm_role(l.role, "role"));
    EXPECT_NEAR(t, want, 1e-12 * want) << s["label"];
    if (std::abs(p.gemm_time_s(s["m"], s["n"], s["k"], "bf16") / t - 1) > 1e-9) ++differs;
    ++checked;
  }
  EXPECT_EQ(checked, 120);
  // Shapes measured by more than one sample (e.g. 8192x8192x2048: fc1.fwd 0.412 ms, fc2.bwd_data
  // 0.448 ms, proj.bwd_weight 0.435 ms, one role each) are where a role changes the answer.
  EXPECT_GE(differs, 40);
  EXPECT_NEAR(p.gemm_time_s(8192, 8192, 2048, "bf16", GemmRole::fwd), 0.4124e-3, 0.0005e-3);
  EXPECT_NEAR(p.gemm_time_s(8192, 8192, 2048, "bf16", GemmRole::bwd_data), 0.4482e-3, 0.0005e-3);
  EXPECT_NEAR(p.gemm_time_s(8192, 8192, 2048, "bf16", GemmRole::bwd_weight), 0.4350e-3, 0.0005e-3);
}

// Hold out every labelled GEMM at one token count and predict it from the rest (squares and the
// other token count), with and without its role. Measured (docs/calibration.md, "GEMM roles"):
//   tokens=8192 held out: median |error| 3.46% without roles, 3.69% with; max 29.0%, 29.8%;
//   tokens=2048 held out: median 3.93% without, 4.07% with; max 47.5% both.
// The tolerances are those figures with a margin of about a tenth, not goals: the large errors are
// the hidden=1024 GEMMs (0.03-0.1 ms, near the launch-bound range), whose two calibration runs
// differ by up to 40% (other_run_median_s); above 0.1 ms the max is under 19% (and the median
// under 3%). Roles do not make the held-out error smaller: the labelled samples were all measured
// as one row-major torch.matmul (shared data, measure.py), so a role's samples differ from the
// others at the same shape by repetition noise, not by layout (tests below assert this finding; a
// profile measured with each role's real transposes should change it).
namespace {

struct HeldOut {
  double median_none, median_role, max_none, max_role, max_big_none, max_big_role;
  int role_better, differ, n;
};

HeldOut held_out(int tokens) {
  std::vector<Json> removed;
  Profile p = without_tokens(tokens, &removed);
  std::vector<double> en, er;
  HeldOut h{};
  for (const auto& s : removed) {
    Labelled l;
    parse_label(s["label"].get<std::string>(), l);
    const double want = s["median_s"].get<double>();
    const double none = std::abs(p.gemm_time_s(s["m"], s["n"], s["k"], "bf16") / want - 1);
    const double role =
        std::abs(p.gemm_time_s(s["m"], s["n"], s["k"], "bf16", parse_gemm_role(l.role, "role")) / want - 1);
    en.push_back(none);
    er.push_back(role);
    if (role < none) ++h.role_better;
    if (role != none) ++h.differ;
    if (want >= 1e-4) {
      h.max_big_none = std::max(h.max_big_none, none);
      h.max_big_role = std::max(h.max_big_role, role);
    }
  }
  h.n = static_cast<int>(removed.size());
  h.median_none = median(en);
  h.median_role = median(er);
  h.max_none = *std::max_element(en.begin(), en.end());
  h.max_role = *std::max_element(er.begin(), er.end());
  return h;
}

}  // namespace

TEST(GemmRole, HeldOutTokens8192PredictedFrom2048AndSquares) {
  const HeldOut h = held_out(8192);
  ASSERT_EQ(h.n, 60);
  EXPECT_LE(h.median_role, 0.04);
  EXPECT_LE(h.max_role, 0.33);
  EXPECT_LE(h.max_big_role, 0.20);
  EXPECT_LE(h.median_none, 0.04);
  EXPECT_LE(h.max_none, 0.33);
  // The finding, asserted: roles do not help on this data (median no smaller; better on fewer than
  // half of the held-out GEMMs), and they do not hurt by more than half a percentage point.
  EXPECT_GE(h.differ, 40);  // the roles change most predictions: the comparison is not vacuous
  EXPECT_GE(h.median_role, h.median_none);
  EXPECT_LT(h.role_better, h.n / 2);
  EXPECT_LE(h.median_role - h.median_none, 0.005);
}

TEST(GemmRole, HeldOutTokens2048PredictedFrom8192AndSquares) {
  const HeldOut h = held_out(2048);
  ASSERT_EQ(h.n, 60);
  EXPECT_LE(h.median_role, 0.045);
  EXPECT_LE(h.max_role, 0.52);
  EXPECT_LE(h.max_big_role, 0.17);
  EXPECT_LE(h.median_none, 0.045);
  EXPECT_LE(h.max_none, 0.52);
  EXPECT_GE(h.differ, 40);  // the roles change most predictions: the comparison is not vacuous
  EXPECT_GE(h.median_role, h.median_none);
  EXPECT_LT(h.role_better, h.n / 2);
  EXPECT_LE(h.median_role - h.median_none, 0.005);
}

TEST(GemmRole, TokensBetweenAndBeyondTheSamplesStayInsideTheirBounds) {
  Profile p = Profile::builtin("h200");
  const Json& j = shipped_h200();
  const double peak = j["compute"]["peak_tflops"]["bf16"]["achieved"]["value"].get<double>();
  const double bw = 1 / j["memory"]["copy"]["beta_s_per_byte"]["value"].get<double>();
  const double floor_s = j["compute"]["gemm"]["bf16"]["floor_s"]["value"].get<double>();
  std::map<std::string, double> measured;  // label -> median
  for (const auto& s : j["compute"]["gemm"]["bf16"]["samples"])
    measured[s["label"].get<std::string>()] = s["median_s"].get<double>();
  int checked = 0;
  for (int h : kHidden)
    for (const auto& layer : kLayers)
      for (const auto& role : kRoles) {
        const GemmRole r = parse_gemm_role(role, "role");
        auto time_at = [&](std::int64_t tokens) {
          const auto s = layer_shape(layer, role, h, tokens);
          return p.gemm_time_s(s[0], s[1], s[2], "bf16", r);
        };
        const std::string base = layer + "." + role + " hidden=" + std::to_string(h) + " tokens=";
        const double m2 = measured.at(base + "2048"), m8 = measured.at(base + "8192");
        // Between the samples (4096 tokens): inside their monotone envelope.
        const double t4 = time_at(4096);
        EXPECT_GE(t4, std::min(m2, m8)) << base;
        EXPECT_LE(t4, std::max(m2, m8)) << base;
        // On the grid 1024..16384: monotone in tokens, never under the roofline or the floor.
        double prev = 0;
        for (std::int64_t tokens : {1024, 2048, 4096, 8192, 16384}) {
          const auto s = layer_shape(layer, role, h, tokens);
          const double dm = double(s[0]), dn = double(s[1]), dk = double(s[2]);
          const double roof = std::max(2 * dm * dn * dk / (peak * 1e12), (dm * dk + dk * dn + dm * dn) * 2 / bw);
          const double t = time_at(tokens);
          EXPECT_GE(t, roof) << base << tokens;
          EXPECT_GE(t, floor_s) << base << tokens;
          EXPECT_GE(t, prev) << base << tokens;
          prev = t;
        }
        // Finer steps (2^(1/8)): monotone once out of the launch-bound range (hidden >= 2048);
        // at hidden 1024 (0.03-0.1 ms, where the measured medians scatter by more) never more than
        // 5% under an earlier value (measured: 4.6% with roles, proj.fwd near 5,800 tokens; 3.1%
        // role-less on the same sweep).
        prev = 0;
        for (double tok = 1024; tok <= 16384 * 1.0001; tok *= std::pow(2.0, 0.125)) {
          const double t = time_at(std::llround(tok));
          EXPECT_GE(t, prev * (h >= 2048 ? 1.0 : 0.95)) << base << std::llround(tok);
          prev = std::max(prev, t);
        }
        ++checked;
      }
  EXPECT_EQ(checked, 60);
}

TEST(GemmRole, WithoutLabelledSamplesEveryRoleIsTheRoleLessResult) {
  // The shipped H200 table with every label made role-less, and the shipped squares-only fp16 table.
  Json j = shipped_h200();
  for (auto& s : j["compute"]["gemm"]["bf16"]["samples"]) s["label"] = "square";
  Profile plain = Profile::from_json(j, "h200 unlabelled");
  Profile shipped = Profile::builtin("h200");
  int checked = 0;
  for (std::int64_t m : {512, 1024, 2048, 3000, 8192, 16384})
    for (std::int64_t n : {1024, 4096, 12288, 49152})
      for (std::int64_t k : {1024, 2048, 6144, 8192}) {
        const double none = plain.gemm_time_s(m, n, k, "bf16");
        // Labels do not enter the role-less interpolation.
        EXPECT_EQ(none, shipped.gemm_time_s(m, n, k, "bf16")) << m << "x" << n << "x" << k;
        EXPECT_EQ(shipped.gemm_time_s(m, n, k, "bf16", GemmRole::none), none);
        for (GemmRole r : {GemmRole::fwd, GemmRole::bwd_data, GemmRole::bwd_weight}) {
          EXPECT_EQ(plain.gemm_time_s(m, n, k, "bf16", r), none) << m << "x" << n << "x" << k;
          EXPECT_EQ(shipped.gemm_time_s(m, n, k, "fp16", r), shipped.gemm_time_s(m, n, k, "fp16"));
          EXPECT_EQ(plain.gemm_tflops(m, n, k, "bf16", r), plain.gemm_tflops(m, n, k, "bf16"));
        }
        ++checked;
      }
  EXPECT_EQ(checked, 96);
}

// The "interference" section of knee-raw/1 (communication beside compute, written by the CUDA
// backend) and its fit into $.interference: synthetic sections generated from known costs a
// (held_sm_cost) and b (hbm_share_cost) through the model the simulator applies must give them back;
// bad sections are InputErrors naming the field. No real GPU data exists yet.
#include <gtest/gtest.h>

#include <cmath>

#include "calibrate/derive_profile.hpp"
#include "calibrate/fitter.hpp"
#include "calibrate/raw.hpp"
#include "profile/profile.hpp"
#include "tests/common/error_of.hpp"

using namespace knee;
using knee::test::error_of;

namespace {

constexpr double kCopyBps = 3e12;  // the synthetic device-copy bandwidth B
constexpr int kSms = 132;

// Repetitions around `t`: all equal (exact), or a deterministic +-`spread` relative pattern.
Reps reps(double t, double spread = 0) {
  std::vector<double> v;
  for (int i = 0; i < 9; ++i) v.push_back(t * (1 + spread * ((i * 7) % 9 - 4) / 4.0));
  return Reps::of(v);
}

// A minimal GPU run the fitter accepts (GEMMs, a copy sweep at kCopyBps exactly, launch).
RawRun base_run() {
  RawRun r;
  r.source = "synthetic";
  r.device_kind = "gpu";
  r.manifest["gpu_name"] = "NVIDIA H100 80GB HBM3";
  r.manifest["gpu_count"] = 1;
  r.capacity_bytes = 80e9;
  for (long n : {1024L, 4096L, 8192L})
    r.gemm.push_back({n, n, n, "bf16", "square", reps(5e-6 + 2.0 * n * n * n / 7e14)});
  for (double x = 2048; x <= 8e9; x *= 2) r.copy.push_back({x, reps(2e-6 + x / kCopyBps)});
  r.host_launch = reps(3e-6);
  return r;
}

// The section as the model says it should measure: t_gemm beside = t n / (n - a k) and t_copy
// beside = t / (1 - b H / B), H the side loop's bytes/s beside the copy (here 45 GB/s per CTA).
InterferenceRun section(double a, double b, double spread = 0) {
  InterferenceRun s;
  s.sm_count = kSms;
  s.side_threads = 512;
  s.side_buffer_bytes = 512.0 * 1024 * 1024;
  s.gemm_m = s.gemm_n = s.gemm_k = 8192;
  s.gemm_dtype = "bf16";
  s.copy_kernel = "add";
  s.copy_bytes_moved = 6.0 * 1024 * 1024 * 1024;
  for (int k : {8, 16, 32}) {
    InterferenceCase c;
    c.side_ctas = c.distinct_sms = k;
    const double g = 1.6e-3, cp = 2.2e-3, H = 45e9 * k;
    c.gemm_alone = reps(g, spread);
    c.gemm_beside = reps(g * kSms / (kSms - a * k), spread);
    c.copy_alone = reps(cp, spread);
    c.copy_beside = reps(cp / (1 - b * H / kCopyBps), spread);
    c.side_alone_Bps = reps(1.3 * H, spread);
    c.side_beside_gemm_Bps = reps(1.1 * H, spread);
    c.side_beside_copy_Bps = reps(H, spread);
    s.cases.push_back(c);
  }
  return s;
}

OrderedJson fit(const RawRun& r) { return fit_profile(r, nullptr, FitOptions{"h100-test", "test", "test", 1.0}); }

}  // namespace

TEST(Interference, FitRecoversTheCostsTheSectionWasMadeFrom) {
  for (auto [a, b] : {std::pair{1.0, 1.0}, std::pair{0.85, 1.2}, std::pair{1.7, 0.6}}) {
    SCOPED_TRACE(std::to_string(a) + " " + std::to_string(b));
    RawRun r = base_run();
    r.interference = section(a, b);
    // Through the file format: what the backend writes is what the fitter reads.
    RawRun back = read_raw_json(Json(raw_to_json(r)), "synthetic-raw.json");
    ASSERT_EQ(back.interference.cases.size(), 3u);
    EXPECT_EQ(back.interference.cases[2].side_ctas, 32);
    const OrderedJson pj = fit(back);
    ASSERT_TRUE(pj.contains("interference"));
    const OrderedJson& in = pj["interference"];
    EXPECT_NEAR(in["held_sm_cost"]["value"].get<double>(), a, 1e-6);
    EXPECT_NEAR(in["hbm_share_cost"]["value"].get<double>(), b, 1e-6);
    EXPECT_EQ(in["held_sm_cost"]["provenance"], "measured");
    EXPECT_EQ(in["hbm_share_cost"]["provenance"], "measured");
    EXPECT_EQ(in["held_sm_cost"]["reps"], 9);
    EXPECT_EQ(in["sm_count"], kSms);
    ASSERT_EQ(in["samples"].size(), 3u);
    EXPECT_NEAR(in["samples"][1]["held_sm_cost"].get<double>(), a, 1e-6);  // each case alone, too
    // The profile reads it back, strictly, and the accessor returns it.
    const CommInterference ci = Profile::from_json(pj, "fitted").comm_interference();
    EXPECT_NEAR(ci.held_sm_cost, a, 1e-6);
    EXPECT_NEAR(ci.hbm_share_cost, b, 1e-6);
    EXPECT_EQ(ci.sm_count, kSms);
    EXPECT_EQ(ci.provenance, "measured");
  }
}

TEST(Interference, NoisyRepetitionsGiveAnIntervalAroundTheCost) {
  RawRun r = base_run();
  r.interference = section(0.9, 1.1, 0.01);  // +-1% per repetition
  const OrderedJson in = fit(r)["interference"];
  for (auto [key, truth] : {std::pair{"held_sm_cost", 0.9}, std::pair{"hbm_share_cost", 1.1}}) {
    SCOPED_TRACE(key);
    const double v = in[key]["value"].get<double>(), lo = in[key]["ci95"][0].get<double>(),
                 hi = in[key]["ci95"][1].get<double>();
    EXPECT_NEAR(v, truth, 1e-6);  // the pattern is symmetric: the medians are exact
    EXPECT_LT(lo, truth);
    EXPECT_GT(hi, truth);
  }
}

TEST(Interference, NoSectionNoInterferenceInTheProfile) {
  const OrderedJson pj = fit(base_run());
  EXPECT_FALSE(pj.contains("interference"));
  EXPECT_FALSE(raw_to_json(base_run()).contains("interference"));
  const CommInterference ci = Profile::from_json(pj, "fitted").comm_interference();
  EXPECT_EQ(ci.provenance, "assumed");
  EXPECT_EQ(ci.held_sm_cost, 1);
  EXPECT_EQ(ci.hbm_share_cost, 1);
  EXPECT_EQ(ci.sm_count, 132);  // H100 by the datasheet: no sm_count in this manifest
}

TEST(Interference, AKernelNoSlowerBesideIsClampedToZeroAndSaysSo) {
  RawRun r = base_run();
  r.interference = section(1, 1);
  for (auto& c : r.interference.cases) c.gemm_beside = reps(0.99 * c.gemm_alone.summary.median);  // noise: faster
  const OrderedJson in = fit(r)["interference"];
  EXPECT_EQ(in["held_sm_cost"]["value"].get<double>(), 0);
  EXPECT_NE(in["held_sm_cost"]["note"].get<std::string>().find("clamped to 0"), std::string::npos);
}

TEST(Interference, MalformedSectionsNameTheField) {
  RawRun r = base_run();
  r.interference = section(1, 1);
  const OrderedJson good = raw_to_json(r);
  auto err = [&](const std::function<void(OrderedJson&)>& edit) {
    OrderedJson j = good;
    edit(j["interference"]);
    return error_of([&] { read_raw_json(Json(j), "bad.json"); });
  };
  std::string e = err([](OrderedJson& s) { s["cases"][0]["side_ctas"] = 132; });
  EXPECT_NE(e.find("bad.json: $.interference.cases[0].side_ctas: expected an integer"), std::string::npos) << e;
  e = err([](OrderedJson& s) { s["cases"][1].erase("copy_beside_s"); });
  EXPECT_NE(e.find("bad.json: $.interference.cases[1].copy_beside_s"), std::string::npos) << e;
  e = err([](OrderedJson& s) { s["cases"][0]["gemm_alone_s"][2] = -1e-3; });
  EXPECT_NE(e.find("bad.json: $.interference.cases[0].gemm_alone_s[2]: expected a finite number > 0"),
            std::string::npos)
      << e;
  e = err([](OrderedJson& s) { s["cases"][0]["distinct_sms"] = 9; });  // more SMs than CTAs
  EXPECT_NE(e.find("$.interference.cases[0].distinct_sms"), std::string::npos) << e;
  e = err([](OrderedJson& s) { s["cases"] = OrderedJson::array(); });
  EXPECT_NE(e.find("bad.json: $.interference.cases: expected at least one case"), std::string::npos) << e;
  e = err([](OrderedJson& s) { s["sm_count"] = "many"; });
  EXPECT_NE(e.find("bad.json: $.interference.sm_count: expected an integer"), std::string::npos) << e;
  e = err([](OrderedJson& s) { s["copy"]["kernel"] = "memcpy"; });
  EXPECT_NE(e.find("bad.json: $.interference.copy.kernel: expected one of"), std::string::npos) << e;
  e = err([](OrderedJson& s) { s["side_ctas"] = 8; });  // a key nobody reads
  EXPECT_NE(e.find("bad.json: $.interference.side_ctas"), std::string::npos) << e;
  e = err([](OrderedJson& s) { s = 3; });
  EXPECT_NE(e.find("bad.json: $.interference: expected an object"), std::string::npos) << e;
}

TEST(Interference, DerivedProfilesCarryTheCostsWithTheTargetsSmCount) {
  RawRun r = base_run();
  r.manifest["gpu_name"] = "NVIDIA H200";
  r.interference = section(0.8, 1.3);
  // Derivation scales the power model: give it one (idle, compute, memory phases of 3 s).
  const std::vector<std::pair<const char*, double>> phases = {{"idle", 100}, {"compute", 650}, {"memory", 400}};
  for (int i = 0; i < 90; ++i) r.power.push_back({0.1 * i, phases[i / 30].first, phases[i / 30].second});
  const OrderedJson base = fit(r);
  const OrderedJson a100 = derive_profile(base, "a100", FitOptions{"a100", "test", "test", 1.0});
  const CommInterference ci = Profile::from_json(a100, "derived").comm_interference();
  EXPECT_NEAR(ci.held_sm_cost, 0.8, 1e-6);
  EXPECT_NEAR(ci.hbm_share_cost, 1.3, 1e-6);
  EXPECT_EQ(ci.sm_count, 108);
  EXPECT_EQ(ci.provenance, "derived");
}

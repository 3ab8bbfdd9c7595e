#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <tuple>

#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "profile/datasheet.hpp"
#include "profile/profile.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/write_tmp.hpp"

using namespace knee;
using knee::test::error_of;
using knee::test::write_tmp;

namespace {
const std::string kProfiles = std::string(KNEE_SOURCE_DIR) + "/profile/shipped/";
}  // namespace

TEST(Profile, BuiltinsLoadFromAnyDirectory) {
  auto names = Profile::builtin_names();
  for (const char* n : {"h200", "h100", "a100", "b200"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
    Profile p = Profile::builtin(n);
    EXPECT_EQ(p.name(), n);
    EXPECT_GT(p.gemm_time_s(4096, 4096, 4096, "bf16"), 0);
  }
  EXPECT_NE(error_of([] { Profile::builtin("h300"); }).find("h200"), std::string::npos);
}

TEST(Profile, GemmReturnsTheMeasuredMedianAtMeasuredPoints) {
  Profile p = Profile::builtin("h200");
  const auto& samples = p.json()["compute"]["gemm"]["bf16"]["samples"];
  int checked = 0;
  for (const auto& s : samples) {
    if (s["label"] != "square") continue;
    // A shape measured more than once (a square that is also a transformer GEMM) returns the
    // geometric mean of its medians: within the union of their intervals.
    double lo = INFINITY, hi = 0;
    for (const auto& o : samples)
      if (o["m"] == s["m"] && o["n"] == s["n"] && o["k"] == s["k"]) {
        lo = std::min(lo, o["ci95_s"][0].get<double>());
        hi = std::max(hi, o["ci95_s"][1].get<double>());
      }
    const double t = p.gemm_time_s(s["m"], s["n"], s["k"], "bf16");
    EXPECT_GE(t, lo) << s["m"];
    EXPECT_LE(t, hi) << s["m"];
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(Profile, GemmIsMonotoneSaneBetweenMeasuredSquares) {
  Profile p = Profile::builtin("h200");
  // Along the square diagonal: in the launch-bound range (time near the ~14 us floor) the measured
  // medians themselves scatter by up to 15%, so the interpolation may too; once compute-bound
  // (>= 2048) time never drops by more than 2% as the size grows.
  double prev = 0;
  for (double s = 64; s <= 16384; s *= 1.05) {
    auto n = static_cast<std::int64_t>(s);
    double t = p.gemm_time_s(n, n, n, "bf16");
    EXPECT_GE(t, prev * (n >= 2048 ? 0.98 : 0.85)) << n;
    prev = std::max(prev, t);
  }
  const double t4 = p.gemm_time_s(4096, 4096, 4096, "bf16"), t8 = p.gemm_time_s(8192, 8192, 8192, "bf16");
  const double t6 = p.gemm_time_s(5000, 5000, 5000, "bf16");
  EXPECT_GT(t6, t4);
  EXPECT_LT(t6, t8);
  // Efficiency never exceeds the achieved peak; tiny GEMMs cost at least the launch floor.
  EXPECT_LE(p.gemm_tflops(7000, 7000, 7000, "bf16"), 790 * 1.001);
  EXPECT_GE(p.gemm_time_s(8, 8, 8, "bf16"), 1e-6);
  // A skinny GEMM far outside the table is bandwidth-bound by the roofline.
  const double skinny = p.gemm_time_s(65536, 65536, 8, "bf16");
  EXPECT_GE(skinny, 65536.0 * 65536 * 2 / p.memory_bandwidth_Bps());
}

TEST(Profile, MemoryLinksLaunchPowerAttention) {
  Profile p = Profile::builtin("h200");
  EXPECT_NEAR(p.memory_bandwidth_Bps(), 4.25e12, 0.1e12);
  const double big = p.memory_bound_time_s(8.0 * (1 << 30));
  EXPECT_NEAR(big, 8.0 * (1 << 30) / p.memory_bandwidth_Bps(), 0.02 * big);
  EXPECT_GT(p.memory_bound_time_s(1 << 30, "gelu"), p.memory_bound_time_s(1 << 30, "copy"));
  EXPECT_GE(p.memory_bound_time_s(1), p.memory_bound_time_s(0));
  EXPECT_NE(error_of([&] { p.memory_bound_time_s(1, "nope"); }).find("$.memory.ops.nope"), std::string::npos);
  double prev = 0;
  for (double b = 1; b <= double(1ull << 33); b *= 2) {  // continuous and monotone across segments
    double t = p.memory_bound_time_s(b);
    EXPECT_GE(t, prev * 0.98) << b;
    prev = t;
  }
  auto nv = p.link("nvlink");
  EXPECT_EQ(nv.provenance, "datasheet");
  EXPECT_DOUBLE_EQ(1 / nv.beta_s_per_byte, 450e9);
  EXPECT_DOUBLE_EQ(1 / p.link("network").beta_s_per_byte, 50e9);
  auto pin = p.link("host_pinned_h2d");
  EXPECT_EQ(pin.provenance, "fitted");
  EXPECT_NEAR(1 / pin.beta_s_per_byte, 55e9, 2e9);
  EXPECT_NE(error_of([&] { p.link("pcie7"); }).find("host_pinned_h2d"), std::string::npos);
  EXPECT_GT(p.launch_overhead_s(), 1e-6);
  EXPECT_LT(p.launch_overhead_s(), 20e-6);
  EXPECT_NEAR(p.hbm_capacity_bytes(), 150e9, 2e9);
  const auto& pw = p.json()["power"];
  EXPECT_DOUBLE_EQ(p.power_W(0, 0), pw["idle_W"]["value"].get<double>());
  EXPECT_DOUBLE_EQ(p.power_W(1, 0), pw["compute_W"]["value"].get<double>());
  EXPECT_LE(p.power_W(1, 1), 700);
  for (const auto& s : p.json()["attention"]["samples"]) {
    double t = p.attention_time_s(s["batch"], s["heads"], s["seq"], s["head_dim"], true, false);
    EXPECT_NEAR(t, s["fwd"]["value"].get<double>(), 1e-9 * t);
    double tb = p.attention_time_s(s["batch"], s["heads"], s["seq"], s["head_dim"], true, true);
    EXPECT_NEAR(tb, s["fwd_bwd"]["value"].get<double>(), 1e-9 * tb);
  }
  EXPECT_GT(p.attention_time_s(1, 32, 8192, 128, false, false), p.attention_time_s(1, 32, 8192, 128, true, false));
}

TEST(Profile, DerivedProfilesScaleByTheDatasheet) {
  Profile h200 = Profile::builtin("h200"), h100 = Profile::builtin("h100"), a100 = Profile::builtin("a100"),
          b200 = Profile::builtin("b200");
  EXPECT_NEAR(h100.memory_bandwidth_Bps() / h200.memory_bandwidth_Bps(), 3.35 / 4.8, 1e-9);
  EXPECT_NEAR(b200.memory_bandwidth_Bps() / h200.memory_bandwidth_Bps(), 8 / 4.8, 1e-9);
  // Big GEMMs: the time above the launch floor scales by the per-SM peak ratio and the waves of
  // 128x128 tiles: 8192^2 is 4,096 tiles, 32 waves on the H200's 132 SMs, 38 on the A100's 108.
  const double floor = h200.json()["compute"]["gemm"]["bf16"]["floor_s"]["value"].get<double>();
  const double t = h200.gemm_time_s(8192, 8192, 8192, "bf16");
  ASSERT_EQ(find_datasheet("a100")->sm_count, 108);
  ASSERT_EQ(find_datasheet("b200")->sm_count, 148);
  // (1%: 8192^3 was measured twice, and the geometric mean of scaled times differs slightly.)
  EXPECT_NEAR(a100.gemm_time_s(8192, 8192, 8192, "bf16"),
              floor + (t - floor) * (38.0 / 32) * (989.0 / 132) / (312.0 / 108), 0.01 * t);
  EXPECT_NEAR(h100.gemm_time_s(8192, 8192, 8192, "bf16"), t, 1e-12);
  EXPECT_EQ(a100.link("nvlink").provenance, "datasheet");
  EXPECT_DOUBLE_EQ(1 / a100.link("nvlink").beta_s_per_byte, 300e9);
  EXPECT_DOUBLE_EQ(1 / b200.link("nvlink").beta_s_per_byte, 900e9);
  EXPECT_NE(error_of([&] { a100.gemm_time_s(64, 64, 64, "fp8"); }).find("$.compute.gemm.fp8"), std::string::npos);
  EXPECT_EQ(h100.json()["compute"]["gemm"]["bf16"]["provenance"], "derived");
  EXPECT_NEAR(h100.hbm_capacity_bytes(), 84.93e9, 1);  // 79.1 GiB, what CUDA shows of 80 GiB
  // B200 fp32 and tf32 from the HGX B200 datasheet (per GPU: 600/8 and 18000/2/8 TFLOP/s).
  const auto& bpk = b200.json()["compute"]["peak_tflops"];
  EXPECT_EQ(bpk["fp32"]["datasheet"]["value"].get<double>(), 75);
  EXPECT_EQ(bpk["tf32"]["datasheet"]["value"].get<double>(), 1125);
  const double f32 = h200.json()["compute"]["gemm"]["fp32"]["floor_s"]["value"].get<double>();
  const double t32 = h200.gemm_time_s(8192, 8192, 8192, "fp32");
  // 28 waves on 148 SMs.
  EXPECT_NEAR(b200.gemm_time_s(8192, 8192, 8192, "fp32"), f32 + (t32 - f32) * (28.0 / 32) * (67.0 / 132) / (75.0 / 148),
              1e-9 * t32);
}

TEST(Profile, MalformedProfilesNameFileAndPath) {
  std::ifstream in(kProfiles + "h200.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto trunc = write_tmp("trunc.json", text.substr(0, text.size() / 2));
  std::string e = error_of([&] { Profile::load(trunc); });
  EXPECT_NE(e.find(trunc + ": expected valid JSON"), std::string::npos) << e;

  OrderedJson j = OrderedJson::parse(text);
  j["memory"]["copy"]["bandwith_Bps"] = 1;  // typo
  auto unk = write_tmp("unk.json", j.dump());
  e = error_of([&] { Profile::load(unk); });
  EXPECT_NE(e.find(unk + ": $.memory.copy.bandwith_Bps"), std::string::npos) << e;

  j = OrderedJson::parse(text);
  j["compute"]["gemm"]["bf16"]["samples"][3]["median_s"] = -1e-5;
  auto neg = write_tmp("neg.json", j.dump());
  e = error_of([&] { Profile::load(neg); });
  EXPECT_NE(e.find(neg + ": $.compute.gemm.bf16.samples[3].median_s: expected a finite number > 0, got -1e-05"),
            std::string::npos)
      << e;

  j = OrderedJson::parse(text);
  j["links"]["nvlink"]["alpha_s"]["value"] = "fast";
  auto wt = write_tmp("wt.json", j.dump());
  e = error_of([&] { Profile::load(wt); });
  EXPECT_NE(e.find(wt + ": $.links.nvlink.alpha_s.value: expected a finite number"), std::string::npos) << e;

  j = OrderedJson::parse(text);
  j["power"]["idle_W"]["provenance"] = "guessed";
  e = error_of([&] { Profile::from_json(j, "p.json"); });
  EXPECT_NE(e.find("p.json: $.power.idle_W.provenance: expected one of"), std::string::npos) << e;
  EXPECT_NE(error_of([] { Profile::load("/nonexistent/p.json"); }).find("/nonexistent/p.json"), std::string::npos);
}

namespace {
// The shipped h200 profile plus a strided-batched bf16 table and unfused attention samples, with
// times from simple models (so the expectations below are known): batched t = 8 us + flops / 500
// TFLOP/s; unfused t = 10 us + flops / 400 TFLOP/s + 8 bytes per score / 4 TB/s.
double batched_model_s(double b, double m, double n, double k) { return 8e-6 + 2 * b * m * n * k / 500e12; }
double unfused_model_s(double b, double h, double s, double d) {
  return 10e-6 + 4 * b * h * s * s * d / 400e12 + 8 * b * h * s * s / 4e12;
}
Profile with_batched_and_unfused() {
  OrderedJson j = Profile::builtin("h200").json();
  OrderedJson samples = OrderedJson::array();
  for (long b : {8L, 64L, 512L})
    for (auto [m, n, k] :
         {std::tuple{128L, 128L, 64L}, std::tuple{1024L, 1024L, 128L}, std::tuple{2048L, 2048L, 128L}}) {
      const double t = batched_model_s(b, m, n, k);
      samples.push_back({{"batch", b},
                         {"m", m},
                         {"n", n},
                         {"k", k},
                         {"label", "batched"},
                         {"median_s", t},
                         {"ci95_s", {t, t}},
                         {"reps", 5},
                         {"outliers", 0},
                         {"tflops", 2.0 * b * m * n * k / t / 1e12}});
    }
  j["compute"]["batched_gemm"] = {{"bf16", {{"provenance", "measured"}, {"samples", samples}}}};
  OrderedJson u = OrderedJson::array();
  for (auto [b, h, s, d] : {std::tuple{8, 16, 1024, 64}, std::tuple{4, 16, 2048, 128}, std::tuple{2, 32, 4096, 128},
                            std::tuple{1, 32, 8192, 128}})
    u.push_back({{"batch", b},
                 {"heads", h},
                 {"seq", s},
                 {"head_dim", d},
                 {"causal", true},
                 {"fwd", {{"value", unfused_model_s(b, h, s, d)}, {"provenance", "measured"}}}});
  j["attention"]["unfused_samples"] = u;
  return Profile::from_json(j, "synthetic.json");
}
}  // namespace

TEST(Profile, BatchedGemmReproducesSamplesAndStaysAboveTheRoofline) {
  Profile p = with_batched_and_unfused();
  ASSERT_TRUE(p.has_batched_gemm("bf16"));
  EXPECT_FALSE(p.has_batched_gemm("fp16"));
  for (const auto& s : p.json()["compute"]["batched_gemm"]["bf16"]["samples"]) {
    const double t = s["median_s"].get<double>();
    EXPECT_NEAR(p.batched_gemm_time_s(s["batch"], s["m"], s["n"], s["k"], "bf16"), t, 1e-12 * t) << s["label"];
  }
  // Between samples: near the model (the samples follow it), above the roofline and the launch
  // floor, and never faster for more batches.
  const double floor = p.json()["compute"]["gemm"]["bf16"]["floor_s"]["value"].get<double>();
  double prev = 0;
  for (double b = 8; b <= 512; b *= 1.1) {
    const auto bi = static_cast<std::int64_t>(b);
    const double t = p.batched_gemm_time_s(bi, 1500, 1500, 128, "bf16");
    const double flops = 2.0 * bi * 1500 * 1500 * 128, bytes = 2.0 * bi * (1500 * 128 * 2 + 1500.0 * 1500);
    EXPECT_GE(t, flops / 789e12) << bi;
    EXPECT_GE(t, bytes / p.memory_bandwidth_Bps()) << bi;
    EXPECT_GE(t, floor);
    EXPECT_GE(t, prev) << bi;
    if (bi >= 40) {  // compute-bound; below, the launch-bound samples' low rates pull the estimate up
      EXPECT_NEAR(t, batched_model_s(bi, 1500, 1500, 128), 0.2 * t) << bi;
    }
    prev = t;
  }
  // Farther than 4x from every sample (batch 1 vs 8 at the least): roofline + floor, with the
  // achieved bf16 peak (above every batched sample's rate here) and the floor lowered to the
  // shortest batched median (8 us + a little, under the single-GEMM floor).
  const double peak = p.json()["compute"]["peak_tflops"]["bf16"]["achieved"]["value"].get<double>();
  const double bfloor = std::min(floor, batched_model_s(8, 128, 128, 64));
  ASSERT_LT(bfloor, floor);
  const double far = p.batched_gemm_time_s(1, 16384, 16384, 16384, "bf16");
  EXPECT_NEAR(far, 2.0 * 16384 * 16384 * 16384 / (peak * 1e12) + bfloor, 1e-9 * far);
}

TEST(Profile, BatchedGemmWithoutSamplesFoldsTheBatchIntoM) {
  // Without batched samples: the batch folded into m, but never faster than moving every
  // product's own operands (the folded GEMM reads B once; the batched call reads it batch times).
  Profile h200 = Profile::builtin("h200");
  EXPECT_FALSE(h200.has_batched_gemm("bf16"));
  auto expected = [](const Profile& p, double b, double m, double n, double k, const char* dt) {
    const double elt = std::string(dt) == "tf32" ? 4 : 2;
    return std::max(p.gemm_time_s(std::llround(b * m), std::llround(n), std::llround(k), dt),
                    b * (m * k + k * n + m * n) * elt / p.memory_bandwidth_Bps());
  };
  for (auto [b, m, n, k] : {std::tuple{1L, 4096L, 4096L, 4096L}, std::tuple{32L, 2048L, 2048L, 128L},
                            std::tuple{1024L, 128L, 128L, 64L}, std::tuple{7L, 3000L, 5000L, 700L}})
    for (const char* dt : {"bf16", "fp16", "tf32"}) {
      EXPECT_EQ(h200.batched_gemm_time_s(b, m, n, k, dt), expected(h200, b, m, n, k, dt)) << b << " " << m << dt;
      if (b == 1) { EXPECT_EQ(h200.batched_gemm_time_s(b, m, n, k, dt), h200.gemm_time_s(m, n, k, dt)); }
    }
  // Many matrix-vector products, each with its own 4096 x 4096 B: bandwidth-bound, 137 GB moved.
  const double bw = 4096.0 * (4096 + 4096.0 * 4096 + 4096) * 2 / h200.memory_bandwidth_Bps();
  EXPECT_EQ(h200.batched_gemm_time_s(4096, 1, 4096, 4096, "bf16"), bw);
  EXPECT_GT(bw, 10 * h200.gemm_time_s(4096, 4096, 4096, "bf16"));
  // A profile with a bf16 batched table falls back for the other dtypes.
  Profile p = with_batched_and_unfused();
  EXPECT_EQ(p.batched_gemm_time_s(64, 1024, 1024, 128, "fp16"), expected(p, 64, 1024, 1024, 128, "fp16"));
}

TEST(Profile, BatchedGemmRejectsBadArguments) {
  for (const Profile& p : {Profile::builtin("h200"), with_batched_and_unfused()}) {
    EXPECT_NE(error_of([&] { p.batched_gemm_time_s(0, 64, 64, 64, "bf16"); }).find("batch: expected an integer >= 1"),
              std::string::npos);
    EXPECT_NE(error_of([&] { p.batched_gemm_time_s(-3, 64, 64, 64, "bf16"); }).find("batch"), std::string::npos);
    for (auto [m, n, k] : {std::tuple{-1L, 64L, 64L}, std::tuple{64L, -64L, 64L}, std::tuple{64L, 64L, 0L}})
      EXPECT_NE(error_of([&] { p.batched_gemm_time_s(4, m, n, k, "bf16"); }).find("expected dimensions m, n, k >= 1"),
                std::string::npos);
    EXPECT_NE(error_of([&] { p.batched_gemm_time_s(4, 64, 64, 64, "int4"); }).find("$.compute.gemm.int4"),
              std::string::npos);
  }
  EXPECT_NE(error_of([] {
              Profile::builtin("h200").batched_gemm_time_s(1ll << 40, 1ll << 40, 64, 64, "bf16");
            }).find("fit in 64 bits"),
            std::string::npos);
}

TEST(Profile, UnfusedAttentionInterpolatesItsSamples) {
  Profile p = with_batched_and_unfused();
  ASSERT_TRUE(p.has_attention_unfused());
  for (const auto& s : p.json()["attention"]["unfused_samples"]) {
    const double t = s["fwd"]["value"].get<double>();
    EXPECT_NEAR(p.attention_unfused_time_s(s["batch"], s["heads"], s["seq"], s["head_dim"]), t, 1e-9 * t) << s["seq"];
  }
  // Along the sequence length: never faster for longer sequences, above the roofline (FLOPs at
  // the bf16 peak; scores written and read once) and the floor; near the model from 1024 up (below
  // the smallest sample the rate is held, so the model's fixed 10 us is lost).
  double prev = 0;
  for (int s = 512; s <= 16384; s = s * 5 / 4) {
    const double t = p.attention_unfused_time_s(1, 32, s, 128);
    const double flops = 4.0 * 32 * double(s) * s * 128, scores = 32.0 * s * s;
    EXPECT_GE(t, flops / 790e12) << s;
    EXPECT_GE(t, 4 * scores / p.memory_bandwidth_Bps()) << s;
    EXPECT_GE(t, prev) << s;
    if (s >= 1024) { EXPECT_NEAR(t, unfused_model_s(1, 32, s, 128), 0.3 * t) << s; }
    prev = t;
  }
  // The fused path is a different table: the profile's measured flash-attention samples.
  EXPECT_LT(p.attention_time_s(1, 32, 8192, 128, true, false), p.attention_unfused_time_s(1, 32, 8192, 128));
  EXPECT_NE(error_of([&] {
              p.attention_unfused_time_s(0, 32, 1024, 128);
            }).find("expected batch, heads, seq and head_dim >= 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { p.attention_unfused_time_s(1, 32, -4, 128); }).find(">= 1"), std::string::npos);
}

TEST(Profile, UnfusedAttentionWithoutSamplesNamesThePath) {
  Profile h200 = Profile::builtin("h200");
  EXPECT_FALSE(h200.has_attention_unfused());
  const std::string e = error_of([&] { h200.attention_unfused_time_s(1, 32, 4096, 128); });
  EXPECT_NE(e.find("builtin:h200: $.attention.unfused_samples: expected unfused attention samples"), std::string::npos)
      << e;
  // A typo inside the samples is rejected like any other key.
  OrderedJson j = with_batched_and_unfused().json();
  j["attention"]["unfused_samples"][1]["heads"] = 0;
  EXPECT_NE(error_of([&] { Profile::from_json(j, "u.json"); }).find("u.json: $.attention.unfused_samples[1].heads"),
            std::string::npos);
}

// What MFU is measured against, asked of the profile (callers never read its JSON): the
// datasheet peak where recorded, else the achieved peak, else the 8192^3 GEMM rate.
TEST(Profile, PeakTflopsPrefersTheDatasheetThenTheAchievedPeak) {
  OrderedJson j = Profile::builtin("h200").json();
  auto& bf16 = j["compute"]["peak_tflops"]["bf16"];
  bf16["datasheet"] = {{"value", 989.5}, {"provenance", "datasheet"}};
  bf16["achieved"]["value"] = 700.25;
  j["description"] = "a test profile";
  EXPECT_EQ(Profile::from_json(j, "a.json").peak_tflops("bf16"), 989.5);
  EXPECT_EQ(Profile::from_json(j, "a.json").description(), "a test profile");
  bf16.erase("datasheet");
  EXPECT_EQ(Profile::from_json(j, "b.json").peak_tflops("bf16"), 700.25);
  const Profile h200 = Profile::builtin("h200");
  EXPECT_THROW(h200.peak_tflops("fp64x"), InputError);  // a dtype the profile has no GEMMs of
  EXPECT_EQ(h200.power_provenance(), h200.json()["power"]["compute_W"]["provenance"].get<std::string>());
}

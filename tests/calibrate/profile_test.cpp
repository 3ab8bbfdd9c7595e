#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "tests/common/error_of.hpp"
#include "calibrate/fitter.hpp"
#include "calibrate/profile.hpp"

using namespace knee;
using knee::test::error_of;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}
const std::string kProfiles = std::string(KNEE_SOURCE_DIR) + "/calibrate/profiles/";
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
  // Big GEMMs: the time above the launch floor scales by the peak ratio.
  const double floor = h200.json()["compute"]["gemm"]["bf16"]["floor_s"]["value"].get<double>();
  const double t = h200.gemm_time_s(8192, 8192, 8192, "bf16");
  // (1%: 8192^3 was measured twice, and the geometric mean of scaled times differs slightly.)
  EXPECT_NEAR(a100.gemm_time_s(8192, 8192, 8192, "bf16"), floor + (t - floor) * 989 / 312, 0.01 * t);
  EXPECT_NEAR(h100.gemm_time_s(8192, 8192, 8192, "bf16"), t, 1e-12);
  EXPECT_EQ(a100.link("nvlink").provenance, "datasheet");
  EXPECT_DOUBLE_EQ(1 / a100.link("nvlink").beta_s_per_byte, 300e9);
  EXPECT_DOUBLE_EQ(1 / b200.link("nvlink").beta_s_per_byte, 900e9);
  EXPECT_NE(error_of([&] { a100.gemm_time_s(64, 64, 64, "fp8"); }).find("$.compute.gemm.fp8"), std::string::npos);
  EXPECT_EQ(h100.json()["compute"]["gemm"]["bf16"]["provenance"], "derived");
  EXPECT_NEAR(h100.hbm_capacity_bytes(), 80e9, 1);
  // B200 fp32 and tf32 from the HGX B200 datasheet (per GPU: 600/8 and 18000/2/8 TFLOP/s).
  const auto& bpk = b200.json()["compute"]["peak_tflops"];
  EXPECT_EQ(bpk["fp32"]["datasheet"]["value"].get<double>(), 75);
  EXPECT_EQ(bpk["tf32"]["datasheet"]["value"].get<double>(), 1125);
  const double f32 = h200.json()["compute"]["gemm"]["fp32"]["floor_s"]["value"].get<double>();
  const double t32 = h200.gemm_time_s(8192, 8192, 8192, "fp32");
  EXPECT_NEAR(b200.gemm_time_s(8192, 8192, 8192, "fp32"), f32 + (t32 - f32) * 67 / 75, 1e-9 * t32);
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
            std::string::npos) << e;

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

TEST(RawImport, MalformedRawFilesNameFileAndPath) {
  const std::string run1 = std::string(KNEE_SOURCE_DIR) + "/calibrate/data/h200-2026-11-27/micro.json";
  Json j = parse_json_file(run1);
  std::string e;
  {
    Json k = j;
    k["memory"][2]["times_s"][5] = -3e-6;
    e = error_of([&] { read_raw_json(k, "r.json"); });
    EXPECT_EQ(e, "r.json: $.memory[2].times_s[5]: expected a finite number > 0, got -3e-06");
  }
  {
    Json k = j;
    k["host_link"][0]["bandwidth"] = 1;
    e = error_of([&] { read_raw_json(k, "r.json"); });
    EXPECT_NE(e.find("r.json: $.host_link[0].bandwidth: expected one of the known keys"), std::string::npos) << e;
  }
  {
    Json k = j;
    k["gemm"][0]["m"] = "64";
    e = error_of([&] { read_raw_json(k, "r.json"); });
    EXPECT_EQ(e, "r.json: $.gemm[0].m: expected an integer >= 1, got \"64\"");
  }
  {
    Json k = j;
    k["gemm"][0]["flops"] = 1000.5;
    e = error_of([&] { read_raw_json(k, "r.json"); });
    EXPECT_NE(e.find("$.gemm[0].flops: expected 2*m*n*k"), std::string::npos) << e;
  }
  auto trunc = write_tmp("rawtrunc.json", "{\"env\": {\"name\": ");
  e = error_of([&] { read_raw_file(trunc); });
  EXPECT_NE(e.find(trunc + ": expected valid JSON"), std::string::npos) << e;
  e = error_of([&] { read_raw_json(Json::parse("[1,2]"), "x.json"); });
  EXPECT_NE(e.find("x.json: $: expected a raw calibration file"), std::string::npos) << e;
}

// Fitting the project's copy of the measured H200 data (calibrate/data), and the shipped profiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "calibrate/fitter.hpp"
#include "profile/profile.hpp"

using namespace knee;

namespace {
const std::string kData = std::string(KNEE_SOURCE_DIR) + "/calibrate/data/h200-2026-11-27/";
const std::string kRun1 = kData + "micro.json", kRun2 = kData + "run2/micro.json";

const Json& raw1() {
  static Json j = parse_json_file(kRun1);
  return j;
}
const OrderedJson& fitted() {
  static OrderedJson p = [] {
    RawRun a = read_raw_file(kRun1), b = read_raw_file(kRun2);
    return fit_profile(a, &b, FitOptions{"h200", "test", "test", 1.0});
  }();
  return p;
}
double med(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

TEST(Fitter, DeviceCopyBandwidthMatchesTheRawMedians) {
  std::vector<double> bw;  // read + write bytes per second at >= 1 GiB moved, from the raw medians
  for (const auto& r : raw1()["memory"])
    if (r["op"] == "d2d_copy" && r["bytes_moved"].get<double>() >= double(1 << 30))
      bw.push_back(r["bytes_moved"].get<double>() / r["median_s"].get<double>());
  ASSERT_GE(bw.size(), 3u);
  const double expected = med(bw);
  const auto& c = fitted()["memory"]["copy"]["bandwidth_Bps"];
  EXPECT_NEAR(c["value"].get<double>(), expected, 0.02 * expected);
  EXPECT_GT(expected, 4.0e12);  // "about 4.2 TB/s": the data is what it should be
  EXPECT_LT(expected, 4.5e12);
  EXPECT_LE(c["ci95"][0].get<double>(), c["value"].get<double>());
  EXPECT_GE(c["ci95"][1].get<double>(), c["value"].get<double>());
  EXPECT_TRUE(c.contains("run_to_run"));
}

TEST(Fitter, PinnedHostLinkBandwidthAndLatencyMatchTheRawMedians) {
  std::vector<double> bw, lat;
  for (const auto& r : raw1()["host_link"]) {
    if (r["direction"] != "h2d" || !r["pinned"].get<bool>()) continue;
    const double b = r["bytes"].get<double>(), t = r["median_s"].get<double>();
    if (b >= double(64 << 20)) bw.push_back(b / t);
    if (b <= 4096) lat.push_back(t);
  }
  const double exp_bw = med(bw), exp_lat = med(lat);
  const auto& l = fitted()["links"]["host_pinned_h2d"];
  EXPECT_NEAR(l["bandwidth_Bps"]["value"].get<double>(), exp_bw, 0.02 * exp_bw);
  EXPECT_NEAR(l["alpha_s"]["value"].get<double>(), exp_lat, 0.15 * exp_lat);
  EXPECT_GT(exp_bw, 50e9);
  EXPECT_LT(exp_lat, 10e-6);
  EXPECT_EQ(l["provenance"], "fitted");
}

TEST(Fitter, Bf16PeakIsTheBestRawMedian) {
  double best = 0;
  for (const auto& g : raw1()["gemm"])
    if (g.contains("flops") && g["dtype"] == "bf16")
      best = std::max(best, g["flops"].get<double>() / g["median_s"].get<double>() / 1e12);
  const auto& a = fitted()["compute"]["peak_tflops"]["bf16"]["achieved"];
  EXPECT_DOUBLE_EQ(a["value"].get<double>(), best);
  EXPECT_EQ(a["provenance"], "measured");
  EXPECT_EQ(fitted()["compute"]["peak_tflops"]["bf16"]["datasheet"]["value"].get<double>(), 989);
}

TEST(Fitter, GemmNIsRecoveredFromFlopsNotTheRepetitionCount) {
  // The raw format's "n" holds the repetition count; a 4096^3 case must come out 4096^3.
  bool found = false;
  for (const auto& s : fitted()["compute"]["gemm"]["bf16"]["samples"])
    if (s["m"] == 4096 && s["k"] == 4096 && s["label"] == "square") {
      EXPECT_EQ(s["n"], 4096);
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST(Fitter, PowerPhasesExcludeSettlingAndGiveRunToRun) {
  const auto& p = fitted()["power"];
  EXPECT_GT(p["idle_W"]["value"].get<double>(), 100);
  EXPECT_LT(p["idle_W"]["value"].get<double>(), 160);
  EXPECT_GT(p["compute_W"]["value"].get<double>(), 650);
  EXPECT_GT(p["memory_W"]["value"].get<double>(), p["idle_W"]["value"].get<double>());
  EXPECT_GT(p["samples_excluded"].get<int>(), 0);
  EXPECT_TRUE(p["idle_W"].contains("run_to_run"));
}

static OrderedJson without_manifest(OrderedJson j) {
  j.erase("manifest");
  j.erase("description");
  return j;
}

TEST(Fitter, VariabilityFromTheNoiseGemmAndTheSecondMachine) {
  // op_cv: the standard deviation over the mean of ~10 ms blocks of the back-to-back GEMMs, in
  // order; computed here from the raw file directly.
  auto block_cv = [](const Json& noise) {
    std::vector<double> t;
    for (const auto& x : noise.at("times_s")) t.push_back(x.get<double>());
    const std::size_t n = std::min<std::size_t>(std::llround(0.010 / med(t)), t.size() / 5);
    std::vector<double> means;
    for (std::size_t i = 0; i + n <= t.size(); i += n) {
      double s = 0;
      for (std::size_t j = i; j < i + n; ++j) s += t[j];
      means.push_back(s / double(n));
    }
    double mean = 0, var = 0;
    for (double x : means) mean += x;
    mean /= double(means.size());
    for (double x : means) var += (x - mean) * (x - mean);
    return std::sqrt(var / double(means.size() - 1)) / mean;
  };
  const auto& v = fitted().at("variability");
  EXPECT_NEAR(v.at("op_cv").at("value").get<double>(), block_cv(raw1().at("gemm_noise")), 1e-12);
  EXPECT_EQ(v.at("op_cv").at("provenance"), "measured");
  EXPECT_NEAR(v.at("op_cv").at("run_to_run").at("other_value").get<double>(),
              block_cv(parse_json_file(kRun2).at("gemm_noise")), 1e-12);
  // gpu_cv: two machines, GEMMs over 1 ms: small (under 2%), and marked as fitted from two GPUs.
  const double g = v.at("gpu_cv").at("value").get<double>();
  EXPECT_GT(g, 0);
  EXPECT_LT(g, 0.02);
  EXPECT_EQ(v.at("gpu_cv").at("provenance"), "fitted");
  // One run alone has no second machine to compare with.
  RawRun a = read_raw_file(kRun1);
  const OrderedJson one = fit_profile(a, nullptr, FitOptions{"h200", "", "", 1.0});
  EXPECT_FALSE(one.at("variability").contains("gpu_cv"));
  // The raw format keeps the noise GEMM's repetitions in order.
  RawRun only_noise;
  only_noise.noise = a.noise;
  const RawRun back = read_raw_json(Json(raw_to_json(only_noise)), "<round trip>");
  EXPECT_EQ(back.noise.r.times_s, a.noise.r.times_s);
  EXPECT_EQ(back.noise.m, 4096);
  // Too few repetitions to see a drift: an error naming the key.
  OrderedJson short_noise = raw_to_json(only_noise);
  short_noise["gemm_noise"]["times_s"] = {1e-4, 1e-4, 1e-4};
  try {
    read_raw_json(Json(short_noise), "short.json");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("short.json: $.gemm_noise.times_s: expected at least 20 repetitions in order"),
              std::string::npos)
        << e.what();
  }
  // A derived profile takes them as they are, marked derived.
  const OrderedJson h100 = derive_profile(fitted(), "h100", FitOptions{"h100", "", "", 1.0});
  EXPECT_EQ(h100.at("variability").at("gpu_cv").at("value"), v.at("gpu_cv").at("value"));
  EXPECT_EQ(h100.at("variability").at("gpu_cv").at("provenance"), "derived");
  EXPECT_DOUBLE_EQ(Profile::from_json(h100, "<h100>").variability_cv("op_cv"), v.at("op_cv").at("value").get<double>());
  // Malformed: a coefficient of variation of 1.5.
  OrderedJson bad = fitted();
  bad["variability"]["op_cv"]["value"] = 1.5;
  try {
    Profile::from_json(bad, "bad.json");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.variability.op_cv"), std::string::npos) << e.what();
  }
}

TEST(Fitter, RegeneratingTheShippedProfilesGivesTheSameValues) {
  const std::string dir = std::string(KNEE_SOURCE_DIR) + "/profile/shipped/";
  Profile h200 = Profile::load(dir + "h200.json");
  EXPECT_EQ(without_manifest(h200.json()), without_manifest(fitted()));
  for (const char* g : {"h100", "a100", "b200"}) {
    OrderedJson d = derive_profile(h200.json(), g, FitOptions{g, "test", "test", 1.0});
    EXPECT_EQ(without_manifest(Profile::load(dir + g + ".json").json()), without_manifest(d)) << g;
  }
}

TEST(Fitter, NcclTestsImportFitsALinkClass) {
  // all_reduce_perf on 8 GPUs: busbw = algbw * 2 * 7 / 8; alpha 20 us, 360 GB/s bus bandwidth.
  std::string text =
      "# nThread 1 nGpus 8 minBytes 8 maxBytes 1073741824 step: 4(factor) warmup iters: 5 iters: 20\n"
      "#                                                              out-of-place                       in-place\n"
      "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n";
  for (double s = 1024; s <= double(1 << 30); s *= 4) {
    const double bus = s * 1.75, t_us = (20e-6 + bus / 360e9) * 1e6;
    const double alg = s / (t_us * 1e-6) / 1e9;
    char line[256];
    std::snprintf(line, sizeof line, "%12.0f %12.0f     float     sum      -1 %8.2f %7.2f %7.2f      0 %8.2f %7.2f %7.2f      0\n",
                  s, s / 4, t_us, alg, alg * 1.75, t_us, alg, alg * 1.75);
    text += line;
  }
  RawRun run = read_raw_file(kRun1);
  import_nccl_tests(text, "ar.txt", "nvlink", run);
  OrderedJson p = fit_profile(run, nullptr, FitOptions{"h200", "", "", 1.0});
  const auto& l = p["links"]["nvlink"];
  EXPECT_EQ(l["provenance"], "fitted");
  EXPECT_NEAR(l["bandwidth_Bps"]["value"].get<double>(), 360e9, 0.02 * 360e9);
  EXPECT_NEAR(l["alpha_s"]["value"].get<double>(), 20e-6, 0.1 * 20e-6);
  EXPECT_THROW(import_nccl_tests("size time\n1 2\n", "bad.txt", "nvlink", run), InputError);
}

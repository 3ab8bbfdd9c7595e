// Fitting the project's copy of the measured H200 data (calibrate/data), and the shipped profiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "calibrate/derive_profile.hpp"
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

namespace {
// The raw repetitions of a case, sorted (rank r is sorted[r - 1]).
std::vector<double> sorted_times(const Json& c) {
  std::vector<double> t;
  for (const auto& x : c.at("times_s")) t.push_back(x.get<double>());
  std::sort(t.begin(), t.end());
  return t;
}
// P(lo <= B <= hi) for B ~ binomial(n, 1/2): the exact coverage of [x(lo), x(hi + 1)] as an
// interval of the median of any continuous distribution (B counts the repetitions below it).
double binomial_half_coverage(int n, int lo, int hi) {
  double p = 0;
  for (int i = lo; i <= hi; ++i)  // C(n, i) / 2^n
    p += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0));
  return p;
}
}  // namespace

TEST(Fitter, SampleIntervalsAreOrderStatisticsOfTheRawRepetitions) {
  // 50 repetitions (bf16 4096^3): ranks 50/2 -/+ 1.96 sqrt(50)/2 = 25 -/+ 6.93, the lower rounded
  // down, the upper up and one past: x(18) and x(33). The median is (x(25) + x(26)) / 2.
  const Json* gemm = nullptr;
  for (const auto& g : raw1()["gemm"])
    if (g["dtype"] == "bf16" && g["m"] == 4096 && g["k"] == 4096 && g.contains("times_s") &&
        g.value("flops", 0.0) == 2.0 * 4096 * 4096 * 4096)
      gemm = &g;
  ASSERT_NE(gemm, nullptr);
  const auto g = sorted_times(*gemm);
  ASSERT_EQ(g.size(), 50u);
  const OrderedJson* s = nullptr;
  for (const auto& x : fitted()["compute"]["gemm"]["bf16"]["samples"])
    if (x["m"] == 4096 && x["n"] == 4096 && x["k"] == 4096 && x["label"] == "square") s = &x;
  ASSERT_NE(s, nullptr);
  EXPECT_EQ((*s)["reps"], 50);
  EXPECT_DOUBLE_EQ((*s)["median_s"].get<double>(), (g[24] + g[25]) / 2);
  EXPECT_DOUBLE_EQ((*s)["ci95_s"][0].get<double>(), g[17]);
  EXPECT_DOUBLE_EQ((*s)["ci95_s"][1].get<double>(), g[32]);
  // [x(18), x(33)] covers the median with probability P(18 <= B <= 32) = 0.9672 for B ~ Bin(50, 1/2):
  // at least the nominal 95%; the next narrower symmetric pair, [x(19), x(32)], covers 0.9351.
  EXPECT_NEAR(binomial_half_coverage(50, 18, 32), 0.9672, 5e-5);
  EXPECT_LT(binomial_half_coverage(50, 19, 31), 0.95);

  // Pinned h2d link: 20 repetitions at 256 MiB: 10 -/+ 4.38 -> x(5), x(16); 5 at 1 GiB: [min, max].
  const OrderedJson& link = fitted()["links"]["host_pinned_h2d"]["samples"];
  int checked = 0;
  for (const auto& r : raw1()["host_link"]) {
    if (r["direction"] != "h2d" || !r["pinned"].get<bool>()) continue;
    const auto t = sorted_times(r);
    for (const auto& x : link) {
      if (x["bytes"].get<double>() != r["bytes"].get<double>()) continue;
      if (t.size() == 20) {
        EXPECT_DOUBLE_EQ(x["ci95_s"][0].get<double>(), t[4]);
        EXPECT_DOUBLE_EQ(x["ci95_s"][1].get<double>(), t[15]);
        EXPECT_FALSE(x.contains("ci_method"));
        ++checked;
      } else if (t.size() == 5) {
        EXPECT_DOUBLE_EQ(x["ci95_s"][0].get<double>(), t.front());
        EXPECT_DOUBLE_EQ(x["ci95_s"][1].get<double>(), t.back());
        EXPECT_EQ(x["ci_method"], "min-max (fewer than 6 repetitions)");
        ++checked;
      } else if (t.size() == 30) {  // 15 -/+ 5.37 -> x(9), x(22)
        EXPECT_DOUBLE_EQ(x["ci95_s"][0].get<double>(), t[8]);
        EXPECT_DOUBLE_EQ(x["ci95_s"][1].get<double>(), t[21]);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 16);  // every pinned h2d size: 14 of 30 repetitions, 1 of 20, 1 of 5
  EXPECT_NEAR(binomial_half_coverage(20, 5, 15), 0.9882, 5e-5);
  EXPECT_NEAR(binomial_half_coverage(30, 9, 21), 0.9839, 5e-5);
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

namespace {
// A RawRun of the H200 data whose noise GEMM times are `times` (seconds, in order).
RawRun with_noise(const std::vector<double>& times) {
  RawRun r = read_raw_file(kRun1);
  r.noise.r = Reps::of(times);
  return r;
}
double op_cv_of(const RawRun& a, const RawRun* b = nullptr) {
  return fit_profile(a, b, FitOptions{"t", "", "", 1.0}).at("variability").at("op_cv").at("value").get<double>();
}
}  // namespace

TEST(Fitter, OpCvIsTheSpreadOfTenMillisecondBlockMeansInOrder) {
  // 50 repetitions of 1 ms (median 1 ms: ~10 ms blocks are 10 repetitions, 5 blocks). Block b
  // alternates mean_b -/+ 0.05 ms, so its mean is exactly mean_b: 0.9, 1.0, 1.1, 1.0, 1.0 ms.
  // Block means: mean 1.0 ms, squared deviations 0.01 + 0 + 0.01 + 0 + 0 = 0.02 ms^2, sample
  // variance 0.02 / 4 = 0.005 ms^2, so op_cv = sqrt(0.005) / 1.0 = 0.0707107 (by hand).
  const double block_mean[] = {0.9e-3, 1.0e-3, 1.1e-3, 1.0e-3, 1.0e-3};
  std::vector<double> drift;
  for (double m : block_mean)
    for (int i = 0; i < 10; ++i) drift.push_back(m + (i % 2 ? 0.05e-3 : -0.05e-3));
  EXPECT_NEAR(op_cv_of(with_noise(drift)), std::sqrt(0.005), 1e-9);
  // The same 50 repetitions (5 x 0.85, 20 x 0.95, 20 x 1.05, 5 x 1.15 ms; their own CV is
  // sqrt(0.325 / 49) = 0.0814) reordered so that every block holds one 0.85, one 1.15, four 0.95
  // and four 1.05 ms: every block mean is 1.0 ms and op_cv is 0. It measures drift over time, not
  // the spread of single repetitions.
  std::vector<double> steady;
  for (int b = 0; b < 5; ++b)
    for (double x : {0.85e-3, 0.95e-3, 1.05e-3, 0.95e-3, 1.05e-3, 0.95e-3, 1.05e-3, 0.95e-3, 1.05e-3, 1.15e-3})
      steady.push_back(x);
  EXPECT_NEAR(op_cv_of(with_noise(steady)), 0.0, 1e-9);
  // The second run's series gives run_to_run.other_value, never the value.
  const RawRun a = with_noise(drift), b = with_noise(steady);
  const OrderedJson two = fit_profile(a, &b, FitOptions{"t", "", "", 1.0});
  EXPECT_NEAR(two.at("variability").at("op_cv").at("value").get<double>(), std::sqrt(0.005), 1e-9);
  EXPECT_NEAR(two.at("variability").at("op_cv").at("run_to_run").at("other_value").get<double>(), 0.0, 1e-9);
}

TEST(Fitter, OpCvRecoversTheBlockDriftOfAKnownDistribution) {
  // 4000 repetitions around 1 ms (blocks of 10, 400 blocks): each block of 10 shares a drift
  // d ~ N(0, 0.02), each repetition adds e ~ N(0, 0.05), t = 1 ms x (1 + d + e). The CV of a block
  // mean is sqrt(0.02^2 + 0.05^2 / 10) = sqrt(0.00065) = 0.02550. A sample SD of 400 values is
  // within 1 / sqrt(2 x 399) = 3.5% (one standard error) of the truth: tolerance 10% (~3 SE).
  // Wrong block sizes would be far off: 5 repetitions give 0.0300 (+18%), 20 give 0.0180 (-29%),
  // single repetitions 0.0539 (+111%).
  std::mt19937_64 rng(20261206);
  std::normal_distribution<double> d(0.0, 0.02), e(0.0, 0.05);
  std::vector<double> t;
  for (int b = 0; b < 400; ++b) {
    const double drift = d(rng);
    for (int i = 0; i < 10; ++i) t.push_back(1e-3 * (1 + drift + e(rng)));
  }
  const double truth = std::sqrt(0.02 * 0.02 + 0.05 * 0.05 / 10);
  EXPECT_NEAR(op_cv_of(with_noise(t)), truth, 0.10 * truth);
}

TEST(Fitter, VariabilityFromTheNoiseGemmAndTheSecondMachine) {
  // op_cv of the H200 data, computed independently with Python's statistics module from the raw
  // files (block length round(0.010 s / median) = 49 repetitions, 20 blocks, the last 20 dropped):
  //   t = json.load(open(f))["gemm_noise"]["times_s"]; n = min(round(0.010 / median(t)), len(t) // 5)
  //   m = [sum(t[i:i + n]) / n for i in range(0, len(t) - n + 1, n)]; stdev(m) / mean(m)
  const auto& v = fitted().at("variability");
  EXPECT_NEAR(v.at("op_cv").at("value").get<double>(), 0.03339439834864384, 1e-12);
  EXPECT_EQ(v.at("op_cv").at("provenance"), "measured");
  EXPECT_NEAR(v.at("op_cv").at("run_to_run").at("other_value").get<double>(), 0.05554468245156391, 1e-12);
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
      "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw "
      "#wrong\n";
  for (double s = 1024; s <= double(1 << 30); s *= 4) {
    const double bus = s * 1.75, t_us = (20e-6 + bus / 360e9) * 1e6;
    const double alg = s / (t_us * 1e-6) / 1e9;
    char line[256];
    std::snprintf(line, sizeof line,
                  "%12.0f %12.0f     float     sum      -1 %8.2f %7.2f %7.2f      0 %8.2f %7.2f %7.2f      0\n", s,
                  s / 4, t_us, alg, alg * 1.75, t_us, alg, alg * 1.75);
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

// A profile refitted from a trace's measured kernels (calibrate/trace_refit.hpp): calls planted at
// known multiples of the base profile's own predictions come back as those multiples, at the traced
// shapes exactly and at the base's other samples by the table's r; errors name the trace.
#include <gtest/gtest.h>

#include <cmath>

#include "calibrate/trace_refit.hpp"
#include "common/error.hpp"
#include "profile/kernel_shape.hpp"
#include "profile/profile.hpp"
#include "tests/common/error_of.hpp"

using namespace knee;
using knee::test::error_of;

namespace {

const Profile& h200() {
  static const Profile p = Profile::builtin("h200");
  return p;
}

KernelShape gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  KernelShape s;
  s.kind = KernelKind::gemm;
  s.dtype = "bf16";
  s.m = m, s.n = n, s.k = k;
  return s;
}

KernelShape memory(const std::string& curve, double bytes) {
  KernelShape s;
  s.kind = KernelKind::memory;
  s.curve = curve;
  s.bytes = bytes;
  return s;
}

KernelShape attention(bool backward) {
  KernelShape s;
  s.kind = KernelKind::attention;
  s.dtype = "bf16";
  s.batch = 4, s.heads = 32, s.seq = 2048, s.head_dim = 128, s.causal = true, s.backward = backward;
  return s;
}

// `calls` calls of `shape`, each `factor` times the base's prediction, spread +-1% around it (so a
// median is a median of something) and symmetric, so the median is the planted value.
void plant(std::vector<MeasuredKernel>& out, const KernelShape& shape, double factor, int calls = 5) {
  const double t = factor * predict_s(h200(), shape);
  for (int i = 0; i < calls; ++i) out.push_back({shape, "aten::test", t * (1 + 0.01 * (i - calls / 2))});
}

TraceRefitOptions opts() {
  TraceRefitOptions o;
  o.trace_source = "planted.json";
  o.command_line = "test";
  o.git_revision = "test";
  return o;
}

double rel(double a, double b) { return std::fabs(a - b) / std::fabs(b); }

TEST(TraceRefit, GemmTracedShapesExactOtherSamplesScaledByR) {
  std::vector<MeasuredKernel> calls;
  const KernelShape a = gemm(8192, 16384, 4096), b = gemm(8192, 4096, 16384);
  plant(calls, a, 1.25);
  plant(calls, b, 1.25);
  const OrderedJson p = refit_profile_from_trace(h200().json(), calls, opts());
  const Profile r = Profile::from_json(p, "refit");
  EXPECT_EQ(r.name(), "h200-kineto");
  EXPECT_EQ(r.parameters_state(), "unedited");
  // At a traced shape: the median of its calls, which is 1.25x the base's prediction.
  EXPECT_LT(rel(r.gemm_time_s(8192, 16384, 4096, "bf16"), 1.25 * h200().gemm_time_s(8192, 16384, 4096, "bf16")), 1e-9);
  EXPECT_LT(rel(r.gemm_time_s(8192, 4096, 16384, "bf16"), 1.25 * h200().gemm_time_s(8192, 4096, 16384, "bf16")), 1e-9);
  const auto& rec = p["manifest"]["extra"]["kineto_refit"]["tables"]["gemm.bf16"];
  EXPECT_EQ(rec["calls"].get<int>(), 10);
  EXPECT_EQ(rec["shapes"].get<int>(), 2);
  EXPECT_LT(rel(rec["r"].get<double>(), 1.25), 1e-9);
  // Every base sample the trace did not measure: its median times r, so the profile times it so.
  int checked = 0;
  for (const auto& s : h200().json()["compute"]["gemm"]["bf16"]["samples"]) {
    const auto m = s["m"].get<std::int64_t>(), n = s["n"].get<std::int64_t>(), k = s["k"].get<std::int64_t>();
    if (m * n * k < 1024LL * 1024 * 1024 || s["label"].get<std::string>() != "square")
      continue;  // launch-bound ones sit on the floor
    EXPECT_LT(rel(r.gemm_time_s(m, n, k, "bf16"), 1.25 * h200().gemm_time_s(m, n, k, "bf16")), 1e-6)
        << m << "x" << n << "x" << k;
    ++checked;
  }
  EXPECT_GE(checked, 3);
  // Tables without calls are untouched.
  EXPECT_EQ(p["compute"]["gemm"]["fp16"], h200().json()["compute"]["gemm"]["fp16"]);
  EXPECT_EQ(p["memory"], h200().json()["memory"]);
}

TEST(TraceRefit, FasterTraceRaisesTheAchievedPeak) {
  std::vector<MeasuredKernel> calls;
  plant(calls, gemm(8192, 8192, 8192), 0.8);
  const Profile r = Profile::from_json(refit_profile_from_trace(h200().json(), calls, opts()), "refit");
  // Not clamped by the base's roofline: 0.8x is what comes back.
  EXPECT_LT(rel(r.gemm_time_s(8192, 8192, 8192, "bf16"), 0.8 * h200().gemm_time_s(8192, 8192, 8192, "bf16")), 1e-9);
}

TEST(TraceRefit, MemoryCurveRefittedAtTheTracesLevel) {
  std::vector<MeasuredKernel> calls;
  for (double mib : {64.0, 192.0, 512.0}) plant(calls, memory("add", mib * 1048576), 1.10);
  const OrderedJson p = refit_profile_from_trace(h200().json(), calls, opts());
  const Profile r = Profile::from_json(p, "refit");
  // A fitted curve through scaled base samples and the trace's: within 3% of the planted level
  // (the base curve itself is a fit, not exact at its samples).
  for (double mib : {64.0, 192.0, 512.0}) {
    const double bytes = mib * 1048576;
    EXPECT_LT(rel(r.memory_bound_time_s(bytes, "add"), 1.10 * h200().memory_bound_time_s(bytes, "add")), 0.03) << mib;
  }
  EXPECT_LT(rel(r.memory_bound_time_s(4e9, "add"), 1.10 * h200().memory_bound_time_s(4e9, "add")), 0.03);
  EXPECT_EQ(p["memory"]["ops"]["gelu"], h200().json()["memory"]["ops"]["gelu"]);
  const std::string note = p["memory"]["ops"]["add"]["note"].get<std::string>();
  EXPECT_NE(note.find("refitted from kineto trace planted.json: 15 calls at 3 shapes"), std::string::npos) << note;
}

TEST(TraceRefit, AttentionForwardAndBackwardEachTheirOwnR) {
  std::vector<MeasuredKernel> calls;
  plant(calls, attention(false), 1.4);
  plant(calls, attention(true), 1.2);
  const OrderedJson p = refit_profile_from_trace(h200().json(), calls, opts());
  const Profile r = Profile::from_json(p, "refit");
  const double bf = h200().attention_time_s(4, 32, 2048, 128, true, false);
  const double bb = h200().attention_time_s(4, 32, 2048, 128, true, true) - bf;
  const double rf = r.attention_time_s(4, 32, 2048, 128, true, false);
  EXPECT_LT(rel(rf, 1.4 * bf), 1e-9);
  EXPECT_LT(rel(r.attention_time_s(4, 32, 2048, 128, true, true) - rf, 1.2 * bb), 1e-9);
  // A base sample the trace did not run: forward x 1.4, its backward part x 1.2.
  const auto& s = h200().json()["attention"]["samples"][0];
  const int B = s["batch"], H = s["heads"], S = s["seq"], D = s["head_dim"];
  const bool c = s["causal"];
  if (!(B == 4 && H == 32 && S == 2048 && D == 128 && c)) {
    const double f0 = h200().attention_time_s(B, H, S, D, c, false), fb0 = h200().attention_time_s(B, H, S, D, c, true);
    EXPECT_LT(rel(r.attention_time_s(B, H, S, D, c, false), 1.4 * f0), 1e-6);
    EXPECT_LT(rel(r.attention_time_s(B, H, S, D, c, true), 1.4 * f0 + 1.2 * (fb0 - f0)), 1e-6);
  }
}

TEST(TraceRefit, NameZeroTimesAndErrors) {
  std::vector<MeasuredKernel> calls;
  plant(calls, gemm(4096, 4096, 4096), 1.0);
  calls.push_back({gemm(4096, 4096, 4096), "aten::mm", 0.0});
  TraceRefitOptions o = opts();
  o.name = "mine";
  const OrderedJson p = refit_profile_from_trace(h200().json(), calls, o);
  EXPECT_EQ(p["name"], "mine");
  EXPECT_EQ(p["manifest"]["extra"]["kineto_refit"]["calls_skipped_zero_time"].get<int>(), 1);
  EXPECT_EQ(p["manifest"]["source_files"].back(), "planted.json");
  const std::string e = error_of([&] { refit_profile_from_trace(h200().json(), {}, opts()); });
  EXPECT_NE(e.find("planted.json: expected GEMM, memory-bound or fused-attention calls"), std::string::npos) << e;
}

}  // namespace

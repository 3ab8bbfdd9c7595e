// Memory-bound kernel curves are GPU-side (calibrate/fitter.cpp, gpu_bound): the shared H200
// data's smallest op samples are host-bound (dispatch and event overhead, about an isolated tiny
// kernel), and the simulator charges launches on the host separately.
#include <gtest/gtest.h>

#include "profile/profile.hpp"

namespace knee {
namespace {

// Medians of calibrate/data/h200-2026-11-27/micro.json (memory[], op "add", bf16 [tokens, hidden]).
constexpr double kAddSmallBytes = 12582912, kAddSmallS = 22.016e-6;   // 2048 x 1024: host-bound
constexpr double kAddLargeBytes = 201326592, kAddLargeS = 49.824e-6;  // 8192 x 4096: GPU-bound
constexpr double kTinyKernelS = 13.584e-6;                            // launch.median_s: one tiny kernel timed alone

TEST(GpuSideCurves, HostBoundSamplesAreNotTheKernelTime) {
  const Profile p = Profile::builtin("h200");
  // The GPU-bound sample is reproduced within 5%...
  EXPECT_NEAR(p.memory_bound_time_s(kAddLargeBytes, "add"), kAddLargeS, 0.05 * kAddLargeS);
  // ...the host-bound one is not: 12.6 MB at ~4.4 TB/s is ~3 us of GPU work plus the kernel's
  // fixed cost, well under the 22 us the event pair measured around a lone eager call.
  const double small = p.memory_bound_time_s(kAddSmallBytes, "add");
  EXPECT_LT(small, kTinyKernelS);
  EXPECT_LT(small, 0.5 * kAddSmallS);
  EXPECT_GT(small, kAddSmallBytes / p.memory_bandwidth_Bps());
}

TEST(GpuSideCurves, EveryOpHasAKernelSizedFixedCost) {
  for (const std::string name : {"h200", "h100", "a100", "b200"}) {
    const Profile p = Profile::builtin(name);
    for (const char* op : {"add", "gelu", "layernorm", "softmax", "dropout_add"}) {
      // alpha = the time of a zero-byte call: at most an isolated tiny kernel.
      EXPECT_LE(p.memory_bound_time_s(0, op), kTinyKernelS) << name << " " << op;
      EXPECT_GT(p.memory_bound_time_s(1e9, op), p.memory_bound_time_s(1e8, op)) << name << " " << op;
    }
  }
}

TEST(GpuSideCurves, UnresolvedFixedCostsAreATinyKernelsGpuTime) {
  // Where the GPU-bound samples cannot resolve a fixed cost (the copy's are all 64 MB and larger;
  // layernorm's free intercept is 0) the fitter uses the measured GPU-side time of a tiny kernel;
  // where they can (add: 3.6 to 4.9 us) the fit stands.
  const Profile p = Profile::builtin("h200");
  const auto& j = p.json();
  const double kernel = j.at("launch").at("graph_per_kernel_s").at("value").get<double>();
  for (const char* op : {"layernorm", "softmax", "dropout_add"})
    EXPECT_DOUBLE_EQ(p.memory_bound_time_s(0, op), kernel) << op;
  EXPECT_DOUBLE_EQ(p.memory_bound_time_s(0, "copy"), kernel);
  EXPECT_NE(j.at("memory").at("copy").at("note").get<std::string>().find("does not resolve a kernel's fixed cost"),
            std::string::npos);
  const double add = j.at("memory").at("ops").at("add").at("alpha_s").at("value").get<double>();
  EXPECT_GT(add, 3 * kernel);
  EXPECT_DOUBLE_EQ(p.memory_bound_time_s(0, "add"), add);
  // A 1 MiB copy is a kernel's fixed cost plus its traffic, not 11.7 us.
  EXPECT_LT(p.memory_bound_time_s(2.0 * (1 << 20), "copy"), 2e-6);
}

}  // namespace
}  // namespace knee

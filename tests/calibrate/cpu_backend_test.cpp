#include <gtest/gtest.h>

#include "calibrate/backends.hpp"
#include "calibrate/fitter.hpp"
#include "profile/profile.hpp"

using namespace knee;

TEST(CpuBackend, QuickRunFitsIntoALoadableSaneProfile) {
  BackendOptions opt;
  opt.quick = true;
  RawRun run = run_cpu_backend(opt);
  ASSERT_FALSE(run.gemm.empty());
  for (const auto& g : run.gemm) EXPECT_GE(g.r.times_s.size(), 5u);  // every repetition kept
  // The raw file round-trips through knee-raw/1.
  RawRun back = read_raw_json(Json(raw_to_json(run)), "roundtrip");
  EXPECT_EQ(back.gemm.size(), run.gemm.size());
  EXPECT_EQ(back.copy[0].r.times_s, run.copy[0].r.times_s);
  OrderedJson pj = fit_profile(back, nullptr, FitOptions{"cpu", "test", "test", 1.0});
  Profile p = Profile::from_json(pj, "cpu profile");
  EXPECT_EQ(p.name(), "cpu");
  const double bw = p.memory_bandwidth_Bps();
  EXPECT_GT(bw, 0.5e9);  // any machine moves more than 0.5 GB/s with memcpy
  EXPECT_LT(bw, 2e12);
  EXPECT_GT(p.gemm_tflops(256, 256, 256, "fp32"), 1e-4);
  EXPECT_LT(p.gemm_tflops(256, 256, 256, "fp32"), 100);
  EXPECT_GT(p.launch_overhead_s(), 1e-9);
  EXPECT_LT(p.launch_overhead_s(), 10e-3);
  auto pipe = p.link("host_pipe");
  EXPECT_GT(pipe.alpha_s, 1e-8);
  EXPECT_GT(1 / pipe.beta_s_per_byte, 1e7);
  EXPECT_THROW(p.power_W(0.5, 0.5), InputError);  // the CPU backend measures no power
  EXPECT_THROW(p.link("nvlink"), InputError);
}

TEST(CudaProbe, ReportsWhyThereIsNoDeviceOrWhatThereIs) {
  std::string why, found;
  int n = cuda_device_count(&why, &found);
  EXPECT_GE(n, 0);
  if (n == 0) {
    EXPECT_FALSE(why.empty());
    EXPECT_TRUE(found.empty()) << found;
    // No driver library at all (this machine's case when dlopen fails): the reason says so.
    if (why.rfind("no CUDA driver", 0) == 0) EXPECT_NE(why.find("libcuda.so.1 not loadable"), std::string::npos) << why;
    else EXPECT_EQ(why.rfind("libcuda.so.1 found, but ", 0), 0u) << why;
  } else {
    EXPECT_EQ(found.rfind(std::to_string(n) + (n == 1 ? " GPU: " : " GPUs: "), 0), 0u) << found;
  }
}

// Calibration backends: measure this machine and return raw measurements (calibrate/raw.hpp),
// which knee fit turns into a profile.
#pragma once
#include <functional>
#include <string>

#include "calibrate/raw.hpp"

namespace knee {

struct BackendOptions {
  bool quick = false;                                // CI mode: a few seconds
  std::function<void(const std::string&)> progress;  // one short line per case, may be empty
  std::string command_line;
};

// The CPU backend: Eigen GEMM (fp32, fp64), memcpy bandwidth, an elementwise add, process-to-
// process latency and bandwidth over a pipe pair (link class "host_pipe"), and thread wake-up as
// the analogue of a kernel launch. Warm-up excluded, every repetition kept.
RawRun run_cpu_backend(const BackendOptions& opt);

// Number of CUDA devices via the driver library (dlopen of libcuda.so.1, so knee itself needs no
// CUDA); 0 with the reason in *why when there is no driver or no device (e.g. "no CUDA driver:
// libcuda.so.1 not loadable (...)"). With devices, *found (when given) says what they are, e.g.
// "1 GPU: NVIDIA H200" or "8 GPUs: 8 x NVIDIA H100 80GB HBM3".
int cuda_device_count(std::string* why, std::string* found = nullptr);

}  // namespace knee

// The shape of one kernel call as a profile times it: the arguments of Profile::gemm_time_s,
// batched_gemm_time_s, memory_bound_time_s and attention_time_s as one value. A Kineto trace's
// classified calls carry one (metrics/kernel_classify.hpp), and a profile refitted from a trace
// takes them (calibrate/trace_refit.hpp), so both read the same shape the same way.
#pragma once
#include <cstdint>
#include <string>

#include "profile/profile.hpp"

namespace knee {

enum class KernelKind { none, gemm, batched_gemm, memory, attention };

struct KernelShape {
  KernelKind kind = KernelKind::none;
  std::string dtype;                            // gemm: the table's dtype; attention: bf16 or fp16
  std::int64_t batch = 1, m = 0, n = 0, k = 0;  // gemm; batched_gemm: batch products per call
  std::string curve;                            // memory: "copy" or a $.memory.ops key
  double bytes = 0;                             // memory: bytes moved (read + write)
  int heads = 0, seq = 0, head_dim = 0;         // attention (with batch)
  bool causal = false, backward = false;        // attention; backward: the backward kernel alone
};

// One measured call of that shape (a real run's kernel time), what a profile is refitted from.
struct MeasuredKernel {
  KernelShape shape;
  std::string op;         // the framework op (aten::mm), for labels
  double measured_s = 0;  // GPU time, the call's kernels summed
};

// Seconds the profile predicts for the call; backward attention is attention_time_s(..., true)
// minus the forward (the profile's backward is forward plus backward). kind none: an InputError.
double predict_s(const Profile& p, const KernelShape& s);

}  // namespace knee

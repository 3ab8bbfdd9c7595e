// What the profile can predict for one op call of a Kineto trace (docs/analyze.md, "Kineto
// traces", the op table): the class of a cpu_op by its name, the shape from its Input Dims and
// Input type, and the profile's time for it (Profile::gemm_time_s, batched_gemm_time_s,
// memory_bound_time_s on the bytes its shapes move, attention_time_s), or why not.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/kineto_trace.hpp"
#include "profile/kernel_shape.hpp"
#include "profile/profile.hpp"

namespace knee {

// gemm, memory, attention, nccl, not_predicted, unlinked
enum class KernelClass { gemm, memory, attention, nccl, not_predicted, unlinked };
const char* to_string(KernelClass);

// One op call (its kernels summed), or one NCCL or unlinked kernel.
struct KernelCall {
  KernelClass cls = KernelClass::not_predicted;
  std::string op;      // the cpu_op (aten::mm); an NCCL or unlinked kernel's own name
  std::string shape;   // "m=4096 n=4096 k=4096", "bytes=..."; the Input Dims as written when not predicted
  std::string dtype;   // bf16, ...; "" when none applies
  std::string reason;  // why not predicted ("" when predicted, nccl or unlinked)
  int kernels = 0;
  std::int64_t measured_ps = 0;
  double predicted_s = -1;  // < 0: no prediction
  KernelShape dims;         // what the profile timed (kind none when nothing was predicted)
};

// The call a cpu_op describes: class, shape, dtype, and the prediction or why there is none. A
// profile that cannot time the shape (an InputError from it) leaves it not predicted, with its words.
KernelCall classify_op(const KinetoCpuOp& op, const Profile& profile);

// The predicted calls (gemm, memory, attention) as measured kernels with their shapes, in order:
// what knee fit --kineto refits a profile from (calibrate/trace_refit.hpp).
std::vector<MeasuredKernel> measured_kernels(const std::vector<KernelCall>& calls);

// A not-predicted call of `op` with its reason (the op's Input Dims as its shape).
KernelCall not_predicted_call(const KinetoCpuOp& op, const std::string& why);

}  // namespace knee

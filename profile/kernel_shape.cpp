#include "profile/kernel_shape.hpp"

#include "common/error.hpp"

namespace knee {

double predict_s(const Profile& p, const KernelShape& s) {
  switch (s.kind) {
    case KernelKind::gemm:
      return p.gemm_time_s(s.m, s.n, s.k, s.dtype);
    case KernelKind::batched_gemm:
      return p.batched_gemm_time_s(s.batch, s.m, s.n, s.k, s.dtype);
    case KernelKind::memory:
      return p.memory_bound_time_s(s.bytes, s.curve);
    case KernelKind::attention: {
      const int b = static_cast<int>(s.batch);
      const double fwd = p.attention_time_s(b, s.heads, s.seq, s.head_dim, s.causal, false);
      return s.backward ? p.attention_time_s(b, s.heads, s.seq, s.head_dim, s.causal, true) - fwd : fwd;
    }
    case KernelKind::none:
      break;
  }
  throw InputError("predict_s: expected a kernel shape of kind gemm, batched_gemm, memory or attention, got none");
}

}  // namespace knee

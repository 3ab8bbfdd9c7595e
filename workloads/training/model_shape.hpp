// Shape facts of a model that the parameter count, the memory model and the layer kernels all
// use (internal to workloads/training).
#pragma once
#include "workloads/model/model_shape.hpp"
#include "workloads/training/scenario.hpp"

namespace knee::workload {

// The shared shape facts (workloads/model/model_shape.hpp), by their names here.
using model::ffn_mats;
using model::kDt;
using model::kv_dim;
using model::moe;

// Per-token forward FLOPs of one layer's matrix multiplies and attention (Megatron's count:
// attention scores counted in full, not halved for causal masking).
inline double layer_flops_per_token(const ModelSpec& m) {
  const double h = m.hidden, f = m.ffn_hidden, s = m.seq_len;
  double f_ffn = 2 * ffn_mats(m) * h * f;
  if (moe(m)) f_ffn = f_ffn * m.top_k + 2 * h * m.experts;
  return 2 * h * (h + 2 * kv_dim(m)) + 2 * h * h + f_ffn + 4 * s * h;
}

}  // namespace knee::workload

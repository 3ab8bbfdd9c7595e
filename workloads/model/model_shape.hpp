// Shape facts of a model that every workload's parameter counts, memory and kernels use.
#pragma once
#include "workloads/model/model_spec.hpp"

namespace knee::model {

inline double head_dim(const ModelSpec& m) { return double(m.hidden) / m.heads; }
inline double kv_dim(const ModelSpec& m) { return double(m.hidden) / m.heads * m.kv_heads; }
inline bool moe(const ModelSpec& m) { return m.experts > 0; }
inline double ffn_mats(const ModelSpec& m) { return m.ffn == FfnKind::swiglu ? 3 : 2; }
inline constexpr double kDt = 2;  // bytes of a bf16/fp16 activation

// KV-cache bytes of one token over the whole model: a key and a value per layer, kv_heads x
// head_dim elements each, in the activation dtype.
inline double kv_bytes_per_token(const ModelSpec& m) { return 2.0 * double(m.layers) * kv_dim(m) * kDt; }

}  // namespace knee::model

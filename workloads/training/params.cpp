// Parameter counts and the FLOPs of a step (closed forms in docs/workloads.md).
#include "workloads/training/params.hpp"

#include "workloads/training/model_shape.hpp"
#include "workloads/training/training.hpp"

namespace knee::workload {

LayerParams layer_params(const ModelSpec& m) {
  const double h = m.hidden, f = m.ffn_hidden;
  LayerParams p;
  p.dense = h * (h + 2 * kv_dim(m)) + (h + 2 * kv_dim(m)) + h * h + h + 4 * h;  // QKV, proj, 2 LN
  const double ffn = ffn_mats(m) * h * f + (m.ffn == FfnKind::gelu ? f + h : 0);
  if (moe(m)) {
    p.experts = m.experts * ffn;
    p.dense += h * m.experts;  // router
  } else {
    p.dense += ffn;
  }
  return p;
}

double embedding_params(const ModelSpec& m) { return double(m.vocab) * m.hidden; }

bool tied_embedding_across_stages(const Scenario& s) {
  return s.model.vocab > 0 && s.model.ffn != FfnKind::swiglu && s.par.pp > 1;
}

StageParams stage_params(const Scenario& s, const std::vector<std::int64_t>& layers, int vs) {
  const LayerParams lp = layer_params(s.model);
  const double t = s.par.tp;
  StageParams out;
  out.dense = layers[vs] * lp.dense / t;
  out.experts = layers[vs] * lp.experts / s.par.ep;  // expert tensor parallelism 1: whole experts
  const int last = static_cast<int>(layers.size()) - 1;
  if (vs == 0) out.dense += embedding_params(s.model) / t;
  if (vs == last && s.model.vocab > 0)  // output layer (a copy when tied and pp > 1), final layernorm
    out.dense += (layers.size() > 1 || s.model.ffn == FfnKind::swiglu ? embedding_params(s.model) / t : 0) +
                 2.0 * s.model.hidden;
  return out;
}

double total_params(const Scenario& s) {
  const LayerParams lp = layer_params(s.model);
  // GPT-style (gelu) models tie the output layer to the embedding; Llama-style (swiglu) do not.
  const double emb = embedding_params(s.model) * (s.model.ffn == FfnKind::swiglu ? 2 : 1);
  return s.model.layers * (lp.dense + lp.experts) + emb + (s.model.vocab > 0 ? 2.0 * s.model.hidden : 0);
}

double grad_bytes_per_param(const Scenario& s) { return s.train.grad_reduce_dtype == GradDtype::fp32 ? 4 : 2; }

}  // namespace knee::workload

namespace knee {

double step_flops(const Scenario& s, bool with_recompute) {
  const ModelSpec& m = s.model;
  const double tokens = double(s.par.global_batch) * m.seq_len;
  const double layer = workload::layer_flops_per_token(m);
  const double logits = 2.0 * m.hidden * m.vocab;
  double f = 3 * tokens * (m.layers * layer + logits);
  if (with_recompute) {
    if (s.train.recompute == Recompute::full) f += tokens * m.layers * layer;
    else if (s.train.recompute == Recompute::selective) f += tokens * m.layers * 4.0 * m.seq_len * m.hidden;
  }
  return f;
}

}  // namespace knee

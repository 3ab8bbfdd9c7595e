#include "workloads/training/memory_model.hpp"

#include <algorithm>
#include <cmath>

#include "common/units.hpp"
#include "workloads/training/model_shape.hpp"
#include "workloads/training/params.hpp"
#include "workloads/training/pipeline_schedule.hpp"

namespace knee::workload {

double activation_bytes_per_layer(const Scenario& s) {
  const ModelSpec& m = s.model;
  const double t = s.par.tp, h = m.hidden, f = m.ffn_hidden, a = m.heads;
  const double sb = double(m.seq_len) / s.par.cp * s.par.micro_batch;
  const bool sp = s.par.sequence_parallel && t > 1;
  if (s.train.recompute == Recompute::full) return 2 * sb * h / (sp ? t : 1);  // the layer input only
  // Korthikanti et al.: attention 11sbh + 5as^2b, MLP 19sbh, layernorms 4sbh (bytes, bf16),
  // written here per tensor so GQA (K, V of kv_dim), SwiGLU (three f-wide tensors) and MoE fit.
  const double kvd = kv_dim(m);
  const bool drop = m.dropout > 0;
  // layernorm inputs, QKV and fc1 inputs, and the two residual dropout masks (1 byte each)
  const double replicated = (drop ? 10 : 8) * sb * h;
  double attn_split = 2 * sb * h + 4 * sb * kvd + 2 * sb * h;  // Q, K, V, proj input
  double mlp_split = (m.ffn == FfnKind::swiglu ? 6 : 4) * sb * f;
  if (moe(m)) mlp_split = m.top_k * (2 * sb * h + (m.ffn == FfnKind::swiglu ? 6 : 4) * sb * f);
  double scores = 0;
  // Flash attention (Megatron) never stores the s x s scores; eager unfused attention does,
  // unless selective recompute recomputes them.
  if (s.train.attention == Attention::unfused && s.train.recompute != Recompute::selective)
    scores = (drop ? 5 : 4) * a * sb * double(m.seq_len);  // 5 a s^2 b (s/cp query rows against s keys); no mask: 4
  const double split = attn_split + mlp_split + scores;
  return sp ? (replicated + split) / t : replicated + split / t;
}

MemoryReport memory_model(const Scenario& s) {
  const auto layers = stage_layers(s);
  const int pp = static_cast<int>(s.par.pp), v = static_cast<int>(s.par.virtual_stages);
  const int m = static_cast<int>(s.microbatches());
  const auto ops = pipeline_ops(pp, v, m, s.par.schedule);
  const bool mixed = s.train.precision == Precision::mixed;
  const double w_b = 2, g_b = grad_bytes_per_param(s);
  const double o_b = s.train.optimizer == Optimizer::adamw ? (mixed ? 12 : 4) : (mixed ? 8 : 2);
  const double shard = double(s.par.dp * s.par.cp);
  const double eshard = double(s.par.dp * s.par.cp * s.par.tp) / s.par.ep;
  const double act_layer = activation_bytes_per_layer(s);
  const double sb = double(s.model.seq_len) / s.par.cp * s.par.micro_batch;
  const double t = s.par.tp;
  // Full recompute rebuilds one layer's activations at a time during its backward.
  Scenario nore = s;
  nore.train.recompute = Recompute::none;
  const double act_full_layer = activation_bytes_per_layer(nore);
  int groups = 0;
  for (std::int64_t g : {s.par.tp, s.par.pp, s.par.dp * s.par.cp, s.par.cp, s.par.ep}) groups += g > 1;
  const double largest_layer = (layer_params(s.model).dense / t + layer_params(s.model).experts / s.par.ep) * w_b;

  MemoryReport best;
  best.per_gpu_bytes = -1;
  for (int st = 0; st < pp; ++st) {
    double P = 0, Pe = 0;
    std::vector<double> chunk_act(static_cast<std::size_t>(v));
    for (int c = 0; c < v; ++c) {
      const int vs = c * pp + st;
      StageParams sp = stage_params(s, layers, vs);
      P += sp.dense;
      Pe += sp.experts;
      chunk_act[static_cast<std::size_t>(c)] = layers[static_cast<std::size_t>(vs)] * act_layer;
      if (vs == 0 && s.model.vocab > 0) chunk_act[static_cast<std::size_t>(c)] += 2 * sb * s.model.hidden / t;
    }
    // Peak of stored activations over the schedule: + on forward, - on backward.
    double cur = 0, peak = 0;
    int inflight = 0, peak_inflight = 0;
    for (const PipeOp& o : ops[static_cast<std::size_t>(st)]) {
      double a = chunk_act[static_cast<std::size_t>(o.chunk)];
      if (o.fwd) {
        cur += a;
        ++inflight;
      } else {
        cur -= a;
        --inflight;
      }
      peak = std::max(peak, cur);
      peak_inflight = std::max(peak_inflight, inflight);
    }
    if (s.train.recompute == Recompute::full) peak += act_full_layer;
    MemoryReport r;
    r.inflight_microbatches = peak_inflight;
    const bool last_stage = st == pp - 1;
    if (last_stage && s.model.vocab > 0) peak += 6 * sb * double(s.model.vocab) / t;  // bf16 logits + fp32 loss
    r.activations_bytes = peak;
    r.weights_bytes = (P / (s.par.zero >= 3 ? shard : 1) + Pe / (s.par.zero >= 3 ? eshard : 1)) * w_b;
    r.gradients_bytes = (P / (s.par.zero >= 2 ? shard : 1) + Pe / (s.par.zero >= 2 ? eshard : 1)) * g_b;
    r.optimizer_bytes = (P / (s.par.zero >= 1 ? shard : 1) + Pe / (s.par.zero >= 1 ? eshard : 1)) * o_b;
    // CUDA context and library workspaces (0.75 GiB), NCCL buffers per communicator (0.25 GiB),
    // and ZeRO-3's gathered parameters (the layer in use and the one prefetched).
    r.buffers_bytes = 0.75 * kGiB + 0.25 * kGiB * groups + (s.par.zero >= 3 ? 2 * largest_layer : 0);
    r.per_gpu_bytes = r.weights_bytes + r.gradients_bytes + r.optimizer_bytes + r.activations_bytes + r.buffers_bytes;
    r.worst_stage = st;
    if (r.per_gpu_bytes > best.per_gpu_bytes) best = r;
  }
  return best;
}

}  // namespace knee::workload

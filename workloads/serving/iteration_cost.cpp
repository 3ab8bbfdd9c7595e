// Forward-only kernels of a serving iteration, as vLLM launches them for a dense transformer
// (docs/serving.md, "Cost model").
#include "workloads/serving/iteration_cost.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.hpp"
#include "sim/collectives/collective.hpp"
#include "sim/collectives/nccl_params.hpp"
#include "topologies/topology.hpp"
#include "workloads/model/model_shape.hpp"

namespace knee::serving {

struct IterationCost::Tp {
  Topology topo;
  NcclParams params;
  std::vector<std::uint32_t> ranks;
};

namespace {

double weights_bytes_per_gpu(const ModelSpec& m, double tp) {
  const double h = double(m.hidden), f = double(m.ffn_hidden), kvd = model::kv_dim(m);
  const double layer = h * (h + 2 * kvd) + h * h + model::ffn_mats(m) * h * f;
  // GPT (gelu) ties the output layer to the embedding; Llama (swiglu) does not.
  const double emb = double(m.vocab) * h * (m.ffn == FfnKind::swiglu ? 2 : 1);
  return (double(m.layers) * layer + emb) * model::kDt / tp;
}

}  // namespace

IterationCost::IterationCost(const ServingScenario& s) : s_(s) {
  const ModelSpec& m = s.model;
  const ServingSpec& S = s.serving;
  const double tp = double(S.tp), h = double(m.hidden), f = double(m.ffn_hidden);
  launch_s_ = s.profile.launch_overhead_s();
  power_ = s.profile.has_power();
  idle_W_ = power_ ? s.profile.power_W(0, 0) : 0;
  if (power_) power_ref_ = s.profile.power_reference();
  // Per layer: 2 norms, QKV, rotary, KV-cache write, attention, O, gate/up, activation, down;
  // 2 all-reduces with TP. Then the final norm and the output layer.
  kernels_ = int(m.layers) * (10 + (S.tp > 1 ? 2 : 0)) + 2;
  kv_bytes_per_layer_token_ = 2 * model::kv_dim(m) / tp * model::kDt;
  // Decode: every cached key and value read once (what decode_attention_s times), 4 FLOPs per
  // cached token per head and head dimension (its score and its share of the output).
  decode_flops_per_token_ = double(m.layers) * 4 * double(m.heads) / tp * double(m.hidden / m.heads);
  decode_bytes_per_token_ = double(m.layers) * kv_bytes_per_layer_token_;

  mem_.capacity_bytes = s.profile.hbm_capacity_bytes();
  mem_.usable_bytes = mem_.capacity_bytes * S.gpu_memory_utilization;
  mem_.weights_bytes = weights_bytes_per_gpu(m, tp);
  // vLLM sizes the cache after a profiling forward of max_num_batched_tokens: its peak holds the
  // residual stream, the normed input, attention input and output and the gate/up product; and
  // the fp32 logits of max_num_seqs sequences (gathered over TP).
  mem_.activation_bytes =
      double(S.max_tokens_per_iter) * (4 * h + 2 * f / tp) * model::kDt + double(S.max_batch) * double(m.vocab) * 4;
  mem_.kv_bytes_per_token = model::kv_bytes_per_token(m) / tp;
  const double kv_budget = mem_.usable_bytes - mem_.weights_bytes - mem_.activation_bytes;
  const double G = 1024.0 * 1024 * 1024;
  if (S.num_blocks > 0) {
    mem_.blocks = S.num_blocks;
  } else {
    if (kv_budget <= 0) {
      char b[320];
      std::snprintf(b, sizeof b,
                    "a layout whose weights (%.2f GiB per GPU) and activations (%.2f GiB) leave room for a KV cache "
                    "in gpu_memory_utilization x capacity (%.2f GiB)",
                    mem_.weights_bytes / G, mem_.activation_bytes / G, mem_.usable_bytes / G);
      throw_input_error(s.source, "$.serving.tp", b, std::to_string(S.tp));
    }
    mem_.blocks = static_cast<std::int64_t>(kv_budget / (double(S.block_tokens) * mem_.kv_bytes_per_token));
  }

  if (S.tp > 1) {
    FabricOptions fo;
    fo.kind = FabricKind::single_node;
    fo.nodes = 1;
    tp_ = std::make_shared<Tp>(
        Tp{build_topology(s.cluster.system, fo), nccl_params_for_gpu(s.cluster.system.gpu_model), {}});
    for (std::uint32_t r = 0; r < std::uint32_t(S.tp); ++r) tp_->ranks.push_back(r);
    tp_note_ = "TP all-reduce simulated on the flow network of one " + s.cluster.system.name +
               " server (NCCL auto selection), once per power-of-two token count, linear in tokens between them";
  } else {
    tp_note_ = "no TP communication (tp 1)";
  }
  dense_cache_.assign(std::size_t(S.max_tokens_per_iter) + 1, -1);
  head_cache_.assign(std::size_t(S.max_tokens_per_iter) + 1, -1);
  attn_cache_.assign(std::size_t(S.max_tokens_per_iter) + 1, -1);
}

double IterationCost::allreduce_at(std::int64_t tokens) {
  const std::size_t i = std::size_t(std::llround(std::log2(double(tokens))));
  if (ar_pow2_.size() <= i) ar_pow2_.resize(i + 1, -1);
  if (ar_pow2_[i] < 0) {
    CollOptions o;
    o.op = CollOp::allreduce;
    o.bytes = static_cast<Bytes>(double(tokens) * double(s_.model.hidden) * model::kDt);
    o.ranks = tp_->ranks;
    ar_pow2_[i] = simulate_collective(tp_->topo, tp_->params, o, s_.source + ": $.serving.tp").time_s;
  }
  return ar_pow2_[i];
}

double IterationCost::tp_allreduce_s(std::int64_t tokens) {
  if (!tp_ || tokens <= 0) return 0;
  std::int64_t lo = 1;
  while (lo * 2 <= tokens) lo *= 2;
  const double a = allreduce_at(lo);
  if (lo == tokens) return a;
  const double b = allreduce_at(lo * 2);
  return a + (b - a) * double(tokens - lo) / double(lo);
}

double IterationCost::dense_s(std::int64_t T) {
  double& c = dense_cache_.at(std::size_t(T));
  if (c >= 0) return c;
  const ModelSpec& m = s_.model;
  const Profile& p = s_.profile;
  const double t = double(s_.serving.tp), h = double(m.hidden), f = double(m.ffn_hidden), kvd = model::kv_dim(m);
  const double dt = model::kDt, Td = double(T);
  const bool swiglu = m.ffn == FfnKind::swiglu;
  const std::string& dtype = m.dtype;
  auto gemm = [&](double n, double k) { return p.gemm_time_s(T, std::llround(n), std::llround(k), dtype); };
  double layer = 0;
  layer += 2 * p.memory_bound_time_s(4 * Td * h * dt, "layernorm");    // fused add + RMSNorm: x, residual in and out
  layer += gemm((h + 2 * kvd) / t, h);                                 // QKV
  layer += p.memory_bound_time_s(2 * Td * (h + kvd) / t * dt, "add");  // rotary on q, k (in place)
  layer += p.memory_bound_time_s(2 * Td * 2 * kvd / t * dt, "copy");   // k, v into the paged cache
  layer += gemm(h, h / t);                                             // O
  layer += gemm((swiglu ? 2 : 1) * f / t, h);                          // gate and up (fused), or up
  layer += swiglu ? p.memory_bound_time_s(3 * Td * f / t * dt, "add")  // silu(gate) * up
                  : p.memory_bound_time_s(2 * Td * f / t * dt, "gelu");
  layer += gemm(h, f / t);         // down
  layer += 2 * tp_allreduce_s(T);  // after O and after down
  c = double(m.layers) * layer + p.memory_bound_time_s(2 * Td * h * dt, "layernorm");
  return c;
}

double IterationCost::head_s(std::int64_t sampled) {
  if (s_.model.vocab == 0 || sampled <= 0) return 0;
  double& c = head_cache_.at(std::size_t(std::min<std::int64_t>(sampled, std::int64_t(head_cache_.size()) - 1)));
  if (c < 0)
    c = s_.profile.gemm_time_s(sampled, std::llround(double(s_.model.vocab) / double(s_.serving.tp)), s_.model.hidden,
                               s_.model.dtype);
  return c;
}

double IterationCost::prefill_attention_s(std::int64_t chunk, std::int64_t prior) {
  double& base = attn_cache_.at(std::size_t(chunk));
  if (base < 0) {
    const ModelSpec& m = s_.model;
    const int heads = int(m.heads / s_.serving.tp), d = int(m.hidden / m.heads);
    base = s_.profile.attention_time_s(1, heads, int(chunk), d, true, false);
  }
  // A chunk after `prior` cached tokens attends to them as well: causal FLOPs c (prior + c / 2)
  // against c^2 / 2 for the chunk alone, at the rate the profile gives the chunk's own size.
  const double scale = (2 * double(prior) + double(chunk)) / double(chunk);
  return double(s_.model.layers) * base * scale;
}

double IterationCost::decode_attention_s(double context_tokens) const {
  if (context_tokens <= 0) return 0;
  return double(s_.model.layers) * s_.profile.memory_bound_time_s(context_tokens * kv_bytes_per_layer_token_, "copy");
}

double IterationCost::iteration_s(std::int64_t tokens, double attention_s, std::int64_t sampled, bool decode_only,
                                  double* gpu_s) {
  const double head = head_s(sampled);
  const double gpu = dense_s(tokens) + attention_s + head;
  if (gpu_s) *gpu_s = gpu;
  if (decode_only && s_.serving.cuda_graphs) return launch_s_ + gpu;  // one graph replay
  // Eager: the host issues a kernel every launch_s; the GPU finishes no sooner than its work
  // after the first launch, nor than the last launch and the last kernel (the output layer).
  return std::max(launch_s_ + gpu, double(kernels_) * launch_s_ + head);
}

// The work of the kernels dense_s, head_s and the attention times above time, on one GPU of the
// TP group (its 1/tp of the heads, of the FFN and of the vocabulary).
IterationCost::Work IterationCost::dense_work(std::int64_t T) const {
  const ModelSpec& m = s_.model;
  const double t = double(s_.serving.tp), h = double(m.hidden), f = double(m.ffn_hidden), kvd = model::kv_dim(m);
  const double dt = model::kDt, Td = double(T), e = elt_bytes(m.dtype);
  const bool swiglu = m.ffn == FfnKind::swiglu;
  Work layer;
  auto gemm = [&](double n, double k) { layer += {2 * Td * n * k, (Td * k + k * n + Td * n) * e}; };
  layer.bytes += 2 * 4 * Td * h * dt + 2 * Td * (h + kvd) / t * dt + 2 * Td * 2 * kvd / t * dt;  // norms, rotary, KV
  gemm((h + 2 * kvd) / t, h);
  gemm(h, h / t);
  gemm((swiglu ? 2 : 1) * f / t, h);
  layer.bytes += (swiglu ? 3 : 2) * Td * f / t * dt;
  gemm(h, f / t);
  if (s_.serving.tp > 1) layer.bytes += 2 * 2 * Td * h * dt;  // two all-reduces, payload in and out
  const double L = double(m.layers);
  return {L * layer.flops, L * layer.bytes + 2 * Td * h * dt};
}

IterationCost::Work IterationCost::head_work(std::int64_t sampled) const {
  if (s_.model.vocab == 0 || sampled <= 0) return {};
  const double n = double(sampled), v = double(s_.model.vocab) / double(s_.serving.tp), h = double(s_.model.hidden);
  return {2 * n * v * h, (n * h + h * v + n * v) * elt_bytes(s_.model.dtype)};
}

// Causal attention of a chunk of c queries after p cached tokens: QK^T and PV over c (p + c / 2)
// query-key pairs; Q and O of the chunk, K and V of all p + c tokens through HBM.
IterationCost::Work IterationCost::prefill_attention_work(std::int64_t chunk, std::int64_t prior) const {
  const ModelSpec& m = s_.model;
  const double t = double(s_.serving.tp), d = double(m.hidden / m.heads), c = double(chunk), p = double(prior);
  const double heads = double(m.heads) / t, kvh = double(m.kv_heads) / t, L = double(m.layers);
  return {L * 4 * heads * d * c * (p + c / 2), L * (2 * c * heads + 2 * (p + c) * kvh) * d * model::kDt};
}

}  // namespace knee::serving

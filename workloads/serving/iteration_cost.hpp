// The time of one forward iteration of a serving replica (docs/serving.md, "Cost model"): the
// kernels of every layer for the batch's tokens, timed from the profile; attention by each
// request's context; TP all-reduces timed on the flow network; the host's launches. And the
// memory a replica's GPU has left for the KV cache.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "profile/power.hpp"
#include "workloads/serving/serving_scenario.hpp"

namespace knee::serving {

// Memory of one GPU of a replica (bytes).
struct ReplicaMemory {
  double capacity_bytes = 0, usable_bytes = 0;  // usable: capacity x gpu_memory_utilization
  double weights_bytes = 0;                     // this GPU's share of the weights (1 / tp)
  double activation_bytes = 0;                  // reserve for one forward of max_tokens_per_iter
  double kv_bytes_per_token = 0;                // this GPU's share (its kv_heads / tp)
  std::int64_t blocks = 0;                      // KV blocks of block_tokens tokens
};

class IterationCost {
 public:
  // Builds the TP group's topology (one server) when tp > 1. InputError when the weights and the
  // activation reserve leave no KV cache, naming $.serving.tp.
  explicit IterationCost(const ServingScenario& s);

  const ReplicaMemory& memory() const { return mem_; }

  // Attention of one prefill chunk of `chunk` tokens after `prior` tokens already in the cache,
  // summed over layers (seconds of GPU time).
  double prefill_attention_s(std::int64_t chunk, std::int64_t prior);
  // Decode attention over layers: reading `context_tokens` tokens of KV cache (memory-bound).
  double decode_attention_s(double context_tokens) const;
  // A whole iteration: `tokens` tokens through the layers (decodes and prefill chunks), the
  // attention times above, `sampled` sequences through the output layer. decode_only: a CUDA
  // graph replay when the scenario has cuda_graphs (one launch), else a launch per kernel. With
  // gpu_s, the time its kernels keep the GPU busy (the rest is launch overhead, GPU idle).
  double iteration_s(std::int64_t tokens, double attention_s, std::int64_t sampled, bool decode_only,
                     double* gpu_s = nullptr);
  // The same, split: GPU time of everything but attention, and the host-side bound.
  double dense_s(std::int64_t tokens);
  double head_s(std::int64_t sampled);
  // One TP all-reduce of `tokens` x hidden activations (0 when tp is 1).
  double tp_allreduce_s(std::int64_t tokens);
  int kernels_per_iteration() const { return kernels_; }

  // What one GPU's kernels do, for the power model (profile/power.hpp): FLOPs and HBM bytes (read
  // + write), counted as training counts its kernels (a GEMM reads A and B and writes C once; a
  // collective moves twice its payload through HBM).
  struct Work {
    double flops = 0, bytes = 0;
    Work& operator+=(const Work& o) {
      flops += o.flops;
      bytes += o.bytes;
      return *this;
    }
  };
  Work dense_work(std::int64_t tokens) const;  // what dense_s times
  Work head_work(std::int64_t sampled) const;  // what head_s times
  Work prefill_attention_work(std::int64_t chunk, std::int64_t prior) const;
  Work decode_attention_work(double context_tokens) const {
    if (context_tokens <= 0) return {};
    return {decode_flops_per_token_ * context_tokens, decode_bytes_per_token_ * context_tokens};
  }
  bool has_power() const { return power_; }
  // Energy of one GPU over an iteration of dt_s whose kernels (doing w) keep it busy gpu_s: the
  // profile's power at their mean utilization while busy, idle power for the rest; 0 without a
  // power model.
  double energy_J(double dt_s, double gpu_s, const Work& w) const {
    if (!power_) return 0;
    return gpu_s * work_power_W(s_.profile, power_ref_, w.flops, w.bytes, gpu_s) +
           (dt_s > gpu_s ? dt_s - gpu_s : 0) * idle_W_;
  }
  double idle_W() const { return idle_W_; }
  // How the TP all-reduce is timed, in words (for provenance).
  const std::string& tp_comm_note() const { return tp_note_; }

 private:
  double allreduce_at(std::int64_t tokens);  // flow simulation, cached by token count
  const ServingScenario& s_;
  ReplicaMemory mem_;
  double launch_s_ = 0;
  int kernels_ = 0;
  bool power_ = false;
  double idle_W_ = 0;
  Profile::PowerReference power_ref_{0, 0};
  double decode_flops_per_token_ = 0, decode_bytes_per_token_ = 0;  // all layers, a token of context
  double kv_bytes_per_layer_token_ = 0;
  std::vector<double> dense_cache_, head_cache_, attn_cache_;  // by tokens, sampled, chunk
  std::vector<double> ar_pow2_;                                // all-reduce at 2^i tokens
  std::string tp_note_;
  struct Tp;
  std::shared_ptr<Tp> tp_;
};

}  // namespace knee::serving

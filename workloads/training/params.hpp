// Parameter counts of a model and of each pipeline stage's GPU (docs/workloads.md).
#pragma once
#include <cstdint>
#include <vector>

#include "workloads/training/scenario.hpp"

namespace knee::workload {

// Parameters (elements) of one transformer layer: dense part (split by tp) and experts.
struct LayerParams {
  double dense = 0;    // attention + layernorms (+ dense FFN), whole layer (not divided by tp)
  double experts = 0;  // all experts of the layer (MoE only)
};
LayerParams layer_params(const ModelSpec& m);
double embedding_params(const ModelSpec& m);  // V x h (one copy)
// GPT-style (gelu) models tie the output layer to the embedding; with pp > 1 the first and last
// stage each hold a copy and all-reduce its gradient after the data-parallel reduction.
bool tied_embedding_across_stages(const Scenario& s);
// Parameters held by one GPU of virtual stage `vs` (dense ones over tp; experts over ep).
struct StageParams {
  double dense = 0, experts = 0;
};
StageParams stage_params(const Scenario& s, const std::vector<std::int64_t>& layers, int vs);
// Total model parameters.
double total_params(const Scenario& s);
// Bytes per parameter of the reduced gradients.
double grad_bytes_per_param(const Scenario& s);

}  // namespace knee::workload

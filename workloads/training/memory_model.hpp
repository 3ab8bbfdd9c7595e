// Memory of one GPU per stage: weights, gradients, optimizer state, stored activations and
// buffers (docs/workloads.md, "Memory").
#pragma once
#include "workloads/training/result.hpp"
#include "workloads/training/scenario.hpp"

namespace knee::workload {

// Activation bytes one microbatch leaves stored on one GPU per layer (Korthikanti et al.,
// generalized to GQA, SwiGLU and MoE), given the recompute mode and attention implementation.
double activation_bytes_per_layer(const Scenario& s);
MemoryReport memory_model(const Scenario& s);

}  // namespace knee::workload

// The model a workload runs (docs/scenarios.md, `model`): one description shared by training and
// serving, read strictly from a scenario's $.model object.
#pragma once
#include <cstdint>
#include <string>

namespace knee {

class JsonObject;  // common/json_reader.hpp

enum class FfnKind { gelu, swiglu };  // two matrices, or three (gated)

struct ModelSpec {
  std::int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, ffn_hidden = 0;
  FfnKind ffn = FfnKind::gelu;
  std::int64_t seq_len = 0, vocab = 0;  // vocab 0: a bare layer stack
  std::string dtype = "bf16";
  // Dropout probability of the attention scores and of the two residual branches (GPT: 0.1;
  // Llama: 0, which launches no dropout kernel and stores no masks).
  double dropout = 0.1;
  std::int64_t experts = 0, top_k = 0;  // mixture of experts when experts > 0
};

// Reads root.model (required) strictly: unknown keys are InputErrors naming $.model.KEY. Checks
// that need the parallel layout (divisibility by tp) are the workload's.
ModelSpec parse_model_spec(JsonObject& root);

}  // namespace knee

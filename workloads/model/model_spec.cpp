// Strict reading of $.model.
#include "workloads/model/model_spec.hpp"

#include "common/json_reader.hpp"

namespace knee {

ModelSpec parse_model_spec(JsonObject& root) {
  ModelSpec model;
  JsonObject m = root.object("model");
  model.layers = m.integer("layers", 1, 1 << 20);
  model.hidden = m.integer("hidden", 1, 1 << 24);
  model.heads = m.integer("heads", 1, 1 << 20);
  model.kv_heads = m.integer_or("kv_heads", model.heads, 1, 1 << 20);
  model.ffn_hidden = m.integer_or("ffn_hidden", 4 * model.hidden, 1, 1 << 26);
  // one_of_or has checked the spelling: no other value can come back.
  model.ffn = m.one_of_or("ffn", {"gelu", "swiglu"}, "gelu") == "swiglu" ? FfnKind::swiglu : FfnKind::gelu;
  model.seq_len = m.integer("seq_len", 1, 1 << 24);
  model.vocab = m.integer("vocab", 0, 1 << 26);
  model.dtype = m.one_of_or("dtype", {"bf16", "fp16"}, "bf16");
  model.dropout = m.number_or("dropout", 0.1);
  if (model.dropout < 0 || model.dropout >= 1) m.fail("dropout", "a probability in [0, 1)");
  if (m.has("moe")) {
    JsonObject e = m.object("moe");
    model.experts = e.integer_or("experts", 0, 0, 1 << 16);
    model.top_k = e.integer_or("top_k", 0, 0, 1 << 16);
    e.finish();
  }
  m.finish();
  return model;
}

}  // namespace knee

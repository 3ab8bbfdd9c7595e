// A small serving scenario for the tests: a Llama-3-8B-like model on dgx-h200, changed per test.
#pragma once
#include <nlohmann/json.hpp>

#include "common/error.hpp"

#include "workloads/serving/serving.hpp"

namespace knee::serving::test {

inline nlohmann::json base_scenario() {
  return {{"system", "dgx-h200"},
          {"nodes", 1},
          {"model",
           {{"layers", 32},
            {"hidden", 4096},
            {"heads", 32},
            {"kv_heads", 8},
            {"ffn_hidden", 14336},
            {"ffn", "swiglu"},
            {"seq_len", 8192},
            {"vocab", 128256},
            {"dropout", 0}}},
          {"serving",
           {{"replicas", 1},
            {"tp", 1},
            {"arrivals", {{"kind", "poisson"}, {"rate_per_s", 10}}},
            {"lengths", {{"prompt_tokens", 512}, {"output_tokens", 64}}},
            {"requests", 200},
            {"seed", 7}}}};
}

inline ServingScenario parse(const nlohmann::json& j) { return parse_serving_scenario(j, "<test>"); }

}  // namespace knee::serving::test

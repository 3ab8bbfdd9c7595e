// A small serving scenario for the tests: a Llama-3-8B-like model on dgx-h200, changed per test.
#pragma once
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "tests/common/error_of.hpp"

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

// The message of the InputError parsing `j` throws ("(no InputError)" when it parses).
inline std::string parse_error(const nlohmann::json& j) {
  return knee::test::error_of([&] { (void)parse(j); });
}
// Parsing `j` fails with one line that names `field`.
inline void expect_parse_error(const nlohmann::json& j, const std::string& field) {
  const std::string e = parse_error(j);
  EXPECT_NE(e.find(field), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

}  // namespace knee::serving::test

// Workload test helpers shared by the suites: a scenario from JSON, and the message of the
// InputError a bad one throws ("(no InputError)" when it parses).
#pragma once
#include <string>

#include "tests/common/error_of.hpp"
#include "workloads/training/training.hpp"

namespace knee::test {

inline Scenario scen(const nlohmann::json& j) { return parse_scenario(j, "<test>"); }

// 2 DGX H100 servers, tp 8, dp 2 (replica d on server d), gradients reduced after the whole
// backward in one bucket: the layout of the slow-GPU and straggler closed forms.
inline nlohmann::json two_replicas_one_bucket_json() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 2, "gpus": 16,
    "model": {"layers": 2, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 0},
    "parallelism": {"tp": 8, "pp": 1, "dp": 2, "micro_batch": 1, "global_batch": 4},
    "training": {"overlap_grad_reduce": false, "ddp_bucket_params": 1000000000}})");
}

// 2 servers: tp 2 (in a server), pp 4, dp 2; tied embedding (gelu, vocab > 0), full recompute.
inline nlohmann::json pipe_json() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 2, "gpus": 16,
    "model": {"layers": 8, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 32000},
    "parallelism": {"tp": 2, "pp": 4, "dp": 2, "micro_batch": 1, "global_batch": 16, "sequence_parallel": true},
    "training": {"recompute": "full"}})");
}
inline std::string scenario_error(const nlohmann::json& j) {
  return error_of([&] { scen(j); });
}

}  // namespace knee::test

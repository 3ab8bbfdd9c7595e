// Memory as frameworks use it: the in-flight count against the simulated op order and Megatron's
// formulas, the per-layer closed form of a Llama layer, and published layouts that did (and did
// not) fit in an 80 GB GPU (docs/workloads.md, "Memory").
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/units.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/memory_model.hpp"
#include "workloads/training/pipeline_schedule.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

using test::scen;

// What CUDA exposes on an 80 GB A100 or H100 (PyTorch's "total capacity of 79.1x GiB", as
// recalled; 80 GiB of HBM less the driver's reservation): the shipped h100 and a100 profiles'
// capacity (they said 80e9 bytes, 74.5 GiB, the datasheet's "80 GB" read as 10^9 bytes, until
// 2026-12-07).
constexpr double kVisible80GB = 79.1 * kGiB;

TEST(MemoryLayouts, EightyGigabyteProfilesHoldWhatCudaShows) {
  for (const char* g : {"h100", "a100"})
    EXPECT_NEAR(Profile::builtin(g).hbm_capacity_bytes(), kVisible80GB, 0.01 * kGiB) << g;
}

// The oracle: the most forwards whose backward has not run yet on one stage, walked from the op
// order the pipeline simulator executes.
int max_inflight(int pp, int v, int m, Schedule sched, int stage) {
  const auto ops = workload::pipeline_ops(pp, v, m, sched);
  int cur = 0, peak = 0;
  for (const workload::PipeOp& o : ops[static_cast<std::size_t>(stage)]) {
    cur += o.fwd ? 1 : -1;
    peak = std::max(peak, cur);
  }
  return peak;
}

// pp stages, v chunks of two layers each, m microbatches; no vocabulary, so every stage holds the
// same parameters and stage 0 (most in flight) is the worst.
nlohmann::json pipe(int pp, int v, int m, const char* schedule) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "system": "dgx-h100", "model": {"hidden": 1024, "heads": 16, "seq_len": 1024, "vocab": 0},
    "parallelism": {"tp": 1, "dp": 1, "micro_batch": 1, "sequence_parallel": false},
    "training": {"precision": "mixed", "recompute": "none", "framework": "megatron"}})");
  j["gpus"] = pp;
  j["nodes"] = (pp + 7) / 8;
  j["model"]["layers"] = 2 * pp * v;
  j["parallelism"]["pp"] = pp;
  j["parallelism"]["global_batch"] = m;
  j["parallelism"]["schedule"] = schedule;
  if (v > 1) j["parallelism"]["virtual_stages"] = v;
  return j;
}

struct Case {
  int pp, v, m;
  const char* schedule;
};

TEST(MemoryLayouts, InflightCountIsTheSimulatedOpOrdersAndMegatrons) {
  const Case cases[] = {{4, 1, 2, "1f1b"},        {4, 1, 8, "1f1b"},          {8, 1, 16, "1f1b"},
                        {4, 2, 8, "interleaved"}, {4, 3, 12, "interleaved"},  {8, 2, 16, "interleaved"},
                        {2, 4, 4, "interleaved"}, {16, 8, 32, "interleaved"}, {4, 1, 8, "gpipe"},
                        {8, 1, 3, "gpipe"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.schedule) + " pp " + std::to_string(c.pp) + " v " + std::to_string(c.v) + " m " +
                 std::to_string(c.m));
    const Scenario s = scen(pipe(c.pp, c.v, c.m, c.schedule));
    const MemoryReport r = workload::memory_model(s);
    EXPECT_EQ(r.worst_stage, 0);
    EXPECT_EQ(r.inflight_microbatches, max_inflight(c.pp, c.v, c.m, s.par.schedule, 0));
    // Megatron: 1F1B warms up pp - 1 - rank microbatches, then runs one more forward before the
    // first backward; the interleaved order warms up 2 (pp - 1 - rank) + (v - 1) pp chunks
    // (schedules.py), i.e. pp (1 + (pp - 1) / (pp v)) chunks per chunk slot on stage 0, the
    // "interleaved schedule memory penalty" of theoretical_memory_usage.py; GPipe keeps all m.
    int megatron = c.m;
    if (s.par.schedule == Schedule::f1b1) megatron = std::min(c.pp, c.m);
    if (s.par.schedule == Schedule::interleaved) megatron = std::min(2 * (c.pp - 1) + (c.v - 1) * c.pp + 1, c.m * c.v);
    EXPECT_EQ(r.inflight_microbatches, megatron);
    // Each chunk in flight holds its two layers' activations, nothing else (no logits, no embedding).
    EXPECT_DOUBLE_EQ(r.activations_bytes, r.inflight_microbatches * 2 * workload::activation_bytes_per_layer(s));
  }
}

TEST(MemoryLayouts, LlamaLayerStoresWhatItsKernelsSaveForBackward) {
  // Llama 3 405B, TP 8 with sequence parallelism, flash attention, no dropout: per layer and
  // microbatch, bf16, all sharded over t: RMSNorm inputs 2 x 2sbh, QKV and fc1 inputs 2 x 2sbh,
  // Q and the attention output 2 x 2sbh, K and V 2 x 2 s b kv_dim, the SwiGLU's gate and up
  // 2 x 2sbf and fc2's input 2sbf: (12 + 4 kv_dim/h + 6 f/h) sbh/t = 31.75 sbh/t, against GPT's
  // 34 sbh/t (Korthikanti et al. 2022, without the 5as^2b that flash attention never stores).
  const Scenario s = load_scenario(std::string(KNEE_SOURCE_DIR) + "/tests/validation/llama3-405b-8k-8192.json");
  const double sbh = 8192.0 * 16384, t = 8;
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(s), sbh / t * (12 + 4 * 1024.0 / 16384 + 6 * 53248.0 / 16384));
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(s), 31.75 * sbh / t);
}

TEST(MemoryLayouts, LlamaRowIsItsSecondStageHoldingOneHundredFortyOneLayers) {
  // One layer per chunk, 16 x 8 chunks, 32 microbatches: stage 1 keeps 2 x 14 + 7 x 16 + 1 = 141
  // chunks in flight, every one a full layer; stage 0 keeps 143, but 31 of them are the
  // embedding-only chunk (Meta's balancing), so stage 1 is the worst.
  const Scenario s = load_scenario(std::string(KNEE_SOURCE_DIR) + "/tests/validation/llama3-405b-8k-8192.json");
  const MemoryReport r = workload::memory_model(s);
  EXPECT_EQ(r.worst_stage, 1);
  EXPECT_EQ(r.inflight_microbatches, 141);
  EXPECT_EQ(max_inflight(16, 8, 32, Schedule::interleaved, 1), 141);
  EXPECT_DOUBLE_EQ(r.activations_bytes, 141 * workload::activation_bytes_per_layer(s));
  // Eight layers of (h (h + 2 kv_dim) + h^2 + 3 h f) / t parameters plus their norms and biases.
  const double h = 16384, kvd = 1024, f = 53248;
  const double layer = (h * (h + 2 * kvd) + (h + 2 * kvd) + h * h + h + 4 * h + 3 * h * f) / 8;
  EXPECT_DOUBLE_EQ(r.weights_bytes, 8 * layer * 2);
  EXPECT_DOUBLE_EQ(r.gradients_bytes, 8 * layer * 4 / 64);      // fp32, sharded over dp (zero 2)
  EXPECT_DOUBLE_EQ(r.optimizer_bytes, 8 * layer * 12 / 64);     // fp32 master, Adam m and v (zero 2)
  EXPECT_DOUBLE_EQ(r.buffers_bytes, (0.75 + 3 * 0.25) * kGiB);  // context; tp, pp, dp communicators
}

TEST(MemoryLayouts, PublishedLayoutsThatRanFit) {
  // Every SC21 row (Narayanan et al. 2021, Table 1) ran on A100 80GB; the Llama 3 405B 8K rows
  // (Dubey et al. 2024, Table 4) on H100 80GB, without activation checkpointing.
  const char* rows[] = {"narayanan-1.7b", "narayanan-3.6b", "narayanan-7.5b",      "narayanan-18b",
                        "narayanan-39b",  "narayanan-76b",  "narayanan-145b",      "narayanan-310b",
                        "narayanan-530b", "narayanan-1t",   "llama3-405b-8k-8192", "llama3-405b-8k-16384"};
  for (const char* row : rows) {
    SCOPED_TRACE(row);
    const Scenario s = load_scenario(std::string(KNEE_SOURCE_DIR) + "/tests/validation/" + row + ".json");
    EXPECT_LT(workload::memory_model(s).per_gpu_bytes, kVisible80GB);
  }
}

TEST(MemoryLayouts, GptThreeWithoutRecomputeDoesNotFit) {
  // Korthikanti et al. 2022 (Reducing Activation Recomputation, Table 3 and Figure 1): GPT-3 175B
  // on 64 A100 80GB, TP 8, PP 8, micro batch 1, global batch 64, seq 2048, Megatron's unfused
  // attention. With tensor parallelism alone and no recompute the activations do not fit; with
  // sequence parallelism and selective recompute they do, and that is how it was trained.
  nlohmann::json j = nlohmann::json::parse(R"({
    "system": "dgx-a100", "nodes": 8, "profile": "a100",
    "model": {"layers": 96, "hidden": 12288, "heads": 96, "seq_len": 2048, "vocab": 51200},
    "parallelism": {"tp": 8, "pp": 8, "dp": 1, "micro_batch": 1, "global_batch": 64, "sequence_parallel": false},
    "training": {"precision": "mixed", "recompute": "none", "framework": "megatron", "attention": "unfused"}})");
  EXPECT_GT(workload::memory_model(scen(j)).per_gpu_bytes, kVisible80GB);
  j["parallelism"]["sequence_parallel"] = true;
  j["training"]["recompute"] = "selective";
  EXPECT_LT(workload::memory_model(scen(j)).per_gpu_bytes, kVisible80GB);
}

}  // namespace
}  // namespace knee

// What a Megatron step pays beyond the layers' GEMMs and fused kernels (docs/workloads.md, "What a
// step pays beyond the layers"): the fp32 cross-entropy passes, the embedding gradient's
// zero-fill, the DDP hook's weight-gradient accumulation and the mixed-precision optimizer's own
// passes. Each is checked against its bytes as counted from Megatron's code, at the profile's
// curves, and nothing else may move.
#include <gtest/gtest.h>

#include "profile/profile.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/layer_model.hpp"
#include "workloads/training/params.hpp"

namespace knee {
namespace {

using test::scen;

nlohmann::json one_gpu(double vocab) {
  auto j = nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 1, "gpus": 1,
    "model": {"layers": 1, "hidden": 1024, "heads": 16, "seq_len": 1024, "vocab": 0},
    "parallelism": {"tp": 1, "pp": 1, "dp": 1, "micro_batch": 1, "global_batch": 1, "sequence_parallel": false},
    "training": {"precision": "mixed", "recompute": "none", "framework": "megatron"}})");
  j["model"]["vocab"] = vocab;
  return j;
}

const workload::CommTimeFn kNoComm = [](int, CollOp, double) { return 0.0; };

double compute_s(const Scenario& s, const Profile& p, std::int64_t layers, bool first, bool last, bool bwd) {
  return workload::chunk_cost(s, p, layers, first, last, bwd, kNoComm).compute_s;
}

TEST(StepOverheads, UnfusedGradientAccumulationAddsOnePassPerWeight) {
  const Profile prof = Profile::builtin("h100");
  auto add = [&](double bytes) { return prof.memory_bound_time_s(bytes, "add"); };
  const double h = 1024, f = 4 * h;
  const double weights[] = {3 * h * h, h * h, f * h, h * f};  // QKV, projection, fc1, fc2
  for (const char* dtype : {"bf16", "fp16"}) {
    auto j = one_gpu(0);
    j["model"]["dtype"] = dtype;
    const Scenario fused = scen(j);
    j["training"]["gradient_accumulation_fusion"] = false;
    const Scenario hook = scen(j);
    // Main gradients: fp32 for mixed bf16, fp16 for mixed fp16 (Megatron's defaults), so the hook
    // reads a 2-byte gradient and reads and writes a 4- or 2-byte buffer.
    const double per = std::string(dtype) == "bf16" ? 2 + 2 * 4 : 2 + 2 * 2;
    double expected = 0;
    for (double w : weights) expected += add(w * per);
    EXPECT_NEAR(compute_s(hook, prof, 1, false, false, true) - compute_s(fused, prof, 1, false, false, true), expected,
                1e-15)
        << dtype;
    EXPECT_EQ(compute_s(hook, prof, 1, false, false, false), compute_s(fused, prof, 1, false, false, false)) << dtype;
  }
  // Eager PyTorch has no such hook: the key changes nothing there.
  auto j = one_gpu(0);
  j["training"]["framework"] = "eager";
  const double eager = compute_s(scen(j), prof, 1, false, false, true);
  j["training"]["gradient_accumulation_fusion"] = false;
  EXPECT_EQ(compute_s(scen(j), prof, 1, false, false, true), eager);
}

TEST(StepOverheads, MegatronCrossEntropyRunsItsFp32PassesOneByOne) {
  // The last chunk without layers: final layernorm, output GEMM and loss. Both frameworks run the
  // same layernorm and GEMM, so the difference is the loss alone: Megatron's six forward passes
  // (cast 6, max 4, subtract 8, exp 8, sum 4, divide 8 bytes per logit) and two backward ones
  // (multiply 8, cast back 6) against eager's one softmax-rate pass each way (10 and 6 bytes).
  const Profile prof = Profile::builtin("h100");
  const double V = 32000, el = 1024 * V;
  auto mem = [&](double bytes, const char* op) { return prof.memory_bound_time_s(bytes, op); };
  auto j = one_gpu(V);
  const Scenario meg = scen(j);
  j["training"]["framework"] = "eager";
  const Scenario eag = scen(j);
  const double fwd = mem(6 * el, "copy") + mem(4 * el, "copy") + mem(8 * el, "add") + mem(8 * el, "add") +
                     mem(4 * el, "copy") + mem(8 * el, "add") - mem(10 * el, "softmax");
  EXPECT_NEAR(compute_s(meg, prof, 0, false, true, false) - compute_s(eag, prof, 0, false, true, false), fwd, 1e-15);
  const double bwd = mem(8 * el, "add") + mem(6 * el, "copy") - mem(6 * el, "softmax");
  EXPECT_NEAR(compute_s(meg, prof, 0, false, true, true) - compute_s(eag, prof, 0, false, true, true), bwd, 1e-15);
}

TEST(StepOverheads, EmbeddingBackwardZeroFillsTheTable) {
  // First chunk without layers, backward: PyTorch's dense embedding backward writes the whole
  // V x h table of zeros, then scatter-adds the tokens' gradients (read, read, write); the hook
  // (fusion off) adds the table's gradient into the main gradients.
  const Profile prof = Profile::builtin("h100");
  const double V = 32000, h = 1024, T = 1024;
  auto j = one_gpu(V);
  const Scenario s = scen(j);
  const double expected = prof.memory_bound_time_s(V * h * 2, "copy") + prof.memory_bound_time_s(3 * T * h * 2, "add");
  EXPECT_NEAR(compute_s(s, prof, 0, true, false, true), expected, 1e-15);
  j["training"]["gradient_accumulation_fusion"] = false;
  EXPECT_NEAR(compute_s(scen(j), prof, 0, true, false, true),
              expected + prof.memory_bound_time_s(V * h * (2 + 2 * 4), "add"), 1e-15);
}

TEST(StepOverheads, MegatronOptimizerPassesPerParameter) {
  // AdamW in mixed precision: 34 bytes per parameter; Megatron adds the main parameters read
  // again for the copy into the model's (4) and the gradient buffer's zeroing (4 in fp32, 2 in
  // fp16); with fp16 its main gradients are cast to fp32 (6) and unscaled with the inf check (8).
  const Profile prof = Profile::builtin("h100");
  const workload::StageParams p{1e9, 0};
  auto add = [&](double bytes) { return prof.memory_bound_time_s(bytes, "add"); };
  auto j = one_gpu(0);
  EXPECT_DOUBLE_EQ(workload::optimizer_time_s(scen(j), prof, p), add(1e9 * (34 + 4 + 4)));
  j["model"]["dtype"] = "fp16";
  EXPECT_DOUBLE_EQ(workload::optimizer_time_s(scen(j), prof, p), add(1e9 * (34 + 4 + 6 + 8 + 2)));
  j["training"]["framework"] = "eager";
  EXPECT_DOUBLE_EQ(workload::optimizer_time_s(scen(j), prof, p), add(1e9 * 34));
  // The distributed optimizer updates its shard; the (unsharded, zero 1) buffer is zeroed whole.
  j = one_gpu(0);
  j["gpus"] = 8;
  j["parallelism"]["dp"] = 8;
  j["parallelism"]["global_batch"] = 8;
  j["parallelism"]["zero"] = 1;
  EXPECT_DOUBLE_EQ(workload::optimizer_time_s(scen(j), prof, p), add(1e9 / 8 * (34 + 4) + 1e9 * 4));
  j["parallelism"]["zero"] = 2;
  EXPECT_DOUBLE_EQ(workload::optimizer_time_s(scen(j), prof, p), add(1e9 / 8 * (34 + 4 + 4)));
}

}  // namespace
}  // namespace knee

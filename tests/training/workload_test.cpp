// Workload model: closed forms (FLOPs, memory), scenario errors, emergent pipeline bubbles,
// data-parallel overlap, determinism and the sweep.
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"
#include "metrics/sweep_table.hpp"
#include "profile/profile.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/layer_model.hpp"
#include "workloads/training/memory_model.hpp"
#include "workloads/training/pipeline_schedule.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

nlohmann::json base_json() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 1, "gpus": 1,
    "model": {"layers": 4, "hidden": 1024, "heads": 16, "seq_len": 1024, "vocab": 0},
    "parallelism": {"tp": 1, "pp": 1, "dp": 1, "micro_batch": 1, "global_batch": 1, "sequence_parallel": false},
    "training": {"precision": "mixed", "recompute": "none", "framework": "megatron"}})");
}

using test::scen;

std::string error_of(const nlohmann::json& j) { return test::scenario_error(j); }

TEST(WorkloadFlops, MatchesMegatronClosedForm) {
  // GPT-3 175B, Narayanan et al.: 96 B s l h^2 (1 + s/6h + V/16lh) with full recompute,
  // 72 B s l h^2 (1 + s/6h + V/12lh) without.
  auto j = base_json();
  j["model"] = {{"layers", 96}, {"hidden", 12288}, {"heads", 96}, {"seq_len", 2048}, {"vocab", 51200}};
  j["nodes"] = 1;
  j["gpus"] = 1;
  j["parallelism"]["global_batch"] = 1536;
  j["training"]["recompute"] = "full";
  const Scenario s = scen(j);
  const double B = 1536, sq = 2048, l = 96, h = 12288, V = 51200;
  const double hw = 96 * B * sq * l * h * h * (1 + sq / (6 * h) + V / (16 * l * h));
  const double model = 72 * B * sq * l * h * h * (1 + sq / (6 * h) + V / (12 * l * h));
  EXPECT_NEAR(step_flops(s, true) / hw, 1.0, 1e-12);
  EXPECT_NEAR(step_flops(s, false) / model, 1.0, 1e-12);
}

TEST(WorkloadMemory, HandComputedSingleGpu) {
  const Scenario s = scen(base_json());
  const MemoryReport m = workload::memory_model(s);
  const double h = 1024, sq = 1024;
  const double params = 4 * (12 * h * h + 13 * h);  // Megatron GPT layer: 12h^2 + 13h
  EXPECT_DOUBLE_EQ(m.weights_bytes, 2 * params);
  EXPECT_DOUBLE_EQ(m.gradients_bytes, 4 * params);         // fp32 main grads
  EXPECT_DOUBLE_EQ(m.optimizer_bytes, 12 * params);        // fp32 master, Adam m and v
  EXPECT_DOUBLE_EQ(m.activations_bytes, 4 * 34 * sq * h);  // flash attention: no 5as^2b term
  EXPECT_DOUBLE_EQ(m.buffers_bytes, 0.75 * kGiB);
  EXPECT_EQ(m.inflight_microbatches, 1);
}

TEST(WorkloadMemory, GradientDtypeFollowsMegatron) {
  // mixed + bf16: fp32 main gradients; mixed + fp16: fp16 (accumulate_allreduce_grads_in_fp32
  // off); precision bf16: bf16; an explicit grad_reduce_dtype wins.
  const double params = 4 * (12 * 1024.0 * 1024 + 13 * 1024);
  auto grads = [&](const nlohmann::json& j) { return workload::memory_model(scen(j)).gradients_bytes / params; };
  auto j = base_json();
  EXPECT_DOUBLE_EQ(grads(j), 4);
  j["model"]["dtype"] = "fp16";
  EXPECT_DOUBLE_EQ(grads(j), 2);
  EXPECT_DOUBLE_EQ(workload::grad_bytes_per_param(scen(j)), 2);
  j["training"]["grad_reduce_dtype"] = "fp32";
  EXPECT_DOUBLE_EQ(grads(j), 4);
  j = base_json();
  j["training"]["precision"] = "bf16";
  EXPECT_DOUBLE_EQ(grads(j), 2);
  j["training"]["grad_reduce_dtype"] = "fp8";
  EXPECT_NE(error_of(j).find("grad_reduce_dtype"), std::string::npos) << error_of(j);
}

TEST(WorkloadKernels, FusedMegatronKernelsMoveLessThanEagerOps) {
  // Same layer stack, unfused attention in both: Megatron's fused softmax and bias-dropout-add
  // make one pass over their operands; eager runs torch.softmax, dropout then add, and a separate
  // scale kernel. Compute time differs by those kernels only (GEMMs are the same).
  auto j = base_json();
  j["training"]["attention"] = "unfused";
  const SimResult meg = simulate(scen(j));
  j["training"]["framework"] = "eager";
  const SimResult eag = simulate(scen(j));
  EXPECT_LT(meg.breakdown.compute_s, eag.breakdown.compute_s);
}

TEST(WorkloadKernels, NoDropoutLaunchesPlainResidualAdds) {
  // Megatron, flash attention, one layer: with dropout each residual branch is one fused
  // bias-dropout-add pass (7 bytes per element plus dropout's random-number cost) and its backward
  // multiplies by the mask (5 bytes); without, a plain add pass (6 bytes) and no mask multiply.
  // Nothing else differs, so the differences are exactly those kernels.
  auto j = base_json();
  const Scenario with = scen(j);
  j["model"]["dropout"] = 0.0;
  const Scenario without = scen(j);
  // The measured H200: there the eager dropout pair is slower than its bytes (SM-bound), so the
  // random numbers have a cost (on the derived H100 its slower HBM hides them: the cost is 0).
  const Profile prof = Profile::builtin("h200");
  const workload::CommTimeFn none = [](int, CollOp, double) { return 0.0; };
  auto cost = [&](const Scenario& s, bool bwd) {
    return workload::chunk_cost(s, prof, 1, false, false, bwd, none).compute_s;
  };
  const double el = 1024.0 * 1024;
  auto add = [&](double bytes) { return prof.memory_bound_time_s(bytes, "add"); };
  // Dropout's random numbers: the eager pair's per-byte time over 8 bytes per element less a
  // plain pass's over 6 (its add) and 5 (dropout's own traffic), asymptotic rates (per GB).
  auto per_gb = [&](const char* op) { return prof.memory_bound_time_s(2e9, op) - prof.memory_bound_time_s(1e9, op); };
  const double rng = el * (8 * per_gb("dropout_add") - 11 * per_gb("add")) / 1e9;
  ASSERT_GT(rng, 0);
  EXPECT_NEAR(cost(with, false) - cost(without, false), 2 * (add(7 * el) + rng - add(6 * el)), 1e-12);
  EXPECT_NEAR(cost(with, true) - cost(without, true), 2 * add(5 * el), 1e-12);
  j["model"]["dropout"] = 1.0;
  EXPECT_NE(error_of(j).find("$.model.dropout: expected a probability in [0, 1)"), std::string::npos) << error_of(j);
}

TEST(WorkloadScenario, AttentionDefaultsToFlashInBothFrameworks) {
  // Eager PyTorch calls scaled_dot_product_attention (one op, one fused kernel): no s x s scores
  // stored, the profile's measured attention times; unfused only when asked for.
  auto j = base_json();
  j["training"]["framework"] = "eager";
  EXPECT_EQ(scen(j).train.attention, Attention::flash);
  const double flash = workload::activation_bytes_per_layer(scen(j));
  j["training"]["attention"] = "unfused";
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(scen(j)) - flash, 5.0 * 16 * 1024 * 1024);  // 5 a s^2 b
}

TEST(WorkloadKernels, EagerSdpaCopiesItsOutputLayout) {
  // Without dropout, flash attention and a GELU MLP, an eager forward launches what Megatron's does
  // (the residual is a plain add in both, the eager bias rides on addmm) plus one copy: SDPA's
  // output laid back out with transpose(1, 2).contiguous(), read and written once.
  auto j = base_json();
  j["model"]["dropout"] = 0.0;
  const Scenario meg = scen(j);
  j["training"]["framework"] = "eager";
  const Scenario eag = scen(j);
  const Profile prof = Profile::builtin("h100");
  const workload::CommTimeFn none = [](int, CollOp, double) { return 0.0; };
  const double diff = workload::chunk_cost(eag, prof, 1, false, false, false, none).compute_s -
                      workload::chunk_cost(meg, prof, 1, false, false, false, none).compute_s;
  EXPECT_NEAR(diff, prof.memory_bound_time_s(2 * 1024.0 * 1024 * 2, "copy"), 1e-15);
}

TEST(WorkloadMemory, KorthikantiTermsWithTensorParallelism) {
  auto j = base_json();
  j["nodes"] = 1;
  j["gpus"] = 8;
  j["parallelism"]["tp"] = 8;
  j["training"]["attention"] = "unfused";
  const double sq = 1024, h = 1024, a = 16, t = 8;
  j["parallelism"]["sequence_parallel"] = false;
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(scen(j)), sq * h * (10 + 24 / t + 5 * a * sq / (h * t)));
  j["parallelism"]["sequence_parallel"] = true;
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(scen(j)), sq * h * (34 / t + 5 * a * sq / (h * t)));
  j["training"]["recompute"] = "selective";
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(scen(j)), sq * h * 34 / t);
  j["training"]["recompute"] = "full";
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(scen(j)), 2 * sq * h / t);
}

TEST(WorkloadMemory, NoDropoutStoresNoMasks) {
  // Dropout 0 (Llama): the two residual masks (1 byte per element each) and the attention-score
  // mask (1 byte per score) are not stored.
  auto j = base_json();
  j["training"]["attention"] = "unfused";
  const double sq = 1024, h = 1024, a = 16;
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(scen(j)), sq * h * (34 + 5 * a * sq / h));
  j["model"]["dropout"] = 0.0;
  EXPECT_DOUBLE_EQ(workload::activation_bytes_per_layer(scen(j)), sq * h * (32 + 4 * a * sq / h));
}

TEST(WorkloadMemory, OneFOneBKeepsPpMicrobatchesOnStageZero) {
  auto j = base_json();
  j["gpus"] = 4;
  j["parallelism"]["pp"] = 4;
  j["parallelism"]["global_batch"] = 16;
  const MemoryReport m = workload::memory_model(scen(j));
  EXPECT_EQ(m.worst_stage, 0);
  EXPECT_EQ(m.inflight_microbatches, 4);
  j["parallelism"]["schedule"] = "gpipe";
  EXPECT_EQ(workload::memory_model(scen(j)).inflight_microbatches, 16);
}

TEST(WorkloadMemory, ZeroLevelsShardStates) {
  auto j = base_json();
  j["nodes"] = 2;
  j["gpus"] = 16;
  j["parallelism"]["dp"] = 16;
  j["parallelism"]["global_batch"] = 16;
  MemoryReport m[4];
  for (int z = 0; z < 4; ++z) {
    j["parallelism"]["zero"] = z;
    m[z] = workload::memory_model(scen(j));
  }
  EXPECT_DOUBLE_EQ(m[1].optimizer_bytes, m[0].optimizer_bytes / 16);
  EXPECT_DOUBLE_EQ(m[1].gradients_bytes, m[0].gradients_bytes);
  EXPECT_DOUBLE_EQ(m[2].gradients_bytes, m[0].gradients_bytes / 16);
  EXPECT_DOUBLE_EQ(m[2].weights_bytes, m[0].weights_bytes);
  EXPECT_DOUBLE_EQ(m[3].weights_bytes, m[0].weights_bytes / 16);
  EXPECT_LT(m[3].per_gpu_bytes, m[2].per_gpu_bytes);
  EXPECT_LT(m[2].per_gpu_bytes, m[1].per_gpu_bytes);
  EXPECT_LT(m[1].per_gpu_bytes, m[0].per_gpu_bytes);
}

TEST(WorkloadScenario, ErrorsNameTheKeys) {
  auto j = base_json();
  j["parallelism"]["tp"] = 2;
  EXPECT_NE(error_of(j).find("$.parallelism: expected tp x pp x dp x cp = gpus (1)"), std::string::npos) << error_of(j);
  j = base_json();
  j["gpus"] = 3;
  j["parallelism"]["tp"] = 3;
  EXPECT_NE(error_of(j).find("$.model.heads: expected divisible by parallelism.tp (3)"), std::string::npos)
      << error_of(j);
  j["model"]["hidden"] = 1536;
  j["model"]["heads"] = 12;
  j["model"]["kv_heads"] = 3;
  j["model"]["ffn_hidden"] = 4000;
  EXPECT_NE(error_of(j).find("$.model.ffn_hidden: expected divisible by parallelism.tp"), std::string::npos)
      << error_of(j);
  j = base_json();
  j["model"]["heads"] = 16;
  j["model"]["kv_heads"] = 3;
  EXPECT_NE(error_of(j).find("$.model.kv_heads"), std::string::npos) << error_of(j);
  j = base_json();
  j["gpus"] = 8;
  j["parallelism"]["dp"] = 8;
  j["parallelism"]["global_batch"] = 12;
  EXPECT_NE(error_of(j).find("$.parallelism.global_batch: expected divisible by micro_batch x dp"), std::string::npos)
      << error_of(j);
  j = base_json();
  j["gpus"] = 8;
  j["parallelism"]["pp"] = 8;
  j["parallelism"]["global_batch"] = 8;
  EXPECT_NE(error_of(j).find("$.model.layers: expected at least pp x virtual_stages (8)"), std::string::npos)
      << error_of(j);
  j = base_json();
  j["model"]["layerz"] = 3;
  EXPECT_NE(error_of(j).find("$.model.layerz"), std::string::npos) << error_of(j);
  j = base_json();
  j["parallelism"]["schedule"] = "zigzag";
  EXPECT_NE(error_of(j).find("$.parallelism.schedule"), std::string::npos) << error_of(j);
  j = base_json();
  j["gpus"] = 2;
  j["parallelism"]["pp"] = 2;
  j["parallelism"]["schedule"] = "interleaved";
  j["parallelism"]["virtual_stages"] = 2;
  j["parallelism"]["global_batch"] = 3;
  EXPECT_NE(error_of(j).find("divisible by pp (2) for the interleaved schedule"), std::string::npos) << error_of(j);
  j = base_json();
  j["stages"] = {1, 2};
  EXPECT_NE(error_of(j).find("$.stages"), std::string::npos) << error_of(j);
  // An empty stage only at an end, holding the embedding or the output layer (Llama 3 405B).
  j = base_json();
  j["gpus"] = 2;
  j["parallelism"]["pp"] = 2;
  j["parallelism"]["global_batch"] = 2;
  j["stages"] = {0, 4};
  EXPECT_NE(error_of(j).find("$.stages[0]: expected at least 1 layer (0 only for the first or last stage of a model "
                             "with a vocabulary)"),
            std::string::npos)
      << error_of(j);
  j["model"]["vocab"] = 1000;
  EXPECT_EQ(error_of(j), "(no InputError)");
  const SimResult r = simulate(scen(j));  // stage 0 runs the embedding only
  EXPECT_TRUE(r.simulated);
  EXPECT_EQ(r.critical_stage, 1);
  j = base_json();
  j["parallelism"]["ep"] = 2;
  EXPECT_NE(error_of(j).find("$.parallelism.ep"), std::string::npos) << error_of(j);
}

TEST(WorkloadScenario, DefaultStageSplitGivesEndStagesFewerLayers) {
  auto j = base_json();
  j["gpus"] = 16;
  j["nodes"] = 2;
  j["model"]["layers"] = 126;
  j["parallelism"]["pp"] = 16;
  j["parallelism"]["global_batch"] = 16;
  auto st = stage_layers(scen(j));
  ASSERT_EQ(st.size(), 16u);
  EXPECT_EQ(st.front(), 7);
  EXPECT_EQ(st.back(), 7);
  for (std::size_t i = 1; i + 1 < st.size(); ++i) EXPECT_EQ(st[i], 8);
}

// A uniform pipeline (no embedding, layers divisible by stages, one GPU per stage): the idle time
// the schedule leaves on the critical stage is (pp-1)/(m+pp-1) of the busy-plus-idle time.
double bubble_fraction(const std::string& schedule, int v, int m) {
  auto j = base_json();
  j["gpus"] = 4;
  j["model"]["layers"] = 8;
  j["parallelism"]["pp"] = 4;
  j["parallelism"]["global_batch"] = m;
  j["parallelism"]["schedule"] = schedule;
  j["parallelism"]["virtual_stages"] = v;
  // The schedule's own bubble: the send kernels' SMs (sm_sharing.hpp) would slow the ops that
  // overlap them, unevenly, and move the fraction off the closed form.
  Scenario s = scen(j);
  s.ablate.no_sm_sharing = true;
  const SimResult r = simulate(s);
  EXPECT_TRUE(r.simulated);
  return r.breakdown.bubble_s / (r.breakdown.compute_s + r.breakdown.bubble_s);
}

TEST(WorkloadPipeline, BubbleEmergesFromTheSchedule) {
  // Tolerance: durations are rounded up to whole picoseconds per op (relative error < 1e-6).
  for (int m : {4, 8, 32}) {
    const double expect = 3.0 / (m + 3.0);
    EXPECT_NEAR(bubble_fraction("1f1b", 1, m), expect, 1e-6) << m;
    EXPECT_NEAR(bubble_fraction("gpipe", 1, m), expect, 1e-6) << m;
  }
}

TEST(WorkloadPipeline, InterleavingShrinksTheBubble) {
  const double plain = bubble_fraction("1f1b", 1, 8), inter = bubble_fraction("interleaved", 2, 8);
  EXPECT_LT(inter, plain * 0.75);
  EXPECT_GT(inter, 0.0);
}

TEST(WorkloadPipeline, OneFOneBOrderIsMegatrons) {
  auto ops = workload::pipeline_ops(4, 1, 8, Schedule::f1b1);
  ASSERT_EQ(ops[0].size(), 16u);
  // Stage 0 warms up with pp-1 forwards, stage pp-1 alternates from the start.
  EXPECT_TRUE(ops[0][0].fwd && ops[0][1].fwd && ops[0][2].fwd && ops[0][3].fwd && !ops[0][4].fwd);
  EXPECT_TRUE(ops[3][0].fwd && !ops[3][1].fwd && ops[3][1].mb == 0);
}

Scenario dp_scenario(bool overlap) {
  auto j = base_json();
  j["nodes"] = 2;
  j["gpus"] = 16;
  j["model"] = {{"layers", 8}, {"hidden", 4096}, {"heads", 32}, {"seq_len", 4096}, {"vocab", 0}};
  j["parallelism"]["dp"] = 16;
  j["parallelism"]["global_batch"] = 64;
  j["training"]["overlap_grad_reduce"] = overlap;
  return scen(j);
}

TEST(WorkloadDataParallel, OverlapHidesReductionBehindLongBackward) {
  const SimResult on = simulate(dp_scenario(true)), off = simulate(dp_scenario(false));
  const double busy = on.comm_total_s[workload::kDP];
  ASSERT_GT(busy, 0);
  EXPECT_NEAR(off.breakdown.dp_s, off.comm_total_s[workload::kDP], 1e-9);  // all of it exposed
  EXPECT_LT(on.breakdown.dp_s, 0.25 * busy);
  EXPECT_LT(on.step_time_s, off.step_time_s);
}

TEST(WorkloadSimulate, BreakdownSumsToStepAndIsDeterministic) {
  const Scenario s = load_scenario(std::string(KNEE_SOURCE_DIR) + "/examples/scenarios/gpt3-175b-1024.json");
  const SimResult a = simulate(s), b = simulate(s);
  ASSERT_TRUE(a.simulated);
  EXPECT_EQ(a.to_json().dump(), b.to_json().dump());
  const auto& k = a.breakdown;
  EXPECT_NEAR(k.compute_s + k.exposed_comm_s() + k.bubble_s + k.optimizer_s, a.step_time_s, 1e-9 * a.step_time_s);
  EXPECT_GT(a.mfu, 0.2);
  EXPECT_LT(a.mfu, 0.7);
  EXPECT_TRUE(a.memory.fits);
}

TEST(WorkloadSimulate, DoesNotFitIsReportedNotSimulated) {
  auto j = base_json();
  j["model"] = {{"layers", 96}, {"hidden", 12288}, {"heads", 96}, {"seq_len", 2048}, {"vocab", 51200}};
  const SimResult r = simulate(scen(j));
  EXPECT_FALSE(r.memory.fits);
  EXPECT_FALSE(r.simulated);
  EXPECT_GT(r.memory.per_gpu_bytes, r.memory.capacity_bytes);
}

TEST(WorkloadSweep, MarksInfeasiblePointsAndComputesEfficiency) {
  auto j = base_json();
  j["nodes"] = 1;
  j["gpus"] = 8;
  j["model"] = {{"layers", 8}, {"hidden", 2048}, {"heads", 16}, {"seq_len", 2048}, {"vocab", 0}};
  j["parallelism"] = {{"tp", 2}, {"pp", 2}, {"dp", 2}, {"global_batch", 16}};
  const SweepResult r = sweep(scen(j), {4, 6, 8, 16}, "strong", 0, 0.8);
  ASSERT_EQ(r.points.size(), 4u);
  EXPECT_TRUE(r.points[0].feasible);
  EXPECT_FALSE(r.points[1].feasible);  // 6 GPUs: not divisible by tp x pp
  EXPECT_NE(r.points[1].reason.find("divisible"), std::string::npos);
  EXPECT_EQ(r.baseline_gpus, 4);
  EXPECT_DOUBLE_EQ(r.points[0].efficiency, 1.0);
  EXPECT_TRUE(r.points[3].feasible) << r.points[3].reason;
  EXPECT_GT(r.points[3].speedup, 1.0);
  const SweepResult w = sweep(scen(j), {4, 8}, "weak", 0, 0.8);
  EXPECT_EQ(w.points[1].global_batch, 2 * w.points[0].global_batch);
  EXPECT_NE(sweep_csv(r).find("gpus,tp,pp,dp"), std::string::npos);
}

}  // namespace
}  // namespace knee

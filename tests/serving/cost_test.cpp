// The iteration cost model against bounds that do not come from it: decode against the profile's
// memory bandwidth for the weights and KV read, prefill against the profile's large-GEMM rate.
#include <gtest/gtest.h>

#include "serving_util.hpp"
#include "workloads/model/model_shape.hpp"
#include "workloads/serving/iteration_cost.hpp"

namespace knee::serving {
namespace {

TEST(ServingCost, DecodeIsBoundByReadingWeightsAndKv) {
  const auto s = test::parse(test::base_scenario());
  IterationCost c(s);
  const Profile& p = s.profile;
  for (std::int64_t D : {1, 8, 32}) {
    const double ctx = double(D) * 2048;  // each sequence has 2,047 tokens cached
    const double kv = ctx * model::kv_bytes_per_token(s.model);
    const double bound = (c.memory().weights_bytes + kv) / p.memory_bandwidth_Bps();
    const double t = c.iteration_s(D, c.decode_attention_s(ctx), D, true);
    // Every weight and every cached key and value is read once: no faster than the copy
    // bandwidth allows (a GEMM's roofline uses the datasheet bandwidth, a few % above copy),
    // and small decodes are memory-bound, so not far above it either.
    EXPECT_GT(t, 0.9 * bound) << "D " << D;
    EXPECT_LT(t, 1.6 * bound) << "D " << D;
  }
}

TEST(ServingCost, DecodeAttentionReadsTheCacheAtBandwidth) {
  const auto s = test::parse(test::base_scenario());
  IterationCost c(s);
  // Memory-bound on the KV bytes: at large contexts within 10% of bytes / copy bandwidth, and
  // more context never takes less time.
  double prev = 0;
  for (double ctx : {1e3, 1e4, 1e5, 2e5, 4e5}) {
    const double t = c.decode_attention_s(ctx);
    EXPECT_GT(t, prev);
    prev = t;
    if (ctx >= 1e5) {
      EXPECT_NEAR(t, ctx * model::kv_bytes_per_token(s.model) / s.profile.memory_bandwidth_Bps(), 0.1 * t);
    }
  }
}

TEST(ServingCost, PrefillRunsAtGemmThroughput) {
  const auto s = test::parse(test::base_scenario());
  IterationCost c(s);
  const ModelSpec& m = s.model;
  const std::int64_t T = 8192;
  const double h = double(m.hidden), f = double(m.ffn_hidden), kvd = model::kv_dim(m);
  const double gemm_flops = 2.0 * double(T) * double(m.layers) * (h * (h + 2 * kvd) + h * h + 3 * h * f);
  const double rate = s.profile.gemm_tflops(8192, 8192, 8192, "bf16") * 1e12;
  const double t = c.iteration_s(T, c.prefill_attention_s(T, 0), 1, false);
  // A long prompt is GEMM-bound: the layer GEMMs at the profile's large-GEMM rate, plus causal
  // attention (4 T^2 d heads / 2 FLOPs per layer) and memory-bound kernels, at most 40% more.
  EXPECT_GT(t, gemm_flops / rate);
  EXPECT_LT(t, 1.4 * gemm_flops / rate + c.prefill_attention_s(T, 0));
  // A chunk after cached tokens attends to them too: (2 prior + c) / c times the chunk alone.
  EXPECT_DOUBLE_EQ(c.prefill_attention_s(1024, 1024), 3 * c.prefill_attention_s(1024, 0));
}

TEST(ServingCost, CudaGraphsSaveLaunchesOnDecodeOnly) {
  auto j = test::base_scenario();
  const auto graphs = test::parse(j);
  j["serving"]["cuda_graphs"] = false;
  const auto eager = test::parse(j);
  IterationCost g(graphs), e(eager);
  const double launch = graphs.profile.launch_overhead_s();
  // Decode of one sequence: a graph replay is one launch plus the GPU work; eager is bounded
  // below by every kernel's launch.
  const double tg = g.iteration_s(1, g.decode_attention_s(100), 1, true);
  const double te = e.iteration_s(1, e.decode_attention_s(100), 1, true);
  EXPECT_NEAR(tg, launch + g.dense_s(1) + g.decode_attention_s(100) + g.head_s(1), 1e-12);
  EXPECT_GE(te, g.kernels_per_iteration() * launch);
  EXPECT_GE(te, tg);
}

TEST(ServingCost, TensorParallelAllReduceOnTheNetwork) {
  auto j = test::base_scenario();
  j["serving"]["tp"] = 2;
  const auto s = test::parse(j);
  IterationCost c(s);
  // Exact at powers of two, linear between them; more tokens, more time; halves the weights.
  const double a = c.tp_allreduce_s(256), b = c.tp_allreduce_s(512), mid = c.tp_allreduce_s(384);
  EXPECT_GT(a, 0);
  EXPECT_GT(b, a);
  EXPECT_NEAR(mid, 0.5 * (a + b), 1e-15);
  const auto one = test::parse(test::base_scenario());
  EXPECT_NEAR(IterationCost(one).memory().weights_bytes / 2, c.memory().weights_bytes, 1);
}

}  // namespace
}  // namespace knee::serving

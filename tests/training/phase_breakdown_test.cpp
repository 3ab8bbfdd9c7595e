// The step's compute by phase (issue 17): forward and backward ops reported apart, so that each
// phase can be held against a measured one.
#include <gtest/gtest.h>

#include "tests/training/scenario_util.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

SimResult run(const char* recompute, int pp) {
  auto j = nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 1, "gpus": 4, "profile": "h200",
    "model": {"layers": 8, "hidden": 4096, "heads": 32, "seq_len": 4096, "vocab": 0},
    "parallelism": {"tp": 1, "pp": 1, "dp": 1, "micro_batch": 1, "global_batch": 8}})");
  j["training"]["recompute"] = recompute;
  j["parallelism"]["pp"] = pp;
  j["gpus"] = pp;
  return simulate(test::scen(j));
}

// forward_s + backward_s is compute_s, and each phase is positive.
TEST(PhaseBreakdown, PhasesSumToCompute) {
  for (int pp : {1, 4}) {
    const Breakdown b = run("none", pp).breakdown;
    EXPECT_GT(b.forward_s, 0) << pp;
    EXPECT_GT(b.backward_s, 0) << pp;
    EXPECT_NEAR(b.forward_s + b.backward_s, b.compute_s, 1e-12 * b.compute_s) << pp;
  }
}

// A dense layer's backward does twice the forward's GEMM FLOPs (input and weight gradients) and
// flash attention's backward about 2.5 times its forward: the backward is 1.6-2.6 x the forward.
TEST(PhaseBreakdown, BackwardIsAboutTwiceTheForward) {
  const Breakdown b = run("none", 1).breakdown;
  EXPECT_GT(b.backward_s / b.forward_s, 1.6);
  EXPECT_LT(b.backward_s / b.forward_s, 2.6);
}

// Full recomputation reruns each layer's forward inside its backward: the forward phase is
// unchanged and the backward grows by about one forward (the recomputed forward keeps no
// activations for the loss, and launch gaps differ, hence 10%).
TEST(PhaseBreakdown, FullRecomputeMovesOneForwardIntoTheBackward) {
  const Breakdown none = run("none", 1).breakdown, full = run("full", 1).breakdown;
  EXPECT_NEAR(full.forward_s, none.forward_s, 1e-12 * none.forward_s);
  EXPECT_NEAR(full.backward_s - none.backward_s, none.forward_s, 0.10 * none.forward_s);
}

}  // namespace
}  // namespace knee

// Validation against published runs (tests/validation/, docs/validation.md): Narayanan et al. SC21
// Table 1 (simulated TFLOP/s per GPU, Megatron's formula, counting recompute) and, held out, Llama 3
// 405B on H100 (Dubey et al. 2024, Table 4).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "common/json_reader.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

// The row once more with the profile's measured variability (stragglers.from_profile): a
// sensitivity recorded beside the row, not held to the goal.
double with_variability(const std::string& path, const SimOptions& opt = {}) {
  Json j = parse_json_file(path);
  j["stragglers"] = {{"from_profile", true}};
  return simulate(parse_scenario(j, path), opt).tflops_per_gpu;
}

TEST(WorkloadValidation, NarayananSC21WeakScaling) {
  const std::string dir = std::string(KNEE_SOURCE_DIR) + "/tests/validation/";
  const Json table = parse_json_file(dir + "narayanan-sc21.json");
  double sum = 0;
  int n = 0;
  for (const auto& row : table.at("rows")) {
    const std::string name = row.at("name").get<std::string>();
    const double published = row.at("published_tflops_per_gpu").get<double>();
    const SimResult r = simulate(load_scenario(dir + row.at("file").get<std::string>()));
    ASSERT_TRUE(r.simulated) << name << ": does not fit";
    const double err = (r.tflops_per_gpu - published) / published;
    std::printf("%-6s published %6.1f simulated %6.1f error %+6.1f%%\n", name.c_str(), published, r.tflops_per_gpu,
                100 * err);
    EXPECT_LT(std::fabs(err), 0.15) << name;
    // The value recorded beside the row (and in docs/validation.md) is the one the model gives.
    const double recorded = row.at("simulated_tflops_per_gpu").get<double>();
    EXPECT_NEAR(r.tflops_per_gpu, recorded, 0.05) << name << ": update the recorded value and docs/validation.md";
    EXPECT_NEAR(with_variability(dir + row.at("file").get<std::string>()),
                row.at("simulated_with_variability_tflops_per_gpu").get<double>(), 0.05)
        << name << ": update the recorded value and docs/validation.md";
    sum += std::fabs(err);
    ++n;
  }
  ASSERT_EQ(n, 10);
  EXPECT_LT(sum / n, 0.07) << "mean absolute error";
}

// Held out: every setting comes from the paper, nothing was fitted to it. The bound is the
// accuracy knee has today (it runs 15-21% fast on these rows: docs/validation.md says where), kept
// so that a change which moves the rows is seen; the recorded values keep the docs honest.
TEST(WorkloadValidation, Llama3_405bOnH100HeldOut) {
  const std::string dir = std::string(KNEE_SOURCE_DIR) + "/tests/validation/";
  const Json table = parse_json_file(dir + "llama3-405b.json");
  SimOptions opt;
  opt.simulate_if_not_fits = true;  // row 3 (128K, CP 16) is reported whatever its memory
  int n = 0;
  for (const auto& row : table.at("rows")) {
    const std::string name = row.at("name").get<std::string>();
    const double published = row.at("published_tflops_per_gpu").get<double>();
    const SimResult r = simulate(load_scenario(dir + row.at("file").get<std::string>()), opt);
    ASSERT_TRUE(r.simulated) << name;
    const double err = (r.tflops_per_gpu - published) / published;
    std::printf("%-30s published %6.1f simulated %6.1f error %+6.1f%%\n", name.c_str(), published, r.tflops_per_gpu,
                100 * err);
    if (row.at("held_to_bound").get<bool>()) {
      EXPECT_LT(std::fabs(err), 0.25) << name;
      ++n;
    }
    EXPECT_NEAR(r.tflops_per_gpu, row.at("simulated_tflops_per_gpu").get<double>(), 0.05)
        << name << ": update the recorded value and docs/validation.md";
    EXPECT_NEAR(with_variability(dir + row.at("file").get<std::string>(), opt),
                row.at("simulated_with_variability_tflops_per_gpu").get<double>(), 0.05)
        << name << ": update the recorded value and docs/validation.md";
  }
  EXPECT_EQ(n, 2);
}

}  // namespace
}  // namespace knee

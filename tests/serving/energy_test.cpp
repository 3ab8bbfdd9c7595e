// Energy and cost of a serving run (docs/serving.md, "Energy and cost") against closed forms that
// do not come from the simulator: with a power model linear in compute utilization (memory_W =
// idle_W, a TDP never reached, a calibration rate no iteration reaches), a GPU's energy over a
// window W is idle_W x W + (compute_W - idle_W) x FLOPs / rate, whatever the iteration times; and
// the FLOPs of a request are the model's: 2 per weight per token, causal attention, the output
// layer per sampled token.
#include <cmath>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "serving_util.hpp"
#include "workloads/model/model_shape.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::serving {
namespace {

constexpr double kIdle = 100, kCompute = 700, kRateFlops = 2e15;

// h200 with a linear power model (see above), written next to the tests' binaries.
std::string linear_power_profile() {
  auto pj = Profile::builtin("h200").json();
  pj["name"] = "h200-linear-power";
  pj["power"] = {{"idle_W", {{"value", kIdle}, {"provenance", "assumed"}}},
                 {"compute_W", {{"value", kCompute}, {"provenance", "assumed"}}},
                 {"memory_W", {{"value", kIdle}, {"provenance", "assumed"}}},
                 {"tdp_W", {{"value", 1e6}, {"provenance", "assumed"}}},
                 {"calibration_rates", {{"compute_tflops", kRateFlops / 1e12}, {"memory_Bps", 4e12}}}};
  const std::string path = std::string(KNEE_BINARY_DIR) + "/serving_energy_linear_power.json";
  std::ofstream(path) << pj.dump();
  return path;
}

// FLOPs of one request of P prompt and O output tokens on all GPUs of its replica: every token
// through the linear layers (2 FLOPs a weight), O tokens sampled through the output layer, causal
// attention of the prompt (2 L h P^2: QK^T and PV over P^2 / 2 pairs) and O - 1 decodes, the j-th
// attending to P + j cached tokens (4 L h per token of context).
double request_flops(const ModelSpec& m, double P, double O) {
  const double L = double(m.layers), h = double(m.hidden), f = double(m.ffn_hidden), kvd = model::kv_dim(m);
  const double linear = L * (h * (h + 2 * kvd) + h * h + 3 * h * f);  // swiglu: gate, up, down
  const double ctx = (O - 1) * P + (O - 1) * O / 2;
  return 2 * linear * (P + O - 1) + 2 * double(m.vocab) * h * O + 2 * L * h * P * P + 4 * L * h * ctx;
}

nlohmann::json sparse(int tp) {  // 20 identical requests about 1 s apart: each served alone
  auto j = test::base_scenario();
  j["profile"] = linear_power_profile();
  j["serving"]["tp"] = tp;
  j["serving"]["arrivals"] = {{"kind", "gamma"}, {"rate_per_s", 1}, {"cv", 0.01}};
  j["serving"]["lengths"] = {{"prompt_tokens", 512}, {"output_tokens", 16}};
  j["serving"]["requests"] = 20;
  return j;
}

void expect_alone(const ServingResult& r) {
  for (std::size_t i = 1; i < r.requests.size(); ++i)
    ASSERT_GT(r.requests[i].arrival_s, r.requests[i - 1].arrival_s + r.requests[i - 1].e2e_s) << i;
}

TEST(ServingEnergy, ClosedFormForRequestsServedAlone) {
  const auto s = test::parse(sparse(1));
  ASSERT_DOUBLE_EQ(s.profile.power_reference().flops_per_s, kRateFlops);
  const ServingResult r = simulate_serving(s);
  expect_alone(r);
  const double W = r.duration_s, F = 20 * request_flops(s.model, 512, 16);
  const double E = kIdle * W + (kCompute - kIdle) * F / kRateFlops;
  EXPECT_NEAR(r.gpu_energy_J, E, 1e-9 * E);
  EXPECT_EQ(r.gpus, 1);
  EXPECT_NEAR(r.avg_power_per_gpu_W, E / W, 1e-9 * E / W);
  EXPECT_DOUBLE_EQ(r.facility_energy_J, r.gpu_energy_J);  // pue 1, no other power
  EXPECT_NEAR(r.J_per_output_token, E / (20 * 16), 1e-9 * E);
  EXPECT_NEAR(r.J_per_token, E / (20 * (512 + 16)), 1e-9 * E);
  EXPECT_LT(r.gpu_active_share, 0.5);                        // mostly idle between requests
  EXPECT_TRUE(std::isnan(r.usd_per_million_output_tokens));  // no prices
}

TEST(ServingEnergy, TensorParallelGpusEachDrawIdlePowerOverTheWindow) {
  // The FLOPs split over the TP group (1/tp each), so only the idle part grows with GPUs:
  // energy - idle_W x tp x W is the same for every tp.
  const double F = 20 * request_flops(test::parse(sparse(1)).model, 512, 16);
  for (int tp : {1, 2, 4}) {
    const ServingResult r = simulate_serving(test::parse(sparse(tp)));
    expect_alone(r);
    EXPECT_EQ(r.gpus, tp);
    const double E = kIdle * tp * r.duration_s + (kCompute - kIdle) * F / kRateFlops;
    EXPECT_NEAR(r.gpu_energy_J, E, 1e-9 * E) << "tp " << tp;
  }
}

TEST(ServingEnergy, SaturatedReplicaHasNoIdleGaps) {
  // 64 requests at once: the replica runs iterations back to back from the first arrival to the
  // last token; batching and chunking do not change the FLOPs (the chunks' causal pairs add up to
  // the prompt's), so the same closed form holds with the window all active.
  auto j = sparse(1);
  j["serving"]["arrivals"] = {{"kind", "poisson"}, {"rate_per_s", 1e5}};
  j["serving"]["lengths"] = {{"prompt_tokens", 512}, {"output_tokens", 64}};
  j["serving"]["requests"] = 64;
  j["serving"]["batching"] = {{"max_tokens_per_iter", 2048}};  // prompts in several chunks
  const ServingResult r = simulate_serving(test::parse(j));
  ASSERT_EQ(r.preemptions, 0);
  EXPECT_DOUBLE_EQ(r.gpu_active_share, 1);
  const double W = r.duration_s, F = 64 * request_flops(test::parse(j).model, 512, 64);
  const double E = kIdle * W + (kCompute - kIdle) * F / kRateFlops;
  EXPECT_NEAR(r.gpu_energy_J, E, 1e-9 * E);
}

TEST(ServingEnergy, MeasuredProfileDrawsBetweenIdleAndTdp) {
  auto j = test::base_scenario();
  j["serving"]["goodput"] = {{"runs", 0}};
  const auto s = test::parse(j);
  const ServingResult r = simulate_serving(s);
  const double idle = s.profile.power_W(0, 0), tdp = s.profile.power_W(1, 1);
  EXPECT_GT(r.avg_power_per_gpu_W, idle);
  EXPECT_LE(r.avg_power_per_gpu_W, tdp);
  EXPECT_EQ(r.provenance.at("power_model").get<std::string>().rfind("profile h200 (measured)", 0), 0u);
  // Busier (10x the rate) draws more per GPU and less per token (the idle power is shared).
  j["serving"]["arrivals"]["rate_per_s"] = 100;
  const ServingResult busy = simulate_serving(test::parse(j));
  EXPECT_GT(busy.avg_power_per_gpu_W, r.avg_power_per_gpu_W);
  EXPECT_LT(busy.J_per_output_token, r.J_per_output_token);
}

TEST(ServingEnergy, PricesAndFacilityOverheadsByClosedForm) {
  auto j = sparse(2);
  j["cost"] = {{"usd_per_gpu_hour", 3.0}, {"usd_per_kWh", 0.12}, {"pue", 1.3}, {"other_W_per_gpu", 50}};
  const ServingResult r = simulate_serving(test::parse(j));
  const double W = r.duration_s, G = 2;
  const double facility = (r.gpu_energy_J + 50 * G * W) * 1.3;
  EXPECT_NEAR(r.facility_energy_J, facility, 1e-12 * facility);
  const double usd = 3.0 * G * W / 3600 + 0.12 * facility / 3.6e6;
  EXPECT_NEAR(r.usd, usd, 1e-12 * usd);
  EXPECT_NEAR(r.usd_per_million_output_tokens, usd / (20 * 16) * 1e6, 1e-9 * usd * 1e6);
  EXPECT_NEAR(r.J_per_output_token, facility / (20 * 16), 1e-9 * facility);
}

TEST(ServingEnergy, ProfileWithoutPowerModelGivesNullNotZero) {
  auto pj = Profile::builtin("h100").json();
  pj["power"] = {{"note", "not measured"}};
  const std::string path = std::string(KNEE_BINARY_DIR) + "/serving_energy_no_power.json";
  std::ofstream(path) << pj.dump();
  auto j = sparse(1);
  j["profile"] = path;
  j["cost"] = {{"usd_per_gpu_hour", 2.0}};
  const ServingResult r = simulate_serving(test::parse(j));
  const auto out = to_json(r);
  for (const char* k :
       {"gpu_energy_J", "facility_energy_J", "avg_power_per_gpu_W", "J_per_output_token", "J_per_token"})
    EXPECT_TRUE(out.at(k).is_null()) << k;
  EXPECT_EQ(out.at("gpus"), 1);
  EXPECT_GT(out.at("gpu_active_share").get<double>(), 0);
  // The GPU-hour price needs no power model; an electricity price does (an InputError naming it).
  EXPECT_NEAR(r.usd, 2.0 * r.duration_s / 3600, 1e-12);
  EXPECT_EQ(r.provenance.at("power_model").get<std::string>().rfind("none", 0), 0u);
  j["cost"] = {{"usd_per_kWh", 0.1}};
  try {
    test::parse(j);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.cost.usd_per_kWh: expected a profile with a power model"),
              std::string::npos)
        << e.what();
  }
}

TEST(ServingEnergy, SameInputsSameEnergyBitForBit) {
  auto j = test::base_scenario();
  j["cost"] = {{"usd_per_gpu_hour", 2.0}, {"usd_per_kWh", 0.1}};
  j["serving"]["goodput"] = {{"runs", 0}};
  EXPECT_EQ(to_json(simulate_serving(test::parse(j))).dump(), to_json(simulate_serving(test::parse(j))).dump());
}

}  // namespace
}  // namespace knee::serving

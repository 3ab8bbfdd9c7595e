// Capacity planning for serving (docs/serving.md, "Capacity planning"): the fewest GPUs whose
// layout serves a target request rate within the scenario's SLOs, found by simulating candidate
// layouts at that rate; and the serving knee of the scenario's own layout (the highest rate at
// which the SLOs hold) with the cause of the first breach.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "workloads/serving/serving_result.hpp"
#include "workloads/serving/serving_scenario.hpp"

namespace knee::serving {

struct CapacityOptions {
  double rate_per_s = 0;         // the target rate R (> 0)
  double usd_per_gpu_hour = -1;  // price of a GPU-hour, over the scenario's cost.usd_per_gpu_hour; < 0: that one
  std::int64_t max_gpus = 0;     // largest layout tried; 0: 8 x the scenario's GPUs
  bool disaggregated = true;     // also search disaggregated layouts (prefill:decode ratios)
  bool max_rate = false;         // also find the serving knee of the scenario's own layout
  int max_rate_runs = 12;        // simulations of the knee's bisection
};

// One layout simulated at the target rate.
struct CapacityCandidate {
  std::int64_t tp = 1, replicas = 0, prefill_replicas = 0, decode_replicas = 0, gpus = 0;
  bool disaggregated() const { return prefill_replicas > 0; }
  bool meets = false;  // slo_attainment >= the scenario's goodput.share
  double slo_attainment = 0, ttft_p99_s = 0, tpot_p99_s = 0, output_tokens_per_s = 0;
  std::int64_t preemptions = 0;
  double usd_per_million_output_tokens = std::numeric_limits<double>::quiet_NaN();
  double joules_per_output_token = std::numeric_limits<double>::quiet_NaN();  // facility energy; NaN: no power model
};

// The serving knee: the highest rate found to meet the SLOs, the lowest found to miss them, and
// what broke at the latter (docs/serving.md, "Causes").
struct MaxRateResult {
  bool computed = false;
  double max_rate_rps = std::numeric_limits<double>::quiet_NaN();
  double lower_rps = 0, upper_rps = 0;  // met at lower, missed at upper (0: not found)
  int runs = 0;
  std::string cause;   // queueing, kv_cache_preemption, decode_batch_limit, network, iteration_time; "" none
  std::string detail;  // the numbers the cause was decided on
};

struct CapacityResult {
  double rate_per_s = 0, share = 0;
  std::vector<CapacityCandidate> tried;  // in the order simulated
  int best = -1;                         // index into tried; -1: none met the SLOs within max_gpus
  int simulations = 0;                   // all simulations run, knee included
  std::vector<std::string> notes;        // TPs skipped and why, the tie rule, cost and energy provenance
  MaxRateResult max_rate;
};

// The scenario at `rate_per_s` with layout `c` (tp, replicas or the prefill/decode pools), on a
// cluster of just enough servers. Exposed for the tests' re-simulations. Rates are long-run
// means: on-off arrivals keep their periods and scale their on rate; a trace is left as it is.
ServingScenario with_layout(const ServingScenario& s, const CapacityCandidate& c, double rate_per_s);
// `s` simulated at the long-run rate `rate_per_s` (a trace time-scaled to it: arrival_s x its own
// rate / rate_per_s), with its share of requests meeting every SLO.
ServingResult simulate_at(const ServingScenario& s, double rate_per_s);

// InputError when the rate is not > 0, the scenario has no SLO, or its trace's arrivals span no
// time.
CapacityResult plan_capacity(const ServingScenario& s, const CapacityOptions& opt);
// The serving knee alone (plan_capacity calls it with opt.max_rate); `runs` simulations at most.
MaxRateResult find_max_rate(const ServingScenario& s, int runs);

}  // namespace knee::serving

// The public entry point of serving simulation (docs/serving.md): requests arrive, a router sends
// each to a replica, every replica batches continuously as vLLM does, and the result gives each
// request's latencies and their aggregates.
#pragma once
#include "workloads/serving/serving_result.hpp"
#include "workloads/serving/serving_scenario.hpp"

namespace knee::serving {

struct ServingOptions {
  bool goodput = true;  // search the goodput when the scenario has SLOs (re-simulations)
};

// One run at the scenario's rate times `rate_scale` (no goodput search).
ServingResult simulate_once(const ServingScenario& s, double rate_scale = 1);
// simulate_once at the scenario's rate, and the goodput search when asked and SLOs are given.
ServingResult simulate_serving(const ServingScenario& s, const ServingOptions& opt = {});

// Share of a run's requests that meet every SLO of the scenario (TTFT, TPOT; a one-token output
// has no TPOT to miss).
double slo_attainment(const ServingScenario& s, const std::vector<RequestRecord>& requests);

}  // namespace knee::serving

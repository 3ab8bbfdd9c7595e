// DistServe's goodput (Zhong et al., OSDI 2024): the highest request rate at which at least a
// share (90%) of requests meets every SLO. Searched by re-simulating the scenario at scaled rates
// with the same draws (common random numbers): doubling or halving from the scenario's rate
// until the SLO flips, then bisection in log rate, within goodput.runs simulations.
#include <cmath>

#include "workloads/serving/serving.hpp"

namespace knee::serving {

ServingResult simulate_serving(const ServingScenario& s, const ServingOptions& opt) {
  ServingResult R = simulate_once(s, 1);
  const ServingSpec& S = s.serving;
  if (!opt.goodput || !S.has_slo() || S.goodput_runs <= 0) return R;
  GoodputResult& G = R.goodput;
  G.computed = true;
  G.runs = 1;
  const double rate = R.offered_rate_per_s;
  auto meets = [&](double scale) {
    ++G.runs;
    return slo_attainment(s, simulate_once(s, scale).requests) >= S.goodput_share;
  };
  double lo = 0, hi = 0;  // scales: met at lo, missed at hi (0: not yet found)
  (R.slo_attainment >= S.goodput_share ? lo : hi) = 1;
  // Bracket: a factor 2 a run, keeping runs for the bisection.
  while (G.runs < S.goodput_runs && (lo == 0 || hi == 0)) {
    if (lo == 0) {
      const double x = hi / 2;
      (meets(x) ? lo : hi) = x;
    } else {
      const double x = lo * 2;
      (meets(x) ? lo : hi) = x;
    }
  }
  while (G.runs < S.goodput_runs && lo > 0 && hi > 0) {
    const double x = std::sqrt(lo * hi);
    (meets(x) ? lo : hi) = x;
  }
  G.lower_rps = lo * rate;
  G.upper_rps = hi * rate;
  if (lo > 0 && hi > 0) {
    G.goodput_rps = lo * rate;
    G.note = "bracketed: SLOs met at the lower rate, missed at the upper, after " + std::to_string(G.runs) + " runs";
  } else if (lo > 0) {
    G.goodput_rps = lo * rate;
    G.note = "a lower bound: SLOs still met at the highest rate tried";
  } else {
    G.goodput_rps = 0;
    G.note = "SLOs missed even at the lowest rate tried (upper_rps)";
  }
  return R;
}

}  // namespace knee::serving

// The serving knee of a scenario's own layout: the highest rate at which the SLO rule holds (the
// goodput search of goodput.cpp, with its runs bounded here), and why the SLOs break at the
// lowest rate found to miss them. The causes are tested in a fixed order on that run
// (docs/serving.md, "Capacity planning"); the first that holds is reported.
#include <cmath>
#include <cstdio>

#include "workloads/serving/capacity.hpp"
#include "workloads/serving/serving.hpp"

namespace knee::serving {
namespace {

// A mechanism is the cause when it touches at least this share of what it is measured over: a
// tenth of the missing requests preempted, or of the scheduling steps batch-full.
constexpr double kCauseShare = 0.1;

std::string fmt(const char* f, double a, double b) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

void diagnose(const ServingScenario& s, const ServingResult& R, MaxRateResult& m) {
  const ServingSpec& S = s.serving;
  double n = 0, preempted = 0, queue = 0, ttft = 0, kv = 0, decode = 0, ttft_miss = 0;
  for (const RequestRecord& r : R.requests) {
    const bool ttft_bad = S.slo_ttft_s > 0 && r.ttft_s > S.slo_ttft_s;
    const bool tpot_bad = S.slo_tpot_s > 0 && !std::isnan(r.tpot_s) && r.tpot_s > S.slo_tpot_s;
    if (!ttft_bad && !tpot_bad) continue;
    ++n;
    preempted += r.preemptions > 0;
    if (ttft_bad) {
      ++ttft_miss;
      queue += r.queue_s;
      ttft += r.ttft_s;
    }
    if (!std::isnan(r.kv_transfer_s)) kv += r.kv_transfer_s;
    decode += r.e2e_s - r.ttft_s;  // first token to last: includes a disaggregated KV transfer
  }
  const double steps = double(R.scheduling_steps), full = double(R.batch_full_steps);
  if (n > 0 && preempted / n >= kCauseShare) {
    m.cause = "kv_cache_preemption";
    m.detail = fmt("%.1f %% of the requests missing an SLO were preempted (%.0f preemptions)", 100 * preempted / n,
                   double(R.preemptions));
  } else if (S.disaggregated() && n > 0 && decode > 0 && kv / decode >= 0.5) {
    m.cause = "network";
    m.detail = fmt("KV transfers are %.1f %% of the missing requests' first-to-last-token time (mean %.3g s)",
                   100 * kv / decode, kv / n);
  } else if (steps > 0 && full / steps >= kCauseShare) {
    m.cause = "decode_batch_limit";
    m.detail = fmt("%.1f %% of scheduling steps began with max_batch (%.0f) sequences running and requests waiting",
                   100 * full / steps, double(S.max_batch));
  } else if (ttft > 0 && queue / ttft >= 0.5) {
    m.cause = "queueing";
    m.detail =
        fmt("queueing is %.1f %% of the TTFT of the %.0f requests missing the TTFT SLO", 100 * queue / ttft, ttft_miss);
  } else {
    m.cause = "iteration_time";
    m.detail =
        fmt("none of the above: the iterations themselves are too slow (queueing %.1f %% of missed TTFT; "
            "%.0f requests miss)",
            ttft > 0 ? 100 * queue / ttft : 0, n);
  }
}

}  // namespace

MaxRateResult find_max_rate(const ServingScenario& s, int runs) {
  ServingScenario t = s;
  t.serving.goodput_runs = runs;
  const ServingResult R = simulate_serving(t, {});
  MaxRateResult m;
  m.computed = true;
  m.runs = R.goodput.runs;
  m.lower_rps = R.goodput.lower_rps;
  m.upper_rps = R.goodput.upper_rps;
  m.max_rate_rps = R.goodput.goodput_rps;
  if (m.upper_rps > 0) {
    diagnose(s, simulate_at(s, m.upper_rps), m);
    ++m.runs;
  } else {
    m.detail = "the SLOs held at every rate tried: no breach to diagnose";
  }
  return m;
}

}  // namespace knee::serving

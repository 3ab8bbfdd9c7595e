// The layout search of capacity planning: for each TP size that fits, co-located and (when asked)
// disaggregated at a few prefill:decode ratios, the fewest replicas meeting the SLOs at the target
// rate, by doubling then bisection on the replica count; the fewest GPUs over all of them wins.
#include "workloads/serving/capacity.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "workloads/serving/requests.hpp"
#include "workloads/serving/serving.hpp"

namespace knee::serving {
namespace {

// Prefill share of a disaggregated layout's replicas (1:3, 1:1, 3:1): prompts long against
// outputs want more prefill replicas, and the reverse; three ratios keep the runs few.
constexpr int kRatios[3][2] = {{1, 3}, {1, 1}, {3, 1}};

std::string str(std::int64_t v) { return std::to_string(v); }

// A TP size a replica of this model can use: it divides the server's GPUs, heads, kv_heads and
// ffn_hidden (as parse_layout requires). Memory is checked by simulating (IterationCost refuses).
bool tp_divides(const ServingScenario& s, std::int64_t tp) {
  const auto& m = s.model;
  return s.cluster.system.gpus_per_node % tp == 0 && m.heads % tp == 0 && m.kv_heads % tp == 0 &&
         m.ffn_hidden % tp == 0;
}

// Layout of n replicas: co-located (ratio nullptr) or split by the ratio, each pool at least 1.
CapacityCandidate layout(std::int64_t tp, std::int64_t n, const int* ratio) {
  CapacityCandidate c;
  c.tp = tp;
  c.replicas = n;
  if (ratio) {
    c.prefill_replicas =
        std::clamp<std::int64_t>((n * ratio[0] + (ratio[0] + ratio[1]) / 2) / (ratio[0] + ratio[1]), 1, n - 1);
    c.decode_replicas = n - c.prefill_replicas;
  }
  c.gpus = n * tp;
  return c;
}

class Search {
 public:
  Search(const ServingScenario& s, const CapacityOptions& o, CapacityResult& r) : s_(s), o_(o), r_(r) {}

  // Simulates n replicas of tp at the target rate, records the candidate; its SLO verdict.
  bool meets(std::int64_t tp, std::int64_t n, const int* ratio) {
    CapacityCandidate c = layout(tp, n, ratio);
    // Ratios round to the same pools at small counts: a layout is simulated once.
    for (const CapacityCandidate& x : r_.tried)
      if (x.tp == c.tp && x.replicas == c.replicas && x.prefill_replicas == c.prefill_replicas) return x.meets;
    ServingScenario at = with_layout(s_, c, o_.rate_per_s);
    if (o_.usd_per_gpu_hour >= 0) at.cost.usd_per_gpu_hour = o_.usd_per_gpu_hour;
    const ServingResult R = simulate_at(at, o_.rate_per_s);
    ++r_.simulations;
    c.slo_attainment = R.slo_attainment;
    c.meets = R.slo_attainment >= s_.serving.goodput_share;
    c.ttft_p99_s = R.ttft.p99;
    c.tpot_p99_s = R.tpot.p99;
    c.output_tokens_per_s = R.output_throughput_tokens_per_s;
    c.preemptions = R.preemptions;
    // The serving run's own energy and price (docs/serving.md, "Energy and cost"): GPU-hours and
    // electricity over the output tokens of the window.
    c.usd_per_million_output_tokens = R.usd_per_million_output_tokens;
    c.joules_per_output_token = R.J_per_output_token;
    r_.tried.push_back(c);
    return c.meets;
  }

  // Fewest replicas (at most max_n) meeting the SLOs: doubling from lo, then bisection. Assumes
  // attainment does not fall as replicas are added (more servers for the same arrivals).
  void fewest(std::int64_t tp, std::int64_t lo, std::int64_t max_n, const int* ratio) {
    std::int64_t fail = lo - 1, ok = 0;
    for (std::int64_t n = lo; n <= max_n; n = std::min(n * 2, max_n)) {
      if (meets(tp, n, ratio)) {
        ok = n;
        break;
      }
      fail = n;
      if (n == max_n) break;
    }
    if (ok == 0) return;
    while (ok - fail > 1) {
      const std::int64_t mid = fail + (ok - fail) / 2;
      (meets(tp, mid, ratio) ? ok : fail) = mid;
    }
  }

  // The largest replica count worth trying at tp: within max_gpus and not above the best found
  // (an equal count can still win the tie).
  std::int64_t cap(std::int64_t tp) const {
    std::int64_t g = o_.max_gpus;
    if (r_.best >= 0) g = std::min(g, r_.tried[std::size_t(r_.best)].gpus);
    return g / tp;
  }

  void update_best() {
    for (std::size_t i = 0; i < r_.tried.size(); ++i) {
      const CapacityCandidate& c = r_.tried[i];
      if (!c.meets) continue;
      if (r_.best < 0 || better(c, r_.tried[std::size_t(r_.best)])) r_.best = int(i);
    }
  }

 private:
  // Fewer GPUs; then higher attainment; then lower p99 TTFT; then the earlier tried.
  static bool better(const CapacityCandidate& a, const CapacityCandidate& b) {
    if (a.gpus != b.gpus) return a.gpus < b.gpus;
    if (a.slo_attainment != b.slo_attainment) return a.slo_attainment > b.slo_attainment;
    return a.ttft_p99_s < b.ttft_p99_s;
  }
  const ServingScenario& s_;
  const CapacityOptions& o_;
  CapacityResult& r_;
};

}  // namespace

ServingScenario with_layout(const ServingScenario& s, const CapacityCandidate& c, double rate_per_s) {
  ServingScenario t = s;
  ServingSpec& S = t.serving;
  S.tp = c.tp;
  S.prefill_replicas = c.prefill_replicas;
  S.decode_replicas = c.decode_replicas;
  S.replicas = c.disaggregated() ? c.prefill_replicas + c.decode_replicas : c.replicas;
  if (c.disaggregated()) S.prefix_caching = false;                  // simulated co-located only (serving_scenario.cpp)
  if (c.disaggregated()) S.preemption = PreemptionMode::recompute;  // likewise swap
  if (S.arrivals.kind != ArrivalKind::trace) S.arrivals.set_mean_rate(rate_per_s);  // a trace: simulate_at
  // Just enough whole servers (replicas are placed in rank order, TP groups inside a server).
  const std::int64_t gpn = s.cluster.system.gpus_per_node, nodes = (S.replicas * S.tp + gpn - 1) / gpn;
  t.cluster.nodes = nodes;
  t.cluster.gpus = nodes * gpn;
  t.cluster.fabric.nodes = nodes;
  if (nodes > 1 && t.cluster.fabric.kind == FabricKind::single_node)
    t.cluster.fabric.kind = parse_fabric(s.cluster.system.default_fabric, s.source + ": system default fabric");
  return t;
}

ServingResult simulate_at(const ServingScenario& s, double rate_per_s) {
  // A trace is time-scaled to the rate (arrival_s / rate_scale, as the goodput search does).
  if (s.serving.arrivals.kind == ArrivalKind::trace) return simulate_once(s, rate_per_s / offered_rate_per_s(s));
  ServingScenario t = s;
  t.serving.arrivals.set_mean_rate(rate_per_s);
  return simulate_once(t, 1);
}

CapacityResult plan_capacity(const ServingScenario& s, const CapacityOptions& opt) {
  if (!(opt.rate_per_s > 0) || !std::isfinite(opt.rate_per_s))
    throw InputError(s.source + ": capacity rate_per_s: expected a request rate > 0 (requests/s), got " +
                     std::to_string(opt.rate_per_s));
  if (!s.serving.has_slo())
    throw_input_error(s.source, "$.serving.slo", "ttft_s and/or tpot_s (capacity is planned against SLOs)", "none");
  if (s.serving.arrivals.kind == ArrivalKind::trace && !(offered_rate_per_s(s) > 0))
    throw_input_error(s.source, "$.serving.arrivals.file",
                      "a trace whose arrivals span some time (it is time-scaled to each rate)",
                      "every arrival at one time");
  CapacityOptions o = opt;
  if (o.max_gpus <= 0) o.max_gpus = 8 * s.cluster.gpus;
  CapacityResult r;
  r.rate_per_s = o.rate_per_s;
  r.share = s.serving.goodput_share;
  Search search(s, o, r);
  for (std::int64_t tp : {1, 2, 4, 8}) {
    if (!tp_divides(s, tp)) {
      r.notes.push_back("tp " + str(tp) +
                        " skipped: not a divisor of the GPUs per server, heads, kv_heads and "
                        "ffn_hidden");
      continue;
    }
    try {
      search.fewest(tp, 1, search.cap(tp), nullptr);
      search.update_best();
      if (o.disaggregated)
        for (const auto& ratio : kRatios) {
          search.fewest(tp, 2, search.cap(tp), ratio);
          search.update_best();
        }
    } catch (const InputError& e) {  // the weights leave no KV cache, or it cannot hold a request
      r.notes.push_back("tp " + str(tp) + " skipped: " + e.what());
    }
  }
  r.notes.push_back(
      "the answer: fewest GPUs meeting the SLOs; ties to the higher SLO attainment, then the lower "
      "p99 TTFT, then the earlier tried (lower TP, co-located before disaggregated)");
  r.notes.push_back(
      "search: for each TP in {1, 2, 4, 8} that fits, replicas doubled from 1 (2 disaggregated, "
      "prefill:decode 1:3, 1:1, 3:1) until the SLOs hold, then bisected; at most " +
      str(o.max_gpus) + " GPUs, and none above the best found");
  r.notes.push_back(o.usd_per_gpu_hour >= 0 || s.cost.priced()
                        ? "cost: (GPU-hour price x GPUs x window + usd_per_kWh x facility kWh) / output tokens of the "
                          "window (--usd-per-gpu-hour over the scenario's cost.usd_per_gpu_hour)"
                        : "cost: not computed (no --usd-per-gpu-hour and no prices in the scenario's cost)");
  r.notes.push_back(s.profile.has_power()
                        ? "energy: facility joules per output token from profile " + s.profile.name() +
                              "'s power model (" + s.profile.power_provenance() + "), as knee simulate reports it"
                        : "energy: not computed (profile " + s.profile.name() + " has no power model)");
  if (s.serving.prefix_caching && o.disaggregated)
    r.notes.push_back("prefix caching: in co-located layouts only (disaggregated layouts are simulated without it)");
  if (s.serving.preemption == PreemptionMode::swap && o.disaggregated)
    r.notes.push_back("swap preemption: in co-located layouts only (disaggregated layouts recompute)");
  if (r.best < 0) r.notes.push_back("no layout within " + str(o.max_gpus) + " GPUs meets the SLOs");
  if (o.max_rate) {
    r.max_rate = find_max_rate(s, o.max_rate_runs);
    r.simulations += r.max_rate.runs;
  }
  return r;
}

}  // namespace knee::serving

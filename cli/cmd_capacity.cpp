// knee capacity: the fewest GPUs whose layout serves a request rate within a serving scenario's
// SLOs, with cost per million output tokens, and (--max-rate) the serving knee of the scenario's
// own layout with its cause (docs/serving.md, "Capacity planning").
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.hpp"
#include "workloads/serving/capacity.hpp"
#include "workloads/serving/capacity_schema.hpp"

namespace knee::cli {
namespace {

void print_candidate(const serving::CapacityCandidate& c) {
  std::printf("%5lld GPUs  tp %lld  ", static_cast<long long>(c.gpus), static_cast<long long>(c.tp));
  if (c.disaggregated())
    std::printf("%lld prefill + %lld decode replicas", static_cast<long long>(c.prefill_replicas),
                static_cast<long long>(c.decode_replicas));
  else std::printf("%lld replicas (co-located)", static_cast<long long>(c.replicas));
  std::printf("  SLOs met %.1f %%  p99 TTFT %.1f ms  p99 TPOT %.2f ms", 100 * c.slo_attainment, 1e3 * c.ttft_p99_s,
              1e3 * c.tpot_p99_s);
  if (c.usd_per_million_output_tokens == c.usd_per_million_output_tokens)
    std::printf("  $%.3f per million output tokens", c.usd_per_million_output_tokens);
  if (c.joules_per_output_token == c.joules_per_output_token)
    std::printf("  %.4g J per output token", c.joules_per_output_token);
  std::printf("\n");
}

void print_plan(const serving::CapacityResult& r) {
  std::printf("knee capacity: %.4g req/s, SLOs met by at least %.0f %% of requests (simulated, not measured)\n",
              r.rate_per_s, 100 * r.share);
  if (r.best >= 0) {
    std::printf("fewest GPUs:\n");
    print_candidate(r.tried[std::size_t(r.best)]);
  } else {
    std::printf("no layout tried meets the SLOs\n");
  }
  std::printf("candidates tried (%zu):\n", r.tried.size());
  for (const auto& c : r.tried) print_candidate(c);
  if (r.max_rate.computed) {
    const auto& m = r.max_rate;
    std::printf("serving knee of the scenario's layout: %.4g req/s (SLOs met at %.4g, missed at %.4g; %d runs)\n",
                m.max_rate_rps, m.lower_rps, m.upper_rps, m.runs);
    if (!m.cause.empty()) std::printf("cause at %.4g req/s: %s: %s\n", m.upper_rps, m.cause.c_str(), m.detail.c_str());
    else std::printf("cause: %s\n", m.detail.c_str());
  }
  for (const auto& n : r.notes) std::printf("# %s\n", n.c_str());
  std::printf("# %d simulations\n", r.simulations);
}

int run_capacity(const Args& args) {
  if (args.positional().size() != 1)
    throw InputError("knee capacity: expected one serving scenario (SERVING.json), got " +
                     std::to_string(args.positional().size()) + " arguments");
  if (!args.value("rate"))
    throw InputError("knee capacity: --rate: expected a request rate > 0 (requests/s), got none");
  serving::CapacityOptions opt;
  opt.rate_per_s = args.number_or("rate", 0);
  if (!(opt.rate_per_s > 0))
    throw InputError(args.what("rate") + ": expected a request rate > 0 (requests/s), got " + *args.value("rate"));
  if (args.value("usd-per-gpu-hour")) {
    opt.usd_per_gpu_hour = args.number_or("usd-per-gpu-hour", 0);
    if (!(opt.usd_per_gpu_hour >= 0))
      throw InputError(args.what("usd-per-gpu-hour") + ": expected a price >= 0, got " +
                       *args.value("usd-per-gpu-hour"));
  }
  opt.max_gpus = args.integer_or("max-gpus", 0, 1);
  opt.disaggregated = !args.flag("colocated-only");
  opt.max_rate = args.flag("max-rate");
  opt.max_rate_runs = static_cast<int>(args.integer_or("max-rate-runs", 12, 2, 64));
  const auto s = serving::load_serving_scenario(args.positional()[0]);
  const auto r = serving::plan_capacity(s, opt);
  if (args.flag("json")) {
    auto j = serving::to_json(r);
    j["scenario"] = args.positional()[0];
    std::cout << j.dump(2) << "\n";
  } else {
    print_plan(r);
  }
  return 0;
}

KNEE_COMMAND("capacity",
             "serving capacity planning: the fewest GPUs (TP, replicas, co-located or disaggregated) that serve a "
             "rate within the scenario's SLOs; --max-rate: the serving knee of its own layout and the cause",
             "SERVING.json --rate R [--max-rate] [--usd-per-gpu-hour P] [--max-gpus N] [--colocated-only] [--json]",
             {{"rate", true, "target request rate, requests/s (> 0)"},
              {"max-rate", false, "also find the highest rate the scenario's own layout serves, and what breaks"},
              {"max-rate-runs", true, "simulations of the --max-rate bisection (default 12)"},
              {"usd-per-gpu-hour", true,
               "price of a GPU-hour (over the scenario's cost), for cost per million output tokens"},
              {"max-gpus", true, "largest layout tried (default 8 x the scenario's GPUs)"},
              {"colocated-only", false, "search co-located layouts only (no prefill:decode pools)"},
              {"json", false, "print JSON"}},
             run_capacity);

}  // namespace
}  // namespace knee::cli

// knee audit: a scaling claim checked item by item (docs/analyze.md, "Auditing a scaling claim"):
// baseline, batch size, measurement window, warm-up, repetitions, variance; the claimed efficiency
// against the measurements, the scaling laws fitted to them and, with a scenario, the simulation.
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.hpp"
#include "metrics/claim_audit_schema.hpp"
#include "metrics/format.hpp"

namespace knee::cli {
namespace {

int run_audit(const Args& args) {
  if (args.positional().size() != 1)
    throw InputError("knee audit: expected one claim file (CLAIM.json), got " +
                     std::to_string(args.positional().size()) + " arguments");
  AnalyzeOptions opt;
  opt.resamples = static_cast<int>(args.integer_or("resamples", 2000, 100, 1000000));
  opt.seed = static_cast<std::uint64_t>(args.integer_or("seed", 1, 0));
  Claim c = load_claim(args.positional()[0]);
  if (args.value("samples")) {
    c.samples = static_cast<int>(args.integer_or("samples", 8, 0, 1000));
    if (c.samples == 1) throw InputError("knee audit: --samples: expected 0 (no interval) or an integer >= 2, got 1");
  }
  const ClaimAudit a = audit_claim(c, opt);
  if (args.flag("json")) {
    std::cout << audit_json(a).dump(2) << "\n";
    return 0;
  }
  std::printf("# knee audit %s: \"%s\" (efficiency %.2f at %s GPUs against the baseline)\n", c.source.c_str(),
              c.text.c_str(), c.efficiency, format_count(c.gpus).c_str());
  std::printf("# measured runs analysed as knee analyze does (docs/analyze.md); simulated figures are not measured\n");
  std::size_t w = 4;
  for (const auto& k : a.checks) w = std::max(w, k.item.size());
  std::printf("%-*s  %-12s  %s\n", static_cast<int>(w), "item", "status", "detail");
  for (const auto& k : a.checks)
    std::printf("%-*s  %-12s  %s\n", static_cast<int>(w), k.item.c_str(), k.status.c_str(), k.detail.c_str());
  std::printf("verdict: %s (%s)\n", a.verdict.c_str(), a.verdict_basis.c_str());
  return 0;
}

KNEE_COMMAND("audit",
             "a scaling claim (measured points and an extrapolation) checked item by item: baseline, batch, window, "
             "warm-up, repetitions, variance, the measured efficiency, scaling-law fits and the simulation",
             "CLAIM.json [--samples N] [--json]",
             {{"samples", true, "profile draws for the simulation's interval (default: the claim's, else 8)"},
              {"resamples", true, "bootstrap resamples of the measurements' intervals (default 2000)"},
              {"seed", true, "seed of the bootstrap streams (default 1)"},
              {"json", false, "print JSON"}},
             run_audit);

}  // namespace
}  // namespace knee::cli

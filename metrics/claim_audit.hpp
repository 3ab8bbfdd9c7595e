// `knee audit CLAIM.json` (docs/analyze.md, "Auditing a scaling claim"): a scaling claim, its
// measured points and its extrapolation ("linear to 1,024 GPUs"), checked item by item as a
// careful reviewer would: is the baseline stated, the batch size, the measurement window and the
// warm-up, are there repetitions and a variance, do the measurements themselves support the
// claimed efficiency, what the scaling laws fitted to them say at the claimed size, and, when the
// claim names a scenario, what knee simulates there, with its 95% interval.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/run_analysis.hpp"

namespace knee {

// The claim file, read strictly.
struct Claim {
  std::string source;
  std::string text;                // $.claim, as the claimant wrote it
  double gpus = 0;                 // $.extrapolation.gpus: the size the claim speaks of
  double efficiency = 1;           // $.extrapolation.efficiency (1: linear)
  std::int64_t baseline_gpus = 0;  // $.baseline_gpus; 0: not stated
  std::string window;              // $.measurement.window; "": not stated
  std::int64_t warmup_steps = -1;  // $.measurement.warmup_steps; -1: not stated
  RunTable runs;                   // $.runs (inline, or a CSV/JSON file next to the claim)
  nlohmann::json scenario;         // $.scenario (an object, or null); a path is read into it
  std::string scenario_source;     // the path, or "<claim>"
  int samples = 8;                 // $.samples: draws for the simulation's interval
};

Claim parse_claim(const nlohmann::json& j, const std::string& source, const std::string& dir);
Claim load_claim(const std::string& path);

// One item a reviewer checks.
struct AuditCheck {
  std::string item;    // "baseline", "batch size", "measurement window", ...
  std::string status;  // "ok", "missing", "weak", "unfair", "contradicted", "consistent", "not checked"
  std::string detail;  // one sentence, with numbers
};

struct ClaimAudit {
  Claim claim;
  RunAnalysis analysis;
  std::vector<AuditCheck> checks;
  std::string verdict;  // "not supported", "cannot be judged", "consistent with the evidence"
  std::string verdict_basis;
  // The simulation at the claimed size (when the claim has a scenario): efficiency against the
  // simulated baseline, its interval, and the draws; NAN / 0 without.
  double simulated_efficiency = NAN, simulated_efficiency_lo = NAN, simulated_efficiency_hi = NAN;
  int simulated_samples = 0;
};

ClaimAudit audit_claim(const Claim& c, const AnalyzeOptions& opt);

}  // namespace knee

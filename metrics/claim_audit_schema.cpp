// The claim audit's fields and check columns, and the JSON made from them.
#include "metrics/claim_audit_schema.hpp"

#include <cmath>

#include "metrics/run_analysis_schema.hpp"

namespace knee {

using OJ = nlohmann::ordered_json;

const std::vector<AuditColumn>& audit_check_columns() {
  static const std::vector<AuditColumn> c = {
      {"item", "what a reviewer checks", [](const AuditCheck& k) { return k.item; }},
      {"status", "ok, missing, weak, unfair, extrapolated, consistent, contradicted, or not checked",
       [](const AuditCheck& k) { return k.status; }},
      {"detail", "the finding, with its numbers", [](const AuditCheck& k) { return k.detail; }},
  };
  return c;
}

const std::vector<AuditField>& claim_audit_fields() {
  using A = ClaimAudit;
  static const std::vector<AuditField> f = {
      {"source", "", "the claim file (or <claim>)", [](const A& a) { return OJ(a.claim.source); }},
      {"claim", "", "the claim as its author wrote it", [](const A& a) { return OJ(a.claim.text); }},
      {"gpus", "", "the size the claim speaks of", [](const A& a) { return OJ(a.claim.gpus); }},
      {"claimed_efficiency", "", "the scaling efficiency claimed there (1: linear)",
       [](const A& a) { return OJ(a.claim.efficiency); }},
      {"verdict", "", "not supported, cannot be judged, or consistent with the evidence",
       [](const A& a) { return OJ(a.verdict); }},
      {"verdict_basis", "", "why, in one sentence", [](const A& a) { return OJ(a.verdict_basis); }},
      {"baseline_gpus", "", "the baseline the analysis measured against",
       [](const A& a) { return OJ(a.analysis.baseline_gpus); }},
      {"mode", "", "strong or weak scaling, as the runs' batch sizes say",
       [](const A& a) { return OJ(a.analysis.mode); }},
      {"checks", "", "each item a reviewer checks (keys: the check columns)",
       [](const A& a) {
         OJ rows = OJ::array();
         for (const auto& k : a.checks) {
           OJ row;
           for (const auto& col : audit_check_columns()) row[col.key] = col.value(k);
           rows.push_back(row);
         }
         return rows;
       }},
      {"simulated_efficiency", "",
       "knee's simulated efficiency at the claimed size: {value, interval [lo, hi], samples}; null without a scenario",
       [](const A& a) {
         if (!std::isfinite(a.simulated_efficiency)) return OJ(nullptr);
         return OJ{{"value", a.simulated_efficiency},
                   {"interval", {a.simulated_efficiency_lo, a.simulated_efficiency_hi}},
                   {"samples", a.simulated_samples}};
       }},
      {"analysis", "", "the claim's runs analysed, as knee analyze --json",
       [](const A& a) { return analysis_json(a.analysis); }},
  };
  return f;
}

OJ audit_json(const ClaimAudit& a) {
  OJ j;
  for (const auto& f : claim_audit_fields()) j[f.key] = f.value(a);
  return j;
}

}  // namespace knee

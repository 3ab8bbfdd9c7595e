// The capacity plan's fields and candidate columns, and the JSON made from them.
#include "workloads/serving/capacity_schema.hpp"

#include <cmath>

namespace knee::serving {

using OJ = nlohmann::ordered_json;

namespace {
OJ num(double v) { return std::isnan(v) ? OJ(nullptr) : OJ(v); }  // NaN (not computed) is null
}  // namespace

const std::vector<CandidateColumn>& candidate_columns() {
  using C = CapacityCandidate;
  static const std::vector<CandidateColumn> c = {
      {"gpus", "", "GPUs of the layout (replicas x tp)", [](const C& x) { return OJ(x.gpus); }},
      {"tp", "", "tensor-parallel size of a replica", [](const C& x) { return OJ(x.tp); }},
      {"replicas", "", "replicas (both pools when disaggregated)", [](const C& x) { return OJ(x.replicas); }},
      {"disaggregated", "", "separate prefill and decode pools", [](const C& x) { return OJ(x.disaggregated()); }},
      {"prefill_replicas", "", "disaggregated: prefill pool (0 co-located)",
       [](const C& x) { return OJ(x.prefill_replicas); }},
      {"decode_replicas", "", "disaggregated: decode pool (0 co-located)",
       [](const C& x) { return OJ(x.decode_replicas); }},
      {"meets_slo", "", "slo_attainment >= the scenario's goodput.share", [](const C& x) { return OJ(x.meets); }},
      {"slo_attainment", "share", "requests meeting every SLO at the target rate",
       [](const C& x) { return num(x.slo_attainment); }},
      {"ttft_p99_s", "s", "p99 time to first token", [](const C& x) { return num(x.ttft_p99_s); }},
      {"tpot_p99_s", "s", "p99 time per output token", [](const C& x) { return num(x.tpot_p99_s); }},
      {"output_tokens_per_s", "tokens/s", "simulated output throughput",
       [](const C& x) { return num(x.output_tokens_per_s); }},
      {"preemptions", "", "KV-cache preemptions", [](const C& x) { return OJ(x.preemptions); }},
      {"usd_per_million_output_tokens", "USD", "GPU-hours and electricity over output tokens (null: no prices)",
       [](const C& x) { return num(x.usd_per_million_output_tokens); }},
      {"joules_per_output_token", "J", "facility energy per output token (null: the profile has no power model)",
       [](const C& x) { return num(x.joules_per_output_token); }},
  };
  return c;
}

OJ candidate_json(const CapacityCandidate& c) {
  OJ j;
  for (const auto& col : candidate_columns()) j[col.name] = col.value(c);
  return j;
}

const std::vector<CapacityField>& capacity_fields() {
  using R = CapacityResult;
  static const std::vector<CapacityField> f = {
      {"rate_per_s", "req/s", "the target request rate", [](const R& r) { return OJ(r.rate_per_s); }},
      {"share", "share", "share of requests that must meet every SLO (goodput.share)",
       [](const R& r) { return OJ(r.share); }},
      {"best", "", "the fewest-GPU layout meeting the SLOs, as a candidate row (null: none within max GPUs)",
       [](const R& r) { return r.best < 0 ? OJ(nullptr) : candidate_json(r.tried[std::size_t(r.best)]); }},
      {"simulations", "", "simulations run, the knee's included", [](const R& r) { return OJ(r.simulations); }},
      {"max_rate", "", "the serving knee of the scenario's layout: rate, bracket, cause (null: not asked)",
       [](const R& r) {
         const MaxRateResult& m = r.max_rate;
         if (!m.computed) return OJ(nullptr);
         return OJ{{"max_rate_rps", num(m.max_rate_rps)},
                   {"lower_rps", m.lower_rps},
                   {"upper_rps", m.upper_rps},
                   {"runs", m.runs},
                   {"cause", m.cause.empty() ? OJ(nullptr) : OJ(m.cause)},
                   {"detail", m.detail}};
       }},
      {"notes", "", "the search, the tie rule, skipped TPs, cost and energy provenance",
       [](const R& r) { return OJ(r.notes); }},
      {"candidates", "", "every layout simulated, in order: {column: [values]}",
       [](const R& r) {
         OJ j;
         for (const auto& col : candidate_columns()) {
           OJ v = OJ::array();
           for (const auto& c : r.tried) v.push_back(col.value(c));
           j[col.name] = std::move(v);
         }
         return j;
       }},
  };
  return f;
}

OJ to_json(const CapacityResult& r) {
  OJ j;
  for (const auto& f : capacity_fields()) j[f.key] = f.value(r);
  return j;
}

}  // namespace knee::serving

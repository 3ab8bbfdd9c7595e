#include "metrics/claim_audit.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "common/printf.hpp"
#include "metrics/analysis_overlay.hpp"
#include "metrics/format.hpp"
#include "metrics/run_analysis_schema.hpp"

namespace knee {
namespace {

std::string pct(double share) { return printf_double("%.1f", 100 * share) + "%"; }
std::string gpus_text(double g) { return format_count(g) + " GPUs"; }
std::string eff_text(double e, const Interval& ci) {
  return printf_double("%.3f", e) + " (95% interval " + printf_double("%.3f", ci.lo) + "-" +
         printf_double("%.3f", ci.hi) + ")";
}

// What the simulator says at the claimed size: a sweep over the measured counts and the claimed
// one, in the measurements' mode, with intervals over profile draws.
void simulate_claim(const Claim& c, const RunAnalysis& a, ClaimAudit& out) {
  const Scenario s = parse_scenario(c.scenario, c.scenario_source);
  const auto j = sweep_beside_runs(a, s, {static_cast<std::int64_t>(c.gpus)}, c.samples);
  const std::string mode = sweep_mode_of(a);
  AuditCheck chk{"simulation", "not checked", ""};
  for (const auto& p : j.at("points")) {
    if (p.at("gpus").get<double>() != c.gpus) continue;
    if (!p.at("feasible").get<bool>()) {
      chk.detail = "the scenario (" + c.scenario_source + ") is infeasible at " + gpus_text(c.gpus) + ": " +
                   p.at("reason").get<std::string>();
      break;
    }
    out.simulated_efficiency = p.at("efficiency").get<double>();
    if (p.contains("intervals") && p.at("intervals").contains("efficiency")) {
      out.simulated_efficiency_lo = p.at("intervals").at("efficiency")[0].get<double>();
      out.simulated_efficiency_hi = p.at("intervals").at("efficiency")[1].get<double>();
      out.simulated_samples = c.samples;
    } else {
      out.simulated_efficiency_lo = out.simulated_efficiency_hi = out.simulated_efficiency;
    }
    const bool above = c.efficiency > out.simulated_efficiency_hi + 1e-9;
    chk.status = above ? "contradicted" : "consistent";
    chk.detail = "knee simulates " + c.scenario_source + " (" + mode + " scaling, baseline " +
                 gpus_text(static_cast<double>(a.baseline_gpus)) + ") at an efficiency of " +
                 printf_double("%.3f", out.simulated_efficiency) + " (95% interval " +
                 printf_double("%.3f", out.simulated_efficiency_lo) + "-" +
                 printf_double("%.3f", out.simulated_efficiency_hi) + " over " + std::to_string(c.samples) +
                 " profile draws; the model's own error is not in it) at " + gpus_text(c.gpus) +
                 (above ? ", below the claimed " : ", against the claimed ") + printf_double("%.2f", c.efficiency);
  }
  out.checks.push_back(chk);
}

}  // namespace

Claim parse_claim(const nlohmann::json& j, const std::string& source, const std::string& dir) {
  JsonObject root = JsonObject::root(j, source);
  Claim c;
  c.source = source;
  root.ignore("comment");
  c.text = root.string("claim");
  JsonObject ex = root.object("extrapolation");
  c.gpus = static_cast<double>(ex.integer("gpus", 1));
  c.efficiency = ex.positive_or("efficiency", 1.0);
  if (c.efficiency > 1.5) ex.fail("efficiency", "an efficiency against the baseline, at most 1.5 (1: linear)");
  ex.finish();
  c.baseline_gpus = root.integer_or("baseline_gpus", 0, 1);
  if (root.has("measurement")) {
    JsonObject m = root.object("measurement");
    c.window = m.string_or("window", "");
    c.warmup_steps = m.integer_or("warmup_steps", -1, 0);
    m.finish();
  }
  const nlohmann::json& runs = root.raw("runs");
  if (runs.is_string()) {
    std::filesystem::path p(runs.get<std::string>());
    if (p.is_relative()) p = std::filesystem::path(dir) / p;
    if (!std::filesystem::exists(p)) throw_input_error(source, "$.runs", "a runs file that exists", p.string());
    c.runs = load_runs(p.string(), true);
  } else if (runs.is_array()) {
    c.runs = parse_runs_json(nlohmann::json{{"runs", runs}}.dump(), source);
  } else {
    root.fail("runs", "a list of runs ({\"gpus\", \"run\", \"step_time_s\": [...]}) or the path of a runs file");
  }
  if (root.has("scenario")) {
    const nlohmann::json& sc = root.raw("scenario");
    if (sc.is_string()) {
      std::filesystem::path p(sc.get<std::string>());
      if (p.is_relative()) p = std::filesystem::path(dir) / p;
      if (!std::filesystem::exists(p))
        throw_input_error(source, "$.scenario", "a scenario file that exists", p.string());
      c.scenario_source = p.string();
      c.scenario = parse_json_file(c.scenario_source);
    } else if (sc.is_object()) {
      c.scenario = sc;
      c.scenario_source = source + ": $.scenario";
    } else {
      root.fail("scenario", "a scenario object or the path of a scenario file");
    }
  }
  c.samples = static_cast<int>(root.integer_or("samples", 8, 0, 1000));
  if (c.samples == 1) root.fail("samples", "0 (no interval) or an integer >= 2");
  root.finish();
  return c;
}

Claim load_claim(const std::string& path) {
  return parse_claim(parse_json_file(path), path, std::filesystem::path(path).parent_path().string());
}

ClaimAudit audit_claim(const Claim& c, const AnalyzeOptions& opt_in) {
  ClaimAudit out;
  out.claim = c;
  AnalyzeOptions opt = opt_in;
  opt.baseline_gpus = c.baseline_gpus;
  opt.predict_at_gpus = {c.gpus};
  out.analysis = analyze_runs(c.runs, opt);
  const RunAnalysis& a = out.analysis;
  auto add = [&](std::string item, std::string status, std::string detail) {
    out.checks.push_back({std::move(item), std::move(status), std::move(detail)});
  };

  // What the claim states about how it was measured.
  if (c.baseline_gpus > 0)
    add("baseline", "ok", "stated: " + gpus_text(static_cast<double>(c.baseline_gpus)) + ", measured");
  else
    add("baseline", "missing",
        "the claim names no baseline; the smallest measured count, " + gpus_text(static_cast<double>(a.baseline_gpus)) +
            ", is used here");
  const bool all_batches =
      std::all_of(a.counts.begin(), a.counts.end(), [](const auto& k) { return k.global_batch > 0; });
  if (!all_batches)
    add("batch size", "missing",
        "no global batch at some count: strong or weak scaling cannot be told, and a speedup may come from a larger "
        "batch");
  else if (a.mode == "mixed") add("batch size", "unfair", a.mode_basis);
  else add("batch size", "ok", a.mode + " scaling: " + a.mode_basis);
  add("measurement window", c.window.empty() ? "missing" : "ok",
      c.window.empty() ? "the claim does not say which steps were timed (steady state, or including start-up)"
                       : "stated: " + c.window);
  std::int64_t dropped = 0;
  for (const auto& k : a.counts) dropped += k.warmup_dropped;
  add("warm-up", c.warmup_steps >= 0 ? "ok" : "missing",
      (c.warmup_steps >= 0 ? "stated: " + std::to_string(c.warmup_steps) + " steps excluded" : "not stated") +
          std::string("; MSER-5 finds ") + std::to_string(dropped) + " warm-up iterations in the data and drops them");

  // Repetitions and variance.
  std::int64_t min_runs = INT64_MAX, min_samples = INT64_MAX;
  double max_cv = 0;
  for (const auto& k : a.counts) {
    min_runs = std::min(min_runs, k.runs);
    min_samples = std::min(min_samples, k.samples);
    max_cv = std::max(max_cv, k.cv);
  }
  if (min_samples < 2) add("repetitions", "missing", "a count has a single measurement: no variance, no interval");
  else if (min_runs < 2)
    add("repetitions", "weak",
        "one run at some count: iterations of one run are not independent repetitions, so run-to-run variation (node "
        "placement, stragglers) is unmeasured");
  else add("repetitions", "ok", "at least " + std::to_string(min_runs) + " independent runs at every count");
  if (min_samples >= 2)
    add("variance", "ok",
        "coefficient of variation at most " + pct(max_cv) + "; intervals by " + analysis_interval_method());
  else add("variance", "missing", "not computable from one measurement per count");

  // The claim against the measurements, the laws fitted to them, and the simulator.
  const auto& largest = a.counts.back();
  const double factor = c.gpus / static_cast<double>(largest.gpus);
  add("extrapolation", factor > 1 ? "extrapolated" : "ok",
      factor > 1 ? "the claim speaks of " + gpus_text(c.gpus) + ", " + printf_double("%.3g", factor) +
                       " x the largest measurement (" + gpus_text(static_cast<double>(largest.gpus)) + ")"
                 : "within the measured range");
  const bool measured_below = c.efficiency > largest.efficiency_ci.hi + 1e-9;
  add("measured efficiency", measured_below ? "contradicted" : "consistent",
      "at " + gpus_text(static_cast<double>(largest.gpus)) + " the measurements give " +
          eff_text(largest.efficiency, largest.efficiency_ci) + " against the baseline; the claim needs " +
          printf_double("%.2f", c.efficiency) + (measured_below ? ", already above the interval" : ""));
  std::string laws;
  bool any_law = false, all_below = true;
  for (const auto& p : a.predictions) {
    if (p.gpus != c.gpus) continue;
    const auto it = std::find_if(a.fits.begin(), a.fits.end(), [&](const auto& f) { return f.fit.law == p.law; });
    if (it == a.fits.end() || !it->applies) continue;
    any_law = true;
    all_below = all_below && c.efficiency > p.efficiency_ci.hi + 1e-9;
    laws +=
        std::string(laws.empty() ? "" : "; ") + scaling_law_name(p.law) + " " + eff_text(p.efficiency, p.efficiency_ci);
  }
  if (any_law)
    add("scaling laws", all_below ? "contradicted" : "consistent",
        "fitted to the measurements, at " + gpus_text(c.gpus) + ": " + laws);
  else add("scaling laws", "not checked", "too few GPU counts for a fit (Amdahl needs 2, USL 3)");
  if (!c.scenario.is_null()) simulate_claim(c, a, out);
  else add("simulation", "not checked", "the claim names no scenario ($.scenario): no simulation beside it");

  // The verdict: evidence against beats evidence missing, which beats evidence for.
  std::vector<std::string> against, missing;
  for (const auto& k : out.checks) {
    if (k.status == "contradicted") against.push_back(k.item);
    if (k.status == "missing" || k.status == "unfair") missing.push_back(k.item);
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  if (!against.empty()) {
    out.verdict = "not supported";
    out.verdict_basis =
        "contradicted by: " + list(against) + (missing.empty() ? "" : "; also missing: " + list(missing));
  } else if (!missing.empty()) {
    out.verdict = "cannot be judged";
    out.verdict_basis = "missing or unfair: " + list(missing);
  } else {
    out.verdict = "consistent with the evidence";
    out.verdict_basis = "nothing checked contradicts it; consistent is not proved";
  }
  return out;
}

}  // namespace knee

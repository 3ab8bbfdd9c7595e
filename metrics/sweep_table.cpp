#include "metrics/sweep_table.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "common/printf.hpp"
#include "metrics/format.hpp"
#include "workloads/training/result_schema.hpp"

namespace knee {
namespace {}  // namespace

std::string sweep_table(const SweepResult& sw) {
  std::ostringstream o;
  char buf[512];
  const std::string base = std::to_string(sw.baseline_gpus);
  o << "# " << sw.mode << " scaling: " << (sw.mode == "strong" ? "global batch fixed" : "global batch grows with dp")
    << "; baseline " << base << " GPUs; knee threshold " << printf_double("%.2f", sw.threshold) << " efficiency\n";
  // A stragglers column only when the scenario has them (the table stays as it was otherwise).
  const bool strag =
      std::any_of(sw.points.begin(), sw.points.end(), [](const SweepPoint& p) { return p.result.stragglers.enabled; });
  std::snprintf(buf, sizeof buf, "%7s %3s %3s %5s %6s %9s %12s %8s %6s %6s %6s %7s %7s %7s %7s %6s%s\n", "gpus", "tp",
                "pp", "dp", "batch", "step_s", "tokens/s", "speedup", "eff", "mfu", "c/c", "tp_s", "pp_s", "dp_s",
                "bubble", "J/tok", strag ? "   strag" : "");
  o << buf;
  for (std::size_t i = 0; i < sw.points.size(); ++i) {
    const auto& p = sw.points[i];
    if (!p.feasible) {
      std::snprintf(buf, sizeof buf, "%7lld %3lld %3lld %5lld %6lld  infeasible: %s\n", static_cast<long long>(p.gpus),
                    static_cast<long long>(p.tp), static_cast<long long>(p.pp), static_cast<long long>(p.dp),
                    static_cast<long long>(p.global_batch), p.reason.c_str());
      o << buf;
      continue;
    }
    const auto& r = p.result;
    const auto& b = r.breakdown;
    const std::string jtok = r.energy.available ? printf_double("%6.3f", r.energy.facility_J_per_token) : "     -";
    const std::string sg = strag ? printf_double(" %7.4f", b.straggler_s) : "";
    std::snprintf(buf, sizeof buf,
                  "%7lld %3lld %3lld %5lld %6lld %9.4f %12s %8.2f %6.3f %6.3f %6.3f %7.4f %7.4f %7.4f %7.4f %s%s%s\n",
                  static_cast<long long>(p.gpus), static_cast<long long>(p.tp), static_cast<long long>(p.pp),
                  static_cast<long long>(p.dp), static_cast<long long>(p.global_batch), r.step_time_s,
                  format_count(r.tokens_per_s).c_str(), p.speedup, p.efficiency, r.mfu, r.comm_to_compute, b.tp_s,
                  b.pp_s, b.dp_s, b.bubble_s, jtok.c_str(), sg.c_str(),
                  static_cast<int>(i) == sw.knee ? "  <-- knee" : "");
    o << buf;
  }
  if (sw.knee >= 0)
    o << "# knee at " << sw.points[static_cast<std::size_t>(sw.knee)].gpus << " GPUs: " << sw.knee_cause << "\n";
  else o << "# no knee: every feasible point keeps efficiency >= " << printf_double("%.2f", sw.threshold) << "\n";
  // Every column once, in words (the same meanings as the CSV's and the DataFrame's columns).
  o << "# batch: global batch (samples); step_s: simulated step time (s); tokens/s: throughput; speedup: tokens/s\n"
    << "#   over the " << base << "-GPU baseline's; eff: speedup / (gpus / " << base
    << "); mfu: model FLOPs / (step x GPUs x datasheet peak), a share;\n"
    << "#   c/c: all communication time, hidden or not, / compute time; tp_s, pp_s, dp_s: exposed communication of\n"
    << "#   each group (s, of the slowest stage); bubble: pipeline bubble (s); J/tok: facility energy per token (J,\n"
    << "#   - without a power model)" << (strag ? "; strag: step time added by stragglers (s)" : "") << "\n";
  return o.str();
}

std::string sweep_csv(const SweepResult& r) { return sweep_csv(r.to_json()); }

std::string sweep_csv(const nlohmann::ordered_json& sweep_json) {
  // The columns of result_schema.cpp, read from each point's JSON (as Python's DataFrame is).
  std::ostringstream o;
  const auto& cols = sweep_columns();
  for (std::size_t c = 0; c < cols.size(); ++c) o << (c ? "," : "") << cols[c].name;
  o << '\n';
  const auto& knee = sweep_json.at("knee_gpus");
  for (const auto& q : sweep_json.at("points")) {
    const bool is_knee = !knee.is_null() && q.at("gpus") == knee;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (c) o << ',';
      const auto v = sweep_column_value(cols[c], q, is_knee);
      if (v.is_boolean()) {
        o << (v.get<bool>() ? 1 : 0);
      } else if (v.is_number_integer()) {
        o << v.get<std::int64_t>();
      } else if (v.is_number()) {
        o << v.get<double>();
      } else if (v.is_string()) {
        std::string t = v.get<std::string>();
        std::replace(t.begin(), t.end(), ',', ';');
        std::replace(t.begin(), t.end(), '"', '\'');
        o << '"' << t << '"';
      }
    }
    o << '\n';
  }
  return o.str();
}

std::string sweep_intervals_text(const nlohmann::ordered_json& j) {
  if (!j.contains("intervals")) return "";
  std::ostringstream o;
  o << "# 95% intervals over " << j["intervals"]["samples"].get<int>()
    << " profile draws (docs/uncertainty.md; the model's own error is not in them):\n";
  for (const auto& p : j.at("points")) {
    if (!p.contains("intervals")) continue;
    const auto& iv = p["intervals"];
    o << "#   " << format_count(p["gpus"].get<double>()) << " GPUs: step_s "
      << printf_double("%.4f", iv["step_time_s"][0].get<double>()) << "-"
      << printf_double("%.4f", iv["step_time_s"][1].get<double>());
    if (iv.contains("efficiency"))
      o << ", eff " << printf_double("%.3f", iv["efficiency"][0].get<double>()) << "-"
        << printf_double("%.3f", iv["efficiency"][1].get<double>());
    o << "\n";
  }
  o << "# the knee over the draws:";
  for (const auto& k : j.at("knee_distribution"))
    o << " " << (k["gpus"].is_null() ? std::string("none") : format_count(k["gpus"].get<double>()) + " GPUs") << " in "
      << printf_double("%.0f", 100 * k["share"].get<double>()) << "%;";
  o << "\n";
  return o.str();
}

}  // namespace knee

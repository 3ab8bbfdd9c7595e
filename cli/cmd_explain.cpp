// knee explain: the error budget of one prediction (docs/explain.md): the step time, then each
// modelled mechanism turned off alone, sorted by how much the step moves.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "metrics/format.hpp"
#include "workloads/training/explain.hpp"
#include "workloads/training/training.hpp"

namespace knee::cli {
namespace {

// Decimals that give a step time five significant digits (4 for seconds, more for a short step),
// so the deltas of a millisecond step do not all print as 0.
int decimals_for(double step_s) {
  if (step_s <= 0) return 4;
  return std::clamp(4 - static_cast<int>(std::floor(std::log10(step_s))), 4, 9);
}

// A row's value as the table shows it, by the field's unit.
std::string cell(const ExplainRowField& f, const ExplainRow& row, int decimals) {
  const auto v = f.value(row);
  if (v.is_string()) return v.get<std::string>();
  char b[48];
  const std::string unit = f.unit;
  if (unit == "%") std::snprintf(b, sizeof b, "%+.2f %%", v.get<double>());
  else if (f.key == std::string("step_time_s")) std::snprintf(b, sizeof b, "%.*f", decimals, v.get<double>());
  else std::snprintf(b, sizeof b, "%+.*f", decimals, v.get<double>());
  return b;
}

void print_table(const ExplainResult& r, int decimals) {
  std::vector<const ExplainRowField*> cols, lines;
  for (const auto& f : explain_row_fields()) (f.column ? cols : lines).push_back(&f);
  std::vector<std::size_t> width;
  for (const auto* f : cols) {
    std::size_t w = std::string(f->key).size();
    for (const auto& row : r.rows) w = std::max(w, cell(*f, row, decimals).size());
    width.push_back(w);
  }
  auto print_cells = [&](auto&& text_of) {
    std::string line;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      std::string t = text_of(*cols[i]);
      const bool text = cols[i]->unit[0] == '\0';
      const std::string pad(width[i] - std::min(width[i], t.size()), ' ');
      line += (i ? "  " : "") + (text ? t + pad : pad + t);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  };
  print_cells([](const ExplainRowField& f) { return std::string(f.key); });
  for (const auto& row : r.rows) {
    print_cells([&](const ExplainRowField& f) { return cell(f, row, decimals); });
    for (const auto* f : lines) std::printf("    %s: %s\n", f->key, cell(*f, row, decimals).c_str());
  }
}

int run_explain(const Args& args) {
  if (args.positional().size() != 1)
    throw InputError("knee explain: expected one scenario file, got " + std::to_string(args.positional().size()) +
                     " arguments");
  const std::string& path = args.positional()[0];
  const Scenario s = load_scenario(path);
  const ExplainResult r = explain(s);
  if (args.flag("json")) {
    std::cout << explain_json(r).dump(2) << "\n";
  } else {
    const auto& p = s.par;
    const int decimals = decimals_for(r.baseline.step_time_s);
    std::printf(
        "# knee explain %s: step time %.*f s (%s, %s GPU%s, tp %lld pp %lld dp %lld cp %lld ep %lld; profile %s)\n",
        path.c_str(), decimals, r.baseline.step_time_s, s.system.name.c_str(), format_count(double(s.gpus)).c_str(),
        s.gpus == 1 ? "" : "s", static_cast<long long>(p.tp), static_cast<long long>(p.pp),
        static_cast<long long>(p.dp), static_cast<long long>(p.cp), static_cast<long long>(p.ep),
        r.baseline.provenance.value("profile", std::string()).c_str());
    if (!r.baseline.memory.fits)
      std::printf("# the layout does not fit in GPU memory (%.1f GiB > %.1f GiB): explained anyway\n",
                  r.baseline.memory.per_gpu_bytes / 1073741824.0, r.baseline.memory.capacity_bytes / 1073741824.0);
    if (r.rows.empty()) std::printf("no modelled mechanism applies to this scenario\n");
    else print_table(r, decimals);
    std::printf("# %s\n", explain_reading());
  }
  // As knee simulate --force: explained, but the status still says the layout does not fit.
  return r.baseline.memory.fits ? 0 : kExitDoesNotFit;
}

KNEE_COMMAND("explain",
             "the error budget of a prediction: the step time with each modelled mechanism turned off in turn "
             "(overlap, stragglers, contention, launch gaps, oversubscription) and where its parameters come from",
             "SCENARIO.json [--json]", {{"json", false, "print JSON"}}, run_explain);

}  // namespace
}  // namespace knee::cli

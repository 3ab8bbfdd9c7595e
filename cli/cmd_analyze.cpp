// knee analyze: measured step times (or throughputs) at one or more GPU counts, analysed with a
// reviewer's discipline (docs/analyze.md): warm-up, outliers, intervals, speedup against a stated
// baseline, the kind of scaling, and Amdahl, Gustafson and USL fits with their knees.
#include <iostream>
#include <string>

#include "cli/command.hpp"
#include "metrics/analysis_overlay.hpp"
#include "metrics/kernel_comparison.hpp"
#include "metrics/kernel_comparison_ranks.hpp"
#include "metrics/kernel_comparison_schema.hpp"
#include "metrics/kernel_comparison_table.hpp"
#include "metrics/run_analysis.hpp"
#include "metrics/run_analysis_schema.hpp"
#include "metrics/run_analysis_table.hpp"
#include "metrics/run_input.hpp"

namespace knee::cli {
namespace {

// knee analyze --trace TRACE.json[.gz]: a PyTorch profiler trace's kernels against a profile; a
// comma-separated list or a directory of traces is one trace per rank (Args takes a flag once).
int run_analyze_trace(const Args& args, const std::string& path) {
  if (!args.positional().empty())
    throw InputError("knee analyze: --trace: expected either a runs file or --trace TRACE.json, got both ('" +
                     args.positional()[0] + "')");
  for (const char* f : {"baseline", "precision", "resamples", "seed", "scenario", "samples", "strict"})
    if (args.value(f) || args.flag(f))
      throw InputError(args.what(f) + ": expected a runs file with it, got --trace (a trace takes --profile, --top)");
  ComparisonOptions opt;
  opt.top = static_cast<int>(args.integer_or("top", 20, 0, 100000));
  if (auto p = args.value("profile"); p && p->empty())
    throw InputError(args.what("profile") + ": expected a built-in profile name or a profile file, got ''");
  const KernelComparison c = analyze_trace_paths(split_trace_list(path), args.value_or("profile", ""), "--profile",
                                                 args.what("trace"), args.what("profile"), opt);
  if (args.flag("json")) std::cout << kernel_comparison_json(c).dump(2) << "\n";
  else std::cout << kernel_comparison_table(c);
  return 0;
}

int run_analyze(const Args& args) {
  if (auto trace = args.value("trace")) return run_analyze_trace(args, *trace);
  for (const char* f : {"profile", "top"})
    if (args.value(f)) throw InputError(args.what(f) + ": expected --trace TRACE.json with it, got no --trace");
  if (args.positional().size() != 1)
    throw InputError("knee analyze: expected one file of runs (RUNS.csv or RUNS.json), got " +
                     std::to_string(args.positional().size()) + " arguments");
  AnalyzeOptions opt;
  opt.baseline_gpus = args.integer_or("baseline", 0, 1);
  opt.precision = args.number_or("precision", 0.01);
  if (!(opt.precision > 0 && opt.precision < 1))
    throw InputError("knee analyze: --precision: expected a share in (0, 1), e.g. 0.01 for 1%, got " +
                     *args.value("precision"));
  opt.resamples = static_cast<int>(args.integer_or("resamples", 2000, 100, 1000000));
  opt.seed = static_cast<std::uint64_t>(args.integer_or("seed", 1, 0));
  const RunTable t = load_runs(args.positional()[0], args.flag("strict"));
  RunAnalysis a = analyze_runs(t, opt);
  if (auto sc = args.value("scenario")) {
    const int samples = static_cast<int>(args.integer_or("samples", 8, 0, 10000));
    if (samples == 1) throw InputError("knee analyze: --samples: expected 0 (no intervals) or an integer >= 2, got 1");
    overlay_simulation(a, load_scenario(*sc), *sc, samples);
  } else if (args.value("samples")) {
    throw InputError("knee analyze: --samples: expected --scenario S.json with it, got no --scenario");
  }
  if (args.flag("json")) std::cout << analysis_json(a).dump(2) << "\n";
  else std::cout << analysis_table(a);
  return 0;
}

KNEE_COMMAND(
    "analyze",
    "measured runs analysed: warm-up (MSER-5), outliers, bootstrap intervals, speedup and efficiency "
    "against a baseline, strong/weak/unfair scaling, Amdahl, Gustafson and USL fits; --trace: a PyTorch profiler "
    "trace's kernels against the profile's predictions",
    "RUNS.csv|RUNS.json [--baseline GPUS] [--precision 0.01] [--scenario S.json [--samples N]] [--json]\n"
    "       knee analyze --trace TRACE.json[.gz][,RANK1.json,...]|DIR [--profile NAME|FILE] [--top N] [--json]",
    {{"baseline", true, "GPU count speedup and efficiency are relative to (default: the smallest measured)"},
     {"precision", true, "wanted half-width of the mean's 95% interval, a share of the mean (default 0.01)"},
     {"resamples", true, "bootstrap resamples of each interval (default 2000)"},
     {"seed", true, "seed of the bootstrap streams (default 1)"},
     {"scenario", true, "a training scenario swept over the measured counts, beside them (docs/analyze.md)"},
     {"samples", true, "profile draws for the simulated curve's intervals (default 8; with --scenario)"},
     {"trace", true,
      "a PyTorch profiler (Kineto) trace (.json or .json.gz): its kernels against the profile's predictions; "
      "several, one per rank: a comma-separated list or a directory of them"},
     {"profile", true, "with --trace: a built-in profile name or a profile file (default: by the trace's GPU)"},
     {"top", true, "with --trace: distinct shapes listed, by measured time (default 20)"},
     {"strict", false, "refuse unknown CSV columns (JSON keys are always checked)"},
     {"json", false, "print JSON"}},
    run_analyze);

}  // namespace
}  // namespace knee::cli

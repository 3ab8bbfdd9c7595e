// knee report: a self-contained HTML capacity-planning report from `knee sweep --json` output, or a
// cluster report from `knee simulate CLUSTER.json --json` (or a placement study).
#include <fstream>
#include <iostream>

#include "cli/command.hpp"
#include "common/json_reader.hpp"
#include "metrics/report.hpp"
#include "metrics/report_capacity.hpp"
#include "metrics/report_cluster.hpp"
#include "metrics/report_runs.hpp"
#include "metrics/run_analysis.hpp"
#include "metrics/run_analysis_schema.hpp"
#include "metrics/run_input.hpp"

namespace knee::cli {
namespace {

// --runs FILE: knee analyze --json output, or a runs file (CSV or JSON) analysed here with
// knee analyze's defaults.
Json runs_analysis(const std::string& path) {
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  if (!csv) {
    const Json doc = parse_json_file(path);
    if (is_runs_report_input(doc)) return doc;
  }
  return Json::parse(analysis_json(analyze_runs(load_runs(path, false), AnalyzeOptions{})).dump());
}

int run_report(const Args& args) {
  if (args.positional().size() != 1)
    throw InputError(
        "knee report: expected one SWEEP.json (the output of knee sweep --json; or a cluster result, "
        "or knee analyze --json output), got " +
        std::to_string(args.positional().size()) + " files");
  const std::string path = args.positional()[0];
  auto out = args.value("out");
  if (!out) throw InputError("knee report: --out: expected the HTML file to write, got nothing");
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  const Json doc = csv ? runs_analysis(path) : parse_json_file(path);  // a runs CSV: analysed, then reported
  // A scenario (the input of knee sweep) instead of its result: say so, and how to get a sweep.
  // Scenario files have "model" and "parallelism" or "system" at the top; sweep results have
  // "points" and "mode" (the scenario itself only under "scenario_json").
  if (doc.is_object() && doc.contains("model") && (doc.contains("parallelism") || doc.contains("system")) &&
      !doc.contains("points") && !doc.contains("mode"))
    throw InputError("knee report: " + path +
                     ": expected a sweep result (knee sweep --json), got a scenario: run `knee sweep " + path +
                     " --gpus 64,256,1024 --json > sweep.json` first (--gpus: the GPU counts to study), then "
                     "knee report sweep.json --out report.html");
  // A cluster file (jobs sharing a cluster) instead of its result.
  if (doc.is_object() && doc.contains("jobs") && !doc.contains("cluster"))
    throw InputError("knee report: " + path +
                     ": expected a cluster result (knee simulate CLUSTER.json --json) or a placement study (knee "
                     "sweep CLUSTER.json --placements packed,spread --json), got a cluster file: run `knee simulate " +
                     path + " --json > cluster.json` first, then knee report cluster.json --out report.html");
  ReportContext ctx{path, command_line(), args.value_or("question", ""), ""};
  std::string html;
  if (is_runs_report_input(doc)) {
    if (args.value("runs"))
      throw InputError(args.what("runs") + ": expected a sweep result to add the runs to, got runs (" + path +
                       ") already");
    html = render_runs_report_html(doc, ctx);
  } else if (is_capacity_report_input(doc)) {
    if (args.value("runs")) throw InputError(args.what("runs") + ": expected a sweep with it, got a capacity result");
    html = render_capacity_report_html(doc, ctx);
  } else if (is_cluster_report_input(doc)) {
    if (args.value("runs"))
      throw InputError(args.what("runs") + ": expected a sweep result with it, got a cluster result");
    html = render_cluster_report_html(doc, ctx);
  } else {
    if (auto runs = args.value("runs")) ctx.appendix_html = runs_section_html(runs_analysis(*runs), *runs);
    html = render_report_html(doc, ctx);
  }
  std::ofstream f(*out, std::ios::binary);
  if (!f) throw InputError("knee report: --out: expected a writable file, got '" + *out + "'");
  f << html;
  if (!f) throw InputError("knee report: --out: expected a writable file, got a write error on '" + *out + "'");
  std::cerr << "knee report: wrote " << *out << " (" << html.size() << " bytes)\n";
  return 0;
}

KNEE_COMMAND("report",
             "write a self-contained HTML capacity-planning report from a sweep, a cluster report (per-job "
             "slowdown, hot links) from a cluster result or placement study, a measured-runs report from knee "
             "analyze --json, or a serving capacity report from knee capacity --json",
             "SWEEP.json|CLUSTER_RESULT.json|ANALYSIS.json|CAPACITY.json --out report.html [--runs RUNS|ANALYSIS.json] "
             "[--question "
             "TEXT]",
             {{"out", true, "HTML file to write"},
              {"runs", true,
               "with a sweep: add a measured-runs section from knee analyze --json output or a runs file (CSV or "
               "JSON, analysed with knee analyze's defaults)"},
              {"question", true, "the question the study answers (default: derived from the sweep)"}},
             run_report);

}  // namespace
}  // namespace knee::cli

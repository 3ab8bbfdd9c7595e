// knee._knee.render_report: the HTML capacity-planning report of `knee report` (metrics);
// knee._knee.analyze and the analysis schema: `knee analyze` (metrics/run_analysis*.hpp).
#include "common/json_reader.hpp"
#include "metrics/analysis_overlay.hpp"
#include "metrics/claim_audit_schema.hpp"
#include "metrics/kernel_comparison.hpp"
#include "metrics/kernel_comparison_ranks.hpp"
#include "metrics/kernel_comparison_schema.hpp"
#include "metrics/kineto_trace.hpp"
#include "metrics/report.hpp"
#include "metrics/report_capacity.hpp"
#include "metrics/report_cluster.hpp"
#include "metrics/report_runs.hpp"
#include "metrics/run_analysis.hpp"
#include "metrics/run_analysis_schema.hpp"
#include "metrics/run_input.hpp"
#include "python/bindings.hpp"

namespace knee::python {
namespace {

// Bytes, as the CLI writes them (no decoding on the way). `runs_text`: knee analyze --json output for
// a sweep report's measured-runs section, or "".
py::bytes render_report(const std::string& sweep_text, const std::string& source, const std::string& command_line,
                        const std::string& question, const std::string& runs_text, const std::string& runs_source) {
  std::string html;
  {
    py::gil_scoped_release release;
    const Json doc = parse_json_text(sweep_text, source);
    ReportContext ctx{source, command_line, question, ""};
    if (is_runs_report_input(doc)) {
      if (!runs_text.empty())
        throw InputError("knee.report: runs: expected a sweep to add the runs to, got runs (" + source + ") already");
      html = render_runs_report_html(doc, ctx);
    } else if (is_capacity_report_input(doc)) {
      if (!runs_text.empty()) throw InputError("knee.report: runs: expected a sweep with it, got a capacity result");
      html = render_capacity_report_html(doc, ctx);
    } else if (is_cluster_report_input(doc)) {
      if (!runs_text.empty()) throw InputError("knee.report: runs: expected a sweep with it, got a cluster result");
      html = render_cluster_report_html(doc, ctx);
    } else {
      if (!runs_text.empty())
        ctx.appendix_html = runs_section_html(parse_json_text(runs_text, runs_source), runs_source);
      html = render_report_html(doc, ctx);
    }
  }
  return py::bytes(html);
}

// Runs as CSV or JSON text (a DataFrame or records arrive as JSON rows) -> `knee analyze --json`.
py::object analyze_runs_text(const std::string& text, const std::string& source, bool strict, std::int64_t baseline,
                             double precision, std::int64_t resamples, std::int64_t seed,
                             const std::string& scenario_text, const std::string& scenario_source, int samples) {
  AnalyzeOptions opt;
  opt.baseline_gpus = checked_integer(baseline, "knee.analyze: baseline", 0);
  opt.precision = precision;
  opt.resamples = static_cast<int>(checked_integer(resamples, "knee.analyze: resamples", 100, 1000000));
  opt.seed = static_cast<std::uint64_t>(checked_integer(seed, "knee.analyze: seed", 0));
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    RunAnalysis a = analyze_runs(parse_runs_text(text, source, strict), opt);
    if (!scenario_text.empty())
      overlay_simulation(a, parse_scenario(parse_json_text(scenario_text, scenario_source), scenario_source),
                         scenario_source, samples);
    j = analysis_json(a);
  }
  return json_to_py(j);
}

py::object audit_claim_text(const std::string& text, const std::string& source, const std::string& dir, int samples,
                            int resamples, std::int64_t seed) {
  AnalyzeOptions opt;
  opt.resamples = static_cast<int>(checked_integer(resamples, "knee.audit: resamples", 100, 1000000));
  opt.seed = static_cast<std::uint64_t>(checked_integer(seed, "knee.audit: seed", 0));
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    Claim c = parse_claim(parse_json_text(text, source), source, dir);
    if (samples >= 0) c.samples = samples;
    j = audit_json(audit_claim(c, opt));
  }
  return json_to_py(j);
}

// Kineto trace files or directories (several: one trace per rank) against a profile (name or
// file; "" chooses by the lowest rank's GPU) -> `knee analyze --trace --json`.
py::object analyze_trace_file(const py::list& path_list, const std::string& profile, int top) {
  std::vector<std::string> paths;
  for (const auto& p : path_list) paths.push_back(py::cast<std::string>(p));
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    ComparisonOptions opt;
    opt.top = top;
    j = kernel_comparison_json(analyze_trace_paths(paths, profile, "profile=", "knee.analyze_trace: path",
                                                   "knee.analyze_trace: profile", opt));
  }
  return json_to_py(j);
}

py::list audit_columns() {
  py::list out;
  for (const auto& c : audit_check_columns()) {
    py::dict d;
    d["key"] = c.key;
    d["meaning"] = c.meaning;
    out.append(d);
  }
  return out;
}

py::list audit_fields() {
  py::list out;
  for (const auto& f : claim_audit_fields()) {
    py::dict d;
    d["key"] = f.key;
    d["unit"] = f.unit;
    d["meaning"] = f.meaning;
    out.append(d);
  }
  return out;
}

void add_metrics(py::module_& m) {
  m.def("audit", &audit_claim_text, py::arg("text"), py::arg("source"), py::arg("dir"), py::arg("samples"),
        py::arg("resamples"), py::arg("seed"), "A scaling claim (JSON text) audited: the dict of `knee audit --json`.");
  m.def("audit_check_columns", &audit_columns, "The columns of knee audit's checks: key, meaning.");
  m.def("claim_audit_fields", &audit_fields, "The fields of knee audit --json: key, unit, meaning.");
  m.def("analyze", &analyze_runs_text, py::arg("text"), py::arg("source"), py::arg("strict"), py::arg("baseline"),
        py::arg("precision"), py::arg("resamples"), py::arg("seed"), py::arg("scenario_text") = "",
        py::arg("scenario_source") = "", py::arg("samples") = 8,
        "Measured runs (CSV or JSON text) analysed: the dict of `knee analyze --json` (with a scenario: its "
        "simulated curve beside them).");
  m.def(
      "analysis_fields",
      [](const std::string& part) {
        if (part == "counts") return field_list(analysis_count_fields());
        if (part == "fits") return field_list(analysis_fit_fields());
        if (part == "predictions") return field_list(analysis_prediction_fields());
        return field_list(analysis_fields());
      },
      py::arg("part"),
      "The fields of `knee analyze --json` (part: top, counts, fits, predictions): key, unit, meaning.");
  m.def("analyze_trace", &analyze_trace_file, py::arg("path"), py::arg("profile"), py::arg("top"),
        "PyTorch profiler traces (one, or one per rank) against a profile: the dict of `knee analyze --trace --json`.");
  m.def(
      "trace_fields",
      [](const std::string& part) {
        if (part == "rows") return field_list(trace_row_fields());
        if (part == "streams") return field_list(trace_stream_fields());
        if (part == "steps") return field_list(trace_step_fields());
        if (part == "ranks") return field_list(trace_rank_fields());
        if (part == "rank_skew") return field_list(trace_rank_skew_fields());
        return field_list(trace_fields());
      },
      py::arg("part"),
      "The fields of `knee analyze --trace --json` (part: top, rows, streams, steps, ranks, rank_skew).");
  m.def("render_report", &render_report, py::arg("sweep_text"), py::arg("source"), py::arg("command_line"),
        py::arg("question"), py::arg("runs_text"), py::arg("runs_source"),
        "The HTML of `knee report` for sweep JSON text.");
}

}  // namespace

KNEE_PY_BINDING("metrics", add_metrics);

}  // namespace knee::python

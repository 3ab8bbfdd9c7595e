// The measured-runs section of a report (docs/analyze.md, "In a report"): what `knee analyze --json`
// found, laid out as a reviewer of a scaling claim reads it. The baseline and how it was chosen,
// the kind of scaling, every count's repetitions, warm-up dropped, outliers, median and mean with
// their intervals, CV and the repetitions a precision needs; speedup and efficiency with intervals;
// the laws' fits, knees and extrapolations; charts of throughput and efficiency with their bands,
// the fitted laws, and knee's simulated curve when the analysis carries one (--scenario).
//
//   knee report ANALYSIS.json --out runs.html               // the section as a report of its own
//   knee report SWEEP.json --runs ANALYSIS.json --out r.html  // appended to a sweep's report
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "metrics/report.hpp"

namespace knee {

// Whether `doc` is knee analyze --json output (of measured runs, not of a trace).
bool is_runs_report_input(const nlohmann::json& doc);

// The section's HTML (an <h2> and what follows). What it reads is checked: an InputError names
// `source` and the JSON path ("$.counts[2].median_lo: expected a number").
std::string runs_section_html(const nlohmann::json& analysis, const std::string& source);

// A whole page of that section alone.
std::string render_runs_report_html(const nlohmann::json& analysis, const ReportContext& ctx);

}  // namespace knee

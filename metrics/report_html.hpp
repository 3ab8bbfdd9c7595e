// The HTML the reports share (the capacity-planning report, metrics/report.cpp, the cluster report,
// metrics/report_cluster.cpp, the serving-capacity and measured-runs reports): one page head with
// its style sheet, key-value tables and the closing Reproducibility section.
#pragma once
#include <string>

#include "common/json_reader.hpp"

namespace knee::report_html {

// <!DOCTYPE html> ... <title>TITLE</title> ... <body><h1>HEADING</h1>: the self-contained page's
// head (no scripts, no external resources) with the style every report uses.
std::string page_head(const std::string& title, const std::string& heading);
// A two-column table of an object's keys and values (values as JSON text unless strings).
std::string kv_table(const Json& j);
// knee's version and revision: "knee 0.x (abc123)".
std::string made_by();

// What a report's closing "Reproducibility" section names: what made the report (made_by()), the
// command that did and its input file.
struct Reproducibility {
  std::string command_line{};  // the command that made the report
  std::string file{};          // the report's input
  // As a key-value table (kv_table's sorted order): report_made_by, report_command, FILE_KEY: file,
  // and `input`'s keys (the input's own provenance, e.g. "sweep_seed").
  std::string file_key{};
  Json input = Json::object();
  // Not empty: one sentence instead, naming the knee command that wrote the input (e.g. "knee
  // analyze --json"): "Made by MADE_BY from <code>FILE</code> (MADE_WITH): <code>COMMAND</code>".
  std::string made_with{};
};
// <h2>Reproducibility</h2> and its table or sentence.
std::string reproducibility(const Reproducibility& r);

}  // namespace knee::report_html

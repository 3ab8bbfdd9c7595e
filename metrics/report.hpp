// The capacity-planning report: one self-contained HTML file (inline SVG plots, no scripts or
// external resources) from the JSON that `knee sweep --json` prints.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace knee {

struct ReportContext {
  std::string source{};         // file name of the sweep JSON, for errors and the report itself
  std::string command_line{};   // how the report was made
  std::string question{};       // optional: the question the study answers (default from the sweep)
  std::string appendix_html{};  // sections placed after the assumptions (e.g. runs_section_html), or ""
};

// Validates what the report reads (an InputError names the file and $.path) and renders it.
std::string render_report_html(const nlohmann::json& sweep, const ReportContext& ctx);

}  // namespace knee

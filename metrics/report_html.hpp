// The HTML both reports share (the capacity-planning report, metrics/report.cpp, and the cluster
// report, metrics/report_cluster.cpp): one page head with its style sheet, and key-value tables.
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

}  // namespace knee::report_html

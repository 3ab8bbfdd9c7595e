// The cluster report (`knee report RESULT.json --out r.html` on what `knee simulate CLUSTER.json
// --json` or `knee sweep CLUSTER.json --placements ... --json` prints; docs/workloads.md, "Jobs
// sharing a cluster"): per job its step alone and together and the slowdown, the links the jobs
// met on, per placement when it is a placement study, and each job's profile and its origin.
#pragma once
#include <string>

#include "common/json_reader.hpp"
#include "metrics/report.hpp"

namespace knee {

// A cluster result ("cluster" and "jobs" at the top) or a placement study ("placements").
bool is_cluster_report_input(const Json& doc);
// Reads what it renders strictly (an InputError names the file and $.path) and renders it.
std::string render_cluster_report_html(const Json& doc, const ReportContext& ctx);

}  // namespace knee

// The serving capacity report (knee report CAPACITY.json, the output of `knee capacity SERVING.json
// --rate R [--max-rate] --json`; docs/serving.md "Capacity planning"): the answer (the fewest GPUs
// that serve R within the SLOs, with its layout, SLO attainment, p99 TTFT and TPOT, throughput,
// cost and energy per token), the serving knee when --max-rate was asked (the rate an SLO first
// breaks at, its bracket and its cause), every layout tried, and charts of SLO attainment and p99
// TTFT against GPUs.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "metrics/report.hpp"

namespace knee {

// Whether `doc` is knee capacity --json output.
bool is_capacity_report_input(const nlohmann::json& doc);

// The page. What it reads is checked: an InputError names the file and the JSON path.
std::string render_capacity_report_html(const nlohmann::json& capacity, const ReportContext& ctx);

}  // namespace knee

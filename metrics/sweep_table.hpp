// A sweep rendered for people and for spreadsheets: the table `knee sweep` prints (every column
// explained once under it, counts as people write them) and the CSV of `knee sweep --csv` (the
// columns of workloads/training/result_schema.hpp, as Python's DataFrame has them).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "workloads/training/sweep.hpp"

namespace knee {

std::string sweep_table(const SweepResult& sweep);
std::string sweep_csv(const SweepResult& sweep);
// The CSV of a sweep's JSON (knee sweep --json; with --samples, its intervals' _lo/_hi columns).
std::string sweep_csv(const nlohmann::ordered_json& sweep_json);
// The lines under the table of a sweep with intervals (each point's, the knee's distribution); ""
// without them.
std::string sweep_intervals_text(const nlohmann::ordered_json& sweep_json);

}  // namespace knee

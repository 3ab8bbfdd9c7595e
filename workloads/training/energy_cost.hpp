// Energy, failures and cost of a step and of a run (docs/workloads.md, "Energy and cost",
// "Failures"; internal to workloads/training).
#pragma once
#include <vector>

#include "profile/profile.hpp"
#include "workloads/training/result.hpp"
#include "workloads/training/stage_plans.hpp"

namespace knee::workload {

void energy_and_cost(const Scenario& s, const Profile& prof, const std::vector<std::vector<PipeOp>>& ops,
                     const std::vector<StagePlan>& plans, SimResult& r);

}  // namespace knee::workload

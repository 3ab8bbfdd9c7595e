// A sweep rendered for people and for spreadsheets: the table `knee sweep` prints (every column
// explained once under it, counts as people write them) and the CSV of `knee sweep --csv` (the
// columns of workloads/training/result_schema.hpp, as Python's DataFrame has them).
#pragma once
#include <string>

#include "workloads/training/sweep.hpp"

namespace knee {

std::string sweep_table(const SweepResult& sweep);
std::string sweep_csv(const SweepResult& sweep);

}  // namespace knee

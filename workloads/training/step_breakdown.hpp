// Where a step's time went, from the critical stage's (or unit's) stats: shared by the folded
// step (simulate.cpp) and every-rank mode (every_rank_step.cpp), so both split a step the same way.
#pragma once
#include "workloads/training/pipeline_sim.hpp"
#include "workloads/training/result.hpp"

namespace knee::workload {

// The pipeline bubble of the critical stage: of each wait for an op's input (XL), the part that
// remains when transfers are free (YL: the same schedule re-run with zero-time sends); the rest is
// exposed pipeline communication. Without a free re-run (YL null) every idle second is bubble.
double pipeline_bubble_s(const StageLog& XL, const StageLog* YL, double idle_s, double partner_wait_s);

// Sets r's step time, breakdown, communication totals and comm/compute from the critical stage's
// stats X, its bubble and idle time, and its optimizer step.
void fill_step_breakdown(const StageStats& X, double bubble_s, double idle_s, double optimizer_s, SimResult& r);

}  // namespace knee::workload

// An analysis of measured runs (run_analysis.hpp) rendered for people: what `knee analyze`
// prints. The header states the scaling mode, the baseline, how intervals and warm-up were found;
// a table per GPU count, the fits, their extrapolations and every note (unfair baselines first).
#pragma once
#include <string>

#include "metrics/run_analysis.hpp"

namespace knee {

std::string analysis_table(const RunAnalysis& a);

}  // namespace knee

// The text table of `knee analyze --trace` (times in ms; the JSON, in seconds, is
// kernel_comparison_json).
#pragma once
#include <string>

#include "metrics/kernel_comparison.hpp"

namespace knee {

std::string kernel_comparison_table(const KernelComparison& c);

}  // namespace knee

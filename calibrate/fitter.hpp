// Turns raw measurements into a profile (profile/profile.hpp documents the schema); profiles of
// GPUs nobody measured are derived from one in calibrate/derive_profile.hpp.
#pragma once
#include <string>
#include <vector>

#include "calibrate/raw.hpp"
#include "profile/datasheet.hpp"

namespace knee {

struct FitOptions {
  std::string name;  // profile name, e.g. "h200"
  std::string command_line, git_revision;
  double power_settle_s = 1.0;  // samples this soon after a phase change are excluded
};

// `second` (may be null) is another run of the same kind of machine: it never changes a value,
// it only adds run_to_run to each parameter it also measured.
OrderedJson fit_profile(const RawRun& primary, const RawRun* second, const FitOptions& opt);

// One fitted curve as fit_profile writes $.memory.copy, $.memory.ops.<op> and $.links.<cls>
// (alpha, beta, bandwidth, segments, samples) from its cases; `other` (may be null) the second
// run's, for run_to_run. For a GPU kernel's curve give the isolated tiny-kernel time and the GPU-side
// time of a tiny kernel (both > 0): samples shorter than a tiny kernel are host-bound, kept, not fitted.
OrderedJson fit_size_curve(const std::vector<SizeCase>& cases, const std::vector<SizeCase>* other,
                           const std::string& note, double tiny_kernel_s = 0, double gpu_kernel_s = 0);

}  // namespace knee

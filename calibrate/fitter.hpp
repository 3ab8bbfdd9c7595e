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

}  // namespace knee

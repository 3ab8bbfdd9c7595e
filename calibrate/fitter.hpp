// Turns raw measurements into a profile (profile/profile.hpp documents the schema), and derives
// profiles of other GPUs from a measured one by datasheet ratios (profile/datasheet.hpp).
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

// A profile of the GPU of datasheet `to` from `base`, a profile measured on the GPU of datasheet
// `from` (nullptr: the built-in datasheet matching base $.gpu). GEMM and attention times scale by
// the dense-peak ratio above the launch floor, memory curves by the HBM ratio, host links by the
// PCIe generation, NVLink, network, capacity, L2 and TDP from `to`, power by the TDP ratio. Every
// parameter's note says what base value and which ratio it came from; $.derivation records the
// base and both datasheets' origins. InputErrors: a dtype the base measured that `to` does not
// give, a dtype `to` gives (> 0) that the base never measured (unless `skip_unmeasured`: then
// those are left out and listed in $.derivation.dtypes_not_derived), a base without a datasheet.
OrderedJson derive_profile(const OrderedJson& base, const Datasheet& to, const FitOptions& opt,
                           const Datasheet* from = nullptr, bool skip_unmeasured = false);
// The same with the built-in datasheet `target` (a key of datasheet_keys(), e.g. "h100"), as the
// older `knee fit --derive GPU BASE.json` did: dtypes the base never measured are skipped.
OrderedJson derive_profile(const OrderedJson& base, const std::string& target, const FitOptions& opt);

}  // namespace knee

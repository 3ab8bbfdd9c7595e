// Profiles of GPUs nobody here measured, derived from a measured one (the base) and two datasheets
// (profile/datasheet.hpp) by mechanism, kernel class by kernel class (docs/calibration.md,
// "Derived profiles"):
//
//   - every kernel's time above the launch floor is split, on the base, into the part bound by HBM
//     (its bytes at the base's measured copy bandwidth) and the part bound by the SMs (what the
//     measurement shows beyond it); a roofline on the target: max(HBM part x HBM ratio, SM part x
//     SM ratio). An op that ran at copy bandwidth on the base is HBM-bound; one that ran slower
//     (gelu, layernorm, softmax, dropout on the H200) is SM-bound there and scales by the SMs,
//     until the target's slower HBM binds it.
//   - tensor-core work (GEMMs, flash attention) scales by the per-SM dense peak and by the waves
//     of 128x128 output tiles over the SMs (wave quantization: a GEMM of 140 tiles is two waves on
//     132 SMs, one on 148); non-tensor SM work by SM count x boost clock.
//   - host links by the PCIe generation; NVLink, network, capacity, L2, TDP from the datasheet;
//     power by the TDP ratio; launch, variability and interference costs are not scaled.
//
//   OrderedJson h100 = derive_profile(Profile::builtin("h200").json(), *find_datasheet("h100"), opt);
#pragma once
#include <string>

#include "calibrate/fitter.hpp"
#include "common/json_reader.hpp"
#include "profile/datasheet.hpp"

namespace knee {

// A profile of the GPU of datasheet `to` from `base`, a profile measured on the GPU of datasheet
// `from` (nullptr: the built-in datasheet matching base $.gpu). Every parameter's note says what
// base value and which ratio it came from; $.derivation records the base, both datasheets'
// origins and the mechanisms. Deriving a GPU from its own datasheet gives the base's parameters
// back. InputErrors: a dtype the base measured that `to` does not give, a dtype `to` gives (> 0)
// that the base never measured (unless `skip_unmeasured`: then those are left out and listed in
// $.derivation.dtypes_not_derived), a base without a datasheet.
OrderedJson derive_profile(const OrderedJson& base, const Datasheet& to, const FitOptions& opt,
                           const Datasheet* from = nullptr, bool skip_unmeasured = false);
// The same with the built-in datasheet `target` (a key of datasheet_keys(), e.g. "h100"), as the
// older `knee fit --derive GPU BASE.json` did: dtypes the base never measured are skipped.
OrderedJson derive_profile(const OrderedJson& base, const std::string& target, const FitOptions& opt);

// The time ratios of one kernel class (target time / base time for the same work), exposed for
// tests and for the notes: HBM-bound bytes, non-tensor SM work, and a tensor kernel of `tiles`
// output tiles in `dtype`.
struct DeriveRatios {
  double hbm = 1;  // hbm_bandwidth_Bps base / target
  double sm = 1;   // (sm_count x boost_clock_MHz) base / target
  const Datasheet *from = nullptr, *to = nullptr;
  // (waves on the target / waves on the base) x (per-SM peak base / per-SM peak target), waves =
  // ceil(tiles / sm_count); tends to peak_base / peak_target when tiles >> SMs.
  double tensor(const std::string& dtype, double tiles) const;
};
DeriveRatios derive_ratios(const Datasheet& from, const Datasheet& to);

// A tensor kernel's derived time: `t_s` measured on the base above `floor_s` (launch, not scaled),
// moving `bytes` (at the base's copy bandwidth `copy_Bps`) and doing `flops` (at the base's
// achieved peak `achieved_flops_per_s`). HBM part H = bytes / copy_Bps; SM part S = the measured
// time when it exceeds H, else the compute roofline min(t, flops / achieved); on the target
// floor + max(min(H, t) x hbm, S x tensor) (identity exact: with ratios 1 it gives t back).
double derive_tensor_time_s(double t_s, double floor_s, double bytes, double flops, double copy_Bps,
                            double achieved_flops_per_s, double hbm_ratio, double tensor_ratio);

}  // namespace knee

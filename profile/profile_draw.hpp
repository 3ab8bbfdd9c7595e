// A profile's parameters drawn within their stated uncertainty: one plausible GPU of those the
// calibration could not tell apart. Intervals on predictions (workloads/training/
// prediction_intervals, docs/uncertainty.md) simulate many draws; the simulator itself only ever
// reads a Profile, so a draw is just another profile document.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace knee {

// Which uncertainties a draw includes.
struct DrawSources {
  // Each measured or fitted value's ci95: the uncertainty of the median (or fit) from the
  // repetitions of one calibration run.
  bool parameters = true;
  // The difference between two calibration runs ($.*.run_to_run, a GEMM sample's
  // other_run_median_s): a standard deviation of |ln(run 2 / run 1)| / sqrt 2 per value.
  bool run_to_run = true;
};

struct DrawCounts {
  int drawn = 0;             // values that moved (they carry a ci95 or a second run)
  int without_interval = 0;  // values with neither (derived, datasheet, assumed, single runs): fixed
  int families = 0;          // groups of values drawn together (below)
};

// A copy of `profile` (a profile document as Profile::from_json reads it) with every measured or
// fitted value multiplied by exp(z_ci * s_ci + z_rr * s_rr): a lognormal draw whose median is the
// value, with s_ci = ln(hi / lo) / (2 x 1.96) from its ci95 (relative half-width / 1.96, at most
// 1, when lo <= 0) and s_rr from its run-to-run difference as above. Values of one family share
// their z's: a family is a value's JSON path with array indices and "segments" removed, so all of
// a dtype's GEMM samples, all attention forwards, a curve and its segments move together (a GPU
// faster at one GEMM is faster at its neighbours: the conservative, widest assumption for a step,
// which sums thousands of them). Different families are independent. Each family's z's come from
// `seed` and its name alone, so adding a parameter elsewhere does not move the others' draws.
// Non-positive values, and bandwidth_Bps (recomputed as 1 / its sibling beta_s_per_byte), are
// not drawn. $.manifest, $.derivation and datasheet entries are left as they are.
nlohmann::ordered_json draw_profile(const nlohmann::ordered_json& profile, std::uint64_t seed,
                                    const DrawSources& sources, DrawCounts* counts = nullptr);

}  // namespace knee

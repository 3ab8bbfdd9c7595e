// Scaling laws fitted to measured throughput at several GPU counts (docs/analyze.md): Amdahl,
// Gustafson and the Universal Scalability Law. Each minimises the squared relative residuals
// sum_i (1 - model(N_i) / X_i)^2, so a count measured at 10x the throughput weighs as much as one
// at 1x; parameters are kept in their ranges (serial fractions in [0, 1], sigma, kappa >= 0).
//
//   Amdahl     X(N) = X1 / (s + (1 - s) / N)          T(N) = T1 (s + (1 - s) / N), T1 = 1 / X1 free
//   Gustafson  X(N) = X1 (s + (1 - s) N)              scaled speedup s + (1 - s) N (weak scaling)
//   USL        X(N) = X1 N / (1 + sigma (N - 1) + kappa N (N - 1))   (Gunther 2007)
//
// X1 is the throughput one GPU would have by the law (extrapolated when no 1-GPU run exists).
#pragma once
#include <string>
#include <vector>

namespace knee {

struct ScalingPoint {
  double gpus = 0;
  double throughput = 0;  // > 0, any unit (the fits' X1 comes out in it)
};

enum class ScalingLaw { kAmdahl, kGustafson, kUsl };
const char* scaling_law_name(ScalingLaw law);  // "amdahl", "gustafson", "usl"

struct ScalingFit {
  ScalingLaw law = ScalingLaw::kAmdahl;
  bool ok = false;              // false: too few points for the law's parameters
  double x1 = 0;                // throughput at 1 GPU by the law
  double serial_fraction = 0;   // s (Amdahl, Gustafson)
  double sigma = 0, kappa = 0;  // contention, coherency (USL)
  double rms_rel_residual = 0;  // sqrt(mean of (1 - model / X)^2)

  double throughput_at(double gpus) const;
  // Where the law puts the knee, in GPUs (+infinity when it has none):
  // Amdahl: efficiency against 1 GPU below 50%, N > 1 + 1 / s;
  // Gustafson: scaled efficiency s / N + 1 - s below 50%, N > s / (s - 1/2) (only when s > 1/2);
  // USL: the throughput peak N* = sqrt((1 - sigma) / kappa).
  double knee_gpus() const;
};

// Least squares of each law; needs 2 points (Amdahl, Gustafson) or 3 (USL) at distinct counts.
ScalingFit fit_amdahl(const std::vector<ScalingPoint>& pts);
ScalingFit fit_gustafson(const std::vector<ScalingPoint>& pts);
ScalingFit fit_usl(const std::vector<ScalingPoint>& pts);
ScalingFit fit_law(ScalingLaw law, const std::vector<ScalingPoint>& pts);

// What each law's knee means, one line (for tables and the JSON).
const char* scaling_knee_rule(ScalingLaw law);

}  // namespace knee

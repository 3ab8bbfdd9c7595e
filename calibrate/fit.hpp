// Weighted least-squares fits of t = alpha + beta * bytes, the latency-bandwidth model of a copy,
// a link or a memory-bound kernel, with 95% confidence intervals, and a piecewise version that
// finds where the regime changes (latency-bound -> bandwidth-bound, L2 -> HBM, staging buffers).
#pragma once
#include <vector>

namespace knee {

struct AlphaBetaFit {
  double alpha_s = 0, beta_s_per_byte = 0;
  double alpha_ci[2] = {0, 0}, beta_ci[2] = {0, 0};  // 95%: estimate -/+ t(0.975, n-2) * stderr
  double wsse = 0;                                   // weighted sum of squared residuals
  int points = 0;
  double from_bytes = 0, to_bytes = 0;  // range of x covered by the points
};

// Fits medians t[i] at sizes x[i] with weights 1/t^2, so every point counts by its relative
// error and neither the latency-bound nor the bandwidth-bound end dominates. Needs >= 2 points with
// distinct x; with 2 points the interval is degenerate (the estimate itself). The covariance is
// s^2 (X'WX)^-1 with s^2 = wsse / (n - 2).
AlphaBetaFit fit_alpha_beta(const std::vector<double>& x, const std::vector<double>& t);

// Contiguous segments in x order (>= 3 points each), found by splitting at the best break and
// recursing into each half up to `max_depth` levels (2 gives at most 4 segments). A break is kept
// only when it lowers the weighted residual by an F ratio above `f_threshold`, so a clean
// alpha-beta curve stays one segment.
std::vector<AlphaBetaFit> fit_piecewise(const std::vector<double>& x, const std::vector<double>& t, int max_depth = 2,
                                        double f_threshold = 10.0);

// The curve of a copy or link: first split into the latency-bound points (median below
// `ratio` x the shortest median) and the bandwidth-bound rest, then each part by fit_piecewise
// (depth 1). Small-size times are host-bound and scatter around a level, which would swamp any
// single residual test; the ratio split keeps them from biasing the bandwidth. Segments come out
// in x order; the first gives alpha (latency), the last beta (asymptotic per-byte time).
std::vector<AlphaBetaFit> fit_regimes(const std::vector<double>& x, const std::vector<double>& t, double ratio = 4.0);

}  // namespace knee

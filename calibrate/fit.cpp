#include "calibrate/fit.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include <Eigen/Dense>

#include "calibrate/stats.hpp"

namespace knee {

AlphaBetaFit fit_alpha_beta(const std::vector<double>& x, const std::vector<double>& t) {
  const int n = static_cast<int>(x.size());
  if (n < 2 || t.size() != x.size()) throw std::invalid_argument("fit_alpha_beta: need >= 2 points");
  Eigen::MatrixXd X(n, 2);
  Eigen::VectorXd y(n), w(n);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = 1.0;
    X(i, 1) = x[i];
    y(i) = t[i];
    w(i) = 1.0 / (t[i] * t[i]);
  }
  // Scale the byte column so the normal equations stay well conditioned (bytes span 1..1e10).
  const double xs = std::max(1.0, X.col(1).cwiseAbs().maxCoeff());
  X.col(1) /= xs;
  const Eigen::VectorXd sw = w.cwiseSqrt();
  const Eigen::MatrixXd A = sw.asDiagonal() * X;
  const Eigen::VectorXd b = sw.asDiagonal() * y;
  const Eigen::Vector2d coef = A.colPivHouseholderQr().solve(b);
  const Eigen::VectorXd r = b - A * coef;
  AlphaBetaFit f;
  f.points = n;
  f.alpha_s = coef(0);
  f.beta_s_per_byte = coef(1) / xs;
  f.wsse = r.squaredNorm();
  f.from_bytes = *std::min_element(x.begin(), x.end());
  f.to_bytes = *std::max_element(x.begin(), x.end());
  double se_a = 0, se_b = 0;
  if (n > 2) {
    const double s2 = f.wsse / (n - 2);
    const Eigen::Matrix2d cov = s2 * (A.transpose() * A).inverse();
    se_a = std::sqrt(std::max(0.0, cov(0, 0)));
    se_b = std::sqrt(std::max(0.0, cov(1, 1))) / xs;
  }
  const double q = n > 2 ? student_t975(n - 2) : 0.0;
  f.alpha_ci[0] = f.alpha_s - q * se_a;
  f.alpha_ci[1] = f.alpha_s + q * se_a;
  f.beta_ci[0] = f.beta_s_per_byte - q * se_b;
  f.beta_ci[1] = f.beta_s_per_byte + q * se_b;
  return f;
}

namespace {
struct Pts {
  std::vector<double> x, t;
};

Pts slice(const Pts& p, std::size_t lo, std::size_t hi) {
  return {{p.x.begin() + lo, p.x.begin() + hi}, {p.t.begin() + lo, p.t.begin() + hi}};
}

// Best split of p into two segments of >= 3 points; returns the split index (0 when none).
std::size_t best_split(const Pts& p, double& wsse_out) {
  std::size_t best = 0;
  wsse_out = INFINITY;
  for (std::size_t s = 3; s + 3 <= p.x.size(); ++s) {
    if (p.x[s] == p.x[s - 1]) continue;
    Pts a = slice(p, 0, s), b = slice(p, s, p.x.size());
    double w = fit_alpha_beta(a.x, a.t).wsse + fit_alpha_beta(b.x, b.t).wsse;
    if (w < wsse_out) {
      wsse_out = w;
      best = s;
    }
  }
  return best;
}

void split_rec(const Pts& p, int depth, double f_threshold, std::vector<AlphaBetaFit>& out) {
  AlphaBetaFit whole = fit_alpha_beta(p.x, p.t);
  const std::size_t n = p.x.size();
  if (depth > 0 && n >= 6) {
    double w2 = 0;
    std::size_t s = best_split(p, w2);
    // F ratio of the two-segment model (4 parameters) against one line (2 parameters).
    const double f = n > 4 && w2 > 0 ? ((whole.wsse - w2) / 2) / (w2 / (n - 4)) : (s ? INFINITY : 0);
    if (s && f > f_threshold) {
      split_rec(slice(p, 0, s), depth - 1, f_threshold, out);
      split_rec(slice(p, s, n), depth - 1, f_threshold, out);
      return;
    }
  }
  out.push_back(whole);
}
}  // namespace

std::vector<AlphaBetaFit> fit_piecewise(const std::vector<double>& x, const std::vector<double>& t, int max_depth,
                                        double f_threshold) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return x[a] < x[b]; });
  Pts p;
  for (auto i : order) {
    p.x.push_back(x[i]);
    p.t.push_back(t[i]);
  }
  std::vector<AlphaBetaFit> out;
  split_rec(p, max_depth, f_threshold, out);
  return out;
}

std::vector<AlphaBetaFit> fit_regimes(const std::vector<double>& x, const std::vector<double>& t, double ratio) {
  if (x.size() < 2 || t.size() != x.size()) throw std::invalid_argument("fit_regimes: need >= 2 points");
  const double tmin = *std::min_element(t.begin(), t.end());
  std::vector<double> xl, tl, xb, tb;
  for (std::size_t i = 0; i < x.size(); ++i) {
    (t[i] < ratio * tmin ? xl : xb).push_back(x[i]);
    (t[i] < ratio * tmin ? tl : tb).push_back(t[i]);
  }
  // A regime needs >= 3 points (a line and a residual) to stand alone; otherwise fit everything
  // together, one regime.
  if (xl.size() < 3 || xb.size() < 3) return fit_piecewise(x, t, 1);
  auto out = fit_piecewise(xl, tl, 1);
  auto hi = fit_piecewise(xb, tb, 1);
  // The two regimes must not interleave in x (a noisy latency point beyond a bandwidth point).
  if (out.back().to_bytes >= hi.front().from_bytes) return fit_piecewise(x, t, 1);
  out.insert(out.end(), hi.begin(), hi.end());
  return out;
}

}  // namespace knee

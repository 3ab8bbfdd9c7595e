#include "metrics/scaling_fits.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

namespace knee {
namespace {

std::size_t distinct_counts(const std::vector<ScalingPoint>& pts) {
  std::set<double> s;
  for (const auto& p : pts) s.insert(p.gpus);
  return s.size();
}

// min sum_i (1 - u_i a - v_i b)^2 over a, b >= 0: the normal equations, then each bound alone.
std::array<double, 2> nonneg_lsq2(const std::vector<double>& u, const std::vector<double>& v) {
  double uu = 0, uv = 0, vv = 0, u1 = 0, v1 = 0;
  for (std::size_t i = 0; i < u.size(); ++i)
    uu += u[i] * u[i], uv += u[i] * v[i], vv += v[i] * v[i], u1 += u[i], v1 += v[i];
  const double det = uu * vv - uv * uv;
  if (det > 1e-300 * std::max(1.0, uu * vv)) {
    const double a = (u1 * vv - v1 * uv) / det, b = (uu * v1 - uv * u1) / det;
    if (a >= 0 && b >= 0) return {a, b};
  }
  // The optimum is on a bound: the better of b = 0 and a = 0.
  const double a_only = uu > 0 ? std::max(0.0, u1 / uu) : 0, b_only = vv > 0 ? std::max(0.0, v1 / vv) : 0;
  double ra = 0, rb = 0;
  for (std::size_t i = 0; i < u.size(); ++i) ra += std::pow(1 - u[i] * a_only, 2), rb += std::pow(1 - v[i] * b_only, 2);
  return ra <= rb ? std::array<double, 2>{a_only, 0} : std::array<double, 2>{0, b_only};
}

double rms_rel(const ScalingFit& f, const std::vector<ScalingPoint>& pts) {
  double s = 0;
  for (const auto& p : pts) s += std::pow(1 - f.throughput_at(p.gpus) / p.throughput, 2);
  return std::sqrt(s / static_cast<double>(pts.size()));
}

// Solves the 3x3 system A x = b by Gaussian elimination with partial pivoting; false if singular.
bool solve3(std::array<std::array<double, 3>, 3> a, std::array<double, 3> b, std::array<double, 3>& x) {
  for (int c = 0; c < 3; ++c) {
    int p = c;
    for (int r = c + 1; r < 3; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[p][c])) p = r;
    if (!(std::fabs(a[p][c]) > 0)) return false;
    std::swap(a[p], a[c]);
    std::swap(b[p], b[c]);
    for (int r = c + 1; r < 3; ++r) {
      const double f = a[r][c] / a[c][c];
      for (int k = c; k < 3; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  for (int r = 2; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < 3; ++k) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return true;
}

double usl_cost(const std::array<double, 3>& p, const std::vector<ScalingPoint>& pts) {
  double s = 0;
  for (const auto& q : pts) {
    const double n = q.gpus, d = 1 + p[1] * (n - 1) + p[2] * n * (n - 1);
    s += std::pow(1 - p[0] * n / d / q.throughput, 2);
  }
  return s;
}

}  // namespace

const char* scaling_law_name(ScalingLaw law) {
  switch (law) {
    case ScalingLaw::kGustafson:
      return "gustafson";
    case ScalingLaw::kUsl:
      return "usl";
    default:
      return "amdahl";
  }
}

const char* scaling_knee_rule(ScalingLaw law) {
  switch (law) {
    case ScalingLaw::kGustafson:
      return "scaled efficiency s/N + 1 - s below 50% (none unless s > 0.5)";
    case ScalingLaw::kUsl:
      return "throughput peaks at N* = sqrt((1 - sigma) / kappa) (none when kappa = 0)";
    default:
      return "efficiency against 1 GPU below 50%: N > 1 + 1/s";
  }
}

double ScalingFit::throughput_at(double n) const {
  switch (law) {
    case ScalingLaw::kGustafson:
      return x1 * (serial_fraction + (1 - serial_fraction) * n);
    case ScalingLaw::kUsl:
      return x1 * n / (1 + sigma * (n - 1) + kappa * n * (n - 1));
    default:
      return x1 / (serial_fraction + (1 - serial_fraction) / n);
  }
}

double ScalingFit::knee_gpus() const {
  switch (law) {
    case ScalingLaw::kGustafson:
      return serial_fraction > 0.5 ? serial_fraction / (serial_fraction - 0.5) : INFINITY;
    case ScalingLaw::kUsl:
      if (!(kappa > 0)) return INFINITY;
      return std::max(1.0, std::sqrt(std::max(0.0, 1 - sigma) / kappa));
    default:
      return serial_fraction > 0 ? 1 + 1 / serial_fraction : INFINITY;
  }
}

ScalingFit fit_amdahl(const std::vector<ScalingPoint>& pts) {
  // 1 / X = a + b / N with a = s / X1, b = (1 - s) / X1; relative residual 1 - X (a + b / N).
  ScalingFit f;
  f.law = ScalingLaw::kAmdahl;
  if (distinct_counts(pts) < 2) return f;
  std::vector<double> u, v;
  for (const auto& p : pts) u.push_back(p.throughput), v.push_back(p.throughput / p.gpus);
  const auto [a, b] = nonneg_lsq2(u, v);
  if (!(a + b > 0)) return f;
  f.ok = true;
  f.serial_fraction = a / (a + b);
  f.x1 = 1 / (a + b);
  f.rms_rel_residual = rms_rel(f, pts);
  return f;
}

ScalingFit fit_gustafson(const std::vector<ScalingPoint>& pts) {
  // X = c + d N with c = X1 s, d = X1 (1 - s); relative residual 1 - c / X - d N / X.
  ScalingFit f;
  f.law = ScalingLaw::kGustafson;
  if (distinct_counts(pts) < 2) return f;
  std::vector<double> u, v;
  for (const auto& p : pts) u.push_back(1 / p.throughput), v.push_back(p.gpus / p.throughput);
  const auto [c, d] = nonneg_lsq2(u, v);
  if (!(c + d > 0)) return f;
  f.ok = true;
  f.x1 = c + d;
  f.serial_fraction = c / (c + d);
  f.rms_rel_residual = rms_rel(f, pts);
  return f;
}

ScalingFit fit_usl(const std::vector<ScalingPoint>& pts) {
  // Levenberg-Marquardt (Marquardt's diagonal scaling) on (X1, sigma, kappa), each step projected
  // onto the bounds >= 0; started from Amdahl's fit (sigma = its s, kappa = 0) and from the
  // linearised law N / X = (1 + sigma (N - 1) + kappa N (N - 1)) / X1, the better one kept.
  ScalingFit f;
  f.law = ScalingLaw::kUsl;
  if (distinct_counts(pts) < 3) return f;
  std::vector<std::array<double, 3>> starts;
  const ScalingFit am = fit_amdahl(pts);
  if (am.ok) starts.push_back({am.x1, am.serial_fraction, 0});
  {
    std::array<std::array<double, 3>, 3> a{};
    std::array<double, 3> b{}, x{};
    for (const auto& p : pts) {
      const std::array<double, 3> row = {1, p.gpus - 1, p.gpus * (p.gpus - 1)};
      const double y = p.gpus / p.throughput, w = 1 / (y * y);
      for (int i = 0; i < 3; ++i) {
        b[i] += w * row[i] * y;
        for (int j = 0; j < 3; ++j) a[i][j] += w * row[i] * row[j];
      }
    }
    if (solve3(a, b, x) && x[0] > 0)
      starts.push_back({1 / x[0], std::max(0.0, x[1] / x[0]), std::max(0.0, x[2] / x[0])});
  }
  if (starts.empty()) return f;
  std::array<double, 3> best{};
  double best_cost = INFINITY;
  for (auto p : starts) {
    double cost = usl_cost(p, pts), mu = 1e-3;
    for (int it = 0; it < 500 && cost > 0; ++it) {
      std::array<std::array<double, 3>, 3> jtj{};
      std::array<double, 3> jtr{};
      for (const auto& q : pts) {
        const double n = q.gpus, d = 1 + p[1] * (n - 1) + p[2] * n * (n - 1);
        const double model = p[0] * n / d, r = 1 - model / q.throughput;
        // d r / d p = -(d model / d p) / X.
        const std::array<double, 3> jac = {-(n / d) / q.throughput, (model * (n - 1) / d) / q.throughput,
                                           (model * n * (n - 1) / d) / q.throughput};
        for (int i = 0; i < 3; ++i) {
          jtr[i] += jac[i] * r;
          for (int j = 0; j < 3; ++j) jtj[i][j] += jac[i] * jac[j];
        }
      }
      bool improved = false;
      for (int tries = 0; tries < 30 && !improved; ++tries) {
        auto a = jtj;
        for (int i = 0; i < 3; ++i) a[i][i] += mu * std::max(jtj[i][i], 1e-300);
        std::array<double, 3> step{}, minus_g = {-jtr[0], -jtr[1], -jtr[2]};
        if (!solve3(a, minus_g, step)) {
          mu *= 10;
          continue;
        }
        std::array<double, 3> trial = {std::max(1e-300, p[0] + step[0]), std::max(0.0, p[1] + step[1]),
                                       std::max(0.0, p[2] + step[2])};
        const double c = usl_cost(trial, pts);
        if (c < cost) {
          const double gain = cost - c;
          p = trial;
          cost = c;
          mu = std::max(mu / 10, 1e-12);
          improved = true;
          if (gain <= 1e-15 * std::max(cost, 1e-30)) it = 500;  // converged
        } else {
          mu *= 10;
        }
      }
      if (!improved) break;
    }
    if (cost < best_cost) best_cost = cost, best = p;
  }
  f.ok = true;
  f.x1 = best[0];
  f.sigma = best[1];
  f.kappa = best[2];
  f.rms_rel_residual = rms_rel(f, pts);
  return f;
}

ScalingFit fit_law(ScalingLaw law, const std::vector<ScalingPoint>& pts) {
  switch (law) {
    case ScalingLaw::kGustafson:
      return fit_gustafson(pts);
    case ScalingLaw::kUsl:
      return fit_usl(pts);
    default:
      return fit_amdahl(pts);
  }
}

}  // namespace knee

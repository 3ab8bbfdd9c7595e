// Student's t quantile for two-sided 95% intervals, shared by the fitter (calibrate/) and the
// intervals on predictions (workloads/training/prediction_intervals).
#pragma once
#include <stdexcept>

namespace knee {

// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom (df >= 1): the table to
// df 30, then 1.96 + 2.4/df, within 0.002 of the exact quantile beyond.
inline double student_t975(int df) {
  static const double table[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                                 2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) throw std::logic_error("student_t975: df < 1");
  if (df <= 30) return table[df];
  return 1.96 + 2.4 / df;
}

}  // namespace knee

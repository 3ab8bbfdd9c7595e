// Robust summaries of repeated measurements: medians with an order-statistic 95% confidence
// interval and outliers flagged by the MAD rule. Outliers are counted, never removed.
#pragma once
#include <string>
#include <vector>

#include "common/student_t.hpp"  // student_t975, which the fitter's intervals use

namespace knee {

struct Summary {
  double median = 0, ci_lo = 0, ci_hi = 0;  // 95% CI of the median
  int reps = 0;                             // repetitions summarized
  int outliers = 0;                         // |x - median| > 3 * 1.4826 * MAD
  std::string ci_method;                    // "order-statistic" or how it was approximated
};

// Median of a non-empty vector (the mean of the two middle values for even sizes).
double median_of(std::vector<double> v);
// Summary of repetitions. CI: the order statistics x(j), x(k) with j, k = n/2 -/+ 1.96 sqrt(n)/2
// (the normal approximation of the binomial(n, 1/2) interval); for n < 6 it is [min, max].
Summary summarize(const std::vector<double>& xs);

}  // namespace knee

// Aggregates of a latency over requests (or tokens): mean, median, p90, p99, p99.9 with 95%
// intervals, as serving benchmarks report them (percentiles as numpy's default, linear between
// order statistics, which vllm bench serve uses).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace knee::serving {

struct LatencySummary {
  std::int64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0;
  // 95% intervals of mean, p50, p90, p99, p999 (in that order): the percentile bootstrap over the
  // values in its large-sample form (docs/serving.md, "Intervals"); NaN where not computed.
  std::array<std::array<double, 2>, 5> ci95{};
};

// Of `values` (NaN entries, such as the TPOT of one-token outputs, are left out).
LatencySummary summarize(std::vector<double> values);

// Token gaps (inter-token latencies) of a whole run, too many to keep: weighted counts in
// logarithmic bins 0.1% wide from 1 ns to 10^4 s; the mean is exact, percentiles are a bin's
// geometric centre (within 0.05%), intervals NaN.
class LogHistogram {
 public:
  LogHistogram();
  void add(double x_s, double weight = 1);
  LatencySummary summary() const;

 private:
  std::vector<double> w_;
  double n_ = 0, sum_ = 0;
};

}  // namespace knee::serving

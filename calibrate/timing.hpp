// Wall-clock repetition timing shared by the CPU and MPI backends (internal to calibrate/).
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

namespace knee::timing {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Plan {
  double target_s, min_rep_s;
  int min_reps, max_reps;
};

// Seconds per call of fn: warm-up calls excluded, `inner` calls per repetition so that one
// repetition lasts at least min_rep_s (the clock's resolution stays negligible), and as many
// repetitions as fit in target_s within [min_reps, max_reps].
template <class F>
std::vector<double> measure(F&& fn, const Plan& p) {
  fn();
  fn();  // warm-up: caches, page faults, lazy allocation
  double t0 = now_s();
  fn();
  const double probe = std::max(now_s() - t0, 1e-9);
  const int inner = static_cast<int>(std::clamp(p.min_rep_s / probe, 1.0, 1e6));
  const int reps = static_cast<int>(std::clamp(p.target_s / (probe * inner), double(p.min_reps), double(p.max_reps)));
  std::vector<double> out;
  out.reserve(reps);
  for (int r = 0; r < reps; ++r) {
    t0 = now_s();
    for (int i = 0; i < inner; ++i) fn();
    out.push_back((now_s() - t0) / inner);
  }
  return out;
}

}  // namespace knee::timing

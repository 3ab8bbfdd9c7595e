// Independent draws run on the machine's cores (training's prediction_intervals.cpp and
// sweep_intervals.cpp, serving's serving_intervals.cpp, sim/collectives' collective_draws.cpp):
// draw i's result lands at index i whatever thread ran it and in whatever order, so the output is
// bit-identical to running them one after the other; the first failing draw's exception (by
// index) is rethrown.
#pragma once
#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace knee {

// `threads` 0: one per core (std::thread::hardware_concurrency), at most n; else that many.
template <typename T>
std::vector<T> parallel_draws(int n, const std::function<T(int)>& draw, int threads = 0) {
  std::vector<T> out(static_cast<std::size_t>(std::max(0, n)));
  std::vector<std::exception_ptr> err(out.size());
  std::atomic<int> next{0};
  auto work = [&] {
    for (int i = next++; i < n; i = next++) try {
        out[static_cast<std::size_t>(i)] = draw(i);
      } catch (...) { err[static_cast<std::size_t>(i)] = std::current_exception(); }
  };
  const int wanted = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  const int used = std::clamp(wanted, 1, std::max(1, n));
  std::vector<std::thread> pool;
  for (int t = 1; t < used; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const auto& e : err)
    if (e) std::rethrow_exception(e);
  return out;
}

}  // namespace knee

#include "workloads/training/pipeline_schedule.hpp"

#include <algorithm>

namespace knee::workload {

std::vector<std::vector<PipeOp>> pipeline_ops(int pp, int v, int m, Schedule schedule) {
  std::vector<std::vector<PipeOp>> out(static_cast<std::size_t>(pp));
  for (int s = 0; s < pp; ++s) {
    auto& ops = out[static_cast<std::size_t>(s)];
    if (schedule == Schedule::gpipe) {
      for (int i = 0; i < m; ++i) ops.push_back({true, i, 0});
      for (int i = 0; i < m; ++i) ops.push_back({false, i, 0});
      continue;
    }
    const int total = m * v;
    int warm = schedule == Schedule::interleaved ? (pp - s - 1) * 2 + (v - 1) * pp : pp - s - 1;
    warm = std::min(warm, total);
    // Megatron's interleaved order: groups of pp microbatches walk the chunks in turn.
    auto fop = [&](int k) {
      int chunk = (k % (pp * v)) / pp;
      int mb = (k / (pp * v)) * pp + k % pp;
      if (v == 1) {
        chunk = 0;
        mb = k;
      }
      return PipeOp{true, mb, chunk};
    };
    auto bop = [&](int k) {
      PipeOp o = fop(k);
      o.fwd = false;
      o.chunk = v - 1 - o.chunk;
      return o;
    };
    for (int k = 0; k < warm; ++k) ops.push_back(fop(k));
    for (int i = 0; i < total - warm; ++i) {
      ops.push_back(fop(warm + i));
      ops.push_back(bop(i));
    }
    for (int k = total - warm; k < total; ++k) ops.push_back(bop(k));
  }
  return out;
}

}  // namespace knee::workload

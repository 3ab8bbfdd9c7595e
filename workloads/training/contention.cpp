#include "workloads/training/contention.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace knee::workload {
namespace {

// Length of the union of intervals a that is covered by the union of intervals b.
using Intervals = std::vector<std::pair<TimePs, TimePs>>;
Intervals merged(Intervals v) {
  std::sort(v.begin(), v.end());
  Intervals out;
  for (const auto& iv : v) {
    if (iv.second <= iv.first) continue;
    if (!out.empty() && iv.first <= out.back().second) out.back().second = std::max(out.back().second, iv.second);
    else out.push_back(iv);
  }
  return out;
}
double covered_fraction(const Intervals& a_raw, const Intervals& b_raw) {
  const Intervals a = merged(a_raw), b = merged(b_raw);
  double total = 0, cov = 0;
  for (const auto& iv : a) total += double(iv.second - iv.first);
  std::size_t j = 0;
  for (const auto& iv : a) {
    while (j < b.size() && b[j].second <= iv.first) ++j;
    for (std::size_t k = j; k < b.size() && b[k].first < iv.second; ++k)
      cov += double(std::min(iv.second, b[k].second) - std::max(iv.first, b[k].first));
  }
  return total > 0 ? cov / total : 0;
}
Intervals dp_intervals(const StageLog& L) {
  Intervals v;
  for (const auto& j : L.jobs)
    if (j.kind != kEmbeddingReduce) v.push_back({j.start, j.end});
  return v;
}
Intervals send_intervals(const StageLog& L, int dir) {  // dir: 1 forward, 0 backward, -1 both
  Intervals v;
  for (const auto& x : L.sends)
    if (dir < 0 || x.fwd == (dir == 1)) v.push_back({x.start, x.end});
  return v;
}

}  // namespace

PipelineRun run_with_contention(const StepPlan& plan, const CommTimer& timer, const Ablation& ablate,
                                std::uint64_t* events) {
  PipelineRun out;
  const int pp = plan.pp, v = plan.v, m = plan.m;
  const auto& ops = plan.ops;
  const auto& plans = plan.stages;
  const double p2p_s = plan.p2p_s, act_bytes = plan.act_bytes;
  const bool dp_comm = plan.dp_comm;
  const CollOp reduce_op = plan.reduce_op;
  std::vector<TimePs>& p2p_ps = out.p2p_ps;
  p2p_ps.assign(static_cast<std::size_t>(pp), s_to_ps_ceil(p2p_s));
  std::vector<double>& dp_scale = out.dp_scale;
  dp_scale.assign(static_cast<std::size_t>(pp), 1.0);
  auto& sim = out.sim;
  sim = std::make_unique<PipelineSim>(ops, plans, pp, v, m, p2p_ps, dp_scale);
  out.stats = sim->run(events);
  CommTimer::Contention& K = out.contention;
  if (pp > 1 && dp_comm && !ablate.no_traffic_contention) {
    const Bucket* b0 = nullptr;
    for (const auto& bk : plans[0].buckets)
      if (!bk.empty() && !b0) b0 = &bk.front();
    if (b0)
      K = timer.contention(reduce_op, static_cast<Bytes>(std::llround(b0->bytes)),
                           static_cast<Bytes>(std::llround(act_bytes)));
    if (K.dp_dp > 1 || K.dp_pp > 1 || K.pp_dp > 1) {
      const auto& lg = sim->logs();
      bool changed = false;
      for (int st = 0; st < pp; ++st) {
        const auto su = static_cast<std::size_t>(st);
        const Intervals mine = dp_intervals(lg[su]);
        Intervals others, pp_near, dp_near = mine;
        for (int o = 0; o < pp; ++o)
          if (o != st) {
            const Intervals d = dp_intervals(lg[static_cast<std::size_t>(o)]);
            others.insert(others.end(), d.begin(), d.end());
          }
        // Sends leaving this stage's GPUs, and those arriving at them.
        pp_near = send_intervals(lg[su], -1);
        if (st > 0) {
          const Intervals a = send_intervals(lg[su - 1], 1), d = dp_intervals(lg[su - 1]);
          pp_near.insert(pp_near.end(), a.begin(), a.end());
          dp_near.insert(dp_near.end(), d.begin(), d.end());
        }
        if (st + 1 < pp) {
          const Intervals a = send_intervals(lg[su + 1], 0), d = dp_intervals(lg[su + 1]);
          pp_near.insert(pp_near.end(), a.begin(), a.end());
          dp_near.insert(dp_near.end(), d.begin(), d.end());
        }
        dp_scale[su] =
            1 + (K.dp_dp - 1) * covered_fraction(mine, others) + (K.dp_pp - 1) * covered_fraction(mine, pp_near);
        const double send_scale = 1 + (K.pp_dp - 1) * covered_fraction(send_intervals(lg[su], -1), dp_near);
        p2p_ps[su] = s_to_ps_ceil(p2p_s * send_scale);
        changed = changed || dp_scale[su] > 1 || send_scale > 1;
      }
      if (changed) {
        sim = std::make_unique<PipelineSim>(ops, plans, pp, v, m, p2p_ps, dp_scale);
        out.stats = sim->run(events);
      }
    }
  }
  return out;
}

}  // namespace knee::workload

#include "workloads/training/sm_sharing.hpp"

#include <algorithm>
#include <cmath>

namespace knee::workload {

SmShare sm_share(const CommInterference& ci, double hbm_Bps, int channels, double comm_hbm_Bps) {
  SmShare out;
  const double n = ci.sm_count, held = ci.held_sm_cost * channels;
  // A kernel that keeps every SM busy loses the held ones: (n - a k)/n of its rate. Never below
  // one SM's worth: NCCL never takes every SM.
  if (n > 0 && held > 0) out.compute_bound_extra = held / std::max(1.0, n - held);
  const double share = hbm_Bps > 0 ? ci.hbm_share_cost * comm_hbm_Bps / hbm_Bps : 0;
  if (share > 0) out.memory_bound_extra = share / std::max(0.05, 1 - share);
  return out;
}

namespace {

// One communication kernel on a GPU: when it runs, how many CTAs it holds, its HBM traffic.
struct CommSpan {
  TimePs start, end;
  int channels;
  double hbm_Bps;
};

}  // namespace

double collective_hbm_bytes_per_gpu(CollOp op, double bytes, double n) {
  const double f = n > 1 ? (n - 1) / n : 0;
  switch (op) {
    case CollOp::allreduce:
      return (3 + 2) * f * bytes;  // the reduce-scatter's wire share reduced, the all-gather's copied
    case CollOp::reducescatter:
      return 3 * f * bytes;
    default:
      return 2 * f * bytes;
  }
}

std::vector<std::vector<double>> sm_sharing_scale(const Scenario& s, const Profile& prof, const StepPlan& plan,
                                                  const PipelineRun& run, CommTimer& timer) {
  const CommInterference ci = prof.comm_interference();
  const double hbm_Bps = prof.memory_bandwidth_Bps();
  const int pp = plan.pp;
  const auto& logs = run.sim->logs();
  const double dp_n = double(s.par.dp * s.par.cp);
  std::vector<std::vector<double>> scale(static_cast<std::size_t>(pp));
  bool any = false;
  for (int st = 0; st < pp; ++st) {
    const auto su = static_cast<std::size_t>(st);
    std::vector<CommSpan> spans;
    for (const auto& j : logs[su].jobs) {
      if (j.end <= j.start) continue;
      const bool emb = j.kind == kEmbeddingReduce;
      const int group = emb ? kEmbeddingGroup : kDP;
      const double n = emb ? 2 : dp_n;
      const int ch = timer.channels(group, j.op, j.bytes);
      spans.push_back({j.start, j.end, ch, collective_hbm_bytes_per_gpu(j.op, j.bytes, n) / ps_to_s(j.end - j.start)});
    }
    // NCCL's send and receive kernels, two channels per peer: this stage's sends and the sends
    // arriving at it, each moving its bytes through HBM twice (FIFO in, copy out).
    auto add_sends = [&](const StageLog& L, int dir) {
      for (const auto& x : L.sends)
        if ((dir < 0 || x.fwd == (dir == 1)) && x.end > x.start)
          spans.push_back({x.start, x.end, 2, 2 * plan.act_bytes / ps_to_s(x.end - x.start)});
    };
    add_sends(logs[su], -1);
    if (st > 0) add_sends(logs[su - 1], 1);
    if (st + 1 < pp) add_sends(logs[su + 1], 0);
    const auto& ops = plan.ops[su];
    const StagePlan& P = plan.stages[su];
    scale[su].assign(ops.size(), 1.0);
    if (spans.empty()) continue;
    std::sort(spans.begin(), spans.end(), [](const CommSpan& a, const CommSpan& b) { return a.start < b.start; });
    for (std::size_t i = 0; i < ops.size() && i < logs[su].ops.size(); ++i) {
      const auto& o = logs[su].ops[i];
      const OpCost& c = (ops[i].fwd ? P.fwd : P.bwd)[static_cast<std::size_t>(ops[i].chunk)];
      const TimePs a = o.run_start, b = o.run_end;
      if (b <= a || c.compute_s <= 0) continue;
      // Of the op's kernel time: the compute-bound share and the memory-bound rest.
      const double cb = std::clamp(c.compute_bound_s / c.compute_s, 0.0, 1.0);
      double extra = 0;
      for (const CommSpan& sp : spans) {
        if (sp.start >= b) break;
        const TimePs lo = std::max(a, sp.start), hi = std::min(b, sp.end);
        if (hi <= lo) continue;
        const SmShare sh = sm_share(ci, hbm_Bps, sp.channels, sp.hbm_Bps);
        extra += double(hi - lo) / double(b - a) * (cb * sh.compute_bound_extra + (1 - cb) * sh.memory_bound_extra);
      }
      if (extra > 0) {
        scale[su][i] = 1 + extra;
        any = true;
      }
    }
  }
  if (!any) scale.clear();
  return scale;
}

void apply_sm_sharing(const Scenario& s, const Profile& prof, const StepPlan& plan, CommTimer& timer, PipelineRun& run,
                      std::uint64_t* events) {
  run.op_scale = sm_sharing_scale(s, prof, plan, run, timer);
  if (run.op_scale.empty()) return;
  run.sim = std::make_unique<PipelineSim>(plan.ops, plan.stages, plan.pp, plan.v, plan.m, run.p2p_ps, run.dp_scale);
  run.sim->set_op_scale(&run.op_scale);
  run.stats = run.sim->run(events);
}

}  // namespace knee::workload

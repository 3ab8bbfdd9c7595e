// The every-rank simulator's data-parallel streams (every_rank_units.hpp): each stage's DP jobs
// launched as collectives on the one network when every unit has them ready, the gates they
// release, the tied-embedding all-reduce, the optimizer and the step's end.
#include <algorithm>
#include <cmath>

#include "workloads/training/every_rank_units.hpp"

namespace knee::workload::every_rank_detail {

int EveryRankSim::enqueue(std::size_t u, TimePs ready, CollOp op, double bytes, int kind) {
  Unit& U = units_[u];
  auto& q = queues_[static_cast<std::size_t>(U.stage)];
  const int j = U.jobs++;
  if (static_cast<std::size_t>(j) == q.size()) q.push_back({op, static_cast<Bytes>(std::llround(bytes)), kind});
  DpJob& J = q[static_cast<std::size_t>(j)];
  J.ready = std::max(J.ready, ready);
  if (++J.arrived == reps_) try_launch(U.stage);
  return j;
}

void EveryRankSim::try_launch(int p) {
  auto& q = queues_[static_cast<std::size_t>(p)];
  std::size_t& h = head_[static_cast<std::size_t>(p)];
  if (stage_busy_[static_cast<std::size_t>(p)] || h >= q.size() || q[h].arrived < reps_) return;
  DpJob& J = q[h];
  const TimePs now = engine_.now();
  if (J.ready > now) {
    if (!stage_wake_[static_cast<std::size_t>(p)]) {
      stage_wake_[static_cast<std::size_t>(p)] = true;
      engine_.schedule_at(J.ready, sink_, kStageWake, static_cast<std::uint64_t>(p));
    }
    return;
  }
  stage_busy_[static_cast<std::size_t>(p)] = true;
  J.start = now;
  if (J.bytes <= 0) {
    J.pending = 1;
    engine_.schedule_at(now, sink_, kJobDone, static_cast<std::uint64_t>(p));
    return;
  }
  J.pending = static_cast<int>(tp_);
  for (std::int64_t t = 0; t < tp_; ++t) {
    ex_.launch(dp_schedule(t, p, J.op, J.bytes), FlowDone{sink_, kJobDone, static_cast<std::uint64_t>(p)}, account_);
    ++collectives_;
  }
}

void EveryRankSim::job_done(int p) {
  auto& q = queues_[static_cast<std::size_t>(p)];
  std::size_t& h = head_[static_cast<std::size_t>(p)];
  DpJob& J = q[h];
  if (--J.pending > 0) return;
  J.end = engine_.now();
  J.done = true;
  ++h;
  stage_busy_[static_cast<std::size_t>(p)] = false;
  try_launch(p);
  for (int r = 0; r < reps_; ++r) {
    const std::size_t u = unit_of(p, r);
    Unit& U = units_[u];
    if (U.wait != kNoWait && q[static_cast<std::size_t>(U.wait_job)].done) resume(u);
  }
}

bool EveryRankSim::job_done_at(std::size_t u, int j, Wait w, TimePs* end) {
  Unit& U = units_[u];
  const DpJob& J = queues_[static_cast<std::size_t>(U.stage)][static_cast<std::size_t>(j)];
  if (J.done) {
    *end = J.end;
    return true;
  }
  U.wait = w;
  U.wait_job = j;
  return false;
}

void EveryRankSim::resume(std::size_t u) {
  Unit& U = units_[u];
  const Wait w = U.wait;
  U.wait = kNoWait;
  switch (w) {
    case kGate0:
      try_start(u);
      break;
    case kGateMid:
      walk_gates(u);
      break;
    case kZ3First:
      z3_first(u);
      break;
    case kZ3Last:
      z3_last(u);
      break;
    case kDpDone:
      after_dp(u);
      break;
    case kPostGathers:
      post_gathers(u);
      break;
    case kNoWait:
      break;
  }
}

// The schedule of TP rank t's DP group on stage p (dp x cp ranks), with the algorithm folded
// mode chooses for stage 0's first group (comm_timer.hpp), built once per group and size.
std::shared_ptr<const CollSchedule> EveryRankSim::dp_schedule(std::int64_t t, int p, CollOp op, Bytes bytes) {
  auto k = std::make_tuple(0, static_cast<int>(t), p, static_cast<int>(op), bytes);
  auto it = scheds_.find(k);
  if (it != scheds_.end()) return it->second;
  CollChoice& ch = choice(0, op, bytes, [&] { return dp_ranks(0, 0); });
  return scheds_[k] = timer_.schedule(op, bytes, dp_ranks(t, p), &ch, kEveryRankTaskBudget);
}

std::vector<std::uint32_t> EveryRankSim::dp_ranks(std::int64_t t, int p) const {
  std::vector<std::uint32_t> r;
  for (std::int64_t d = 0; d < s_.par.dp; ++d)
    for (std::int64_t c = 0; c < s_.par.cp; ++c) r.push_back(timer_.rank(t, c, d, p));
  return r;
}

void EveryRankSim::after_dp(std::size_t u) {
  Unit& U = units_[u];
  StageLog& L = logs_[u];
  TimePs dp_done = L.finish;
  if (U.jobs > 0) {
    TimePs end = 0;
    if (!job_done_at(u, U.jobs - 1, kDpDone, &end)) return;
    dp_done = std::max(dp_done, end);
  }
  const StagePlan& P = plan_.stages[static_cast<std::size_t>(U.stage)];
  if (P.emb_s > 0 && pp_ > 1 && (U.stage == 0 || U.stage == pp_ - 1)) {
    // Tied embedding: this replica's first and last stage all-reduce its gradient once both are reduced.
    const std::size_t e = static_cast<std::size_t>(U.rep) * 2 + (U.stage == 0 ? 0 : 1);
    emb_ready_[e] = dp_done;
    const std::size_t o = e ^ 1;
    if (emb_ready_[o] < 0) return;
    const TimePs start = std::max(emb_ready_[e], emb_ready_[o]);
    for (std::size_t x : {e, o}) {
      const std::size_t ux = unit_of(x % 2 == 0 ? 0 : pp_ - 1, U.rep);
      logs_[ux].partner_from = emb_ready_[x];
      logs_[ux].partner_wait = start - emb_ready_[x];
      stats_[ux].partner_wait_s = ps_to_s(start - emb_ready_[x]);
    }
    emb_pending_[U.rep] = static_cast<int>(tp_);
    emb_start_[U.rep] = engine_.now();
    const Bytes bytes = static_cast<Bytes>(std::llround(P.emb_bytes));
    for (std::int64_t t = 0; t < tp_; ++t) {
      auto k = std::make_tuple(2, static_cast<int>(t), U.rep, 0, bytes);
      auto it = scheds_.find(k);
      if (it == scheds_.end()) {
        CollChoice& ch = choice(1, CollOp::allreduce, bytes, [&] {
          return std::vector<std::uint32_t>{gpu(0, 0, 0), gpu(0, pp_ - 1, 0)};
        });
        it = scheds_
                 .emplace(k, timer_.schedule(CollOp::allreduce, bytes, {gpu(t, 0, U.rep), gpu(t, pp_ - 1, U.rep)}, &ch,
                                             kEveryRankTaskBudget))
                 .first;
      }
      ex_.launch(it->second, FlowDone{sink_, kEmbDone, static_cast<std::uint64_t>(U.rep)}, account_);
      ++collectives_;
    }
    return;
  }
  finalize(u, dp_done);
}

void EveryRankSim::emb_done(int rep) {
  if (--emb_pending_[rep] > 0) return;
  const TimePs now = engine_.now();
  for (int st : {0, pp_ - 1}) {
    const std::size_t u = unit_of(st, rep);
    StageLog& L = logs_[u];
    L.jobs.push_back(
        {emb_start_[rep], now, kEmbeddingReduce, plan_.stages[0].emb_bytes, CollOp::allreduce, emb_start_[rep]});
    stats_[u].dp_busy_s += ps_to_s(now - emb_start_[rep]);
    finalize(u, now);
  }
}

void EveryRankSim::finalize(std::size_t u, TimePs dp_done) {
  StageLog& L = logs_[u];
  StageStats& X = stats_[u];
  X.dp_exposed_s += ps_to_s(dp_done - L.finish) - X.partner_wait_s;
  L.dp_done = dp_done;
  const StagePlan& P = plan_.stages[static_cast<std::size_t>(units_[u].stage)];
  L.end = dp_done + s_to_ps_ceil(P.optimizer_s * own_factor(u));  // slow GPUs: its own slowest
  if (!P.overlap_param_gather && !P.gathers.empty()) {            // gathered after the optimizer, blocking
    units_[u].opt_end = L.end;
    engine_.schedule_at(L.end, sink_, kOptDone, u);
    return;
  }
  X.end_s = ps_to_s(L.end);
}

void EveryRankSim::post_optimizer(std::size_t u) {
  const StagePlan& P = plan_.stages[static_cast<std::size_t>(units_[u].stage)];
  for (const auto& gs : P.gathers)
    for (const Gather& g : gs) enqueue(u, engine_.now(), CollOp::allgather, g.bytes, kParamGather);
  post_gathers(u);
}

void EveryRankSim::post_gathers(std::size_t u) {
  Unit& U = units_[u];
  TimePs end = 0;
  if (!job_done_at(u, U.jobs - 1, kPostGathers, &end)) return;
  end = std::max(end, U.opt_end);
  stats_[u].dp_exposed_s += ps_to_s(end - U.opt_end);
  logs_[u].end = end;
  stats_[u].end_s = ps_to_s(end);
}

}  // namespace knee::workload::every_rank_detail

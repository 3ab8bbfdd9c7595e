// The every-rank simulator's state (internal to every_rank_sim.cpp, its compute and pipeline
// streams, and every_rank_dp.cpp, its data-parallel streams and the step's end): units (the TP
// groups of one (stage, dp, cp) index, in lockstep), their op lists, sends and DP jobs.
#pragma once
#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/collectives/executor.hpp"
#include "sim/network/flow_network.hpp"
#include "workloads/training/every_rank_sim.hpp"

namespace knee::workload::every_rank_detail {

// Transfers per ring of one GPU per server in every-rank mode (algorithms.hpp's
// uniform_ring_task_budget; folded timing keeps kTaskBudget). A step launches tens of thousands of
// collectives, so such a ring of n ranks and C channels folds its steps into min(steps,
// budget / (n C)) slices: alone it takes the same time (its edges run at one rate); under
// contention rates change at slice boundaries instead of at every step (docs/workloads.md).
inline constexpr std::size_t kEveryRankTaskBudget = 1u << 10;

// A data-parallel job of one stage: one collective per TP rank's DP group, launched when every
// (dp, cp) unit of the stage has it ready and the stage's previous job is done (one FIFO stream
// per GPU, as NCCL serialises a communicator's collectives).
struct DpJob {
  CollOp op;
  Bytes bytes;
  int kind;
  int arrived = 0, pending = 0;
  TimePs ready = 0, start = 0, end = 0;
  bool done = false;
};

// What a unit is blocked on.
enum Wait { kNoWait, kGate0, kGateMid, kZ3First, kZ3Last, kDpDone, kPostGathers };

struct Unit {
  int stage = 0, rep = 0;  // rep: d x cp + c
  std::size_t idx = 0;
  bool busy = false, finished = false, wake_pending = false;
  TimePs free_at = 0;
  Wait wait = kNoWait;
  int wait_job = -1;
  int jobs = 0;  // jobs enqueued so far (their index on the stage's queue)
  // Per chunk: (fraction of the forward, job) of its ZeRO-1/2 parameter gathers, forward order.
  std::vector<std::vector<std::pair<double, int>>> gates;
  // The op in progress.
  TimePs op_start = 0, run_start = 0, dur = 0, cursor = 0;
  double at = 0;
  std::size_t gate_i = 0;
  int z3_first = -1, z3_last = -1;
  // Pipeline sends queued per direction (0 forward, 1 backward): (key at the receiver, mb).
  std::deque<std::pair<std::size_t, int>> sendq[2];
  bool sending[2] = {false, false};
  TimePs send_start[2] = {0, 0};
  TimePs opt_end = 0;
};

class EveryRankSim : public EventSink {
 public:
  // On `shared`'s engine and network, which other jobs' sims may share (every_rank_jobs.hpp).
  EveryRankSim(EveryRankNet& shared, const Scenario& s, const StepPlan& plan, const CommTimer& timer, bool free_pp)
      : s_(s),
        plan_(plan),
        timer_(timer),
        engine_(shared.engine),
        net_(shared.net),
        ex_(shared.ex),
        free_pp_(free_pp),
        pp_(plan.pp),
        v_(plan.v),
        m_(plan.m),
        tp_(s.par.tp),
        reps_(s.par.dp * s.par.cp) {}

  EveryRankRun run();
  // The executor account its collectives and sends are launched under
  // (CollectiveExecutor::account_link_bytes): a cluster's job index, so its bytes per link are its own.
  void set_account(std::uint32_t account) { account_ = account; }
  // Stragglers' paces in place of the slow GPUs' (before start(); kept by reference).
  void set_paces(const EveryRankPaces* paces) { paces_ = paces; }
  // run() in two halves, for several sims on one engine: start() before the engine runs (adds
  // the sink, queues every unit's first op), collect() after it has run dry.
  void start();
  EveryRankRun collect();

  void handle(Engine& e, std::uint32_t tag, std::uint64_t payload) override;

 private:
  enum : std::uint32_t { kWake, kDone, kStageWake, kJobDone, kSendDone, kArrive, kEmbDone, kOptDone };

  std::size_t key(int vs, int mb) const { return static_cast<std::size_t>(vs) * m_ + mb; }
  std::size_t unit_of(int stage, int rep) const { return static_cast<std::size_t>(stage) * reps_ + rep; }
  std::uint32_t gpu(std::int64_t t, int stage, int rep) const {
    return timer_.rank(t, rep % s_.par.cp, rep / s_.par.cp, stage);
  }

  // ---- data-parallel jobs -------------------------------------------------------------------

  int enqueue(std::size_t u, TimePs ready, CollOp op, double bytes, int kind);

  void try_launch(int p);

  void job_done(int p);

  bool job_done_at(std::size_t u, int j, Wait w, TimePs* end);

  void resume(std::size_t u);

  // The schedule of TP rank t's DP group on stage p (dp x cp ranks), with the algorithm folded
  // mode chooses for stage 0's first group (comm_timer.hpp), built once per group and size.
  std::shared_ptr<const CollSchedule> dp_schedule(std::int64_t t, int p, CollOp op, Bytes bytes);
  std::vector<std::uint32_t> dp_ranks(std::int64_t t, int p) const;
  template <class RanksFn>
  CollChoice& choice(int kind, CollOp op, Bytes bytes, RanksFn ranks) {
    auto k = std::make_tuple(kind, static_cast<int>(op), bytes);
    auto it = choices_.find(k);
    if (it != choices_.end()) return it->second;
    CollChoice& ch = choices_[k];
    ch.channels = 0;
    timer_.schedule(op, bytes, ranks(), &ch, kEveryRankTaskBudget);  // selects for the representative group
    return ch;
  }

  // ---- compute --------------------------------------------------------------------------------

  void try_start(std::size_t u);

  void walk_gates(std::size_t u);

  void z3_first(std::size_t u);

  void z3_last(std::size_t u);

  const PipeOp& current(std::size_t u) const {
    const Unit& U = units_[u];
    return plan_.ops[static_cast<std::size_t>(U.stage)][U.idx];
  }

  void finish_op(std::size_t u, TimePs end);

  void done(std::size_t u);

  // ---- pipeline sends -------------------------------------------------------------------------

  void send(std::size_t u, int dir, int to_stage, std::size_t k, int mb);

  void launch_send(std::size_t u, int dir);

  void send_done(std::size_t u, int dir);

  // Every TP rank of the unit sends its 1/tp of the activation to its peer on the other stage.
  std::shared_ptr<const CollSchedule> send_schedule(std::size_t u, int dir, int to_stage);

  // ---- the step's end -------------------------------------------------------------------------

  void after_dp(std::size_t u);

  void emb_done(int rep);

  void finalize(std::size_t u, TimePs dp_done);

  void post_optimizer(std::size_t u);

  void post_gathers(std::size_t u);

  const Scenario& s_;
  const StepPlan& plan_;
  const CommTimer& timer_;
  Engine& engine_;
  FlowNetwork& net_;
  CollectiveExecutor& ex_;
  std::uint32_t account_ = CollectiveExecutor::kNoAccount;
  bool free_pp_;
  int pp_, v_, m_;
  std::int64_t tp_;
  int reps_;
  SinkId sink_ = 0;
  std::vector<Unit> units_;
  std::vector<StageStats> stats_;
  std::vector<StageLog> logs_;
  std::vector<std::vector<DpJob>> queues_;
  std::vector<std::size_t> head_;
  std::vector<bool> stage_busy_, stage_wake_;
  std::vector<std::vector<TimePs>> fwd_ready_, bwd_ready_;
  std::vector<TimePs> emb_ready_;
  std::map<int, int> emb_pending_;
  std::map<int, TimePs> emb_start_;
  std::vector<std::vector<std::size_t>> last_bwd_;
  std::map<std::tuple<int, int, int, int, Bytes>, std::shared_ptr<const CollSchedule>> scheds_;
  std::map<std::tuple<int, int, Bytes>, CollChoice> choices_;
  std::uint64_t collectives_ = 0;
  std::vector<UnitPace> pace_;             // slow GPUs: per unit; empty without
  const EveryRankPaces* paces_ = nullptr;  // stragglers (they include the slow GPUs); null without
  double op_factor(std::size_t u) const {
    if (paces_) {
      const Unit& U = units_[u];
      const std::size_t d = static_cast<std::size_t>(U.rep / s_.par.cp), ep = static_cast<std::size_t>(s_.par.ep);
      return (*paces_->op)[d / ep][static_cast<std::size_t>(U.stage)][U.idx];
    }
    return pace_.empty() ? 1.0 : pace_[u].op;
  }
  double own_factor(std::size_t u) const {
    if (paces_) return paces_->own[u];
    return pace_.empty() ? 1.0 : pace_[u].own;
  }
};

}  // namespace knee::workload::every_rank_detail

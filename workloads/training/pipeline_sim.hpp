// The pipeline schedule of a training step as events (internal to workloads/training): per-stage
// compute streams running the schedule's ops, point-to-point activation transfers between
// stages, and a data-parallel stream per stage that reduces gradient buckets while backward runs.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/units.hpp"
#include "sim/collectives/collective_types.hpp"
#include "sim/engine/engine.hpp"
#include "workloads/training/layer_model.hpp"
#include "workloads/training/pipeline_schedule.hpp"

namespace knee::workload {

// The pipeline schedule as events.

// Jobs of a stage's data-parallel stream, for timelines.
enum JobKind { kGradReduce = 0, kParamGather, kLayerGather, kLayerScatter, kEmbeddingReduce };
constexpr const char* kJobNames[] = {"gradient reduction", "parameter all-gather", "layer all-gather",
                                     "layer reduce-scatter", "embedding-gradient all-reduce"};

struct Bucket {
  double ready_frac;  // of the backward op after which its gradients are complete
  double dur_s;
  double bytes;
  CollOp op;
};

// A ZeRO-1/2 parameter all-gather of one bucket, queued at the step start in forward order; the
// first forward of its chunk waits for it before the layers it holds.
struct Gather {
  double need_frac;  // of the chunk's forward at which its parameters are first used
  double dur_s;
  double bytes;
};

struct StagePlan {
  std::vector<OpCost> fwd, bwd;                   // per chunk
  std::vector<std::vector<Bucket>> buckets;       // per chunk: reductions after the last backward
  std::vector<std::vector<Gather>> gathers;       // per chunk: ZeRO-1/2 parameter all-gathers
  std::vector<double> z3_gather_s, z3_scatter_s;  // per chunk: per-layer piece durations
  std::vector<double> z3_gather_bytes, z3_scatter_bytes;
  std::vector<int> z3_pieces;
  double optimizer_s = 0, optimizer_J = 0;
  double emb_s = 0, emb_bytes = 0;   // embedding-gradient all-reduce with the other end stage
  bool overlap = true;               // reduce buckets during the last backward, else after the backward
  bool every_microbatch = false;     // with overlap: reduce during every microbatch's backward, not the last only
  bool overlap_param_gather = true;  // gathers overlap the forward, else run after the optimizer
};

struct StageStats {
  double busy_s = 0, compute_s = 0, gap_s = 0, dp_exposed_s = 0, end_s = 0, dp_busy_s = 0, pp_busy_s = 0;
  double scaled_extra_s = 0;    // kernel time added by the op scales (SM sharing), part of compute_s
  double fwd_s = 0, bwd_s = 0;  // compute_s + gap_s split by phase (recompute counts as backward)
  // An end stage's wait for the other end stage's gradients before the tied-embedding all-reduce:
  // the schedule's doing (the first stage finishes its backward last), reported as bubble.
  double partner_wait_s = 0;
  double exposed[5] = {0, 0, 0, 0, 0}, busy[5] = {0, 0, 0, 0, 0};
  int sends = 0;
};

// What happened on one stage: for the bubble split, the contention pass and timelines.
struct StageLog {
  struct Op {
    TimePs start, run_start, run_end, end;  // stream start; the kernels; stream free again
    TimePs data_wait, gate_wait;            // idle before `start`: input in flight or upstream, parameter gather
  };
  struct Job {
    TimePs start, end;
    int kind;
    double bytes;
    CollOp op;
    TimePs ready;  // when this stage had it ready (straggler runs merge these over replicas)
  };
  struct Send {
    TimePs start, end;
    bool fwd;
    int mb;
  };
  std::vector<Op> ops;  // in op order
  std::vector<Job> jobs;
  std::vector<Send> sends;
  TimePs finish = 0, dp_done = 0, end = 0;
  TimePs partner_from = 0, partner_wait = 0;  // of [finish, dp_done): waiting for the other end stage (tied embedding)
};

class PipelineSim : public EventSink {
 public:
  // p2p_ps: duration of one activation transfer sent by each stage; dp_scale: slowdown of each
  // stage's data-parallel jobs from contention (1: none).
  PipelineSim(const std::vector<std::vector<PipeOp>>& ops, const std::vector<StagePlan>& plans, int pp, int v, int m,
              std::vector<TimePs> p2p_ps, std::vector<double> dp_scale)
      : ops_(ops), plans_(plans), pp_(pp), v_(v), m_(m), p2p_ps_(std::move(p2p_ps)), dp_scale_(std::move(dp_scale)) {}

  std::vector<StageStats> run(std::uint64_t* events) {
    sink_ = engine_.add_sink(this);
    const std::size_t n = static_cast<std::size_t>(pp_) * v_ * m_;
    fwd_ready_.assign(n, -1);
    bwd_ready_.assign(n, -1);
    st_.assign(static_cast<std::size_t>(pp_), State{});
    stats_.assign(static_cast<std::size_t>(pp_), StageStats{});
    logs_.assign(static_cast<std::size_t>(pp_), StageLog{});
    last_bwd_.assign(static_cast<std::size_t>(pp_), std::vector<std::size_t>(static_cast<std::size_t>(v_), 0));
    for (int s = 0; s < pp_; ++s) {
      const auto& ops = ops_[static_cast<std::size_t>(s)];
      for (std::size_t i = 0; i < ops.size(); ++i)
        if (!ops[i].fwd) last_bwd_[static_cast<std::size_t>(s)][static_cast<std::size_t>(ops[i].chunk)] = i;
      State& S = st_[static_cast<std::size_t>(s)];
      S.gate.assign(static_cast<std::size_t>(v_), {});
      // ZeRO-1/2: parameters gathered after the previous step's optimizer, bucket by bucket in
      // forward order, overlapping this step's forward (Megatron's overlap_param_gather): each
      // bucket gates only the layers it holds.
      const StagePlan& P = plans_[static_cast<std::size_t>(s)];
      for (int c = 0; c < v_ && !P.gathers.empty() && P.overlap_param_gather; ++c)
        for (const Gather& g : P.gathers[static_cast<std::size_t>(c)])
          S.gate[static_cast<std::size_t>(c)].push_back(
              {g.need_frac, dp_enqueue(s, 0, g.dur_s, kParamGather, g.bytes, CollOp::allgather)});
    }
    for (int s = 0; s < pp_; ++s) try_start(s);
    engine_.run();
    if (events) *events += engine_.events_processed();
    return stats_;
  }
  const std::vector<StageLog>& logs() const { return logs_; }
  // Per stage, per op: a multiplier of the op's kernel time (stragglers); null: 1 everywhere.
  void set_op_scale(const std::vector<std::vector<double>>* scale) { op_scale_ = scale; }

  void handle(Engine& e, std::uint32_t tag, std::uint64_t payload) override {
    if (tag == kWake) {
      st_[payload].wake_pending = false;
      try_start(static_cast<int>(payload));
    } else if (tag == kDone) {
      done(static_cast<int>(payload));
    } else {
      const int vs = static_cast<int>(payload / m_);
      (tag == kArriveF ? fwd_ready_ : bwd_ready_)[payload] = e.now();
      try_start(vs % pp_);
    }
  }

 private:
  enum : std::uint32_t { kWake, kDone, kArriveF, kArriveB };
  struct State {
    std::size_t idx = 0;
    bool busy = false, wake_pending = false, finished = false;
    TimePs free_at = 0, dp_free = 0, send_f = 0, send_b = 0;
    // Per chunk: (fraction of the forward, time its parameters are gathered), in forward order.
    std::vector<std::vector<std::pair<double, TimePs>>> gate;
  };

  std::size_t key(int vs, int mb) const { return static_cast<std::size_t>(vs) * m_ + mb; }

  // FIFO data-parallel stream: a job ready at `ready` runs after the ones queued before it.
  TimePs dp_enqueue(int s, TimePs ready, double dur_s, int kind, double bytes, CollOp op, bool contended = true) {
    State& S = st_[static_cast<std::size_t>(s)];
    if (contended) dur_s *= dp_scale_[static_cast<std::size_t>(s)];
    const TimePs start = std::max(S.dp_free, ready);
    S.dp_free = start + s_to_ps_ceil(dur_s);
    stats_[static_cast<std::size_t>(s)].dp_busy_s += dur_s;
    logs_[static_cast<std::size_t>(s)].jobs.push_back({start, S.dp_free, kind, bytes, op, ready});
    return S.dp_free;
  }

  // Gradients reduced, the step ends with the optimizer.
  void finalize(int s, TimePs dp_done) {
    StageLog& L = logs_[static_cast<std::size_t>(s)];
    StageStats& X = stats_[static_cast<std::size_t>(s)];
    X.dp_exposed_s += ps_to_s(dp_done - L.finish) - X.partner_wait_s;
    L.dp_done = dp_done;
    const StagePlan& P = plans_[static_cast<std::size_t>(s)];
    L.end = dp_done + s_to_ps_ceil(P.optimizer_s);
    if (!P.overlap_param_gather) {  // the distributed optimizer gathers its updated parameters, blocking
      State& S = st_[static_cast<std::size_t>(s)];
      S.dp_free = std::max(S.dp_free, L.end);
      for (const auto& gs : P.gathers)
        for (const Gather& g : gs) dp_enqueue(s, L.end, g.dur_s, kParamGather, g.bytes, CollOp::allgather);
      X.dp_exposed_s += ps_to_s(S.dp_free - L.end);
      L.end = S.dp_free;
    }
    X.end_s = ps_to_s(L.end);
  }

  void try_start(int s) {
    State& S = st_[static_cast<std::size_t>(s)];
    StageStats& X = stats_[static_cast<std::size_t>(s)];
    StageLog& L = logs_[static_cast<std::size_t>(s)];
    const StagePlan& P = plans_[static_cast<std::size_t>(s)];
    if (S.busy || S.finished || S.wake_pending) return;
    const auto& ops = ops_[static_cast<std::size_t>(s)];
    const TimePs now = engine_.now();
    if (S.idx == ops.size()) {  // wait for gradient reductions, then the optimizer step
      S.finished = true;
      L.finish = now;
      if (!P.overlap)
        for (const auto& bk : P.buckets)
          for (const Bucket& b : bk) dp_enqueue(s, now, b.dur_s, kGradReduce, b.bytes, b.op);
      const TimePs dp_done = std::max(now, S.dp_free);
      if (P.emb_s > 0 && pp_ > 1 && (s == 0 || s == pp_ - 1)) {
        // Tied embedding: first and last stage all-reduce its gradient once both are reduced.
        emb_ready_[s == 0 ? 0 : 1] = dp_done;
        if (emb_ready_[0] < 0 || emb_ready_[1] < 0) return;
        const TimePs start = std::max(emb_ready_[0], emb_ready_[1]);
        for (int e : {0, pp_ - 1}) {
          const TimePs wait = start - emb_ready_[e == 0 ? 0 : 1];
          logs_[static_cast<std::size_t>(e)].partner_from = emb_ready_[e == 0 ? 0 : 1];
          logs_[static_cast<std::size_t>(e)].partner_wait = wait;
          stats_[static_cast<std::size_t>(e)].partner_wait_s = ps_to_s(wait);
          finalize(e, dp_enqueue(e, start, P.emb_s, kEmbeddingReduce, P.emb_bytes, CollOp::allreduce, false));
        }
        return;
      }
      finalize(s, dp_done);
      return;
    }
    const PipeOp& o = ops[S.idx];
    const int vs = o.chunk * pp_ + s, last = pp_ * v_ - 1;
    TimePs ready = 0;
    if (o.fwd && vs > 0) ready = fwd_ready_[key(vs, o.mb)];
    if (!o.fwd && vs < last) ready = bwd_ready_[key(vs, o.mb)];
    if (ready < 0) return;  // its input has not arrived; the arrival retries
    const TimePs data_at = std::max(ready, S.free_at);
    const auto& gates = S.gate[static_cast<std::size_t>(o.chunk)];
    const TimePs gate = o.fwd && !gates.empty() ? gates.front().second : 0;
    const TimePs t0 = std::max(data_at, gate);
    if (t0 > now) {
      S.wake_pending = true;
      engine_.schedule_at(t0, sink_, kWake, static_cast<std::uint64_t>(s));
      return;
    }
    if (gate > data_at) X.dp_exposed_s += ps_to_s(gate - data_at);
    const OpCost& c = (o.fwd ? P.fwd : P.bwd)[static_cast<std::size_t>(o.chunk)];
    // A straggling GPU group stretches the op's kernels (not its exposed collectives).
    const double scale = op_scale_ ? (*op_scale_)[static_cast<std::size_t>(s)][S.idx] : 1.0;
    const TimePs dur = s_to_ps_ceil(scale == 1.0 ? c.total_s : c.total_s + (scale - 1) * c.compute_s);
    TimePs end = now + dur, run_start = now;
    const std::size_t ci = static_cast<std::size_t>(o.chunk);
    if (o.fwd && gates.size() > 1) {  // the forward reaches each bucket's layers, waiting if not gathered
      TimePs t = now;
      double at = gates.front().first;
      for (const auto& [frac, ready] : gates) {
        t = std::max(t + static_cast<TimePs>(std::llround(static_cast<double>(dur) * (frac - at))), ready);
        at = frac;
      }
      end = t + static_cast<TimePs>(std::llround(static_cast<double>(dur) * (1 - at)));
      end = std::max(end, now + dur);
      X.dp_exposed_s += ps_to_s(end - now - dur);
    }
    if (!P.z3_pieces.empty() && P.z3_pieces[ci] > 0) {  // ZeRO-3: gather each layer before use
      const int n = P.z3_pieces[ci];
      TimePs first = 0, lastp = 0;
      for (int j = 0; j < n; ++j) {
        TimePs e = dp_enqueue(s, now, P.z3_gather_s[ci], kLayerGather, P.z3_gather_bytes[ci], CollOp::allgather);
        if (j == 0) first = e;
        lastp = e;
      }
      run_start = std::max(now, first);
      end = std::max(run_start + dur, lastp + dur / n);
      X.dp_exposed_s += ps_to_s(end - now - dur);
      if (!o.fwd)
        for (int j = 0; j < n; ++j)
          dp_enqueue(s, run_start + dur * (j + 1) / n, P.z3_scatter_s[ci], kLayerScatter, P.z3_scatter_bytes[ci],
                     CollOp::reducescatter);
    }
    L.ops.push_back({now, run_start, run_start + dur, end, data_at - S.free_at, std::max<TimePs>(0, gate - data_at)});
    if (P.overlap && !o.fwd && (P.every_microbatch || S.idx == last_bwd_[static_cast<std::size_t>(s)][ci]))
      for (const Bucket& b : P.buckets[ci])
        dp_enqueue(s, now + static_cast<TimePs>(std::llround(static_cast<double>(dur) * b.ready_frac)), b.dur_s,
                   kGradReduce, b.bytes, b.op);
    X.busy_s += c.total_s + (scale - 1) * c.compute_s;
    X.compute_s += scale * c.compute_s;
    X.scaled_extra_s += (scale - 1) * c.compute_s;
    X.gap_s += c.launch_gap_s;
    (o.fwd ? X.fwd_s : X.bwd_s) += scale * c.compute_s + c.launch_gap_s;
    for (int g = 0; g < 5; ++g) {
      X.exposed[g] += c.comm_exposed_s[g];
      X.busy[g] += c.comm_busy_s[g];
    }
    S.busy = true;
    S.free_at = end;
    engine_.schedule_at(end, sink_, kDone, static_cast<std::uint64_t>(s));
  }

  void done(int s) {
    State& S = st_[static_cast<std::size_t>(s)];
    const PipeOp o = ops_[static_cast<std::size_t>(s)][S.idx];
    S.busy = false;
    ++S.idx;
    const int vs = o.chunk * pp_ + s, last = pp_ * v_ - 1;
    const TimePs now = engine_.now();
    if (o.fwd && vs < last) send(s, S.send_f, kArriveF, key(vs + 1, o.mb), now, true, o.mb);
    if (!o.fwd && vs > 0) send(s, S.send_b, kArriveB, key(vs - 1, o.mb), now, false, o.mb);
    try_start(s);
  }

  void send(int s, TimePs& free, std::uint32_t tag, std::size_t k, TimePs now, bool fwd, int mb) {
    const TimePs start = std::max(free, now), d = p2p_ps_[static_cast<std::size_t>(s)];
    free = start + d;
    StageStats& X = stats_[static_cast<std::size_t>(s)];
    ++X.sends;
    X.pp_busy_s += ps_to_s(d);
    logs_[static_cast<std::size_t>(s)].sends.push_back({start, free, fwd, mb});
    engine_.schedule_at(free, sink_, tag, k);
  }

  const std::vector<std::vector<PipeOp>>& ops_;
  const std::vector<StagePlan>& plans_;
  int pp_, v_, m_;
  std::vector<TimePs> p2p_ps_;
  std::vector<double> dp_scale_;
  Engine engine_;
  SinkId sink_ = 0;
  std::vector<TimePs> fwd_ready_, bwd_ready_;
  std::vector<State> st_;
  std::vector<StageStats> stats_;
  std::vector<StageLog> logs_;
  std::vector<std::vector<std::size_t>> last_bwd_;
  TimePs emb_ready_[2] = {-1, -1};
  const std::vector<std::vector<double>>* op_scale_ = nullptr;
};

}  // namespace knee::workload

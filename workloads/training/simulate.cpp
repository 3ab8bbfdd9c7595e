// One training step as events: per-stage compute streams running the pipeline schedule's ops,
// point-to-point activation transfers between stages, and a data-parallel stream per stage that
// reduces gradient buckets while backward runs. Collective times come from the flow-level network
// (CommTimer), with every concurrent communicator of a kind on the fabric at once.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <tuple>

#include "sim/collectives/collective.hpp"
#include "sim/collectives/executor.hpp"
#include "common/error.hpp"
#include "common/random.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/timeline.hpp"
#include "workloads/training/model.hpp"

namespace knee {
using namespace workload;

namespace {

// The embedding-gradient all-reduce between the first and last stage (tied output layer): a
// timing key of its own, accounted as data-parallel (gradient synchronisation) time.
constexpr int kEmbeddingGroup = 5;

// ---------------------------------------------------------------------------------------------
// Collective times on the simulated cluster, cached by (group, op, bytes).
class CommTimer {
 public:
  CommTimer(const Scenario& s, const Topology& topo, const NcclParams& P)
      : s_(s), topo_(topo), P_(P), links_(effective_links(topo, P)) {
    // Strides of (tp, cp, dp, pp) from the placement order, fastest varying first.
    std::int64_t stride = 1;
    for (const auto& g : s.placement) {
      std::int64_t size = g == "tp" ? s.par.tp : g == "cp" ? s.par.cp : g == "dp" ? s.par.dp : s.par.pp;
      int idx = g == "tp" ? 0 : g == "cp" ? 1 : g == "dp" ? 2 : 3;
      stride_[idx] = stride;
      stride *= size;
    }
  }
  std::uint32_t rank(std::int64_t t, std::int64_t c, std::int64_t d, std::int64_t p) const {
    return static_cast<std::uint32_t>(t * stride_[0] + c * stride_[1] + d * stride_[2] + p * stride_[3]);
  }
  // (tp, cp, dp, pp) indices of a rank.
  std::array<std::int64_t, 4> coords(std::uint32_t r) const {
    const std::int64_t size[4] = {s_.par.tp, s_.par.cp, s_.par.dp, s_.par.pp};
    std::array<std::int64_t, 4> c{};
    for (int i = 0; i < 4; ++i) c[static_cast<std::size_t>(i)] = (static_cast<std::int64_t>(r) / stride_[i]) % size[i];
    return c;
  }
  double time(int group, CollOp op, double bytes_d) {
    const Bytes bytes = static_cast<Bytes>(std::llround(bytes_d));
    if (bytes <= 0) return 0;
    auto key = std::make_tuple(group, static_cast<int>(op), bytes);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    double t = measure(group, op, bytes);
    cache_.emplace(key, t);
    return t;
  }
  std::size_t timings() const { return cache_.size(); }

 private:
  static constexpr std::size_t kFlowBudget = 1u << 17;

  // Runs schedules together on one network; seconds from the first start to each one's end.
  std::vector<double> run_each(const std::vector<std::shared_ptr<const CollSchedule>>& scheds) const {
    Engine e;
    FlowNetwork net(e, links_);
    CollectiveExecutor ex(e, net, topo_);
    std::vector<std::uint32_t> ids;
    for (auto& sc : scheds) ids.push_back(ex.launch(sc));
    e.run();
    std::vector<double> out;
    for (auto id : ids) out.push_back(ps_to_s(ex.stats(id).end_ps));
    return out;
  }
  double run(const std::vector<std::shared_ptr<const CollSchedule>>& scheds) const {
    double end = 0;
    for (double t : run_each(scheds)) end = std::max(end, t);
    return end;
  }

  std::shared_ptr<const CollSchedule> coll(CollOp op, Bytes bytes, const std::vector<std::uint32_t>& ranks,
                                           int slices, CollChoice* choice_io) const {
    CollRequest req;
    req.op = op;
    req.bytes = bytes;
    req.ranks = ranks;
    if (choice_io->channels == 0) {
      CollOptions o;
      o.op = op;
      o.bytes = bytes;
      *choice_io = select_collective(topo_, P_, o, ranks, s_.source);
    }
    req.algo = choice_io->algo;
    req.proto = choice_io->proto;
    req.channels = choice_io->channels;
    req.slices = slices;
    return build_schedule(topo_, P_, req, s_.source);
  }

  // Point-to-point transfers (pipeline activations, ring-attention K/V), two channels each as
  // NCCL's p2p uses per peer, all at once.
  double p2p(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs, Bytes bytes) const {
    return run({p2p_schedule(pairs, bytes)});
  }
  std::shared_ptr<const CollSchedule> p2p_schedule(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs,
                                                   Bytes bytes) const {
    auto sc = std::make_shared<CollSchedule>();
    sc->start_latency_ps = us_to_ps(P_.base_latency_us_of(CollAlgo::direct, CollProto::simple));
    const int C = 2;
    for (auto [a, b] : pairs) {
      const auto na = topo_.gpu_node(a), nb = topo_.gpu_node(b);
      const bool net = topo_.node_of_gpu(a) != topo_.node_of_gpu(b);
      const TimePs lat = us_to_ps(P_.hop_latency_us(CollAlgo::direct, CollProto::simple, net));
      for (int ch = 0; ch < C; ++ch) {
        sc->add_task(sc->add_edge(na, nb, static_cast<std::uint32_t>(ch)), (bytes + C - 1) / C, lat,
                     P_.channel_Bps(CollAlgo::direct), {});
        sc->payload_bytes += double(bytes) / C;
      }
    }
    return sc;
  }

  // A communicator kind: one representative group alone at full fidelity, scaled by the
  // slowdown the concurrent groups cause each other (measured with unsliced schedules).
  double groups(CollOp op, Bytes bytes, const std::vector<std::vector<std::uint32_t>>& gs) const {
    CollChoice ch{};
    ch.channels = 0;
    double alone = run({coll(op, bytes, gs[0], 0, &ch)});
    if (gs.size() == 1) return alone;
    std::vector<std::shared_ptr<const CollSchedule>> all;
    std::size_t tasks = 0;
    for (const auto& g : gs) {
      all.push_back(coll(op, bytes, g, 1, &ch));
      tasks += all.back()->size();
      if (tasks > kFlowBudget) break;  // enough groups to load the shared links
    }
    const double coarse_all = run(all), coarse_one = run({all[0]});
    return coarse_one > 0 ? alone * std::max(1.0, coarse_all / coarse_one) : alone;
  }

  // Data-parallel groups of pipeline stage p: one per TP rank, over dp x cp.
  std::vector<std::vector<std::uint32_t>> dp_groups(std::int64_t pst) const {
    const auto& p = s_.par;
    std::vector<std::vector<std::uint32_t>> gs;
    for (std::int64_t t = 0; t < p.tp; ++t) {
      std::vector<std::uint32_t> r;
      for (std::int64_t d = 0; d < p.dp; ++d)
        for (std::int64_t c = 0; c < p.cp; ++c) r.push_back(rank(t, c, d, pst));
      gs.push_back(r);
    }
    return gs;
  }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pp_pairs(std::int64_t from, std::int64_t to) const {
    const auto& p = s_.par;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (std::int64_t d = 0; d < p.dp && pairs.size() < kFlowBudget / 2; ++d)
      for (std::int64_t c = 0; c < p.cp; ++c)
        for (std::int64_t t = 0; t < p.tp; ++t) pairs.push_back({rank(t, c, d, from), rank(t, c, d, to)});
    return pairs;
  }

 public:
  // Slowdowns when kinds of traffic share the fabric, measured on the flow network with unsliced
  // schedules, each kind loading the links for the whole run: a stage's DP reduction while the
  // other stages reduce too (dp_dp), while its pipeline sends run (dp_pp), and a pipeline send
  // while the DP reduction runs (pp_dp). 1 where the kinds use disjoint links.
  struct Contention {
    double dp_dp = 1, dp_pp = 1, pp_dp = 1;
  };
  Contention contention(CollOp dp_op, Bytes dp_bytes, Bytes pp_bytes) const {
    Contention k;
    const auto& p = s_.par;
    if (p.pp < 2 || p.dp * p.cp < 2 || dp_bytes <= 0) return k;
    CollChoice ch{};
    ch.channels = 0;
    std::vector<std::shared_ptr<const CollSchedule>> st0, all;
    std::size_t tasks = 0;
    for (std::int64_t pst = 0; pst < p.pp && tasks <= kFlowBudget; ++pst)
      for (const auto& g : dp_groups(pst)) {
        all.push_back(coll(dp_op, dp_bytes, g, 1, &ch));
        tasks += all.back()->size();
        if (pst == 0) st0.push_back(all.back());
        if (tasks > kFlowBudget) break;
      }
    const double one = run(st0);
    if (one <= 0) return k;
    if (all.size() > st0.size()) {
      const auto ends = run_each(all);
      double e0 = 0;
      for (std::size_t i = 0; i < st0.size(); ++i) e0 = std::max(e0, ends[i]);
      k.dp_dp = std::max(1.0, e0 / one);
    }
    if (pp_bytes > 0) {
      const auto pairs = pp_pairs(0, 1);
      const double pp_alone = run({p2p_schedule(pairs, pp_bytes)});
      if (pp_alone > 0) {
        // Sends sized to last as long as the reduction, so both are active throughout.
        const Bytes scaled = std::max<Bytes>(1, static_cast<Bytes>(std::llround(double(pp_bytes) * one / pp_alone)));
        auto pps = p2p_schedule(pairs, scaled);
        const double pp_one = run({pps});
        auto both = st0;
        both.push_back(pps);
        const auto ends = run_each(both);
        double e0 = 0;
        for (std::size_t i = 0; i < st0.size(); ++i) e0 = std::max(e0, ends[i]);
        k.dp_pp = std::max(1.0, e0 / one);
        k.pp_dp = pp_one > 0 ? std::max(1.0, ends.back() / pp_one) : 1.0;
      }
    }
    return k;
  }

 private:
  double measure(int group, CollOp op, Bytes bytes) const {
    const auto& p = s_.par;
    switch (group) {
      case kEmbeddingGroup: {  // first and last stage of every (tp, cp, dp) replica, all at once
        std::vector<std::vector<std::uint32_t>> gs;
        for (std::int64_t d = 0; d < p.dp; ++d)
          for (std::int64_t c = 0; c < p.cp; ++c)
            for (std::int64_t t = 0; t < p.tp; ++t) gs.push_back({rank(t, c, d, 0), rank(t, c, d, p.pp - 1)});
        return groups(op, bytes, gs);
      }
      case kTP: {
        std::vector<std::uint32_t> r;
        for (std::int64_t i = 0; i < p.tp; ++i) r.push_back(rank(i, 0, 0, 0));
        return groups(op, bytes, {r});
      }
      case kDP:  // gradients are reduced over dp x cp (context-parallel ranks share weights)
        return groups(op, bytes, dp_groups(0));
      case kEP: {  // ep consecutive dp indices (Megatron's tp-cp-ep-dp-pp order)
        std::vector<std::vector<std::uint32_t>> gs;
        for (std::int64_t t = 0; t < p.tp; ++t)
          for (std::int64_t c = 0; c < p.cp; ++c)
            for (std::int64_t k = 0; k < p.dp / p.ep; ++k) {
              std::vector<std::uint32_t> r;
              for (std::int64_t e = 0; e < p.ep; ++e) r.push_back(rank(t, c, k * p.ep + e, 0));
              gs.push_back(r);
            }
        return groups(op, bytes, gs);
      }
      case kCP: {  // every rank sends its K/V block to the next in its ring, all rings at once
        std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
        for (std::int64_t t = 0; t < p.tp && pairs.size() < kFlowBudget / 2; ++t)
          for (std::int64_t d = 0; d < p.dp; ++d)
            for (std::int64_t c = 0; c < p.cp; ++c) pairs.push_back({rank(t, c, d, 0), rank(t, (c + 1) % p.cp, d, 0)});
        return p2p(pairs, bytes);
      }
      case kPP:  // stage 0 -> 1 of every (tp, cp, dp) replica at once
        return p2p(pp_pairs(0, 1), bytes);
    }
    return 0;
  }

  const Scenario& s_;
  const Topology& topo_;
  const NcclParams& P_;
  std::vector<DirectedLink> links_;
  std::int64_t stride_[4] = {1, 1, 1, 1};
  std::map<std::tuple<int, int, Bytes>, double> cache_;
};

// ---------------------------------------------------------------------------------------------
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

struct StagePlan {
  std::vector<OpCost> fwd, bwd;                // per chunk
  std::vector<std::vector<Bucket>> buckets;    // per chunk: reductions after the last backward
  std::vector<double> start_gather_s, start_gather_bytes;  // per chunk: ZeRO-1/2 parameter all-gather
  std::vector<double> z3_gather_s, z3_scatter_s;  // per chunk: per-layer piece durations
  std::vector<double> z3_gather_bytes, z3_scatter_bytes;
  std::vector<int> z3_pieces;
  double optimizer_s = 0, optimizer_J = 0;
  double emb_s = 0, emb_bytes = 0;  // embedding-gradient all-reduce with the other end stage
  bool overlap = true;  // reduce buckets during the last backward, else after the backward
};

struct StageStats {
  double busy_s = 0, compute_s = 0, gap_s = 0, dp_exposed_s = 0, end_s = 0, dp_busy_s = 0, pp_busy_s = 0;
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
      S.gate.assign(static_cast<std::size_t>(v_), 0);
      // ZeRO-1/2: parameters gathered after the previous step's optimizer, chunk by chunk,
      // overlapping this step's forward (Megatron's overlap_param_gather).
      const StagePlan& P = plans_[static_cast<std::size_t>(s)];
      for (int c = 0; c < v_ && !P.start_gather_s.empty(); ++c)
        S.gate[static_cast<std::size_t>(c)] =
            dp_enqueue(s, 0, P.start_gather_s[static_cast<std::size_t>(c)], kParamGather,
                       P.start_gather_bytes[static_cast<std::size_t>(c)], CollOp::allgather);
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
    std::vector<TimePs> gate;
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
    L.end = dp_done + s_to_ps_ceil(plans_[static_cast<std::size_t>(s)].optimizer_s);
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
    const TimePs gate = o.fwd ? S.gate[static_cast<std::size_t>(o.chunk)] : 0;
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
    if (P.overlap && !o.fwd && S.idx == last_bwd_[static_cast<std::size_t>(s)][ci])
      for (const Bucket& b : P.buckets[ci])
        dp_enqueue(s, now + static_cast<TimePs>(std::llround(static_cast<double>(dur) * b.ready_frac)), b.dur_s,
                   kGradReduce, b.bytes, b.op);
    X.busy_s += c.total_s;
    X.compute_s += c.compute_s;
    X.gap_s += c.launch_gap_s;
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

// Stragglers (docs/workloads.md, "Stragglers"): every data-parallel replica's pipeline is run as
// events with its own op times, each op taking as long as the slowest GPU of its TP x CP group
// (x EP: expert-parallel replicas exchange tokens every MoE layer, so they move together). The
// replicas meet in the data-parallel reductions: each stage's reduction of a bucket starts when
// every replica has it ready, and the step ends when the last stage's optimizer does.
// Returns the time of each simulated step; fills the report's slowest GPU, the stage and replica
// whose end ended the slowest step, and the number of replicas.
std::vector<TimePs> run_stragglers(const Scenario& s, const StragglerSpec& g, const CommTimer& timer,
                                   const std::vector<std::vector<PipeOp>>& ops, const std::vector<StagePlan>& plans,
                                   int pp, int v, int m, const std::vector<TimePs>& p2p_ps,
                                   const std::vector<double>& dp_scale, StragglerReport& out, std::uint64_t* events) {
  Random rng(s.seed);
  std::vector<TimePs> steps;
  // Static factors in GPU order, then the named stragglers: the same GPUs in every step.
  std::vector<double> f(static_cast<std::size_t>(s.gpus));
  for (double& x : f) x = rng.multiplier(g.gpu_cv);
  for (const auto& sl : g.slow) f[static_cast<std::size_t>(sl.gpu)] *= sl.slowdown;
  for (std::size_t i = 0; i < f.size(); ++i)
    if (f[i] > out.slowest_gpu_factor || i == 0) {
      out.slowest_gpu_factor = f[i];
      out.slowest_gpu = static_cast<std::int64_t>(i);
    }
  const std::int64_t tp = s.par.tp, cp = s.par.cp, ep = s.par.ep, R = s.par.dp / ep;
  const std::size_t P = static_cast<std::size_t>(pp);
  out.replicas = static_cast<int>(R);
  // One step: every replica's pipeline with op times drawn from `jitter`, met in the DP streams.
  auto one_step = [&](Random& jitter, int& slowest_stage, int& slowest_replica) {
    std::vector<std::vector<TimePs>> ready(P), dur(P);
    std::vector<TimePs> finish(P, -1);
    std::vector<int> finisher(P, 0);
    std::vector<std::vector<double>> scale(P);
    std::vector<double> member;
    for (std::int64_t r = 0; r < R; ++r) {
      for (std::size_t st = 0; st < P; ++st) {
        member.clear();
        for (std::int64_t e = 0; e < ep; ++e)
          for (std::int64_t c = 0; c < cp; ++c)
            for (std::int64_t t = 0; t < tp; ++t)
              member.push_back(f[timer.rank(t, c, r * ep + e, static_cast<std::int64_t>(st))]);
        const double base = *std::max_element(member.begin(), member.end());
        scale[st].assign(ops[st].size(), base);
        if (g.op_cv > 0)
          for (double& x : scale[st]) {
            x = 0;
            for (double fm : member) x = std::max(x, fm * jitter.multiplier(g.op_cv));
          }
      }
      PipelineSim sim(ops, plans, pp, v, m, p2p_ps, dp_scale);
      sim.set_op_scale(&scale);
      sim.run(events);
      for (std::size_t st = 0; st < P; ++st) {
        const StageLog& L = sim.logs()[st];
        std::size_t k = 0;
        for (const auto& j : L.jobs) {
          if (j.kind == kEmbeddingReduce) continue;
          if (r == 0) {
            ready[st].push_back(j.ready);
            dur[st].push_back(j.end - j.start);
          } else {
            ready[st][k] = std::max(ready[st][k], j.ready);
          }
          ++k;
        }
        if (L.finish > finish[st]) {
          finish[st] = L.finish;
          finisher[st] = static_cast<int>(r);
        }
      }
    }
    // The data-parallel streams, replayed on the merged ready times (as PipelineSim::dp_enqueue).
    std::vector<TimePs> dp_done(P);
    for (std::size_t st = 0; st < P; ++st) {
      TimePs free = 0;
      for (std::size_t k = 0; k < ready[st].size(); ++k) free = std::max(free, ready[st][k]) + dur[st][k];
      dp_done[st] = std::max(finish[st], free);
    }
    if (pp > 1 && plans[0].emb_s > 0) {  // tied embedding: the end stages reduce it together
      const TimePs start = std::max(dp_done[0], dp_done[P - 1]);
      for (std::size_t e : {std::size_t{0}, P - 1}) dp_done[e] = start + s_to_ps_ceil(plans[e].emb_s);
    }
    TimePs step = 0;
    for (std::size_t st = 0; st < P; ++st) {
      const TimePs end = dp_done[st] + s_to_ps_ceil(plans[st].optimizer_s);
      if (end > step) {
        step = end;
        slowest_stage = static_cast<int>(st);
        slowest_replica = finisher[st];
      }
    }
    return step;
  };
  // Steps differ only by their op draws: the first continues the seed's stream, step k its own
  // stream; without op variation every step is the first.
  const int n = g.op_cv > 0 ? g.steps : 1;
  TimePs worst = -1;
  for (int k = 0; k < n; ++k) {
    Random own(s.seed + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(k));
    int st = 0, rep = 0;
    const TimePs t = one_step(k == 0 ? rng : own, st, rep);
    steps.push_back(t);
    if (t > worst) {
      worst = t;
      out.slowest_stage = st;
      out.slowest_replica = rep;
    }
  }
  while (static_cast<int>(steps.size()) < g.steps) steps.push_back(steps.front());
  return steps;
}

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

// ---------------------------------------------------------------------------------------------
// Timelines (docs/workloads.md, Timelines).

enum Track { kTrackCompute = 0, kTrackIdle, kTrackTP, kTrackPPFwd, kTrackPPBwd, kTrackDP, kTrackCP, kTrackEP, kTrackOptimizer };
constexpr const char* kTrackNames[] = {"compute", "idle (bubble, waits)", "tp", "pp send forward", "pp send backward",
                                       "dp", "cp", "ep", "optimizer"};
int comm_track(int group) {
  return group == kTP ? kTrackTP : group == kCP ? kTrackCP : group == kEP ? kTrackEP : kTrackDP;
}

// Slices of one process; a slice that would start before the previous one on its track ended is
// clipped (Chrome requires slices on a track to nest); empty slices are skipped.
class TrackWriter {
 public:
  TrackWriter(Timeline& t, int pid) : t_(t), pid_(pid) {}
  void slice(int tid, const std::string& name, const char* cat, TimePs start, TimePs end, const std::string& args = "") {
    TimePs& last = last_[static_cast<std::size_t>(tid)];
    start = std::max(start, last);
    if (end <= start) return;
    last = end;
    t_.complete(pid_, tid, name, cat, start, end - start, args);
  }

 private:
  Timeline& t_;
  int pid_;
  TimePs last_[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

using ChunkSlices = std::vector<std::vector<OpSlice>>;  // [0] forward, [1] backward

struct TraceInput {
  const Scenario& s;
  const std::vector<std::vector<PipeOp>>& ops;
  const std::vector<StageLog>& real;
  const std::vector<StageLog>& free;  // free transfers: the bubble part of each input wait
  // Per stage, per chunk, forward (0) and backward (1): the op's compute-stream slices.
  const std::vector<std::vector<ChunkSlices>>& slices;
  const std::vector<std::int64_t>& first_layer;  // global index of each virtual stage's first layer
  double act_bytes;                              // of one pipeline send
};

void trace_stage(Timeline& trace, int pid, int st, const TraceInput& in) {
  TrackWriter w(trace, pid);
  const int pp = static_cast<int>(in.s.par.pp);
  const StageLog& L = in.real[static_cast<std::size_t>(st)];
  const StageLog& F = in.free[static_cast<std::size_t>(st)];
  const auto& ops = in.ops[static_cast<std::size_t>(st)];
  for (std::size_t i = 0; i < L.ops.size() && i < ops.size(); ++i) {
    const auto& o = L.ops[i];
    const PipeOp& po = ops[i];
    const int vs = po.chunk * pp + st;
    // Idle before the op: the part that remains with free transfers is bubble, the rest waits
    // for the transfer; then a parameter gather it may wait for.
    const TimePs idle0 = o.start - o.data_wait - o.gate_wait;
    const TimePs bub = i < F.ops.size() ? std::min(o.data_wait, F.ops[i].data_wait) : 0;
    const std::string margs = "{\"microbatch\":" + std::to_string(po.mb) + ",\"chunk\":" + std::to_string(po.chunk) + "}";
    w.slice(kTrackIdle, "bubble", "bubble", idle0, idle0 + bub, margs);
    w.slice(kTrackIdle, "wait: pipeline transfer", "wait", idle0 + bub, idle0 + o.data_wait, margs);
    w.slice(kTrackIdle, "wait: dp parameter gather", "wait", idle0 + o.data_wait, o.start, margs);
    w.slice(kTrackIdle, "wait: dp layer gather", "wait", o.start, o.run_start, margs);
    const auto& sl = in.slices[static_cast<std::size_t>(st)][static_cast<std::size_t>(po.chunk)][po.fwd ? 0 : 1];
    bool seen_layer = false;
    for (const OpSlice& x : sl) {
      const TimePs a = o.run_start + static_cast<TimePs>(std::llround(x.start_s * 1e12));
      const TimePs b = std::min(o.run_end, o.run_start + static_cast<TimePs>(std::llround((x.start_s + x.dur_s) * 1e12)));
      std::string where;
      if (x.layer >= 0) {
        seen_layer = true;
        where = "layer " + std::to_string(in.first_layer[static_cast<std::size_t>(vs)] + x.layer);
      } else {
        // Forward: embedding, layers, output layer and loss; backward the reverse.
        where = po.fwd != seen_layer ? "embedding" : "output layer + loss";
      }
      const char* phase = x.phase == kForward ? "forward" : x.phase == kBackward ? "backward" : "recompute";
      std::string args = "{\"microbatch\":" + std::to_string(po.mb) + ",\"chunk\":" + std::to_string(po.chunk);
      if (x.layer >= 0) args += ",\"layer\":" + std::to_string(in.first_layer[static_cast<std::size_t>(vs)] + x.layer);
      if (x.group < 0) {
        w.slice(kTrackCompute, where + " " + phase, "compute", a, b, args + "}");
      } else {
        args += ",\"bytes\":" + num(x.bytes) + ",\"exposed_us\":" + num(x.dur_s * 1e6) + "}";
        // Blocking collectives occupy [a, b); ring attention's exchanges (cp) overlap the
        // attention before them and show their whole communication time.
        const TimePs ca = x.group == kCP ? b - static_cast<TimePs>(std::llround(x.comm_s * 1e12)) : a;
        w.slice(comm_track(x.group), std::string(to_string(x.op)) + " (" + where + " " + phase + ")", kGroupNames[x.group],
                ca, b, args);
      }
    }
    w.slice(kTrackIdle, "wait: dp layer gather", "wait", o.run_end, o.end, margs);
  }
  for (const auto& x : L.sends)
    w.slice(x.fwd ? kTrackPPFwd : kTrackPPBwd, x.fwd ? "send activations" : "send gradients", "pp", x.start, x.end,
            "{\"microbatch\":" + std::to_string(x.mb) + ",\"to_stage\":" + std::to_string(x.fwd ? st + 1 : st - 1) +
                ",\"bytes\":" + num(in.act_bytes) + "}");
  for (const auto& j : L.jobs)
    w.slice(kTrackDP, std::string(kJobNames[j.kind]) + " (" + to_string(j.op) + ")", "dp", j.start, j.end,
            "{\"bytes\":" + num(j.bytes) + "}");
  if (L.partner_wait > 0) {  // part of the bubble: the other end stage finishes its backward later
    const TimePs a = L.partner_from, b = L.partner_from + L.partner_wait;
    w.slice(kTrackIdle, "wait: dp gradient reduction", "wait", L.finish, a);
    w.slice(kTrackIdle, "bubble", "bubble", a, b, "{\"waiting_for\":\"the other end stage's gradients (tied embedding)\"}");
    w.slice(kTrackIdle, "wait: dp gradient reduction", "wait", b, L.dp_done);
  } else {
    w.slice(kTrackIdle, "wait: dp gradient reduction", "wait", L.finish, L.dp_done);
  }
  w.slice(kTrackOptimizer, "optimizer step", "optimizer", L.dp_done, L.end);
}

}  // namespace

// Energy of the step and what it costs (docs/workloads.md, "Energy and cost"). Every GPU of a
// stage runs that stage's ops (its TP, CP and DP peers run the same kernels in the model); a GPU
// draws the profile's power for each kernel's utilization while its ops run, idle power for launch
// gaps and for the rest of the step (bubbles, waits, the time after it finishes). Communication
// that overlaps compute is not charged on top.
void energy_and_cost(const Scenario& s, const Profile& prof, const std::vector<std::vector<PipeOp>>& ops,
                     const std::vector<StagePlan>& plans, SimResult& r) {
  r.cost_inputs = s.cost;
  if (!r.simulated) return;
  const double gpus = double(s.gpus), tokens = double(s.par.global_batch) * s.model.seq_len;
  EnergyReport& e = r.energy;
  if (prof.has_power()) {
    e.available = true;
    e.power_provenance = prof.power_provenance();
    const double idle_W = prof.power_W(0, 0);
    const double per_stage = double(s.par.tp * s.par.cp * s.par.dp);
    for (std::size_t st = 0; st < plans.size(); ++st) {
      const StagePlan& P = plans[st];
      double joules = 0, busy = 0;
      for (const PipeOp& o : ops[st]) {
        const OpCost& c = (o.fwd ? P.fwd : P.bwd)[static_cast<std::size_t>(o.chunk)];
        joules += c.energy_J;
        busy += c.total_s;
      }
      joules += P.optimizer_J + std::max(0.0, r.step_time_s - busy - P.optimizer_s) * idle_W;
      e.gpu_J_per_step += joules * per_stage;
    }
    e.avg_power_per_gpu_W = e.gpu_J_per_step / (r.step_time_s * gpus);
    e.facility_J_per_step = (e.gpu_J_per_step + s.cost.other_W_per_gpu * gpus * r.step_time_s) * s.cost.pue;
    e.facility_J_per_token = e.facility_J_per_step / tokens;
  } else if (s.cost.usd_per_kWh >= 0) {
    throw_input_error(s.source, "$.cost.usd_per_kWh",
                      "a profile with a power model (profile '" + prof.name() + "' has none)", "an electricity price");
  }
  // Failures over a run (Daly 2006: exponential failures of mean M, checkpoints of cost delta every
  // tau of training, restarts of cost R): wall time per tau = M e^(R/M) (e^((tau + delta)/M) - 1).
  if (s.failures.enabled()) {
    const FailureSpec& F = s.failures;
    FailureReport& f = r.failures;
    f.enabled = true;
    const bool mixed = s.train.precision == "mixed", adam = s.train.optimizer == "adamw";
    f.checkpoint_bytes = total_params(s) * (2 + (adam ? (mixed ? 12 : 4) : (mixed ? 8 : 2)));
    f.checkpoint_write_s = F.checkpoint_write_s > 0 ? F.checkpoint_write_s : f.checkpoint_bytes / (F.storage_write_GBps * 1e9);
    const double M = F.gpu_mtbf_hours * 3600 / gpus, d = f.checkpoint_write_s, R = F.restart_s;
    f.system_mtbf_s = M;
    f.interval_optimal = !(F.checkpoint_interval_s > 0);
    if (!f.interval_optimal) f.checkpoint_interval_s = F.checkpoint_interval_s;
    else if (d < 2 * M) f.checkpoint_interval_s = std::sqrt(2 * d * M) * (1 + std::sqrt(d / (2 * M)) / 3 + d / (2 * M) / 9) - d;
    else f.checkpoint_interval_s = M;
    const double tau = f.checkpoint_interval_s;
    f.goodput = tau / (M * std::exp(R / M) * std::expm1((tau + d) / M));
  }
  const double slow = r.failures.enabled ? 1 / r.failures.goodput : 1;  // wall time per unit of training
  CostReport& c = r.cost;
  const double gpu_hours_per_step = gpus * r.step_time_s / 3600;
  const double kWh_per_step = e.facility_J_per_step / 3.6e6;  // 0 without a power model (then unpriced)
  c.priced = s.cost.usd_per_gpu_hour >= 0 || s.cost.usd_per_kWh >= 0;
  if (c.priced) {
    c.usd_per_step = std::max(0.0, s.cost.usd_per_gpu_hour) * gpu_hours_per_step +
                     std::max(0.0, s.cost.usd_per_kWh) * kWh_per_step;
    c.usd_per_million_tokens = c.usd_per_step / tokens * 1e6;
  }
  if (s.cost.train_tokens > 0) {
    c.run = true;
    c.run_steps = std::ceil(s.cost.train_tokens / tokens);
    c.run_days = c.run_steps * r.step_time_s / 86400 * slow;
    c.run_gpu_hours = c.run_steps * gpu_hours_per_step * slow;
    // Lost work, checkpoints and restarts are charged at the step's average power and price.
    c.run_facility_MWh = e.available ? c.run_steps * kWh_per_step / 1000 * slow : NAN;
    c.run_usd = c.run_steps * c.usd_per_step * slow;
  }
}

SimResult simulate(const Scenario& s, const SimOptions& opt) {
  validate_scenario(s);
  SimResult r;
  r.gpus = s.gpus;
  r.dp = s.par.dp;
  r.global_batch = s.par.global_batch;
  r.microbatches = s.microbatches();
  const Profile prof = s.profile.find('/') != std::string::npos || s.profile.find(".json") != std::string::npos
                           ? Profile::load(s.profile)
                           : Profile::builtin(s.profile);
  r.memory = memory_model(s);
  r.memory.capacity_bytes = prof.hbm_capacity_bytes();
  r.memory.fits = r.memory.per_gpu_bytes <= r.memory.capacity_bytes;
  r.model_flops_per_step = step_flops(s, false);
  r.hardware_flops_per_step = step_flops(s, true);

  r.provenance["profile"] = prof.name();
  r.provenance["profile_gpu"] = prof.gpu();
  r.provenance["profile_description"] = prof.description();
  r.provenance["peak_tflops_datasheet"] = prof.peak_tflops(s.model.dtype);
  r.provenance["system"] = s.system.name;
  r.provenance["placement"] = [&] {
    std::string o;
    for (const auto& g : s.placement) o += (o.empty() ? "" : "-") + g;
    return o;
  }();
  if (!r.memory.fits && !opt.simulate_if_not_fits) return r;

  FabricOptions fo = s.fabric;
  fo.nodes = s.nodes;
  if (s.nodes == 1) fo.kind = FabricKind::single_node;
  const Topology topo = build_topology(s.system, fo);
  const NcclParams P = nccl_params_for_gpu(s.system.gpu_model);
  r.provenance["nccl_params"] = P.provenance;
  r.provenance["fabric"] = to_string(fo.kind);
  r.provenance["oversubscription"] = fo.oversubscription;
  CommTimer timer(s, topo, P);
  CommTimeFn comm = [&](int g, CollOp op, double bytes) { return timer.time(g, op, bytes); };

  const int pp = static_cast<int>(s.par.pp), v = static_cast<int>(s.par.virtual_stages);
  const int m = static_cast<int>(s.microbatches());
  const auto layers = stage_layers(s);
  const int last = pp * v - 1;
  const double gb = grad_bytes_per_param(s);
  const double bucket_params = std::max(40e6, 1e6 * double(s.par.dp * s.par.cp));  // Megatron DDP
  const bool dp_comm = s.par.dp * s.par.cp > 1;
  const CollOp reduce_op = s.par.zero == 0 ? CollOp::allreduce : CollOp::reducescatter;
  // Tied output layer (GPT-style, as stage_params counts it): with pp > 1 the first and last
  // stage each hold a copy and all-reduce its gradient after the data-parallel reduction.
  const bool tied = s.model.vocab > 0 && s.model.ffn != "swiglu" && pp > 1;
  const bool tracing = opt.trace != nullptr;
  std::vector<std::vector<ChunkSlices>> slices(static_cast<std::size_t>(pp));

  std::vector<StagePlan> plans(static_cast<std::size_t>(pp));
  for (int st = 0; st < pp; ++st) {
    StagePlan& P2 = plans[static_cast<std::size_t>(st)];
    StageParams tot;
    for (int c = 0; c < v; ++c) {
      const int vs = c * pp + st;
      const auto nl = layers[static_cast<std::size_t>(vs)];
      ChunkSlices tl(2);
      P2.fwd.push_back(chunk_cost(s, prof, nl, vs == 0, vs == last, false, comm, tracing ? &tl[0] : nullptr));
      P2.bwd.push_back(chunk_cost(s, prof, nl, vs == 0, vs == last, true, comm, tracing ? &tl[1] : nullptr));
      slices[static_cast<std::size_t>(st)].push_back(std::move(tl));
      const StageParams sp = stage_params(s, layers, vs);
      tot.dense += sp.dense;
      tot.experts += sp.experts;
      const double params = sp.dense + sp.experts;
      std::vector<Bucket> bk;
      if (dp_comm && s.par.zero < 3) {
        const int nb = std::max(1, static_cast<int>(std::ceil(params / bucket_params)));
        double done = 0;
        for (int k = 0; k < nb; ++k) {
          const double p = std::min(bucket_params, params - done);
          done += p;
          bk.push_back({done / params, timer.time(kDP, reduce_op, p * gb), p * gb, reduce_op});
        }
        if (s.par.zero >= 1) {
          double g = 0;
          for (int k = 0; k < nb; ++k) g += timer.time(kDP, CollOp::allgather, std::min(bucket_params, params - k * bucket_params) * 2);
          P2.start_gather_s.push_back(g);
          P2.start_gather_bytes.push_back(params * 2);
        }
      }
      P2.buckets.push_back(bk);
      if (dp_comm && s.par.zero == 3) {
        const int n = static_cast<int>(std::max<std::int64_t>(1, nl));
        P2.z3_pieces.push_back(n);
        P2.z3_gather_s.push_back(timer.time(kDP, CollOp::allgather, params / n * 2));
        P2.z3_scatter_s.push_back(timer.time(kDP, CollOp::reducescatter, params / n * gb));
        P2.z3_gather_bytes.push_back(params / n * 2);
        P2.z3_scatter_bytes.push_back(params / n * gb);
      }
    }
    P2.optimizer_s = optimizer_time_s(s, prof, tot);
    P2.optimizer_J = optimizer_energy_J(s, prof, tot);
    P2.overlap = s.train.overlap_grad_reduce;
  }
  if (tied) {
    const double bytes = embedding_params(s.model) / s.par.tp * gb;
    for (int st : {0, pp - 1}) {
      plans[static_cast<std::size_t>(st)].emb_s = timer.time(kEmbeddingGroup, CollOp::allreduce, bytes);
      plans[static_cast<std::size_t>(st)].emb_bytes = bytes;
    }
  }

  const auto ops = pipeline_ops(pp, v, m, s.par.schedule);
  // Megatron scatters the activation over the TP ranks for the transfer (each sends 1/tp).
  const double act_bytes = double(s.par.micro_batch) * s.model.seq_len / s.par.cp * s.model.hidden * 2 / s.par.tp;
  const double p2p_s = pp > 1 ? timer.time(kPP, CollOp::sendrecv, act_bytes) : 0;

  // Pass 1: every kind of traffic alone on the fabric. Pass 2 (when kinds share links): each
  // stage's DP jobs and sends are slowed by the measured contention factors, weighted by the
  // fraction of their time pass 1 had them overlapping the other kind (not iterated further).
  std::vector<TimePs> p2p_ps(static_cast<std::size_t>(pp), s_to_ps_ceil(p2p_s));
  std::vector<double> dp_scale(static_cast<std::size_t>(pp), 1.0);
  auto sim = std::make_unique<PipelineSim>(ops, plans, pp, v, m, p2p_ps, dp_scale);
  auto stats = sim->run(&r.events);
  CommTimer::Contention K;
  if (pp > 1 && dp_comm) {
    const Bucket* b0 = nullptr;
    for (const auto& bk : plans[0].buckets)
      if (!bk.empty() && !b0) b0 = &bk.front();
    if (b0) K = timer.contention(reduce_op, static_cast<Bytes>(std::llround(b0->bytes)),
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
        dp_scale[su] = 1 + (K.dp_dp - 1) * covered_fraction(mine, others) + (K.dp_pp - 1) * covered_fraction(mine, pp_near);
        const double send_scale = 1 + (K.pp_dp - 1) * covered_fraction(send_intervals(lg[su], -1), dp_near);
        p2p_ps[su] = s_to_ps_ceil(p2p_s * send_scale);
        changed = changed || dp_scale[su] > 1 || send_scale > 1;
      }
      if (changed) {
        sim = std::make_unique<PipelineSim>(ops, plans, pp, v, m, p2p_ps, dp_scale);
        stats = sim->run(&r.events);
      }
    }
  }
  r.provenance["contention"] = {{"dp_with_other_stages_dp", K.dp_dp}, {"dp_with_pp", K.dp_pp}, {"pp_with_dp", K.pp_dp}};
  int crit = 0;
  for (int i = 1; i < pp; ++i)
    if (stats[static_cast<std::size_t>(i)].end_s > stats[static_cast<std::size_t>(crit)].end_s) crit = i;
  const StageStats& X = stats[static_cast<std::size_t>(crit)];
  const StageLog& XL = sim->logs()[static_cast<std::size_t>(crit)];
  double idle = X.end_s - X.busy_s - X.dp_exposed_s - plans[static_cast<std::size_t>(crit)].optimizer_s;
  // Bubble: of each wait for an op's input, the part that remains when transfers are free (the
  // same schedule re-run with zero-time sends); the rest is exposed pipeline communication.
  std::unique_ptr<PipelineSim> free_sim;
  const double pw = X.partner_wait_s;
  double bubble = idle;
  if (pp > 1 && p2p_s > 0) {
    free_sim = std::make_unique<PipelineSim>(ops, plans, pp, v, m, std::vector<TimePs>(static_cast<std::size_t>(pp), 0),
                                             dp_scale);
    free_sim->run(&r.events);
    const StageLog& YL = free_sim->logs()[static_cast<std::size_t>(crit)];
    TimePs b = 0;
    for (std::size_t i = 0; i < XL.ops.size() && i < YL.ops.size(); ++i)
      b += std::min(XL.ops[i].data_wait, YL.ops[i].data_wait);
    bubble = std::min(idle - pw, ps_to_s(b)) + pw;
  }
  r.simulated = true;
  r.critical_stage = crit;
  r.step_time_s = X.end_s;
  Breakdown& B = r.breakdown;
  B.compute_s = X.compute_s + X.gap_s;
  B.launch_gap_s = X.gap_s;
  B.optimizer_s = plans[static_cast<std::size_t>(crit)].optimizer_s;
  B.bubble_s = std::max(0.0, bubble);
  B.pp_s = std::max(0.0, idle - B.bubble_s);
  B.tp_s = X.exposed[kTP];
  B.cp_s = X.exposed[kCP];
  B.ep_s = X.exposed[kEP];
  B.dp_s = X.dp_exposed_s;
  r.comm_total_s[kTP] = X.busy[kTP];
  r.comm_total_s[kCP] = X.busy[kCP];
  r.comm_total_s[kEP] = X.busy[kEP];
  r.comm_total_s[kPP] = X.pp_busy_s;
  r.comm_total_s[kDP] = X.dp_busy_s;
  double comm_all = 0;
  for (double c : r.comm_total_s) comm_all += c;
  r.comm_to_compute = B.compute_s > 0 ? comm_all / B.compute_s : 0;
  if (s.stragglers.enabled()) {
    // Parameters not in the scenario come from the profile's variability (from_profile).
    StragglerSpec spec = s.stragglers;
    StragglerReport& G = r.stragglers;
    G.gpu_cv_from = G.op_cv_from = "scenario";
    if (spec.from_profile)
      for (auto [key, given, value, from] : {std::tuple{"gpu_cv", spec.gpu_cv_given, &spec.gpu_cv, &G.gpu_cv_from},
                                             std::tuple{"op_cv", spec.op_cv_given, &spec.op_cv, &G.op_cv_from}}) {
        if (given) continue;
        const double x = prof.variability_cv(key);
        if (x < 0)
          throw_input_error(s.source, "$.stragglers.from_profile",
                            std::string("a profile with variability.") + key + " or an explicit stragglers." + key,
                            "profile '" + prof.name() + "' without it");
        *value = x;
        *from = "profile";
      }
    G.gpu_cv = spec.gpu_cv;
    G.op_cv = spec.op_cv;
    G.enabled = true;
    G.nominal_step_time_s = r.step_time_s;
    const std::vector<TimePs> steps = run_stragglers(s, spec, timer, ops, plans, pp, v, m, p2p_ps, dp_scale, G, &r.events);
    // Over the simulated steps: the mean is the step time; the spread says how steps vary.
    std::vector<double> t;
    for (TimePs x : steps) t.push_back(ps_to_s(x));
    double sum = 0;
    for (double x : t) sum += x;
    const double mean = sum / double(t.size());
    double var = 0;
    for (double x : t) var += (x - mean) * (x - mean);
    std::sort(t.begin(), t.end());
    auto rank = [&](double q) {  // nearest rank
      const auto i = static_cast<std::size_t>(std::ceil(q * double(t.size())));
      return t[std::min(t.size() - 1, i > 0 ? i - 1 : 0)];
    };
    G.steps = static_cast<int>(t.size());
    G.step_sd_s = t.size() > 1 ? std::sqrt(var / double(t.size() - 1)) : 0;
    G.step_min_s = t.front();
    G.step_p5_s = rank(0.05);
    G.step_p50_s = rank(0.5);
    G.step_p95_s = rank(0.95);
    G.step_max_s = t.back();
    r.step_time_s = t.size() == 1 ? t.front() : mean;
    B.straggler_s = r.step_time_s - G.nominal_step_time_s;
  }
  const double tokens = double(s.par.global_batch) * s.model.seq_len;
  r.tokens_per_s = tokens / r.step_time_s;
  r.samples_per_s = double(s.par.global_batch) / r.step_time_s;
  r.tflops_per_gpu = r.hardware_flops_per_step / r.step_time_s / double(s.gpus) * 1e-12;
  r.mfu = r.model_flops_per_step / (r.step_time_s * double(s.gpus) * prof.peak_tflops(s.model.dtype) * 1e12);
  r.comm_timings = timer.timings();
  energy_and_cost(s, prof, ops, plans, r);

  if (tracing) {
    std::vector<std::int64_t> first_layer;
    std::int64_t acc = 0;
    for (auto nl : layers) {
      first_layer.push_back(acc);
      acc += nl;
    }
    const auto& free_logs = free_sim ? free_sim->logs() : sim->logs();
    const TraceInput in{s, ops, sim->logs(), free_logs, slices, first_layer, act_bytes};
    std::vector<std::uint32_t> ranks = opt.trace_ranks;
    if (ranks.empty())  // one pipeline: tp 0, cp 0, dp 0 of every stage
      for (int st = 0; st < pp; ++st) ranks.push_back(timer.rank(0, 0, 0, st));
    auto& meta = r.trace_metadata;
    meta["traced_ranks"] = ranks.size();
    meta["critical_stage"] = crit;
    meta["folding"] = "each traced GPU shows the events of the GPU of its pipeline stage with tp, cp and dp index 0 "
                      "(its TP, CP and DP peers run identical kernels in the model)";
    nlohmann::ordered_json folded = nlohmann::ordered_json::object();
    for (auto rk : ranks) {
      if (rk >= static_cast<std::uint64_t>(s.gpus))
        throw InputError("trace ranks: expected GPUs below " + std::to_string(s.gpus) + ", got " + std::to_string(rk));
      const auto c = timer.coords(rk);
      const int st = static_cast<int>(c[3]);
      const std::uint32_t rep = timer.rank(0, 0, 0, st);
      std::string name = "GPU " + std::to_string(rk) + " (stage " + std::to_string(st) + ", tp " + std::to_string(c[0]) +
                         ", cp " + std::to_string(c[1]) + ", dp " + std::to_string(c[2]) + ")";
      if (rep != rk) {
        name += " = GPU " + std::to_string(rep) + " folded";
        folded[std::to_string(rk)] = rep;
      }
      const int pid = static_cast<int>(rk);
      opt.trace->name_process(pid, name);
      for (int t = 0; t < 9; ++t) opt.trace->name_thread(pid, t, kTrackNames[t]);
      trace_stage(*opt.trace, pid, st, in);
    }
    meta["folded_ranks"] = folded;
    meta["events"] = opt.trace->events();
    meta["dropped_events"] = opt.trace->dropped();
  }
  return r;
}

nlohmann::ordered_json SimResult::to_json() const {
  nlohmann::ordered_json j;
  j["simulated"] = simulated;
  j["step_time_s"] = step_time_s;
  j["tokens_per_s"] = tokens_per_s;
  j["samples_per_s"] = samples_per_s;
  j["model_flops_per_step"] = model_flops_per_step;
  j["hardware_flops_per_step"] = hardware_flops_per_step;
  j["tflops_per_gpu"] = tflops_per_gpu;
  j["mfu"] = mfu;
  j["memory_per_gpu_bytes"] = memory.per_gpu_bytes;
  j["comm_to_compute"] = comm_to_compute;
  nlohmann::ordered_json b;
  b["compute_s"] = breakdown.compute_s;
  b["exposed_comm_s"] = breakdown.exposed_comm_s();
  b["exposed_comm_by_group_s"] = {{"tp", breakdown.tp_s}, {"pp", breakdown.pp_s}, {"dp", breakdown.dp_s},
                                  {"cp", breakdown.cp_s}, {"ep", breakdown.ep_s}};
  b["bubble_s"] = breakdown.bubble_s;
  b["optimizer_s"] = breakdown.optimizer_s;
  b["launch_gap_s"] = breakdown.launch_gap_s;
  b["straggler_s"] = breakdown.straggler_s;
  b["critical_stage"] = critical_stage;
  j["breakdown"] = b;
  j["comm_busy_s"] = {{"tp", comm_total_s[kTP]}, {"pp", comm_total_s[kPP]}, {"dp", comm_total_s[kDP]},
                      {"cp", comm_total_s[kCP]}, {"ep", comm_total_s[kEP]}};
  nlohmann::ordered_json mj;
  mj["fits"] = memory.fits;
  mj["per_gpu_bytes"] = memory.per_gpu_bytes;
  mj["capacity_bytes"] = memory.capacity_bytes;
  mj["worst_stage"] = memory.worst_stage;
  mj["weights_bytes"] = memory.weights_bytes;
  mj["gradients_bytes"] = memory.gradients_bytes;
  mj["optimizer_bytes"] = memory.optimizer_bytes;
  mj["activations_bytes"] = memory.activations_bytes;
  mj["buffers_bytes"] = memory.buffers_bytes;
  mj["inflight_microbatches"] = memory.inflight_microbatches;
  j["memory"] = mj;
  j["batch"] = {{"gpus", gpus}, {"dp", dp}, {"global_batch", global_batch}, {"microbatches", microbatches}};
  if (stragglers.enabled) {
    j["stragglers"] = {{"nominal_step_time_s", stragglers.nominal_step_time_s},
                       {"slowdown", step_time_s / stragglers.nominal_step_time_s},
                       {"slowest_gpu", stragglers.slowest_gpu},
                       {"slowest_gpu_factor", stragglers.slowest_gpu_factor},
                       {"slowest_stage", stragglers.slowest_stage},
                       {"slowest_replica", stragglers.slowest_replica},
                       {"replicas_simulated", stragglers.replicas},
                       {"gpu_cv", stragglers.gpu_cv},
                       {"gpu_cv_from", stragglers.gpu_cv_from},
                       {"op_cv", stragglers.op_cv},
                       {"op_cv_from", stragglers.op_cv_from},
                       {"steps", stragglers.steps},
                       {"step_time_s", {{"mean", step_time_s}, {"sd", stragglers.step_sd_s},
                                        {"min", stragglers.step_min_s}, {"p5", stragglers.step_p5_s},
                                        {"p50", stragglers.step_p50_s}, {"p95", stragglers.step_p95_s},
                                        {"max", stragglers.step_max_s}}}};
  } else {
    j["stragglers"] = nullptr;
  }
  // Energy and cost: null when the profile has no power model (energy) or no price was given (cost).
  if (energy.available) {
    nlohmann::ordered_json e;
    e["gpu_J_per_step"] = energy.gpu_J_per_step;
    e["avg_power_per_gpu_W"] = energy.avg_power_per_gpu_W;
    e["facility_J_per_step"] = energy.facility_J_per_step;
    e["facility_J_per_token"] = energy.facility_J_per_token;
    e["pue"] = cost_inputs.pue;
    e["other_W_per_gpu"] = cost_inputs.other_W_per_gpu;
    e["power_model"] = energy.power_provenance;
    j["energy"] = e;
  } else {
    j["energy"] = nullptr;
  }
  nlohmann::ordered_json c = nullptr;
  if (cost.priced || cost.run) {
    c = nlohmann::ordered_json::object();
    auto price = [](double v) { return v >= 0 ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); };
    c["usd_per_gpu_hour"] = price(cost_inputs.usd_per_gpu_hour);
    c["usd_per_kWh"] = price(cost_inputs.usd_per_kWh);
    c["usd_per_step"] = cost.priced ? nlohmann::ordered_json(cost.usd_per_step) : nlohmann::ordered_json();
    c["usd_per_million_tokens"] =
        cost.priced ? nlohmann::ordered_json(cost.usd_per_million_tokens) : nlohmann::ordered_json();
    if (cost.run) {
      c["run"] = {{"train_tokens", cost_inputs.train_tokens}, {"steps", cost.run_steps}, {"days", cost.run_days},
                  {"gpu_hours", cost.run_gpu_hours},
                  {"facility_MWh", energy.available ? nlohmann::ordered_json(cost.run_facility_MWh) : nlohmann::ordered_json()},
                  {"usd", cost.priced ? nlohmann::ordered_json(cost.run_usd) : nlohmann::ordered_json()}};
    }
  }
  j["cost"] = c;
  if (failures.enabled) {
    j["failures"] = {{"system_mtbf_h", failures.system_mtbf_s / 3600},
                     {"checkpoint_bytes", failures.checkpoint_bytes},
                     {"checkpoint_write_s", failures.checkpoint_write_s},
                     {"checkpoint_interval_s", failures.checkpoint_interval_s},
                     {"interval", failures.interval_optimal ? "Daly's optimum" : "given"},
                     {"goodput", failures.goodput},
                     {"effective_tokens_per_s", tokens_per_s * failures.goodput}};
  } else {
    j["failures"] = nullptr;
  }
  j["provenance"] = provenance;
  j["events"] = events;
  j["comm_timings"] = comm_timings;
  return j;
}

}  // namespace knee

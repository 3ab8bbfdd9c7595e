// One training step as events: per-stage compute streams running the pipeline schedule's ops,
// point-to-point activation transfers between stages, and a data-parallel stream per stage that
// reduces gradient buckets while backward runs. Collective times come from the flow-level network
// (CommTimer), with every concurrent communicator of a kind on the fabric at once.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <tuple>

#include "sim/collectives/collective.hpp"
#include "sim/collectives/executor.hpp"
#include "sim/engine/engine.hpp"
#include "sim/workload/model.hpp"

namespace knee {
using namespace workload;

namespace {

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

  // Runs schedules together on one network; seconds from the first start to the last end.
  double run(const std::vector<std::shared_ptr<const CollSchedule>>& scheds) const {
    Engine e;
    FlowNetwork net(e, links_);
    CollectiveExecutor ex(e, net, topo_);
    std::vector<std::uint32_t> ids;
    for (auto& sc : scheds) ids.push_back(ex.launch(sc));
    e.run();
    TimePs end = 0;
    for (auto id : ids) end = std::max(end, ex.stats(id).end_ps);
    return ps_to_s(end);
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
    return run({sc});
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

  double measure(int group, CollOp op, Bytes bytes) const {
    const auto& p = s_.par;
    switch (group) {
      case kTP: {
        std::vector<std::uint32_t> r;
        for (std::int64_t i = 0; i < p.tp; ++i) r.push_back(rank(i, 0, 0, 0));
        return groups(op, bytes, {r});
      }
      case kDP: {  // gradients are reduced over dp x cp (context-parallel ranks share weights)
        std::vector<std::vector<std::uint32_t>> gs;
        for (std::int64_t t = 0; t < p.tp; ++t) {
          std::vector<std::uint32_t> r;
          for (std::int64_t d = 0; d < p.dp; ++d)
            for (std::int64_t c = 0; c < p.cp; ++c) r.push_back(rank(t, c, d, 0));
          gs.push_back(r);
        }
        return groups(op, bytes, gs);
      }
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
      case kPP: {  // stage 0 -> 1 of every (tp, cp, dp) replica at once
        std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
        for (std::int64_t d = 0; d < p.dp && pairs.size() < kFlowBudget / 2; ++d)
          for (std::int64_t c = 0; c < p.cp; ++c)
            for (std::int64_t t = 0; t < p.tp; ++t) pairs.push_back({rank(t, c, d, 0), rank(t, c, d, 1)});
        return p2p(pairs, bytes);
      }
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

struct Bucket {
  double ready_frac;  // of the backward op after which its gradients are complete
  double dur_s;
};

struct StagePlan {
  std::vector<OpCost> fwd, bwd;                // per chunk
  std::vector<std::vector<Bucket>> buckets;    // per chunk: reductions after the last backward
  std::vector<double> start_gather_s;          // per chunk: ZeRO-1/2 parameter all-gather
  std::vector<double> z3_gather_s, z3_scatter_s;  // per chunk: per-layer piece durations
  std::vector<int> z3_pieces;
  double optimizer_s = 0;
  bool overlap = true;  // reduce buckets during the last backward, else after the backward
};

struct StageStats {
  double busy_s = 0, compute_s = 0, gap_s = 0, dp_exposed_s = 0, end_s = 0, dp_busy_s = 0;
  double exposed[5] = {0, 0, 0, 0, 0}, busy[5] = {0, 0, 0, 0, 0};
  int sends = 0;
};

class PipelineSim : public EventSink {
 public:
  PipelineSim(const std::vector<std::vector<PipeOp>>& ops, const std::vector<StagePlan>& plans, int pp,
              int v, int m, double p2p_s)
      : ops_(ops), plans_(plans), pp_(pp), v_(v), m_(m), p2p_ps_(s_to_ps_ceil(p2p_s)) {}

  std::vector<StageStats> run(std::uint64_t* events) {
    sink_ = engine_.add_sink(this);
    const std::size_t n = static_cast<std::size_t>(pp_) * v_ * m_;
    fwd_ready_.assign(n, -1);
    bwd_ready_.assign(n, -1);
    st_.assign(static_cast<std::size_t>(pp_), State{});
    stats_.assign(static_cast<std::size_t>(pp_), StageStats{});
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
      for (int c = 0; c < v_ && !P.start_gather_s.empty(); ++c) {
        S.dp_free += s_to_ps_ceil(P.start_gather_s[static_cast<std::size_t>(c)]);
        stats_[static_cast<std::size_t>(s)].dp_busy_s += P.start_gather_s[static_cast<std::size_t>(c)];
        S.gate[static_cast<std::size_t>(c)] = S.dp_free;
      }
    }
    for (int s = 0; s < pp_; ++s) try_start(s);
    engine_.run();
    if (events) *events += engine_.events_processed();
    return stats_;
  }

  void handle(Engine& e, std::uint32_t tag, std::uint64_t payload) override {
    if (tag == kWake) {
      st_[payload].wake_pending = false;
      try_start(static_cast<int>(payload));
    } else if (tag == kDone) {
      done(static_cast<int>(payload));
    } else {
      const int vs = static_cast<int>(payload / m_), mb = static_cast<int>(payload % m_);
      (tag == kArriveF ? fwd_ready_ : bwd_ready_)[payload] = e.now();
      try_start(vs % pp_);
      (void)mb;
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
  TimePs dp_enqueue(int s, TimePs ready, double dur_s) {
    State& S = st_[static_cast<std::size_t>(s)];
    S.dp_free = std::max(S.dp_free, ready) + s_to_ps_ceil(dur_s);
    stats_[static_cast<std::size_t>(s)].dp_busy_s += dur_s;
    return S.dp_free;
  }

  void try_start(int s) {
    State& S = st_[static_cast<std::size_t>(s)];
    StageStats& X = stats_[static_cast<std::size_t>(s)];
    const StagePlan& P = plans_[static_cast<std::size_t>(s)];
    if (S.busy || S.finished || S.wake_pending) return;
    const auto& ops = ops_[static_cast<std::size_t>(s)];
    const TimePs now = engine_.now();
    if (S.idx == ops.size()) {  // wait for gradient reductions, then the optimizer step
      S.finished = true;
      if (!P.overlap)
        for (const auto& bk : P.buckets)
          for (const Bucket& b : bk) dp_enqueue(s, now, b.dur_s);
      const TimePs dp_done = std::max(now, S.dp_free);
      X.dp_exposed_s += ps_to_s(dp_done - now);
      X.end_s = ps_to_s(dp_done + s_to_ps_ceil(P.optimizer_s));
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
    const TimePs dur = s_to_ps_ceil(c.total_s);
    TimePs end = now + dur;
    const std::size_t ci = static_cast<std::size_t>(o.chunk);
    if (!P.z3_pieces.empty() && P.z3_pieces[ci] > 0) {  // ZeRO-3: gather each layer before use
      const int n = P.z3_pieces[ci];
      TimePs first = 0, lastp = 0;
      for (int j = 0; j < n; ++j) {
        TimePs e = dp_enqueue(s, now, P.z3_gather_s[ci]);
        if (j == 0) first = e;
        lastp = e;
      }
      const TimePs start = std::max(now, first);
      end = std::max(start + dur, lastp + dur / n);
      X.dp_exposed_s += ps_to_s(end - now - dur);
      if (!o.fwd)
        for (int j = 0; j < n; ++j) dp_enqueue(s, start + dur * (j + 1) / n, P.z3_scatter_s[ci]);
    }
    if (P.overlap && !o.fwd && S.idx == last_bwd_[static_cast<std::size_t>(s)][ci])
      for (const Bucket& b : P.buckets[ci])
        dp_enqueue(s, now + static_cast<TimePs>(std::llround(static_cast<double>(dur) * b.ready_frac)), b.dur_s);
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
    if (o.fwd && vs < last) send(s, S.send_f, kArriveF, key(vs + 1, o.mb), now);
    if (!o.fwd && vs > 0) send(s, S.send_b, kArriveB, key(vs - 1, o.mb), now);
    try_start(s);
  }

  void send(int s, TimePs& free, std::uint32_t tag, std::size_t k, TimePs now) {
    free = std::max(free, now) + p2p_ps_;
    ++stats_[static_cast<std::size_t>(s)].sends;
    engine_.schedule_at(free, sink_, tag, k);
  }

  const std::vector<std::vector<PipeOp>>& ops_;
  const std::vector<StagePlan>& plans_;
  int pp_, v_, m_;
  TimePs p2p_ps_;
  Engine engine_;
  SinkId sink_ = 0;
  std::vector<TimePs> fwd_ready_, bwd_ready_;
  std::vector<State> st_;
  std::vector<StageStats> stats_;
  std::vector<std::vector<std::size_t>> last_bwd_;
};

}  // namespace

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

  const auto& pj = prof.json();
  r.provenance["profile"] = prof.name();
  r.provenance["profile_gpu"] = prof.gpu();
  r.provenance["profile_description"] = pj.value("description", std::string());
  r.provenance["peak_tflops_datasheet"] = peak_tflops(prof, s.model.dtype);
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

  std::vector<StagePlan> plans(static_cast<std::size_t>(pp));
  for (int st = 0; st < pp; ++st) {
    StagePlan& P2 = plans[static_cast<std::size_t>(st)];
    StageParams tot;
    for (int c = 0; c < v; ++c) {
      const int vs = c * pp + st;
      const auto nl = layers[static_cast<std::size_t>(vs)];
      P2.fwd.push_back(chunk_cost(s, prof, nl, vs == 0, vs == last, false, comm));
      P2.bwd.push_back(chunk_cost(s, prof, nl, vs == 0, vs == last, true, comm));
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
          const CollOp op = s.par.zero == 0 ? CollOp::allreduce : CollOp::reducescatter;
          bk.push_back({done / params, timer.time(kDP, op, p * gb)});
        }
        if (s.par.zero >= 1) {
          double g = 0;
          for (int k = 0; k < nb; ++k) g += timer.time(kDP, CollOp::allgather, std::min(bucket_params, params - k * bucket_params) * 2);
          P2.start_gather_s.push_back(g);
        }
      }
      P2.buckets.push_back(bk);
      if (dp_comm && s.par.zero == 3) {
        const int n = static_cast<int>(std::max<std::int64_t>(1, nl));
        P2.z3_pieces.push_back(n);
        P2.z3_gather_s.push_back(timer.time(kDP, CollOp::allgather, params / n * 2));
        P2.z3_scatter_s.push_back(timer.time(kDP, CollOp::reducescatter, params / n * gb));
      }
    }
    P2.optimizer_s = optimizer_time_s(s, prof, tot);
    P2.overlap = s.train.overlap_grad_reduce;
  }

  const auto ops = pipeline_ops(pp, v, m, s.par.schedule);
  const bool sp = s.par.sequence_parallel && s.par.tp > 1;
  (void)sp;
  // Megatron scatters the activation over the TP ranks for the transfer (each sends 1/tp).
  const double act_bytes = double(s.par.micro_batch) * s.model.seq_len / s.par.cp * s.model.hidden * 2 / s.par.tp;
  const double p2p_s = pp > 1 ? timer.time(kPP, CollOp::sendrecv, act_bytes) : 0;

  PipelineSim sim(ops, plans, pp, v, m, p2p_s);
  const auto stats = sim.run(&r.events);
  int crit = 0;
  for (int i = 1; i < pp; ++i)
    if (stats[static_cast<std::size_t>(i)].end_s > stats[static_cast<std::size_t>(crit)].end_s) crit = i;
  const StageStats& X = stats[static_cast<std::size_t>(crit)];
  double idle = X.end_s - X.busy_s - X.dp_exposed_s - plans[static_cast<std::size_t>(crit)].optimizer_s;
  double bubble = idle;
  if (pp > 1 && p2p_s > 0) {  // the same schedule with free transfers: what remains idle is bubble
    PipelineSim free_sim(ops, plans, pp, v, m, 0);
    const auto st0 = free_sim.run(&r.events);
    const StageStats& Y = st0[static_cast<std::size_t>(crit)];
    bubble = std::min(idle, std::max(0.0, Y.end_s - Y.busy_s - Y.dp_exposed_s - plans[static_cast<std::size_t>(crit)].optimizer_s));
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
  r.comm_total_s[kPP] = X.sends * p2p_s;
  r.comm_total_s[kDP] = X.dp_busy_s;
  double comm_all = 0;
  for (double c : r.comm_total_s) comm_all += c;
  r.comm_to_compute = B.compute_s > 0 ? comm_all / B.compute_s : 0;
  const double tokens = double(s.par.global_batch) * s.model.seq_len;
  r.tokens_per_s = tokens / r.step_time_s;
  r.samples_per_s = double(s.par.global_batch) / r.step_time_s;
  r.tflops_per_gpu = r.hardware_flops_per_step / r.step_time_s / double(s.gpus) * 1e-12;
  r.mfu = r.model_flops_per_step / (r.step_time_s * double(s.gpus) * peak_tflops(prof, s.model.dtype) * 1e12);
  r.comm_timings = timer.timings();
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
  j["provenance"] = provenance;
  j["events"] = events;
  j["comm_timings"] = comm_timings;
  return j;
}

}  // namespace knee

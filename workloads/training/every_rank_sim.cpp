#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include "common/error.hpp"
#include "workloads/training/every_rank_units.hpp"

namespace knee::workload {
namespace every_rank_detail {

EveryRankRun EveryRankSim::run() {
  start();
  engine_.run();
  return collect();
}

void EveryRankSim::start() {
  sink_ = engine_.add_sink(this);
  const std::size_t nu = static_cast<std::size_t>(pp_) * static_cast<std::size_t>(reps_);
  units_.assign(nu, Unit{});
  stats_.assign(nu, StageStats{});
  logs_.assign(nu, StageLog{});
  queues_.assign(static_cast<std::size_t>(pp_), {});
  head_.assign(static_cast<std::size_t>(pp_), 0);
  stage_busy_.assign(static_cast<std::size_t>(pp_), false);
  stage_wake_.assign(static_cast<std::size_t>(pp_), false);
  const std::size_t keys = static_cast<std::size_t>(pp_) * v_ * m_;
  fwd_ready_.assign(static_cast<std::size_t>(reps_), std::vector<TimePs>(keys, -1));
  bwd_ready_.assign(static_cast<std::size_t>(reps_), std::vector<TimePs>(keys, -1));
  emb_ready_.assign(static_cast<std::size_t>(reps_) * 2, -1);
  last_bwd_.assign(static_cast<std::size_t>(pp_), std::vector<std::size_t>(static_cast<std::size_t>(v_), 0));
  pace_ = unit_paces(s_, timer_);
  for (int p = 0; p < pp_; ++p) {
    const auto& ops = plan_.ops[static_cast<std::size_t>(p)];
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (!ops[i].fwd) last_bwd_[static_cast<std::size_t>(p)][static_cast<std::size_t>(ops[i].chunk)] = i;
  }
  for (std::size_t u = 0; u < nu; ++u) {
    Unit& U = units_[u];
    U.stage = static_cast<int>(u / static_cast<std::size_t>(reps_));
    U.rep = static_cast<int>(u % static_cast<std::size_t>(reps_));
    U.gates.assign(static_cast<std::size_t>(v_), {});
    const StagePlan& P = plan_.stages[static_cast<std::size_t>(U.stage)];
    // ZeRO-1/2: the previous step's parameter gathers, queued at the step start (pipeline_sim.hpp).
    for (int c = 0; c < v_ && !P.gathers.empty() && P.overlap_param_gather; ++c)
      for (const Gather& g : P.gathers[static_cast<std::size_t>(c)])
        U.gates[static_cast<std::size_t>(c)].push_back(
            {g.need_frac, enqueue(u, 0, CollOp::allgather, g.bytes, kParamGather)});
  }
  for (std::size_t u = 0; u < nu; ++u) try_start(u);
}

EveryRankRun EveryRankSim::collect() {
  const std::size_t nu = units_.size();
  for (std::size_t u = 0; u < nu; ++u)  // every unit's step ended: no collective left waiting for a member
    if (!units_[u].finished || stats_[u].end_s <= 0)
      throw std::logic_error("every-rank simulation: unit " + std::to_string(u) + " did not finish its step");
  EveryRankRun out;
  out.events = engine_.events_processed();
  out.flows = net_.flows_completed();
  out.collectives = collectives_;
  for (std::uint32_t l = 0; l < net_.num_links(); ++l) {
    const double busy = net_.link_bytes(l) / net_.link_capacity_Bps(l);
    if (busy > out.busiest_link_busy_s) {
      out.busiest_link = l;
      out.busiest_link_busy_s = busy;
      out.busiest_link_bytes = net_.link_bytes(l);
    }
  }
  out.units_per_stage = static_cast<int>(reps_);
  for (std::size_t u = 0; u < nu; ++u) {  // the stage's jobs, as each of its GPUs saw them
    const auto& q = queues_[static_cast<std::size_t>(units_[u].stage)];
    for (const DpJob& j : q) {
      stats_[u].dp_busy_s += ps_to_s(j.end - j.start);
      logs_[u].jobs.push_back({j.start, j.end, j.kind, double(j.bytes), j.op, j.ready});
    }
  }
  out.stats = std::move(stats_);
  out.logs = std::move(logs_);
  out.pace = pace_;
  return out;
}

void EveryRankSim::handle(Engine& e, std::uint32_t tag, std::uint64_t payload) {
  switch (tag) {
    case kWake:
      units_[payload].wake_pending = false;
      try_start(payload);
      break;
    case kDone:
      done(payload);
      break;
    case kStageWake:
      stage_wake_[payload] = false;
      try_launch(static_cast<int>(payload));
      break;
    case kJobDone:
      job_done(static_cast<int>(payload));
      break;
    case kSendDone:
      send_done(payload / 2, static_cast<int>(payload % 2));
      break;
    case kArrive: {  // free sends: (unit, key, fwd) packed
      const std::size_t dst = payload >> 33, k = (payload >> 1) & 0xffffffffu;
      const Unit& D = units_[dst];
      ((payload & 1) ? fwd_ready_ : bwd_ready_)[static_cast<std::size_t>(D.rep)][k] = e.now();
      try_start(dst);
      break;
    }
    case kEmbDone:
      emb_done(static_cast<int>(payload));
      break;
    case kOptDone:
      post_optimizer(payload);
      break;
  }
}

void EveryRankSim::try_start(std::size_t u) {
  Unit& U = units_[u];
  if (U.busy || U.finished || U.wake_pending || U.wait != kNoWait) return;
  const int st = U.stage;
  const auto& ops = plan_.ops[static_cast<std::size_t>(st)];
  const StagePlan& P = plan_.stages[static_cast<std::size_t>(st)];
  StageStats& X = stats_[u];
  StageLog& L = logs_[u];
  const TimePs now = engine_.now();
  if (U.idx == ops.size()) {
    U.finished = true;
    L.finish = now;
    if (!P.overlap)
      for (const auto& bk : P.buckets)
        for (const Bucket& b : bk) enqueue(u, now, b.op, b.bytes, kGradReduce);
    after_dp(u);
    return;
  }
  const PipeOp& o = ops[U.idx];
  const int vs = o.chunk * pp_ + st, last = pp_ * v_ - 1;
  TimePs ready = 0;
  if (o.fwd && vs > 0) ready = fwd_ready_[static_cast<std::size_t>(U.rep)][key(vs, o.mb)];
  if (!o.fwd && vs < last) ready = bwd_ready_[static_cast<std::size_t>(U.rep)][key(vs, o.mb)];
  if (ready < 0) return;  // the arrival retries
  const TimePs data_at = std::max(ready, U.free_at);
  const auto& gates = U.gates[static_cast<std::size_t>(o.chunk)];
  TimePs gate = 0;
  if (o.fwd && !gates.empty() && !job_done_at(u, gates.front().second, kGate0, &gate)) return;
  const TimePs t0 = std::max(data_at, gate);
  if (t0 > now) {
    U.wake_pending = true;
    engine_.schedule_at(t0, sink_, kWake, u);
    return;
  }
  if (gate > data_at) X.dp_exposed_s += ps_to_s(gate - data_at);
  const OpCost& c = (o.fwd ? P.fwd : P.bwd)[static_cast<std::size_t>(o.chunk)];
  U.busy = true;
  U.op_start = U.run_start = now;
  // Slow GPUs: the op's kernels at the unit's pace (f = 1: the nominal cost, bit for bit);
  // exposed collectives and launch gaps as nominal.
  const double f = op_factor(u), kernels_s = f * c.compute_s, total_s = c.total_s + (f - 1) * c.compute_s;
  U.dur = s_to_ps_ceil(total_s);
  L.ops.push_back({now, now, now + U.dur, now + U.dur, data_at - U.free_at, std::max<TimePs>(0, gate - data_at)});
  const std::size_t ci = static_cast<std::size_t>(o.chunk);
  if (P.overlap && !o.fwd && (P.every_microbatch || U.idx == last_bwd_[static_cast<std::size_t>(st)][ci]))
    for (const Bucket& b : P.buckets[ci])
      enqueue(u, now + static_cast<TimePs>(std::llround(static_cast<double>(U.dur) * b.ready_frac)), b.op, b.bytes,
              kGradReduce);
  X.busy_s += total_s;
  X.compute_s += kernels_s;
  X.gap_s += c.launch_gap_s;
  (o.fwd ? X.fwd_s : X.bwd_s) += kernels_s + c.launch_gap_s;
  for (int g = 0; g < 5; ++g) {
    X.exposed[g] += c.comm_exposed_s[g];
    X.busy[g] += c.comm_busy_s[g];
  }
  if (o.fwd && gates.size() > 1) {  // the forward reaches each bucket's layers, waiting if not gathered
    U.cursor = now;
    U.at = gates.front().first;
    U.gate_i = 1;
    walk_gates(u);
  } else if (!P.z3_pieces.empty() && P.z3_pieces[ci] > 0) {  // ZeRO-3: gather each layer before use
    for (int j = 0; j < P.z3_pieces[ci]; ++j) {
      const int id = enqueue(u, now, CollOp::allgather, P.z3_gather_bytes[ci], kLayerGather);
      if (j == 0) U.z3_first = id;
      U.z3_last = id;
    }
    z3_first(u);
  } else {
    finish_op(u, now + U.dur);
  }
}

void EveryRankSim::walk_gates(std::size_t u) {
  Unit& U = units_[u];
  const auto& gates = U.gates[static_cast<std::size_t>(current(u).chunk)];
  for (; U.gate_i < gates.size(); ++U.gate_i) {
    const auto& [frac, job] = gates[U.gate_i];
    TimePs end = 0;
    if (!job_done_at(u, job, kGateMid, &end)) return;
    U.cursor = std::max(U.cursor + static_cast<TimePs>(std::llround(static_cast<double>(U.dur) * (frac - U.at))), end);
    U.at = frac;
  }
  TimePs end = U.cursor + static_cast<TimePs>(std::llround(static_cast<double>(U.dur) * (1 - U.at)));
  end = std::max(end, U.op_start + U.dur);
  stats_[u].dp_exposed_s += ps_to_s(end - U.op_start - U.dur);
  finish_op(u, end);
}

void EveryRankSim::z3_first(std::size_t u) {
  Unit& U = units_[u];
  TimePs first = 0;
  if (!job_done_at(u, U.z3_first, kZ3First, &first)) return;
  U.run_start = std::max(U.op_start, first);
  const PipeOp& o = current(u);
  const StagePlan& P = plan_.stages[static_cast<std::size_t>(U.stage)];
  const std::size_t ci = static_cast<std::size_t>(o.chunk);
  const int n = P.z3_pieces[ci];
  if (!o.fwd)
    for (int j = 0; j < n; ++j)
      enqueue(u, U.run_start + U.dur * (j + 1) / n, CollOp::reducescatter, P.z3_scatter_bytes[ci], kLayerScatter);
  z3_last(u);
}

void EveryRankSim::z3_last(std::size_t u) {
  Unit& U = units_[u];
  TimePs lastp = 0;
  if (!job_done_at(u, U.z3_last, kZ3Last, &lastp)) return;
  const int n = plan_.stages[static_cast<std::size_t>(U.stage)].z3_pieces[static_cast<std::size_t>(current(u).chunk)];
  const TimePs end = std::max(U.run_start + U.dur, lastp + U.dur / n);
  stats_[u].dp_exposed_s += ps_to_s(end - U.op_start - U.dur);
  StageLog::Op& lo = logs_[u].ops.back();
  lo.run_start = U.run_start;
  lo.run_end = U.run_start + U.dur;
  finish_op(u, std::max(end, engine_.now()));
}

void EveryRankSim::finish_op(std::size_t u, TimePs end) {
  units_[u].free_at = end;
  logs_[u].ops.back().end = end;
  engine_.schedule_at(end, sink_, kDone, u);
}

void EveryRankSim::done(std::size_t u) {
  Unit& U = units_[u];
  const PipeOp o = current(u);
  U.busy = false;
  ++U.idx;
  const int vs = o.chunk * pp_ + U.stage, last = pp_ * v_ - 1;
  if (o.fwd && vs < last) send(u, 0, (vs + 1) % pp_, key(vs + 1, o.mb), o.mb);
  if (!o.fwd && vs > 0) send(u, 1, (vs - 1) % pp_, key(vs - 1, o.mb), o.mb);
  try_start(u);
}

void EveryRankSim::send(std::size_t u, int dir, int to_stage, std::size_t k, int mb) {
  Unit& U = units_[u];
  ++stats_[u].sends;
  const std::size_t dst = unit_of(to_stage, U.rep);
  if (free_pp_) {
    logs_[u].sends.push_back({engine_.now(), engine_.now(), dir == 0, mb});
    engine_.schedule_at(engine_.now(), sink_, kArrive, (dst << 33) | (k << 1) | (dir == 0 ? 1u : 0u));
    return;
  }
  U.sendq[dir].push_back({k, mb});
  if (!U.sending[dir]) launch_send(u, dir);
}

void EveryRankSim::launch_send(std::size_t u, int dir) {
  Unit& U = units_[u];
  U.sending[dir] = true;
  U.send_start[dir] = engine_.now();
  const int vs_to = static_cast<int>(U.sendq[dir].front().first / static_cast<std::size_t>(m_));
  ex_.launch(send_schedule(u, dir, vs_to % pp_), FlowDone{sink_, kSendDone, u * 2 + static_cast<std::size_t>(dir)},
             account_);
  ++collectives_;
}

void EveryRankSim::send_done(std::size_t u, int dir) {
  Unit& U = units_[u];
  const auto [k, mb] = U.sendq[dir].front();
  U.sendq[dir].pop_front();
  const TimePs now = engine_.now();
  stats_[u].pp_busy_s += ps_to_s(now - U.send_start[dir]);
  logs_[u].sends.push_back({U.send_start[dir], now, dir == 0, mb});
  const std::size_t dst = unit_of(static_cast<int>(k / static_cast<std::size_t>(m_)) % pp_, U.rep);
  (dir == 0 ? fwd_ready_ : bwd_ready_)[static_cast<std::size_t>(U.rep)][k] = now;
  U.sending[dir] = false;
  if (!U.sendq[dir].empty()) launch_send(u, dir);
  try_start(dst);
}

// Every TP rank of the unit sends its 1/tp of the activation to its peer on the other stage.
std::shared_ptr<const CollSchedule> EveryRankSim::send_schedule(std::size_t u, int dir, int to_stage) {
  auto k = std::make_tuple(1, static_cast<int>(u), dir, 0, Bytes{0});
  auto it = scheds_.find(k);
  if (it != scheds_.end()) return it->second;
  const Unit& U = units_[u];
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  for (std::int64_t t = 0; t < tp_; ++t) pairs.push_back({gpu(t, U.stage, U.rep), gpu(t, to_stage, U.rep)});
  return scheds_[k] = timer_.sends(pairs, static_cast<Bytes>(std::llround(plan_.act_bytes)));
}

}  // namespace every_rank_detail

std::vector<UnitPace> unit_paces(const Scenario& s, const CommTimer& timer) {
  const auto& sg = s.simulation.slow_gpus;
  if (sg.empty()) return {};
  const std::int64_t gpn = s.system.gpus_per_node, tp = s.par.tp, cp = s.par.cp, dp = s.par.dp, pp = s.par.pp;
  std::map<std::uint32_t, int> slow;  // GPU -> its entry
  for (std::size_t i = 0; i < sg.size(); ++i)
    slow[static_cast<std::uint32_t>(sg[i].node * gpn + sg[i].gpu)] = static_cast<int>(i);
  std::vector<UnitPace> out(static_cast<std::size_t>(pp * dp * cp));
  std::vector<int> own_slow(out.size(), -1);
  for (std::int64_t p = 0; p < pp; ++p)
    for (std::int64_t d = 0; d < dp; ++d) {
      const std::size_t first = static_cast<std::size_t>((p * dp + d) * cp);
      // TP: the unit's ranks meet at every TP collective, so its kernels run at its slowest GPU's
      // pace (the first in TP order among equals).
      for (std::int64_t c = 0; c < cp; ++c) {
        UnitPace& U = out[first + static_cast<std::size_t>(c)];
        for (std::int64_t t = 0; t < tp; ++t) {
          const auto it = slow.find(timer.rank(t, c, d, p));
          if (it != slow.end() && sg[static_cast<std::size_t>(it->second)].factor > U.own) {
            U.own = sg[static_cast<std::size_t>(it->second)].factor;
            own_slow[first + static_cast<std::size_t>(c)] = it->second;
          }
        }
      }
      // CP: the cp units of a (stage, dp) meet at every layer's CP exchange (ring attention), so
      // all run at the slowest of them. Exact only where those per-layer meetings dominate: a
      // fast unit's slack between meetings (work it could run ahead on) is not used.
      std::size_t pacer = first;
      for (std::int64_t c = 1; c < cp; ++c)
        if (out[first + static_cast<std::size_t>(c)].own > out[pacer].own) pacer = first + static_cast<std::size_t>(c);
      for (std::int64_t c = 0; c < cp; ++c) {
        const std::size_t u = first + static_cast<std::size_t>(c);
        UnitPace& U = out[u];
        U.op = out[pacer].own;
        const bool mine = U.own == U.op && own_slow[u] >= 0;
        U.slow = mine ? own_slow[u] : own_slow[pacer];
        U.via_cp = !mine && U.slow >= 0;
      }
    }
  return out;
}

std::vector<DirectedLink> degrade_links(const Faults& f, const std::string& source, const std::string& at,
                                        const Topology& topo, std::vector<DirectedLink> links) {
  const auto& ds = f.degraded_links;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    std::uint32_t found = UINT32_MAX;
    for (std::uint32_t l = 0; l < topo.num_links() && found == UINT32_MAX; ++l) {
      const Link& k = topo.link(l);
      const std::string a = topo.name(k.a), b = topo.name(k.b);
      if ((a == ds[i].a && b == ds[i].b) || (a == ds[i].b && b == ds[i].a)) found = l;
    }
    if (found == UINT32_MAX)
      throw_input_error(source, at + ".degraded_links[" + std::to_string(i) + "].between",
                        "two nodes of the topology joined by a link (e.g. s0.nic0 and rail0.leaf0)",
                        ds[i].a + " and " + ds[i].b);
    for (std::uint32_t d : {2 * found, 2 * found + 1}) links[d].capacity_Bps *= ds[i].factor;
  }
  return links;
}

std::vector<DirectedLink> degrade_links(const Scenario& s, const Topology& topo, std::vector<DirectedLink> links) {
  return degrade_links(s.simulation, s.source, "$.simulation", topo, std::move(links));
}

namespace {

// One failed part: its field and the links it takes down.
struct FailedPart {
  std::string field;
  std::vector<std::uint32_t> links;
};

std::vector<FailedPart> failed_parts(const Faults& f, const std::string& source, const std::string& at,
                                     const Topology& topo) {
  std::vector<FailedPart> parts;
  const auto& fl = f.failed_links;
  for (std::size_t i = 0; i < fl.size(); ++i) {
    FailedPart p{at + ".failed_links[" + std::to_string(i) + "]", {}};
    for (std::uint32_t l = 0; l < topo.num_links() && p.links.empty(); ++l) {
      const Link& k = topo.link(l);
      const std::string a = topo.name(k.a), b = topo.name(k.b);
      if ((a == fl[i].a && b == fl[i].b) || (a == fl[i].b && b == fl[i].a)) p.links.push_back(l);
    }
    if (p.links.empty())
      throw_input_error(source, p.field + ".between",
                        "two nodes of the topology joined by a link (e.g. rail0.leaf0 and spine1)",
                        fl[i].a + " and " + fl[i].b);
    parts.push_back(std::move(p));
  }
  const auto& fn = f.failed_nics;
  for (std::size_t i = 0; i < fn.size(); ++i) {
    FailedPart p{at + ".failed_nics[" + std::to_string(i) + "]", {}};
    const std::string want = "s" + std::to_string(fn[i].node) + ".nic" + std::to_string(fn[i].gpu);
    std::uint32_t nic = UINT32_MAX;
    for (std::uint32_t n = 0; n < topo.num_nodes() && nic == UINT32_MAX; ++n)
      if (topo.kind(n) == NodeKind::nic && topo.name(n) == want) nic = n;
    if (nic == UINT32_MAX)
      throw_input_error(source, p.field,
                        "a NIC of the topology: node (server) in [0, " + std::to_string(topo.num_servers()) +
                            "), gpu in [0, " + std::to_string(topo.gpus_per_node()) + ") naming sNODE.nicGPU",
                        "node " + std::to_string(fn[i].node) + ", gpu " + std::to_string(fn[i].gpu));
    for (std::uint32_t l = 0; l < topo.num_links(); ++l)  // the NIC's links: to its GPU and to the fabric
      if (topo.link(l).a == nic || topo.link(l).b == nic) p.links.push_back(l);
    parts.push_back(std::move(p));
  }
  return parts;
}

std::string rank_list(const std::vector<std::uint32_t>& g) {
  std::string o = "[";
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (i == 16) {
      o += ", ... (" + std::to_string(g.size()) + " ranks)";
      break;
    }
    o += (i ? ", " : "") + std::to_string(g[i]);
  }
  return o + "]";
}

// Every parallel group of the job must still reach each of its members over `out` (`topo` with
// `parts` down): tp, cp and dp groups all pairs (over 64 members: each to and from the first and
// its ring neighbours), pp groups each stage with the next and the last with the first (the tied
// embedding).
void check_groups(const GroupsOf& J, const Topology& topo, const Topology& out, const std::vector<FailedPart>& parts,
                  const std::string& source) {
  const std::int64_t size[4] = {J.s->par.tp, J.s->par.cp, J.s->par.dp, J.s->par.pp};
  const char* kind[4] = {"tp", "cp", "dp", "pp"};
  std::vector<std::uint32_t> path;
  for (int k = 0; k < 4; ++k) {
    if (size[k] < 2) continue;
    std::int64_t other = 1;
    for (int i = 0; i < 4; ++i)
      if (i != k) other *= size[i];
    for (std::int64_t o = 0; o < other; ++o) {
      std::int64_t c[4], rest = o;
      for (int i = 0; i < 4; ++i)
        if (i != k) c[i] = rest % size[i], rest /= size[i];
      std::vector<std::uint32_t> g;
      for (c[k] = 0; c[k] < size[k]; ++c[k]) g.push_back(J.timer->rank(c[0], c[1], c[2], c[3]));
      std::vector<std::pair<std::size_t, std::size_t>> pairs;
      const std::size_t n = g.size();
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          const bool ring = j == (i + 1) % n || i == (j + 1) % n;
          if (i != j && (k == 3 || n > 64 ? ring || (k != 3 && (i == 0 || j == 0)) : true)) pairs.push_back({i, j});
        }
      for (const auto& [i, j] : pairs) {
        const std::uint32_t a = topo.gpu_node(g[i]), b = topo.gpu_node(g[j]);
        if (out.try_route(a, b, 0, &path)) continue;
        // Blame the first failed part after which the pair is cut (failures only remove paths).
        Topology t = topo;
        std::size_t blame = 0;
        for (std::size_t p = 0; p < parts.size(); ++p) {
          for (std::uint32_t l : parts[p].links) t.fail_link(l);
          if (!t.try_route(a, b, 0, &path)) {
            blame = p;
            break;
          }
        }
        // A job on a shared cluster: its members named by their cluster GPUs (the job's rank r
        // is not GPU r there).
        const std::string who = J.job.empty() ? "rank" : "GPU";
        throw_input_error(source, parts[blame].field, "failed links and NICs that leave every parallel group connected",
                          (J.job.empty() ? "" : J.job + ": ") + "the " + kind[k] + " group of " + who + "s " +
                              rank_list(g) + " cut off: " + who + " " + std::to_string(g[i]) + " (" + topo.name(a) +
                              ") cannot reach " + who + " " + std::to_string(g[j]) + " (" + topo.name(b) + ")");
      }
    }
  }
}

}  // namespace

Topology with_failures(const Faults& f, const std::string& source, const std::string& at, const Topology& topo,
                       const std::vector<GroupsOf>& jobs) {
  const std::vector<FailedPart> parts = failed_parts(f, source, at, topo);
  Topology out = topo;
  for (const FailedPart& p : parts)
    for (std::uint32_t l : p.links) out.fail_link(l);
  for (const GroupsOf& J : jobs) check_groups(J, topo, out, parts, source);
  return out;
}

std::size_t critical_unit(const EveryRankRun& run) {
  std::size_t crit = 0;
  for (std::size_t u = 1; u < run.logs.size(); ++u)
    if (run.logs[u].end > run.logs[crit].end) crit = u;
  return crit;
}

Topology with_failures(const Scenario& s, const Topology& topo, const CommTimer& timer) {
  return with_failures(s.simulation, s.source, "$.simulation", topo, {{&s, &timer, ""}});
}

EveryRankRun run_every_rank(const Scenario& s, const StepPlan& plan, const CommTimer& timer, const Topology& topo,
                            bool free_pp, const EveryRankPaces* paces) {
  EveryRankNet shared(degrade_links(s, topo, timer.links()), topo);
  every_rank_detail::EveryRankSim sim(shared, s, plan, timer, free_pp);
  sim.set_paces(paces);
  return sim.run();
}

}  // namespace knee::workload

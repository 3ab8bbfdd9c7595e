#include "workloads/training/step_timeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/error.hpp"
#include "sim/engine/timeline.hpp"

namespace knee::workload {
namespace {

enum Track {
  kTrackCompute = 0,
  kTrackIdle,
  kTrackTP,
  kTrackPPFwd,
  kTrackPPBwd,
  kTrackDP,
  kTrackCP,
  kTrackEP,
  kTrackOptimizer
};
constexpr const char* kTrackNames[] = {
    "compute", "idle (bubble, waits)", "tp", "pp send forward", "pp send backward", "dp", "cp", "ep", "optimizer"};
int comm_track(int group) {
  return group == kTP ? kTrackTP : group == kCP ? kTrackCP : group == kEP ? kTrackEP : kTrackDP;
}

// Slices of one process; a slice that would start before the previous one on its track ended is
// clipped (Chrome requires slices on a track to nest); empty slices are skipped.
class TrackWriter {
 public:
  TrackWriter(Timeline& t, int pid) : t_(t), pid_(pid) {}
  void slice(int tid, const std::string& name, const char* cat, TimePs start, TimePs end,
             const std::string& args = "") {
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

struct TraceInput {
  const Scenario& s;
  const std::vector<std::vector<PipeOp>>& ops;
  // Per stage, per chunk, forward (0) and backward (1): the op's compute-stream slices.
  const std::vector<std::vector<ChunkSlices>>& slices;
  const std::vector<std::int64_t>& first_layer;  // global index of each virtual stage's first layer
  double act_bytes;                              // of one pipeline send
  const std::vector<StagePlan>& plans;
  // Per stage, per op: the kernel-time multiplier the step ran with (SM sharing); null: none.
  const std::vector<std::vector<double>>* op_scale;
};

// The GPU `pid` of stage `st` with its logs: L of the step, F with free transfers. Every-rank
// logs (from_log) carry each op's real kernel span, which sets the stretch of its compute slices.
void trace_stage(Timeline& trace, int pid, int st, const StageLog& L, const StageLog& F, const TraceInput& in,
                 bool from_log) {
  TrackWriter w(trace, pid);
  const int pp = static_cast<int>(in.s.par.pp);
  const auto& ops = in.ops[static_cast<std::size_t>(st)];
  for (std::size_t i = 0; i < L.ops.size() && i < ops.size(); ++i) {
    const auto& o = L.ops[i];
    const PipeOp& po = ops[i];
    const int vs = po.chunk * pp + st;
    // Idle before the op: the part that remains with free transfers is bubble, the rest waits
    // for the transfer; then a parameter gather it may wait for.
    const TimePs idle0 = o.start - o.data_wait - o.gate_wait;
    const TimePs bub = i < F.ops.size() ? std::min(o.data_wait, F.ops[i].data_wait) : 0;
    const std::string margs =
        "{\"microbatch\":" + std::to_string(po.mb) + ",\"chunk\":" + std::to_string(po.chunk) + "}";
    w.slice(kTrackIdle, "bubble", "bubble", idle0, idle0 + bub, margs);
    w.slice(kTrackIdle, "wait: pipeline transfer", "wait", idle0 + bub, idle0 + o.data_wait, margs);
    w.slice(kTrackIdle, "wait: dp parameter gather", "wait", idle0 + o.data_wait, o.start, margs);
    w.slice(kTrackIdle, "wait: dp layer gather", "wait", o.start, o.run_start, margs);
    const auto& sl = in.slices[static_cast<std::size_t>(st)][static_cast<std::size_t>(po.chunk)][po.fwd ? 0 : 1];
    // An op slowed by SM sharing stretches its compute slices (kernels and launch gaps) so that
    // they add (scale - 1) x its kernel time, as the schedule ran it; collectives keep theirs.
    // Every rank: a slow GPU's or a straggler's op ran longer than its cost by (f - 1) x its kernel
    // time, which its kernel span shows.
    double stretch = 1;
    const StagePlan& P = in.plans[static_cast<std::size_t>(st)];
    const OpCost& c = (po.fwd ? P.fwd : P.bwd)[static_cast<std::size_t>(po.chunk)];
    const double d = c.compute_s + c.launch_gap_s;
    if (from_log && d > 0) {
      stretch = std::max(1.0, 1 + (ps_to_s(o.run_end - o.run_start) - c.total_s) / d);
    } else if (in.op_scale && !in.op_scale->empty() && d > 0) {
      const double f = (*in.op_scale)[static_cast<std::size_t>(st)][i];
      stretch = 1 + (f - 1) * c.compute_s / d;
    }
    double shift_s = 0;
    bool seen_layer = false;
    for (const OpSlice& x : sl) {
      const double dur_s = x.group < 0 ? x.dur_s * stretch : x.dur_s;
      const TimePs a = o.run_start + static_cast<TimePs>(std::llround((x.start_s + shift_s) * 1e12));
      const TimePs b =
          std::min(o.run_end, o.run_start + static_cast<TimePs>(std::llround((x.start_s + shift_s + dur_s) * 1e12)));
      shift_s += dur_s - x.dur_s;
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
        w.slice(comm_track(x.group), std::string(to_string(x.op)) + " (" + where + " " + phase + ")",
                kGroupNames[x.group], ca, b, args);
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
    w.slice(kTrackIdle, "bubble", "bubble", a, b,
            "{\"waiting_for\":\"the other end stage's gradients (tied embedding)\"}");
    w.slice(kTrackIdle, "wait: dp gradient reduction", "wait", b, L.dp_done);
  } else {
    w.slice(kTrackIdle, "wait: dp gradient reduction", "wait", L.finish, L.dp_done);
  }
  w.slice(kTrackOptimizer, "optimizer step", "optimizer", L.dp_done, L.end);
}

}  // namespace

namespace {

// Writes the traced GPUs (opt.trace_ranks, default one pipeline: tp, cp and dp 0 of every stage);
// logs(rank, stage) gives the real and free-transfer logs of the GPU a rank is drawn as, and
// `shown_as` the rank whose events those are (itself or a folded peer).
template <class LogsOf, class ShownAs>
void write_timeline(const Scenario& s, const StepPlan& plan, const CommTimer& timer, int critical_stage,
                    const std::vector<std::vector<double>>* op_scale, bool from_log, const char* folding, LogsOf logs,
                    ShownAs shown_as, const SimOptions& opt, SimResult& r) {
  std::vector<std::int64_t> first_layer;
  std::int64_t acc = 0;
  for (auto nl : plan.layers) {
    first_layer.push_back(acc);
    acc += nl;
  }
  const TraceInput in{s, plan.ops, plan.slices, first_layer, plan.act_bytes, plan.stages, op_scale};
  std::vector<std::uint32_t> ranks = opt.trace_ranks;
  if (ranks.empty())  // one pipeline: tp 0, cp 0, dp 0 of every stage
    for (int st = 0; st < plan.pp; ++st) ranks.push_back(timer.rank(0, 0, 0, st));
  auto& meta = r.trace_metadata;
  meta["traced_ranks"] = ranks.size();
  meta["critical_stage"] = critical_stage;
  meta["folding"] = folding;
  nlohmann::ordered_json folded = nlohmann::ordered_json::object();
  for (auto rk : ranks) {
    if (rk >= static_cast<std::uint64_t>(s.gpus))
      throw InputError("trace ranks: expected GPUs below " + std::to_string(s.gpus) + ", got " + std::to_string(rk));
    const auto c = timer.coords(rk);
    const int st = static_cast<int>(c[3]);
    const std::uint32_t rep = shown_as(c);
    std::string name = "GPU " + std::to_string(rk) + " (stage " + std::to_string(st) + ", tp " + std::to_string(c[0]) +
                       ", cp " + std::to_string(c[1]) + ", dp " + std::to_string(c[2]) + ")";
    if (rep != rk) {
      name += " = GPU " + std::to_string(rep) + " folded";
      folded[std::to_string(rk)] = rep;
    }
    const int pid = static_cast<int>(rk);
    opt.trace->name_process(pid, name);
    for (int t = 0; t < 9; ++t) opt.trace->name_thread(pid, t, kTrackNames[t]);
    const auto [L, F] = logs(c);
    trace_stage(*opt.trace, pid, st, *L, *F, in, from_log);
  }
  meta["folded_ranks"] = folded;
  meta["events"] = opt.trace->events();
  meta["dropped_events"] = opt.trace->dropped();
}

}  // namespace

void write_step_timeline(const Scenario& s, const StepPlan& plan, const CommTimer& timer,
                         const std::vector<StageLog>& real, const std::vector<StageLog>& free, int critical_stage,
                         const std::vector<std::vector<double>>* op_scale, const SimOptions& opt, SimResult& r) {
  write_timeline(
      s, plan, timer, critical_stage, op_scale, false,
      "each traced GPU shows the events of the GPU of its pipeline stage with tp, cp and dp index 0 "
      "(its TP, CP and DP peers run identical kernels in the model)",
      [&](const auto& c) {
        const auto st = static_cast<std::size_t>(c[3]);
        return std::pair{&real[st], &free[st]};
      },
      [&](const auto& c) { return timer.rank(0, 0, 0, static_cast<int>(c[3])); }, opt, r);
}

void write_every_rank_timeline(const Scenario& s, const StepPlan& plan, const CommTimer& timer, const UnitLogs& units,
                               int critical_stage, const SimOptions& opt, SimResult& r) {
  static const StageLog kNone;
  const auto unit = [&](const auto& c) {
    return static_cast<std::size_t>(c[3] * units.units_per_stage + c[2] * s.par.cp + c[1]);
  };
  write_timeline(
      s, plan, timer, critical_stage, nullptr, true,
      "every rank: each traced GPU shows its own unit's events (the tp GPUs of one (stage, dp, cp), in "
      "lockstep: a GPU with tp index > 0 is drawn as its unit's tp 0)",
      [&](const auto& c) {
        const std::size_t u = unit(c);
        return std::pair{&units.real[u], u < units.free.size() ? &units.free[u] : &kNone};
      },
      [&](const auto& c) {
        return timer.rank(0, static_cast<int>(c[1]), static_cast<int>(c[2]), static_cast<int>(c[3]));
      },
      opt, r);
}

}  // namespace knee::workload

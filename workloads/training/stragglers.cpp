#include "workloads/training/stragglers.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>

#include "common/error.hpp"
#include "workloads/training/every_rank_sim.hpp"

namespace knee::workload {

std::vector<double> straggler_gpu_factors(const Scenario& s, const StragglerSpec& g, Random& rng) {
  std::vector<double> f(static_cast<std::size_t>(s.gpus));
  for (double& x : f) x = rng.multiplier(g.gpu_cv);
  for (const auto& sl : g.slow) f[static_cast<std::size_t>(sl.gpu)] *= sl.slowdown;
  return f;
}

OpPaces straggler_op_paces(const Scenario& s, const StragglerSpec& g, const CommTimer& timer,
                           const std::vector<double>& f, const std::vector<std::size_t>& ops_per_stage,
                           Random& jitter) {
  const std::int64_t tp = s.par.tp, cp = s.par.cp, ep = s.par.ep, R = s.par.dp / ep;
  const std::size_t P = ops_per_stage.size();
  OpPaces out(static_cast<std::size_t>(R), std::vector<std::vector<double>>(P));
  std::vector<double> member;
  for (std::int64_t r = 0; r < R; ++r)
    for (std::size_t st = 0; st < P; ++st) {
      member.clear();
      for (std::int64_t e = 0; e < ep; ++e)
        for (std::int64_t c = 0; c < cp; ++c)
          for (std::int64_t t = 0; t < tp; ++t)
            member.push_back(f[timer.rank(t, c, r * ep + e, static_cast<std::int64_t>(st))]);
      const double base = *std::max_element(member.begin(), member.end());
      std::vector<double>& scale = out[static_cast<std::size_t>(r)][st];
      scale.assign(ops_per_stage[st], base);
      if (g.op_cv > 0)
        for (double& x : scale) {
          x = 0;
          for (double fm : member) x = std::max(x, fm * jitter.multiplier(g.op_cv));
        }
    }
  return out;
}

namespace {

// The slowest GPU of `f` (the first among equals).
void note_slowest(const std::vector<double>& f, StragglerReport& out) {
  for (std::size_t i = 0; i < f.size(); ++i)
    if (f[i] > out.slowest_gpu_factor || i == 0) {
      out.slowest_gpu_factor = f[i];
      out.slowest_gpu = static_cast<std::int64_t>(i);
    }
}

// The simulated steps, both modes: `one_step` runs one step with the given op paces and returns
// its time, the stage and replica whose end ended it. Steps differ only by their op draws: the
// first continues the seed's stream (after the GPU factors), step k its own stream; without op
// variation every step is the first. Fills the stage and replica of the slowest step.
std::vector<TimePs> run_steps(const Scenario& s, const StragglerSpec& g, const CommTimer& timer,
                              const std::vector<double>& f, const std::vector<std::size_t>& ops_per_stage, Random& rng,
                              const std::function<TimePs(const OpPaces&, int&, int&)>& one_step, StragglerReport& out) {
  std::vector<TimePs> steps;
  const int n = g.op_cv > 0 ? g.steps : 1;
  TimePs worst = -1;
  for (int k = 0; k < n; ++k) {
    Random own(s.seed + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(k));
    const OpPaces paces = straggler_op_paces(s, g, timer, f, ops_per_stage, k == 0 ? rng : own);
    int st = 0, rep = 0;
    const TimePs t = one_step(paces, st, rep);
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

// Stragglers (docs/workloads.md, "Stragglers"), folded mode: every data-parallel replica's
// pipeline is run as events with its own op times, each op taking as long as the slowest GPU of
// its TP x CP group (x EP: expert-parallel replicas exchange tokens every MoE layer, so they move
// together). The replicas meet in the data-parallel reductions: each stage's reduction of a bucket
// starts when every replica has it ready, and the step ends when the last stage's optimizer does.
// Returns the time of each simulated step; fills the report's slowest GPU, the stage and replica
// whose end ended the slowest step, and the number of replicas.
std::vector<TimePs> run_stragglers(const Scenario& s, const StragglerSpec& g, const CommTimer& timer,
                                   const std::vector<std::vector<PipeOp>>& ops, const std::vector<StagePlan>& plans,
                                   int pp, int v, int m, const std::vector<TimePs>& p2p_ps,
                                   const std::vector<double>& dp_scale,
                                   const std::vector<std::vector<double>>& sm_scale, StragglerReport& out,
                                   std::uint64_t* events) {
  Random rng(s.seed);
  // Static factors in GPU order, then the named stragglers: the same GPUs in every step.
  const std::vector<double> f = straggler_gpu_factors(s, g, rng);
  note_slowest(f, out);
  const std::int64_t R = s.par.dp / s.par.ep;
  const std::size_t P = static_cast<std::size_t>(pp);
  out.replicas = static_cast<int>(R);
  std::vector<std::size_t> nops;
  for (const auto& o : ops) nops.push_back(o.size());
  // One step: every replica's pipeline with its op paces, met in the DP streams.
  auto one_step = [&](const OpPaces& paces, int& slowest_stage, int& slowest_replica) {
    std::vector<std::vector<TimePs>> ready(P), dur(P);
    std::vector<TimePs> finish(P, -1);
    std::vector<int> finisher(P, 0);
    std::vector<std::vector<double>> scale(P);
    for (std::int64_t r = 0; r < R; ++r) {
      scale = paces[static_cast<std::size_t>(r)];
      if (!sm_scale.empty())  // SM sharing, as the step without stragglers ran
        for (std::size_t st = 0; st < P; ++st)
          for (std::size_t i = 0; i < scale[st].size(); ++i) scale[st][i] *= sm_scale[st][i];
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
  return run_steps(s, g, timer, f, nops, rng, one_step, out);
}

// Parameters not in the scenario from the profile's variability (from_profile); the report's
// parameters and where they came from.
StragglerSpec resolve(const Scenario& s, const Profile& prof, StragglerReport& G) {
  StragglerSpec spec = s.stragglers;
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
  return spec;
}

// Over the simulated steps: the mean is the step time; the spread says how steps vary.
void report_steps(const std::vector<TimePs>& steps, SimResult& r) {
  StragglerReport& G = r.stragglers;
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
  r.breakdown.straggler_s = r.step_time_s - G.nominal_step_time_s;
}

}  // namespace

void apply_stragglers(const Scenario& s, const Profile& prof, const CommTimer& timer, const StepPlan& plan,
                      const PipelineRun& run, SimResult& r) {
  const StragglerSpec spec = resolve(s, prof, r.stragglers);
  r.stragglers.nominal_step_time_s = r.step_time_s;
  const std::vector<TimePs> steps = run_stragglers(s, spec, timer, plan.ops, plan.stages, plan.pp, plan.v, plan.m,
                                                   run.p2p_ps, run.dp_scale, run.op_scale, r.stragglers, &r.events);
  report_steps(steps, r);
}

void apply_stragglers_every_rank(const Scenario& s, const Profile& prof, const CommTimer& timer, const StepPlan& plan,
                                 const Topology& topo, SimResult& r) {
  const StragglerSpec spec = resolve(s, prof, r.stragglers);
  StragglerReport& G = r.stragglers;
  G.nominal_step_time_s = r.step_time_s;  // the every-rank step without stragglers (slow GPUs as given)
  Random rng(s.seed);
  std::vector<double> f = straggler_gpu_factors(s, spec, rng);  // the draws of folded mode
  for (const auto& sg : s.simulation.slow_gpus)                 // a slow GPU's factor on top of its draw
    f[static_cast<std::size_t>(sg.node * s.system.gpus_per_node + sg.gpu)] *= sg.factor;
  note_slowest(f, G);
  const std::int64_t tp = s.par.tp, cp = s.par.cp, dp = s.par.dp, pp = plan.pp;
  G.replicas = static_cast<int>(dp / s.par.ep);
  // The optimizer step, after the last meeting, at the unit's own slowest GPU (no op draw).
  EveryRankPaces paces;
  for (std::int64_t p = 0; p < pp; ++p)
    for (std::int64_t d = 0; d < dp; ++d)
      for (std::int64_t c = 0; c < cp; ++c) {
        double own = 0;
        for (std::int64_t t = 0; t < tp; ++t) own = std::max(own, f[timer.rank(t, c, d, p)]);
        paces.own.push_back(own);
      }
  std::vector<std::size_t> nops;
  for (const auto& o : plan.ops) nops.push_back(o.size());
  // The network as every_rank_step runs it: failed links and NICs down.
  const bool broken = s.simulation.has_failures();
  const Topology failed = broken ? with_failures(s, topo, timer) : Topology();
  const Topology& net_topo = broken ? failed : topo;
  auto one_step = [&](const OpPaces& op, int& stage, int& replica) {
    paces.op = &op;
    const EveryRankRun run = run_every_rank(s, plan, timer, net_topo, false, &paces);
    r.events += run.events;
    r.flows += run.flows;
    const std::size_t crit = critical_unit(run);
    const TimePs end = run.logs[crit].end;
    const std::size_t ups = static_cast<std::size_t>(run.units_per_stage);
    stage = static_cast<int>(crit / ups);
    replica = static_cast<int>(static_cast<std::int64_t>(crit % ups) / cp / s.par.ep);
    return end;
  };
  report_steps(run_steps(s, spec, timer, f, nops, rng, one_step, G), r);
}

}  // namespace knee::workload

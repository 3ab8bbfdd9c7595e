#include "workloads/training/stragglers.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include "common/error.hpp"
#include "common/random.hpp"

namespace knee::workload {
namespace {

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
                                   const std::vector<double>& dp_scale,
                                   const std::vector<std::vector<double>>& sm_scale, StragglerReport& out,
                                   std::uint64_t* events) {
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
        if (!sm_scale.empty())  // SM sharing, as the step without stragglers ran
          for (std::size_t i = 0; i < scale[st].size(); ++i) scale[st][i] *= sm_scale[st][i];
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

}  // namespace

void apply_stragglers(const Scenario& s, const Profile& prof, const CommTimer& timer, const StepPlan& plan,
                      const PipelineRun& run, SimResult& r) {
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
  const std::vector<TimePs> steps = run_stragglers(s, spec, timer, plan.ops, plan.stages, plan.pp, plan.v, plan.m,
                                                   run.p2p_ps, run.dp_scale, run.op_scale, G, &r.events);
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
  r.breakdown.straggler_s = r.step_time_s - G.nominal_step_time_s;
}

}  // namespace knee::workload

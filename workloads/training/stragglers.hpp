// Stragglers (docs/workloads.md, "Stragglers"; internal to workloads/training): per-GPU
// performance variation, each data-parallel replica's pipeline run with its own op times (folded
// mode), or every unit's ops at the pace its GPUs set (every-rank mode); both draw the same GPUs.
#pragma once
#include <vector>

#include "common/random.hpp"
#include "profile/profile.hpp"
#include "workloads/training/contention.hpp"
#include "workloads/training/result.hpp"

namespace knee::workload {

// The draws both modes share, so that they see the same GPUs. Every GPU's static compute-time
// factor: a gpu_cv draw from `rng` in GPU order, times the slowdown of each named straggler.
std::vector<double> straggler_gpu_factors(const Scenario& s, const StragglerSpec& g, Random& rng);
// One step's op paces, [replica r < dp / ep][stage][op]: the largest of f[gpu] (x, with op_cv, an
// independent draw from `jitter` per GPU per op) over the GPUs of the replica's TP x CP x EP group
// of the stage (they meet at every TP collective, every layer's CP exchange, every MoE layer's
// token exchange). Drawn replica by replica, stage by stage, op by op, GPU by GPU (ep, cp, tp).
using OpPaces = std::vector<std::vector<std::vector<double>>>;
OpPaces straggler_op_paces(const Scenario& s, const StragglerSpec& g, const CommTimer& timer,
                           const std::vector<double>& f, const std::vector<std::size_t>& ops_per_stage, Random& jitter);

// With s.stragglers enabled: fills r.stragglers, replaces r.step_time_s by the mean over the
// simulated steps and sets r.breakdown.straggler_s. Parameters not in the scenario come from the
// profile's variability (from_profile).
void apply_stragglers(const Scenario& s, const Profile& prof, const CommTimer& timer, const StepPlan& plan,
                      const PipelineRun& run, SimResult& r);

// Every-rank mode (every_rank_step.hpp, already run into r): the same draws, every unit's ops at
// its pace (x simulation.slow_gpus' factors: per GPU, before the maximum), its optimizer at its own
// GPUs' largest static factor; one every-rank run per simulated step. Fills r as apply_stragglers.
void apply_stragglers_every_rank(const Scenario& s, const Profile& prof, const CommTimer& timer, const StepPlan& plan,
                                 const Topology& topo, SimResult& r);

}  // namespace knee::workload

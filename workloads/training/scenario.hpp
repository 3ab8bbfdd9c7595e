// A training scenario (docs/scenarios.md): the system, nodes and fabric, the model, the parallel
// layout and the training settings, parsed strictly from JSON once; everything downstream reads
// these structs, never the JSON.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/profile.hpp"
#include "sim/collectives/collective_types.hpp"
#include "topologies/fabric.hpp"
#include "workloads/model/cost_prices.hpp"
#include "workloads/model/model_spec.hpp"
#include "workloads/training/ablation.hpp"
#include "workloads/training/options.hpp"

namespace knee {

struct ParallelSpec {
  std::int64_t tp = 1, pp = 1, dp = 1, cp = 1, ep = 1;
  std::int64_t micro_batch = 1, global_batch = 1;
  Schedule schedule = Schedule::f1b1;
  std::int64_t virtual_stages = 1;
  bool sequence_parallel = false;
  int zero = 0;  // 0..3
};

struct TrainingSpec {
  Precision precision = Precision::mixed;
  Recompute recompute = Recompute::none;
  Optimizer optimizer = Optimizer::adamw;
  Framework framework = Framework::megatron;
  // flash (fused, no s x s scores: Megatron's, or eager PyTorch's scaled_dot_product_attention)
  // or unfused (batched GEMMs + softmax over stored scores: hand-written attention); default flash.
  Attention attention = Attention::flash;
  // Data-parallel gradient reduction in buckets during the last backward (true) or after the
  // whole backward (false, as Megatron-LM did before its distributed data-parallel rewrite).
  bool overlap_grad_reduce = true;
  // Megatron-Core's --overlap-param-gather (ZeRO >= 1, distributed optimizer): the next step's
  // parameter all-gathers overlap its forward, bucket by bucket; false: they run after the
  // optimizer step, exposed.
  bool overlap_param_gather = true;
  // Parameters per gradient bucket (Megatron-Core's --ddp-bucket-size); 0: its default
  // max(40M, 1M x data-parallel size).
  double ddp_bucket_params = 0;
  GradSync grad_sync = GradSync::last_microbatch;
  // Megatron's --gradient-accumulation-fusion (Megatron-LM since late 2021, on by default in its
  // training scripts): each weight-gradient GEMM accumulates into the main-gradient buffer itself
  // (cuBLAS beta = 1). false: the GEMM writes a 16-bit gradient and a DDP hook adds it to the
  // buffer (main_grad.add_(grad)) after every microbatch, a memory-bound pass per weight, as
  // Megatron-LM did in 2021. Framework megatron only.
  bool gradient_accumulation_fusion = true;
  // Megatron-Core's --tp-comm-overlap (0.5 and later, with sequence parallelism): TP all-gathers
  // and reduce-scatters overlapped with the GEMMs next to them. Off by default, as in Megatron.
  bool tp_comm_overlap = false;
  // dtype of the gradient buffers and of their data-parallel reduction: fp32, bf16 or fp16.
  // Default as Megatron-LM: precision bf16 -> bf16; mixed with bf16 -> fp32 (Megatron forces
  // fp32 accumulation and all-reduce for bf16); mixed with fp16 -> fp16 (its default
  // accumulate_allreduce_grads_in_fp32 = false keeps the main gradients in the parameter dtype).
  GradDtype grad_reduce_dtype = GradDtype::fp32;
  // How each parallel group's collectives are chosen (docs/collectives.md, "Auto selection"):
  // simulated (the fastest of the shortlist on this fabric) or nccl (NCCL's tuner model).
  CollSelection collective_selection = CollSelection::simulated;
};

// Energy and cost assumptions (docs/scenarios.md, "cost"): none is a default price; what is not
// given is not reported.
struct CostSpec : CostPrices {  // the prices every kind of job reads, and a training run's length
  double train_tokens = 0;      // a whole run of this many tokens; 0: per step only
};

// Failures over a whole run (docs/workloads.md, "Failures"): exponential failures, checkpoint and
// restart (Daly 2006). Off when gpu_mtbf_hours is 0.
struct FailureSpec {
  double gpu_mtbf_hours = 0;         // mean time between job-stopping failures per GPU (its node's share included)
  double restart_s = 0;              // detect, reschedule, reload the last checkpoint
  double checkpoint_write_s = 0;     // time the job stops to write a checkpoint; 0: from storage_write_GBps
  double storage_write_GBps = 0;     // aggregate write bandwidth for the checkpoint
  double checkpoint_interval_s = 0;  // 0: Daly's optimum
  bool enabled() const { return gpu_mtbf_hours > 0; }
};

// Per-GPU performance variation (docs/workloads.md, "Stragglers"); off when all are zero/empty.
struct StragglerSpec {
  double gpu_cv = 0;  // GPU-to-GPU variation of compute time (lognormal, mean 1), fixed for the step
  double op_cv = 0;   // variation of each op (a microbatch through a chunk) on each GPU, independent
  struct Slow {
    std::int64_t gpu;
    double slowdown;  // compute-time multiplier >= 1
  };
  std::vector<Slow> slow;  // named stragglers: a throttled GPU, a bad node
  // gpu_cv and op_cv not given in the scenario come from the profile's $.variability.
  bool from_profile = false, gpu_cv_given = false, op_cv_given = false;
  int steps = 1;  // steps simulated (new op draws each), for the spread of step times
  bool enabled() const { return from_profile || gpu_cv > 0 || op_cv > 0 || !slow.empty(); }
};

// Broken parts of the network: a scenario's simulation.degraded_links, failed_links and
// failed_nics, or a cluster file's "faults" for every job on it (docs/scenarios.md).
struct Faults {
  // Links at a fraction of their bandwidth, both directions, named by the topology nodes they join
  // (every-rank mode only: a scenario with any runs every rank).
  struct Degraded {
    std::string a, b;
    double factor;
  };
  std::vector<Degraded> degraded_links;
  // Failed links (named as degraded ones) and failed NICs (server `node`'s NIC `gpu`, the NIC of
  // that GPU: both its links fail): no traffic; routes recomputed without them (every-rank mode
  // only: a scenario with any runs every rank).
  struct Failed {
    std::string a, b;
  };
  std::vector<Failed> failed_links;
  struct FailedNic {
    std::int64_t node, gpu;
  };
  std::vector<FailedNic> failed_nics;
  bool has_failures() const { return !failed_links.empty() || !failed_nics.empty(); }
  bool any() const { return !degraded_links.empty() || has_failures(); }
};

// How the step is simulated (docs/workloads.md, "Folding and its limits"): folded (one
// representative per stage, timings cached) or every rank on one network.
struct SimulationSpec : Faults {
  bool every_rank = false;
  // Slow GPUs (server `node`'s GPU `gpu`): its kernels (an op's compute, the optimizer step) take
  // `factor` >= 1 times as long; communication and launch gaps do not (every-rank mode only: a
  // scenario with any runs every rank; docs/workloads.md, "Slow GPUs").
  struct SlowGpu {
    std::int64_t node, gpu;
    double factor;
  };
  std::vector<SlowGpu> slow_gpus;
  // Anything that breaks the symmetry folding needs.
  bool asymmetric() const { return !degraded_links.empty() || has_failures() || !slow_gpus.empty(); }
};

struct Scenario {
  std::string source;       // file name or "<json>", for messages
  std::string system_name;  // as written ("dgx-h100" or a path)
  SystemSpec system;
  std::int64_t nodes = 0, gpus = 0;
  FabricOptions fabric;
  ModelSpec model;
  ParallelSpec par;
  TrainingSpec train;
  std::string profile;  // builtin name or path
  // The profile `profile` named, loaded and checked once by parse_scenario (copies of the
  // scenario, such as a sweep's points, share it); empty for a Scenario built by hand.
  std::optional<Profile> loaded_profile;
  std::vector<std::string> placement;  // rank order, fastest varying first: tp, cp, dp, pp
  std::vector<std::int64_t> stages;    // layers per virtual stage; empty: the default split
  std::uint64_t seed = 0;
  CostSpec cost;
  StragglerSpec stragglers;
  FailureSpec failures;
  SimulationSpec simulation;
  Ablation ablate;  // mechanisms turned off by knee explain; never parsed (all off: the full model)
  std::int64_t microbatches() const { return par.global_batch / (par.micro_batch * par.dp); }
};

class JsonObject;
// The keys degraded_links, failed_links and failed_nics of `o` (a scenario's $.simulation, a
// cluster file's $.faults) into `f`; other keys are left to the caller. Names are resolved
// against the topology when simulated (every_rank_sim.hpp).
void parse_faults(JsonObject& o, Faults& f);

// Reads a scenario (strict: unknown keys and every inconsistency are InputErrors naming the keys).
Scenario parse_scenario(const nlohmann::json& j, const std::string& source);
Scenario load_scenario(const std::string& path);
// The profile a scenario names ($.profile: a path when it contains '/' or ".json", else a built-in
// name): s.loaded_profile when parse_scenario loaded it, else loaded now. A profile measured on a
// CPU is an InputError naming $.profile and what to use instead.
Profile load_scenario_profile(const Scenario& s);
// Re-checks the layout after a change (the sweep edits gpus, nodes, dp, global_batch).
void validate_scenario(const Scenario& s);
// Layers of each virtual stage (pp x virtual_stages entries, in pipeline order).
std::vector<std::int64_t> stage_layers(const Scenario& s);

}  // namespace knee

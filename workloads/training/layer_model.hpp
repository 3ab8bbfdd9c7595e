// The kernels one transformer layer launches (forward and backward, eager PyTorch or Megatron),
// timed from the profile, with the collectives they wait on; the optimizer step; the power of a
// GPU running them (docs/workloads.md).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "profile/power.hpp"
#include "profile/profile.hpp"
#include "sim/collectives/collective_types.hpp"
#include "workloads/training/groups.hpp"
#include "workloads/training/params.hpp"
#include "workloads/training/scenario.hpp"

namespace knee::workload {

// Which pass a kernel belongs to (timelines name compute slices by it).
enum Phase { kForward = 0, kBackward = 1, kRecompute = 2 };

// One kernel (or blocking collective) on a GPU's compute stream.
struct Kernel {
  double gpu_s = 0;
  int group = -1;     // -1: compute; otherwise the communication group it waits on
  double comm_s = 0;  // communication time it covers (may exceed gpu_s when overlapped)
  int phase = kForward;
  CollOp op = CollOp::allreduce;  // collectives: what and how many bytes (timelines)
  double bytes = 0;
  bool gemm = false;  // a matrix multiply (TP communication overlap pairs collectives with them)
  // Work for the power model: FLOPs and HBM bytes (read + write) of its gpu_s; a collective's HBM
  // bytes are twice its payload (each byte sent is read, each byte received written).
  double flops = 0, hbm_bytes = 0;
};
// Time of a collective on a parallel group: (group, op, bytes) -> seconds.
using CommTimeFn = std::function<double(int group, CollOp op, double bytes)>;

// Cost of running a kernel list on one GPU with the host issuing launches: the GPU waits when it
// outruns the host (eager PyTorch with small kernels), the host runs ahead otherwise.
struct OpCost {
  double total_s = 0, compute_s = 0, launch_gap_s = 0;
  // Of compute_s, the kernels whose arithmetic intensity (FLOPs per HBM byte) exceeds the GPU's
  // ridge point (datasheet peak / copy bandwidth): they slow with the SMs communication holds.
  double compute_bound_s = 0;
  double comm_exposed_s[5] = {0, 0, 0, 0, 0};
  double comm_busy_s[5] = {0, 0, 0, 0, 0};
  // Energy of one GPU over total_s (kernels at the profile's power for their utilization, launch
  // gaps idle; docs/workloads.md, "Energy and cost"); 0 when the profile has no power model.
  double energy_J = 0;
};
// A chunk's compute stream as slices, for timelines: runs of compute kernels (launch gaps
// included, so compute slices sum to compute_s + launch_gap_s) and the collectives between them.
struct OpSlice {
  double start_s = 0, dur_s = 0;  // from the start of the op
  int group = -1;                 // -1: compute
  int layer = -1;                 // -1: embedding (first) or output layer and loss (last)
  int phase = kForward;
  CollOp op = CollOp::allreduce;
  double bytes = 0, comm_s = 0;  // collectives: payload, and communication time it covers
};
// Forward or backward of `layers` layers, with the embedding (first) or output layer and loss (last).
// With `timeline`, the slices are appended to it (layers numbered from 0 within the chunk).
OpCost chunk_cost(const Scenario& s, const Profile& prof, std::int64_t layers, bool first, bool last, bool backward,
                  const CommTimeFn& comm, std::vector<OpSlice>* timeline = nullptr);
// Optimizer step on one GPU of virtual stage params (sharded by ZeRO), and its energy (a
// memory-bound pass; 0 without a power model).
double optimizer_time_s(const Scenario& s, const Profile& prof, const StageParams& p);
double optimizer_energy_J(const Scenario& s, const Profile& prof, const StageParams& p);
// Power of one GPU running work (profile/power.hpp, shared with serving).
using knee::work_power_W;

}  // namespace knee::workload

// A Kineto trace's measured kernels beside what a profile predicts for the same ops (knee analyze
// --trace, docs/analyze.md "Kineto traces"). Each GPU activity is linked to the cpu_op with its
// External id (the innermost op that launched it; never guessed: no such op is "unlinked"), the
// kernels of one op call are summed into one measured call, and the call is classified by its op
// and Input Dims into what the profile can time: a GEMM (Profile::gemm_time_s,
// batched_gemm_time_s), a memory-bound op (memory_bound_time_s on the bytes its shapes move),
// fused attention (attention_time_s); NCCL kernels are measured only; everything else is "not
// predicted", with its share of GPU time.
//
// Measured times are integer picoseconds summed exactly, reported in seconds (ps / 1e12).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/kernel_classify.hpp"
#include "metrics/kineto_trace.hpp"
#include "profile/profile.hpp"

namespace knee {

// Per op class, and per distinct (class, op, shape, dtype).
struct ComparisonRow {
  KernelClass cls = KernelClass::not_predicted;
  std::string op, shape, dtype, reason;  // "" in the per-class rows
  std::int64_t calls = 0, kernels = 0;
  std::int64_t measured_total_ps = 0;
  double measured_median_s = 0;
  double predicted_per_call_s = -1;  // per-shape rows: the one prediction; per-class rows: < 0
  double predicted_total_s = -1;     // < 0: nothing predicted
  double ratio = -1;                 // measured / predicted over the predicted calls; < 0: none
  double share = 0;                  // of all GPU activity time
};

struct StreamRow {
  std::int64_t rank = -1;                 // the trace's rank (-1: a single trace without distributedInfo)
  std::int64_t device = -1, stream = -1;  // stream -1: the device's row (all streams)
  std::int64_t kernels = 0;
  std::int64_t kernel_time_ps = 0;  // sum of durations
  std::int64_t busy_ps = 0;         // union of the [ts, ts + dur] intervals
  std::int64_t span_ps = 0;         // first start to last end
};

struct StepRow {
  std::int64_t rank = -1;  // as StreamRow's
  std::string name;
  std::int64_t step = -1;
  std::int64_t start_ps = 0;  // from the first step's start
  std::int64_t duration_ps = 0;
  std::int64_t kernels = 0;         // GPU activities starting within the window
  std::int64_t kernel_time_ps = 0;  // their durations summed
};

// One trace of a multi-rank set (one file per rank): its totals, the balance between ranks.
struct RankRow {
  std::int64_t rank = -1;
  std::string source, device_name;
  std::int64_t gpu_time_ps = 0, nccl_ps = 0;
  std::int64_t compute_ps = 0;  // GPU activity time that is not NCCL: gpu_time_ps - nccl_ps
  std::int64_t steps = 0;
  double step_median_s = 0, step_max_s = 0;  // of its ProfilerStep windows (0: none)
  double ratio = -1;                         // its time-weighted measured / predicted (< 0: none)
  double predicted_share = 0;
};

// Which rank holds the others back. A synchronous collective ends on every rank when the last one
// arrives, so a rank slow at compute shows twice: the most compute time, and the least NCCL time
// (the fast ranks' NCCL kernels include the wait for it).
struct RankSkew {
  bool valid = false;  // false: a single trace (JSON null)
  std::int64_t slowest_rank = -1, median_rank = -1;
  std::int64_t slowest_compute_ps = 0, median_compute_ps = 0;
  double straggler_factor = -1;  // slowest_compute / median_compute (< 0: median 0)
  std::int64_t most_nccl_rank = -1, least_nccl_rank = -1;
  std::int64_t most_nccl_ps = 0, least_nccl_ps = 0;
};

struct ComparisonOptions {
  int top = 20;  // per-shape rows kept (by measured time)
};

struct KernelComparison {
  std::string source, profile, profile_basis, device_name;
  std::int64_t events = 0, cpu_ops = 0, activities = 0;
  std::int64_t linked = 0, unlinked = 0;   // GPU activities with / without a cpu_op by External id
  std::int64_t gpu_time_ps = 0;            // all GPU activities' durations summed
  std::int64_t predicted_measured_ps = 0;  // of the predicted calls
  std::int64_t nccl_ps = 0, unlinked_ps = 0, not_predicted_ps = 0;
  double predicted_total_s = 0;
  double predicted_share = 0;  // predicted_measured_ps / gpu_time_ps
  double ratio = -1;           // time-weighted: sum measured / sum predicted over predicted calls
  double ratio_p10 = -1, ratio_p50 = -1, ratio_p90 = -1;  // per-call ratios, weighted by measured time
  std::int64_t shapes_total = 0;                          // distinct shapes before the top-N cut
  std::vector<ComparisonRow> classes, shapes;
  std::vector<StreamRow> streams;
  std::vector<StepRow> steps;
  std::vector<RankRow> ranks;  // several traces (one per rank): one row each, by rank; else empty
  RankSkew rank_skew;
  std::vector<std::string> notes;
  std::vector<KernelCall> calls;  // every call, in trace order (not in the JSON)
};

// The comparison; a profile missing a curve an op needs leaves that op not predicted (with why).
KernelComparison compare_kernels(const KinetoTrace& trace, const Profile& profile, const std::string& profile_basis,
                                 const ComparisonOptions& opt = {});

// (Re)computes the totals, ratios and the class and shape rows from c.calls and c.gpu_time_ps
// (compare_kernels calls it; pooling several ranks' calls calls it again).
void summarize_calls(KernelComparison& c, const ComparisonOptions& opt);

// "h200" or a file path (a '/' or ".json") -> the profile; an unknown name is an InputError
// naming `what` ("knee analyze: --profile").
Profile load_profile_arg(const std::string& name_or_file, const std::string& what);
// The built-in profile for a trace's device name (H100 -> h100, A100 -> a100, B200 -> b200,
// else h200), with the basis in words.
std::string default_profile_for(const std::string& device_name, std::string& basis);

}  // namespace knee

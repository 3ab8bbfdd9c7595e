// The fields of `knee analyze --trace --json`, and the JSON made from them.
#include "metrics/kernel_comparison_schema.hpp"

#include <cmath>

namespace knee {
namespace {

using J = nlohmann::ordered_json;

J s_of(std::int64_t ps) { return J(double(ps) / 1e12); }
J opt(double v) { return v >= 0 && std::isfinite(v) ? J(v) : J(nullptr); }

template <class T>
J rows_json(const std::vector<T>& rows, const std::vector<TraceField<T>>& fields) {
  J out = J::array();
  for (const auto& r : rows) {
    J o = J::object();
    for (const auto& f : fields) o[f.key] = f.value(r);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

const std::vector<TraceField<ComparisonRow>>& trace_row_fields() {
  using R = ComparisonRow;
  static const std::vector<TraceField<R>> f = {
      {"class", "", "gemm, memory, attention, nccl (measured only), not_predicted or unlinked",
       [](const R& r) { return J(to_string(r.cls)); }},
      {"op", "", "the cpu_op (an NCCL or unlinked kernel: its name); \"\" in the per-class rows",
       [](const R& r) { return J(r.op); }},
      {"shape", "", "what the prediction used (m n k; bytes; b h s d) or the Input Dims as written",
       [](const R& r) { return J(r.shape); }},
      {"dtype", "", "bf16, fp16, fp32, ... (\"\" where none applies)", [](const R& r) { return J(r.dtype); }},
      {"reason", "", "why not predicted (\"\" otherwise)", [](const R& r) { return J(r.reason); }},
      {"calls", "", "op calls (an NCCL or unlinked kernel is one call)", [](const R& r) { return J(r.calls); }},
      {"kernels", "", "GPU activities summed into them", [](const R& r) { return J(r.kernels); }},
      {"measured_total_s", "s", "measured GPU time, all calls", [](const R& r) { return s_of(r.measured_total_ps); }},
      {"measured_median_s", "s", "median measured time of one call", [](const R& r) { return J(r.measured_median_s); }},
      {"predicted_per_call_s", "s", "the profile's time for one call (per-shape rows; null: not predicted)",
       [](const R& r) { return opt(r.predicted_per_call_s); }},
      {"predicted_total_s", "s", "the profile's time, summed over the predicted calls (null: none)",
       [](const R& r) { return opt(r.predicted_total_s); }},
      {"ratio", "x", "measured / predicted over the predicted calls (null: none)",
       [](const R& r) { return opt(r.ratio); }},
      {"share", "share", "of all GPU activity time", [](const R& r) { return J(r.share); }},
  };
  return f;
}

const std::vector<TraceField<StreamRow>>& trace_stream_fields() {
  using R = StreamRow;
  static const std::vector<TraceField<R>> f = {
      {"rank", "", "the trace's rank (null: one trace without distributedInfo)",
       [](const R& r) { return r.rank < 0 ? J(nullptr) : J(r.rank); }},
      {"device", "", "the GPU (args device; -1 when absent)", [](const R& r) { return J(r.device); }},
      {"stream", "", "the stream (null: the device's row, all streams)",
       [](const R& r) { return r.stream < 0 ? J(nullptr) : J(r.stream); }},
      {"kernels", "", "GPU activities", [](const R& r) { return J(r.kernels); }},
      {"kernel_time_s", "s", "their durations summed", [](const R& r) { return s_of(r.kernel_time_ps); }},
      {"busy_s", "s", "time with at least one activity running (union of intervals)",
       [](const R& r) { return s_of(r.busy_ps); }},
      {"span_s", "s", "first start to last end", [](const R& r) { return s_of(r.span_ps); }},
  };
  return f;
}

const std::vector<TraceField<StepRow>>& trace_step_fields() {
  using R = StepRow;
  static const std::vector<TraceField<R>> f = {
      {"rank", "", "the trace's rank (null: one trace without distributedInfo)",
       [](const R& r) { return r.rank < 0 ? J(nullptr) : J(r.rank); }},
      {"name", "", "ProfilerStep#N", [](const R& r) { return J(r.name); }},
      {"step", "", "N", [](const R& r) { return J(r.step); }},
      {"start_s", "s", "from the first window's start", [](const R& r) { return s_of(r.start_ps); }},
      {"duration_s", "s", "the measured step time (the host-side window)",
       [](const R& r) { return s_of(r.duration_ps); }},
      {"kernels", "", "GPU activities starting inside the window", [](const R& r) { return J(r.kernels); }},
      {"kernel_time_s", "s", "their durations summed", [](const R& r) { return s_of(r.kernel_time_ps); }},
  };
  return f;
}

const std::vector<TraceField<RankRow>>& trace_rank_fields() {
  using R = RankRow;
  static const std::vector<TraceField<R>> f = {
      {"rank", "", "distributedInfo.rank, else the trace's position in the list", [](const R& r) { return J(r.rank); }},
      {"source", "", "its trace file", [](const R& r) { return J(r.source); }},
      {"device_name", "", "its deviceProperties[0].name", [](const R& r) { return J(r.device_name); }},
      {"gpu_time_s", "s", "its GPU activities' durations summed", [](const R& r) { return s_of(r.gpu_time_ps); }},
      {"nccl_s", "s", "its NCCL kernels' time (includes waiting for slower ranks)",
       [](const R& r) { return s_of(r.nccl_ps); }},
      {"compute_s", "s", "GPU activity time that is not NCCL: gpu_time_s - nccl_s",
       [](const R& r) { return s_of(r.compute_ps); }},
      {"steps", "", "its ProfilerStep#N windows", [](const R& r) { return J(r.steps); }},
      {"step_median_s", "s", "their median duration (0: none)", [](const R& r) { return J(r.step_median_s); }},
      {"step_max_s", "s", "their longest (0: none)", [](const R& r) { return J(r.step_max_s); }},
      {"ratio", "x", "its time-weighted measured / predicted (null: none)", [](const R& r) { return opt(r.ratio); }},
      {"predicted_share", "share", "of its GPU time, how much is predicted",
       [](const R& r) { return J(r.predicted_share); }},
  };
  return f;
}

const std::vector<TraceField<RankSkew>>& trace_rank_skew_fields() {
  using K = RankSkew;
  static const std::vector<TraceField<K>> f = {
      {"slowest_rank", "", "the rank with the most compute_s (ties: the lowest rank)",
       [](const K& k) { return J(k.slowest_rank); }},
      {"slowest_compute_s", "s", "its compute_s", [](const K& k) { return s_of(k.slowest_compute_ps); }},
      {"median_rank", "", "the median rank by compute_s (the lower median: of two ranks, the faster)",
       [](const K& k) { return J(k.median_rank); }},
      {"median_compute_s", "s", "its compute_s", [](const K& k) { return s_of(k.median_compute_ps); }},
      {"straggler_factor", "x", "slowest_compute_s / median_compute_s (1: balanced; null: median 0)",
       [](const K& k) { return opt(k.straggler_factor); }},
      {"most_nccl_rank", "", "the rank with the most NCCL time: it waits longest for the others",
       [](const K& k) { return J(k.most_nccl_rank); }},
      {"most_nccl_s", "s", "its nccl_s", [](const K& k) { return s_of(k.most_nccl_ps); }},
      {"least_nccl_rank", "", "the rank with the least NCCL time: the one the others wait for, if any",
       [](const K& k) { return J(k.least_nccl_rank); }},
      {"least_nccl_s", "s", "its nccl_s", [](const K& k) { return s_of(k.least_nccl_ps); }},
  };
  return f;
}

const std::vector<TraceField<KernelComparison>>& trace_fields() {
  using C = KernelComparison;
  static const std::vector<TraceField<C>> f = {
      {"source", "", "the trace file", [](const C& c) { return J(c.source); }},
      {"profile", "", "the profile predictions come from", [](const C& c) { return J(c.profile); }},
      {"profile_basis", "", "why that profile", [](const C& c) { return J(c.profile_basis); }},
      {"device_name", "", "the trace's deviceProperties[0].name (\"\": none)",
       [](const C& c) { return J(c.device_name); }},
      {"events", "", "trace events in the file", [](const C& c) { return J(c.events); }},
      {"cpu_ops", "", "cpu_op events", [](const C& c) { return J(c.cpu_ops); }},
      {"activities", "", "GPU activities (kernel, gpu_memcpy, gpu_memset)", [](const C& c) { return J(c.activities); }},
      {"linked", "", "activities with a cpu_op of their External id", [](const C& c) { return J(c.linked); }},
      {"unlinked", "", "activities without one (not guessed)", [](const C& c) { return J(c.unlinked); }},
      {"gpu_time_s", "s", "all activities' durations summed", [](const C& c) { return s_of(c.gpu_time_ps); }},
      {"predicted_measured_s", "s", "measured time of the predicted calls",
       [](const C& c) { return s_of(c.predicted_measured_ps); }},
      {"predicted_total_s", "s", "the profile's time for those calls",
       [](const C& c) { return J(c.predicted_total_s); }},
      {"predicted_share", "share", "predicted_measured_s / gpu_time_s: how much of the GPU time is compared",
       [](const C& c) { return J(c.predicted_share); }},
      {"ratio", "x", "time-weighted measured / predicted: predicted_measured_s / predicted_total_s (null: none)",
       [](const C& c) { return opt(c.ratio); }},
      {"ratio_p10", "x", "10th percentile of the calls' ratios, weighted by measured time",
       [](const C& c) { return opt(c.ratio_p10); }},
      {"ratio_p50", "x", "their weighted median", [](const C& c) { return opt(c.ratio_p50); }},
      {"ratio_p90", "x", "their weighted 90th percentile", [](const C& c) { return opt(c.ratio_p90); }},
      {"nccl_s", "s", "NCCL kernels' time (measured only)", [](const C& c) { return s_of(c.nccl_ps); }},
      {"not_predicted_s", "s", "linked calls knee has no model or no shapes for",
       [](const C& c) { return s_of(c.not_predicted_ps); }},
      {"unlinked_s", "s", "unlinked activities' time", [](const C& c) { return s_of(c.unlinked_ps); }},
      {"shapes_total", "", "distinct shapes before the top-N cut", [](const C& c) { return J(c.shapes_total); }},
      {"notes", "", "what limits the comparison", [](const C& c) { return J(c.notes); }},
      {"classes", "", "one row per op class", [](const C& c) { return rows_json(c.classes, trace_row_fields()); }},
      {"shapes", "", "one row per distinct (class, op, shape, dtype), top N by measured time",
       [](const C& c) { return rows_json(c.shapes, trace_row_fields()); }},
      {"streams", "", "GPU busy time per device and stream",
       [](const C& c) { return rows_json(c.streams, trace_stream_fields()); }},
      {"steps", "", "the ProfilerStep#N windows", [](const C& c) { return rows_json(c.steps, trace_step_fields()); }},
      {"ranks", "", "several traces: one row per rank, by rank (one trace: empty)",
       [](const C& c) { return rows_json(c.ranks, trace_rank_fields()); }},
      {"rank_skew", "", "several traces: the slowest rank, its straggler factor, the NCCL waits (one trace: null)",
       [](const C& c) {
         if (!c.rank_skew.valid) return J(nullptr);
         J o = J::object();
         for (const auto& f : trace_rank_skew_fields()) o[f.key] = f.value(c.rank_skew);
         return o;
       }},
  };
  return f;
}

nlohmann::ordered_json kernel_comparison_json(const KernelComparison& c) {
  J out = J::object();
  for (const auto& f : trace_fields()) out[f.key] = f.value(c);
  return out;
}

}  // namespace knee

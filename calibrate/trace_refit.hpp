// A profile refitted from a real run's kernel times (knee fit --kineto; docs/calibration.md,
// "Refitting from a trace"): the base profile with the measured calls of a trace (each call's GPU
// time and the shape the profile times) written in as samples of the tables that time them.
//
// Per table with calls (a GEMM dtype, a batched-GEMM dtype, a memory curve, fused attention's
// forward and backward):
//   r = sum of the calls' measured times / sum of what the base profile predicts for them;
//   every base sample is kept with its times multiplied by r: the base's shape dependence, moved to
//   the level the trace measured (shapes the trace never ran still need a value);
//   every distinct shape of the trace becomes a sample: the median of its calls, their 95% interval
//   (calibrate/stats.hpp), reps = calls, replacing any base sample of that shape;
//   a memory curve is refitted over its samples (alpha, beta, segments) as knee fit does.
// Tables without calls are unchanged. $.manifest.extra.kineto_refit records, per table, the calls,
// shapes, r and the p10-p90 of the calls' own ratios.
#pragma once
#include <string>
#include <vector>

#include "common/json_reader.hpp"
#include "profile/kernel_shape.hpp"

namespace knee {

struct TraceRefitOptions {
  std::string name;          // the new profile's name; "": the base's name + "-kineto"
  std::string trace_source;  // the trace file(s), for provenance
  std::string command_line, git_revision;
};

// The refitted profile's JSON (validated by Profile::from_json). No call of a known shape is an
// InputError naming the trace; calls of zero time are skipped (counted in the record).
OrderedJson refit_profile_from_trace(const OrderedJson& base, const std::vector<MeasuredKernel>& calls,
                                     const TraceRefitOptions& opt);

}  // namespace knee

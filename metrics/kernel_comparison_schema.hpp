// The result of `knee analyze --trace` defined once (as metrics/run_analysis_schema.hpp is for
// runs): every field of its JSON with unit and meaning. The JSON (kernel_comparison_json), the
// table's legend, Python's knee.TraceAnalysis fields and DataFrame columns come from these tables.
// Absent values (no prediction, no ratio) are JSON null.
#pragma once
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/kernel_comparison.hpp"

namespace knee {

template <class T>
struct TraceField {
  const char* key;
  const char* unit;  // "s", "share", "x", "" for counts, names and tables
  const char* meaning;
  std::function<nlohmann::ordered_json(const T&)> value;
};

// One row per op class (gemm, memory, attention, nccl, not_predicted, unlinked; op, shape, dtype
// and reason empty) and per distinct shape: the same columns.
const std::vector<TraceField<ComparisonRow>>& trace_row_fields();
const std::vector<TraceField<StreamRow>>& trace_stream_fields();    // per device (stream null) and stream
const std::vector<TraceField<StepRow>>& trace_step_fields();        // per ProfilerStep window
const std::vector<TraceField<RankRow>>& trace_rank_fields();        // per rank (several traces)
const std::vector<TraceField<RankSkew>>& trace_rank_skew_fields();  // the "rank_skew" object
// The top level; "classes", "shapes", "streams", "steps" and "ranks" are tables of the rows above,
// "rank_skew" an object of its fields (null for a single trace).
const std::vector<TraceField<KernelComparison>>& trace_fields();

nlohmann::ordered_json kernel_comparison_json(const KernelComparison& c);

}  // namespace knee

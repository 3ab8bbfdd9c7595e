// The result of `knee analyze` defined once (as workloads/training/result_schema.hpp does for a
// step): every field of its JSON, with unit and meaning. The JSON (analysis_json), the text
// table's legend, Python's DataFrame columns (knee.analyze) and docs/analyze.md come from these
// tables. Intervals are two fields, NAME_lo and NAME_hi; NaN and infinity are JSON null.
#pragma once
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/run_analysis.hpp"

namespace knee {

template <class T>
struct AnalysisField {
  const char* key;
  const char* unit;  // "s", "share", "GPUs", ...; "measure" is the input's unit (step_time_s, ...),
                     // "throughput" the result's throughput_unit; "" for counts, flags and text
  const char* meaning;
  std::function<nlohmann::ordered_json(const T&)> value;
};

const std::vector<AnalysisField<CountAnalysis>>& analysis_count_fields();    // one row per GPU count
const std::vector<AnalysisField<FitAnalysis>>& analysis_fit_fields();        // one row per law
const std::vector<AnalysisField<Prediction>>& analysis_prediction_fields();  // one row per law and count
// The top level of `knee analyze --json`; "counts", "fits" and "predictions" are the rows above.
const std::vector<AnalysisField<RunAnalysis>>& analysis_fields();

nlohmann::ordered_json analysis_json(const RunAnalysis& a);

}  // namespace knee

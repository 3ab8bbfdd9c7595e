// An error budget for one prediction (`knee explain`, knee.explain; docs/explain.md): the step
// simulated as the scenario says, then once per modelled mechanism that applies with that one
// mechanism off and every other on, so a user sees which assumption the answer rests on and
// where that assumption's parameters came from. Rows are not additive.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/training/result.hpp"
#include "workloads/training/scenario.hpp"

namespace knee {

// One mechanism turned off.
struct ExplainRow {
  std::string id;          // stable key, e.g. "dp_overlap"
  std::string mechanism;   // for people, e.g. "data-parallel overlap"
  std::string off;         // what "off" means, one line
  double step_time_s = 0;  // the step with it off
  double delta_s = 0;      // step_time_s - the baseline's
  double delta_pct = 0;    // 100 x delta_s / the baseline's step time
  std::string provenance;  // of the mechanism's parameters: measured, fitted, derived, datasheet, assumed
  std::string basis;       // which parameters, with their values, one line
};

struct ExplainResult {
  SimResult baseline;            // simulate(s), simulated even when memory does not fit
  std::vector<ExplainRow> rows;  // sorted by |delta_s|, largest first (ties: the table's order)
  std::string scenario;          // the scenario's source, for messages and the JSON
};

// Every mechanism row that applies to `s` (validate_scenario's errors as InputErrors).
ExplainResult explain(const Scenario& s);

// The one definition of what explain gives: each field with its unit and meaning; the JSON, the
// CLI's table and Python's DataFrame columns and attrs are made from these tables.
struct ExplainRowField {
  const char* key;
  const char* unit;     // "s", "%", or "" for text
  const char* meaning;  // one line
  bool column;          // a column of the CLI's table; else a line under the row
  std::function<nlohmann::ordered_json(const ExplainRow&)> value;
};
const std::vector<ExplainRowField>& explain_row_fields();
struct ExplainField {
  const char* key;
  const char* unit;
  const char* meaning;
  std::function<nlohmann::ordered_json(const ExplainResult&)> value;
};
const std::vector<ExplainField>& explain_fields();  // the top level of `knee explain --json`
nlohmann::ordered_json explain_json(const ExplainResult& r);

// How to read the budget, one line (the CLI prints it under the table; docs/explain.md).
const char* explain_reading();

}  // namespace knee

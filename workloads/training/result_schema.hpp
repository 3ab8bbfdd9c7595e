// Results defined once (docs/python.md, "One schema"): each field of a result's JSON, and each
// column of a sweep's table, is declared here with its unit and meaning; the JSON (to_json), the
// CSV, Python's result fields and DataFrame columns are all made from these tables, so none can
// drift from the others.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/training/result.hpp"

namespace knee {

template <class Result>
struct ResultField {
  const char* key;
  const char* unit;     // "s", "bytes", "share", ...; "" for flags, counts and objects
  const char* meaning;  // one line, for help texts and Python docstrings
  std::function<nlohmann::ordered_json(const Result&)> value;
};

// The top-level fields of `knee simulate --json`, in order.
const std::vector<ResultField<SimResult>>& simulate_result_fields();

// A column of a sweep table (`knee sweep --csv`, Python's knee.sweep DataFrame): read from one
// point of `knee sweep --json` by its JSON pointer; empty (NaN in Python) where the point has no
// such value (infeasible, or no power model, price, run or failure model).
struct SweepColumn {
  const char* name;
  const char* pointer;  // into a point, e.g. "/breakdown/exposed_comm_by_group_s/tp"; "" for "knee"
  const char* unit;
  const char* meaning;
};
const std::vector<SweepColumn>& sweep_columns();

// The value of `c` in `point` (a point of `knee sweep --json`), or null where it has none.
nlohmann::ordered_json sweep_column_value(const SweepColumn& c, const nlohmann::ordered_json& point, bool is_knee);

}  // namespace knee

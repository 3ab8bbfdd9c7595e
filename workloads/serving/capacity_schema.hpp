// A capacity plan defined once: each field of `knee capacity --json` and each column of its table of
// candidates tried, with unit and meaning. The JSON, Python's result fields and the candidates
// DataFrame's columns are all made from these.
#pragma once
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/serving/capacity.hpp"

namespace knee::serving {

struct CandidateColumn {
  const char* name;
  const char* unit;
  const char* meaning;
  std::function<nlohmann::ordered_json(const CapacityCandidate&)> value;
};
const std::vector<CandidateColumn>& candidate_columns();

struct CapacityField {
  const char* key;
  const char* unit;
  const char* meaning;
  std::function<nlohmann::ordered_json(const CapacityResult&)> value;
};
const std::vector<CapacityField>& capacity_fields();

// The fields in order; "best" is the chosen candidate as an object of the columns (null: none).
nlohmann::ordered_json to_json(const CapacityResult& r);
// One candidate: {column: value}.
nlohmann::ordered_json candidate_json(const CapacityCandidate& c);

}  // namespace knee::serving

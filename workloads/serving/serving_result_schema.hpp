// A serving result defined once (docs/python.md, "One schema"): each field of `knee simulate
// --json` on a serving scenario and each column of the per-request table, with unit and meaning.
// The JSON, Python's result fields and the requests DataFrame's columns are all made from these.
#pragma once
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/serving/serving_result.hpp"

namespace knee::serving {

struct ServingField {
  const char* key;
  const char* unit;     // "s", "req/s", "tokens/s", "share", ...; "" for counts and objects
  const char* meaning;  // one line, for help texts and Python docstrings
  std::function<nlohmann::ordered_json(const ServingResult&)> value;
};
const std::vector<ServingField>& serving_result_fields();

// The energy and cost lines of knee simulate's text summary: a field's key, its label in the
// style of vllm bench serve, and the factor from the field's unit to the label's.
struct TextLine {
  const char* key;
  const char* label;
  double scale;
};
const std::vector<TextLine>& energy_text_lines();

struct RequestColumn {
  const char* name;
  const char* unit;
  const char* meaning;
  double (*value)(const RequestRecord&);
};
const std::vector<RequestColumn>& request_columns();

// The fields in order (the per-request table is not part of it: see requests_json).
nlohmann::ordered_json to_json(const ServingResult& r);
// {column: [value per request]}, in request order.
nlohmann::ordered_json requests_json(const ServingResult& r);
// A latency's aggregates: {"mean", "p50", "p90", "p99", "p999", "count", "ci95": {...}}.
nlohmann::ordered_json latency_json(const LatencySummary& s);

}  // namespace knee::serving

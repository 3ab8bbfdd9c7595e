// A claim audit defined once (docs/python.md, "One schema"): each field of `knee audit --json`
// and each column of its checks, with unit and meaning; the JSON and Python's knee.ClaimAudit
// (its fields, its checks DataFrame, its docstring) are all made from these.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/claim_audit.hpp"

namespace knee {

// The checks' columns (item, status, detail): the JSON rows and Python's DataFrame come from it.
struct AuditColumn {
  const char* key;
  const char* meaning;
  std::function<std::string(const AuditCheck&)> value;
};
const std::vector<AuditColumn>& audit_check_columns();

// The audit's top-level fields, in the JSON's order.
struct AuditField {
  const char* key;
  const char* unit;  // "" for names, counts and objects
  const char* meaning;
  std::function<nlohmann::ordered_json(const ClaimAudit&)> value;
};
const std::vector<AuditField>& claim_audit_fields();

// The fields above, in order.
nlohmann::ordered_json audit_json(const ClaimAudit& a);

}  // namespace knee

// Workload test helpers shared by the suites: a scenario from JSON, and the message of the
// InputError a bad one throws ("(no InputError)" when it parses).
#pragma once
#include <string>

#include "sim/workload/workload.hpp"
#include "tests/common/error_of.hpp"

namespace knee::test {

inline Scenario scen(const nlohmann::json& j) { return parse_scenario(j, "<test>"); }
inline std::string scenario_error(const nlohmann::json& j) {
  return error_of([&] { scen(j); });
}

}  // namespace knee::test

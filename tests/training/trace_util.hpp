// Test helper for timelines (knee simulate --trace): a scenario simulated with a Chrome trace,
// written to a file of the running test's name and read back (so the file is valid JSON).
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/json_reader.hpp"
#include "metrics/trace.hpp"
#include "workloads/training/training.hpp"

namespace knee::test {

struct Traced {
  SimResult r;
  nlohmann::json j;
};

inline Traced run_traced(const nlohmann::json& sj, std::vector<std::uint32_t> ranks = {},
                         std::size_t max_events = 1'000'000, bool every_rank = false) {
  ChromeTrace t(max_events);
  SimOptions o;
  o.trace = &t;
  o.trace_ranks = std::move(ranks);
  o.every_rank = every_rank;
  Traced out;
  out.r = simulate(parse_scenario(sj, "<test>"), o);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path =
      std::string(KNEE_BINARY_DIR) + "/trace_" + info->test_suite_name() + "." + info->name() + ".json";
  t.write_file(path, out.r.trace_metadata);
  out.j = parse_json_file(path);
  return out;
}

// Integer picoseconds of a trace timestamp (written in microseconds with 6 decimals).
inline std::int64_t ps(const nlohmann::json& v) { return std::llround(v.get<double>() * 1e6); }

}  // namespace knee::test

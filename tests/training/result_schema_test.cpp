// The sweep columns of result_schema.cpp: each reads its JSON pointer (checked against
// nlohmann's own json_pointer), null objects on the way give no value, and names are unique.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "workloads/training/result_schema.hpp"

using namespace knee;
using Json = nlohmann::ordered_json;

TEST(ResultSchema, SweepColumnsReadTheirPointers) {
  Json point = {{"gpus", 64},
                {"tp", 8},
                {"pp", 8},
                {"dp", 1},
                {"cp", 1},
                {"global_batch", 1536},
                {"feasible", true},
                {"step_time_s", 1.5},
                {"tokens_per_s", 2.0},
                {"speedup", 1.0},
                {"efficiency", 0.9},
                {"mfu", 0.4},
                {"comm_to_compute", 0.2},
                {"memory_per_gpu_bytes", 7e10},
                {"energy", nullptr},
                {"cost", {{"usd_per_million_tokens", 3.5}, {"run", {{"days", 12.0}, {"usd", 1e6}}}}},
                {"failures", {{"goodput", 0.93}}}};
  point["breakdown"] = {{"compute_s", 1.0},
                        {"exposed_comm_s", 0.3},
                        {"bubble_s", 0.1},
                        {"optimizer_s", 0.05},
                        {"launch_gap_s", 0.01},
                        {"straggler_s", 0.0},
                        {"exposed_comm_by_group_s", {{"tp", 0.1}, {"pp", 0.05}, {"dp", 0.15}, {"cp", 0}, {"ep", 0}}}};
  std::set<std::string> names;
  for (const auto& c : sweep_columns()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name << " twice";
    const Json v = sweep_column_value(c, point, true);
    const std::string ptr = c.pointer;
    if (ptr.empty()) {
      EXPECT_EQ(std::string(c.name), "knee");
      EXPECT_EQ(v, true);
      continue;
    }
    const nlohmann::ordered_json::json_pointer jp(ptr);
    bool present = true;  // the oracle: nlohmann's pointer, treating a null object on the way as absent
    try {
      const Json& x = point.at(jp);
      EXPECT_EQ(v, x) << c.name;
    } catch (const nlohmann::json::exception&) { present = false; }
    if (!present) { EXPECT_TRUE(v.is_null()) << c.name; }
  }
  auto column = [](const std::string& name) {
    for (const auto& c : sweep_columns())
      if (name == c.name) return c;
    ADD_FAILURE() << "no column " << name;
    return sweep_columns().front();
  };
  EXPECT_TRUE(sweep_column_value(column("avg_power_per_gpu_W"), point, false).is_null());  // energy is null
  EXPECT_EQ(sweep_column_value(column("run_usd"), point, false), 1e6);                     // /cost/run/usd
}

TEST(ResultSchema, SimulateJsonHasTheSchemasKeysInOrder) {
  SimResult r;
  r.step_time_s = 2;
  const Json j = r.to_json();
  std::size_t i = 0;
  for (auto it = j.begin(); it != j.end(); ++it, ++i) EXPECT_EQ(it.key(), simulate_result_fields().at(i).key);
  EXPECT_EQ(i, simulate_result_fields().size());
  EXPECT_EQ(j["step_time_s"], 2.0);
  EXPECT_TRUE(j["energy"].is_null() && j["cost"].is_null() && j["stragglers"].is_null() && j["failures"].is_null());
}

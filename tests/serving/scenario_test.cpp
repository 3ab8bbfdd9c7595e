// Serving scenarios read strictly: defaults, and bad input named by file and field.
#include <gtest/gtest.h>

#include <fstream>

#include "serving_util.hpp"

namespace knee::serving {
namespace {

std::string error_of(const nlohmann::json& j) {
  try {
    simulate_once(test::parse(j));
  } catch (const InputError& e) { return e.what(); }
  return "";
}

TEST(ServingScenario, Defaults) {
  const auto s = test::parse(test::base_scenario());
  EXPECT_EQ(s.serving.max_batch, 256);
  EXPECT_EQ(s.serving.max_tokens_per_iter, 8192);
  EXPECT_TRUE(s.serving.chunked_prefill);
  EXPECT_EQ(s.serving.block_tokens, 16);
  EXPECT_DOUBLE_EQ(s.serving.gpu_memory_utilization, 0.9);
  EXPECT_TRUE(s.serving.cuda_graphs);
  EXPECT_EQ(s.profile.name(), "h200");
  EXPECT_TRUE(is_serving_scenario(test::base_scenario()));
  auto t = test::base_scenario();
  t.erase("serving");
  EXPECT_FALSE(is_serving_scenario(t));
  auto r = test::base_scenario();
  r["serving"].erase("replicas");
  EXPECT_EQ(test::parse(r).serving.replicas, 8);  // gpus / tp
}

TEST(ServingScenario, BadInputNamesTheField) {
  auto j = test::base_scenario();
  j["serving"]["arrivals"]["rate_per_s"] = -5;
  EXPECT_NE(error_of(j).find("<test>: $.serving.arrivals.rate_per_s: expected a finite number > 0"), std::string::npos)
      << error_of(j);
  j = test::base_scenario();
  j["serving"]["pp"] = 2;
  EXPECT_NE(error_of(j).find("$.serving.pp: expected 1 (pipeline-parallel serving is not simulated yet)"),
            std::string::npos);
  j = test::base_scenario();
  j["serving"]["batching"] = {{"max_batchh", 3}};
  EXPECT_NE(error_of(j).find("$.serving.batching.max_batchh"), std::string::npos) << error_of(j);
  j = test::base_scenario();
  j["serving"]["tp"] = 3;
  EXPECT_NE(error_of(j).find("$.serving.tp"), std::string::npos);
  j = test::base_scenario();
  j["serving"]["kv_cache"] = {{"num_blocks", 10}};  // 160 tokens < 512 + 64
  EXPECT_NE(error_of(j).find(
                "$.serving.kv_cache.num_blocks: expected a KV cache that holds the longest request (576 tokens)"),
            std::string::npos)
      << error_of(j);
  j = test::base_scenario();
  j["serving"]["kv_cache"] = {{"gpu_memory_utilization", 0.1}};  // 14 GB: less than the 16 GB of weights
  EXPECT_NE(error_of(j).find("$.serving.tp: expected a layout whose weights"), std::string::npos) << error_of(j);
  j = test::base_scenario();
  j["serving"]["lengths"]["output_tokens"] = 8000;  // 512 + 8000 > seq_len 8192
  EXPECT_NE(error_of(j).find("$.serving.lengths.output_tokens"), std::string::npos) << error_of(j);
  j = test::base_scenario();
  j["serving"].erase("requests");
  EXPECT_NE(error_of(j).find("$.serving.requests: expected requests (a count) or duration_s"), std::string::npos);
  j = test::base_scenario();
  j["model"]["moe"] = {{"experts", 8}, {"top_k", 2}};
  EXPECT_NE(error_of(j).find("$.model: expected a dense model"), std::string::npos);
}

TEST(ServingScenario, TraceRowsInOrder) {
  const std::string dir = ::testing::TempDir();
  const std::string good = dir + "/serving_trace_ok.csv", bad = dir + "/serving_trace_bad.csv";
  std::ofstream(good) << "arrival_s,prompt_tokens,output_tokens,session_id\n0.0,100,10,a\n0.5,200,5,b\n0.5,50,1,a\n";
  std::ofstream(bad) << "arrival_s,prompt_tokens,output_tokens\n0.0,100,10\n0.7,200,5\n0.6,50,1\n";
  auto j = test::base_scenario();
  j["serving"].erase("lengths");
  j["serving"].erase("requests");
  j["serving"]["arrivals"] = {{"kind", "trace"}, {"file", good}};
  const auto r = simulate_once(test::parse(j));
  ASSERT_EQ(r.completed, 3);
  EXPECT_EQ(r.total_input_tokens, 350);
  EXPECT_EQ(r.total_output_tokens, 16);
  EXPECT_DOUBLE_EQ(r.requests[1].arrival_s, 0.5);
  j["serving"]["arrivals"]["file"] = bad;
  try {
    test::parse(j);
    FAIL() << "an out-of-order trace was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ": line 4.arrival_s: expected arrival times in order"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace knee::serving

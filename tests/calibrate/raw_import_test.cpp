// Reading raw calibration files (calibrate/raw.hpp): malformed files name the file and $.path.
#include <gtest/gtest.h>

#include "calibrate/raw.hpp"
#include "common/json_reader.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/write_tmp.hpp"

using namespace knee;
using knee::test::error_of;
using knee::test::write_tmp;

TEST(RawImport, MalformedRawFilesNameFileAndPath) {
  const std::string run1 = std::string(KNEE_SOURCE_DIR) + "/calibrate/data/h200-2026-11-27/micro.json";
  Json j = parse_json_file(run1);
  std::string e;
  {
    Json k = j;
    k["memory"][2]["times_s"][5] = -3e-6;
    e = error_of([&] { read_raw_json(k, "r.json"); });
    EXPECT_EQ(e, "r.json: $.memory[2].times_s[5]: expected a finite number > 0, got -3e-06");
  }
  {
    Json k = j;
    k["host_link"][0]["bandwidth"] = 1;
    e = error_of([&] { read_raw_json(k, "r.json"); });
    EXPECT_NE(e.find("r.json: $.host_link[0].bandwidth: expected one of the known keys"), std::string::npos) << e;
  }
  {
    Json k = j;
    k["gemm"][0]["m"] = "64";
    e = error_of([&] { read_raw_json(k, "r.json"); });
    EXPECT_EQ(e, "r.json: $.gemm[0].m: expected an integer >= 1, got \"64\"");
  }
  {
    Json k = j;
    k["gemm"][0]["flops"] = 1000.5;
    e = error_of([&] { read_raw_json(k, "r.json"); });
    EXPECT_NE(e.find("$.gemm[0].flops: expected 2*m*n*k"), std::string::npos) << e;
  }
  auto trunc = write_tmp("rawtrunc.json", "{\"env\": {\"name\": ");
  e = error_of([&] { read_raw_file(trunc); });
  EXPECT_NE(e.find(trunc + ": expected valid JSON"), std::string::npos) << e;
  e = error_of([&] { read_raw_json(Json::parse("[1,2]"), "x.json"); });
  EXPECT_NE(e.find("x.json: $: expected a raw calibration file"), std::string::npos) << e;
}

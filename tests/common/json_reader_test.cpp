#include "common/json_reader.hpp"
#include "tests/common/error_of.hpp"

#include <gtest/gtest.h>

#include "common/parse.hpp"

using namespace knee;

using knee::test::error_of;

TEST(JsonReader, ReadsTypedValuesAndRejectsUnknownKeys) {
  Json j = parse_json_text(R"({"a": 1.5, "n": 4, "s": "x", "b": true, "bandwith_GBps": 3})", "t.json");
  JsonObject o = JsonObject::root(j, "t.json");
  EXPECT_DOUBLE_EQ(o.positive("a"), 1.5);
  EXPECT_EQ(o.integer("n", 1), 4);
  EXPECT_EQ(o.string("s"), "x");
  EXPECT_TRUE(o.boolean("b"));
  std::string e = error_of([&] { o.finish(); });
  EXPECT_NE(e.find("t.json: $.bandwith_GBps"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(JsonReader, ErrorsNameFilePathAndExpectation) {
  Json j = parse_json_text(R"({"links": [{"bw": -5}], "n": 2.5, "name": 3})", "f.json");
  JsonObject o = JsonObject::root(j, "f.json");
  auto links = o.array("links");
  EXPECT_EQ(error_of([&] { links.object(0).positive("bw"); }),
            "f.json: $.links[0].bw: expected a finite number > 0, got -5");
  EXPECT_EQ(error_of([&] { o.integer("n", 1); }), "f.json: $.n: expected an integer >= 1, got 2.5");
  EXPECT_EQ(error_of([&] { o.string("name"); }), "f.json: $.name: expected a string, got 3");
  EXPECT_EQ(error_of([&] { o.number("missing"); }), "f.json: $.missing: expected a value (required key is missing)");
}

TEST(JsonReader, MalformedTextIsAnInputError) {
  std::string e = error_of([] { parse_json_text("{\"a\": [1, 2", "bad.json"); });
  EXPECT_EQ(e.rfind("bad.json: expected valid JSON", 0), 0u) << e;
  e = error_of([] { parse_json_file("/nonexistent/x.json"); });
  EXPECT_NE(e.find("/nonexistent/x.json"), std::string::npos);
}

TEST(Parse, SizesInBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_bytes("8", "s"), 8);
  EXPECT_EQ(parse_bytes("8B", "s"), 8);
  EXPECT_EQ(parse_bytes("4KiB", "s"), 4096);
  EXPECT_EQ(parse_bytes("8GiB", "s"), 8LL << 30);
  EXPECT_EQ(parse_bytes("10MB", "s"), 10'000'000);
  EXPECT_EQ(parse_bytes("1.5KiB", "s"), 1536);
  EXPECT_THROW(parse_bytes("-1", "s"), InputError);
  EXPECT_THROW(parse_bytes("8XB", "s"), InputError);
  EXPECT_THROW(parse_bytes("0.3B", "s"), InputError);
  auto sweep = parse_size_sweep("8B:1KiB", "s");
  ASSERT_EQ(sweep.size(), 8u);
  EXPECT_EQ(sweep.front(), 8);
  EXPECT_EQ(sweep.back(), 1024);
  EXPECT_EQ(format_bytes(8LL << 30), "8GiB");
  EXPECT_EQ(format_bytes(1000), "1000B");
}

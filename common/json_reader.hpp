// Strict reading of JSON input. Every accessor knows the file it came from and the JSON path of
// the value, so an error names both. Objects refuse keys nobody asked for (finish()).
//
//   JsonObject root = JsonObject::root(parse_json_file("my.json"), "my.json");
//   double bw = root.positive("bandwidth_GBps");
//   root.finish();   // throws on any key that was not read
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace knee {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Reads a whole file; a missing or unreadable file is an InputError naming it ("expected a
// readable KIND, got ...").
std::string read_text_file(const std::string& path, const std::string& kind = "file");
// Reads and parses a file; a missing file or malformed JSON is an InputError naming the file.
Json parse_json_file(const std::string& path);
// Parses text; `source` names it in errors (e.g. "<string>" or a file name).
Json parse_json_text(const std::string& text, const std::string& source);

// Short rendering of a JSON value for "got ..." in error messages.
std::string describe_json(const Json& j);

class JsonArray;

class JsonObject {
 public:
  // Wraps `j`, which must be an object; `path` is its JSON path ("$" for the root).
  JsonObject(const Json& j, std::string source, std::string path);
  static JsonObject root(const Json& j, const std::string& source) { return {j, source, "$"}; }

  bool has(const std::string& key) const;
  const std::string& source() const { return source_; }
  const std::string& path() const { return path_; }
  std::string path_of(const std::string& key) const { return path_ + "." + key; }

  // Required values. Numbers must be finite.
  double number(const std::string& key);
  double positive(const std::string& key);      // > 0
  double non_negative(const std::string& key);  // >= 0
  std::int64_t integer(const std::string& key, std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX);
  std::string string(const std::string& key);
  std::string one_of(const std::string& key, const std::vector<std::string>& choices);
  bool boolean(const std::string& key);
  JsonObject object(const std::string& key);
  JsonArray array(const std::string& key);
  // The raw value, marked as read (for values with their own reader).
  const Json& raw(const std::string& key);

  // Optional values: the default when the key is absent, an error when present but wrong.
  double number_or(const std::string& key, double def);
  double positive_or(const std::string& key, double def);
  double non_negative_or(const std::string& key, double def);
  std::int64_t integer_or(const std::string& key, std::int64_t def, std::int64_t min = INT64_MIN,
                          std::int64_t max = INT64_MAX);
  std::string string_or(const std::string& key, const std::string& def);
  std::string one_of_or(const std::string& key, const std::vector<std::string>& choices, const std::string& def);
  bool boolean_or(const std::string& key, bool def);
  // Numbers that may be null: NAN when the key is absent or null (no such value), an error when
  // present but wrong.
  double number_or_nan(const std::string& key);
  double non_negative_or_nan(const std::string& key);  // >= 0

  // Marks a key as known without reading it (e.g. "comment").
  void ignore(const std::string& key) { used_.insert(key); }
  // Throws on the first key present but never read: catches typos such as "bandwith_GBps".
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
  [[noreturn]] void fail_here(const std::string& expected) const;

 private:
  const Json& get(const std::string& key);
  const Json& j_;
  std::string source_, path_;
  std::set<std::string> used_;
};

class JsonArray {
 public:
  JsonArray(const Json& j, std::string source, std::string path);
  std::size_t size() const { return j_.size(); }
  bool empty() const { return j_.empty(); }
  const Json& raw(std::size_t i) const { return j_.at(i); }
  std::string path_of(std::size_t i) const { return path_ + "[" + std::to_string(i) + "]"; }
  JsonObject object(std::size_t i) const;
  double number(std::size_t i) const;
  double positive(std::size_t i) const;
  std::int64_t integer(std::size_t i, std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX) const;
  std::string string(std::size_t i) const;
  std::vector<double> numbers() const;
  [[noreturn]] void fail(std::size_t i, const std::string& expected) const;
  [[noreturn]] void fail_here(const std::string& expected) const;

 private:
  const Json& j_;
  std::string source_, path_;
};

}  // namespace knee

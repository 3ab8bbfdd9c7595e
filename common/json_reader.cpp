#include "common/json_reader.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

namespace knee {

std::string input_error_message(const std::string& source, const std::string& path, const std::string& expected,
                                const std::string& got) {
  std::string m = source;
  if (!path.empty()) m += ": " + path;
  m += ": expected " + expected;
  if (!got.empty()) m += ", got " + got;
  return m;
}

void throw_input_error(const std::string& source, const std::string& path, const std::string& expected,
                       const std::string& got) {
  throw InputError(input_error_message(source, path, expected, got));
}

std::string describe_json(const Json& j) {
  std::string s;
  switch (j.type()) {
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::null:
      return "null";
    case Json::value_t::discarded:
      return "nothing";
    default:
      s = j.dump();
      break;
  }
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

Json parse_json_text(const std::string& text, const std::string& source) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    // nlohmann's message starts with "[json.exception.parse_error.101] parse error at ..."
    std::string what = e.what();
    auto pos = what.find("] ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    throw InputError(source + ": expected valid JSON, got " + what);
  }
}

std::string read_text_file(const std::string& path, const std::string& kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": expected a readable " + kind + ", got no such file or no permission");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json parse_json_file(const std::string& path) { return parse_json_text(read_text_file(path, "JSON file"), path); }

// ---------------------------------------------------------------------------------------------
JsonObject::JsonObject(const Json& j, std::string source, std::string path)
    : j_(j), source_(std::move(source)), path_(std::move(path)) {
  if (!j_.is_object()) throw_input_error(source_, path_, "an object", describe_json(j_));
}

bool JsonObject::has(const std::string& key) const { return j_.contains(key); }

const Json& JsonObject::get(const std::string& key) {
  auto it = j_.find(key);
  if (it == j_.end()) throw_input_error(source_, path_of(key), "a value (required key is missing)", "");
  used_.insert(key);
  return *it;
}

const Json& JsonObject::raw(const std::string& key) { return get(key); }

void JsonObject::fail(const std::string& key, const std::string& expected) const {
  auto it = j_.find(key);
  throw_input_error(source_, path_of(key), expected, it == j_.end() ? "nothing" : describe_json(*it));
}

void JsonObject::fail_here(const std::string& expected) const { throw_input_error(source_, path_, expected, ""); }

static bool finite_number(const Json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

double JsonObject::number(const std::string& key) {
  const Json& v = get(key);
  if (!finite_number(v)) fail(key, "a finite number");
  return v.get<double>();
}

double JsonObject::positive(const std::string& key) {
  const Json& v = get(key);
  if (!finite_number(v) || v.get<double>() <= 0) fail(key, "a finite number > 0");
  return v.get<double>();
}

double JsonObject::non_negative(const std::string& key) {
  const Json& v = get(key);
  if (!finite_number(v) || v.get<double>() < 0) fail(key, "a finite number >= 0");
  return v.get<double>();
}

static std::string range_text(std::int64_t min, std::int64_t max) {
  if (min == INT64_MIN && max == INT64_MAX) return "an integer";
  if (max == INT64_MAX) return "an integer >= " + std::to_string(min);
  if (min == INT64_MIN) return "an integer <= " + std::to_string(max);
  return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

static bool json_integer(const Json& v, std::int64_t& out) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) return false;
    out = v.get<std::int64_t>();
    return true;
  }
  if (v.is_number_float()) {  // 4.0 is accepted as 4; 4.5 is not
    double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15) return false;
    out = static_cast<std::int64_t>(d);
    return true;
  }
  return false;
}

std::int64_t JsonObject::integer(const std::string& key, std::int64_t min, std::int64_t max) {
  const Json& v = get(key);
  std::int64_t x = 0;
  if (!json_integer(v, x) || x < min || x > max) fail(key, range_text(min, max));
  return x;
}

std::string JsonObject::string(const std::string& key) {
  const Json& v = get(key);
  if (!v.is_string()) fail(key, "a string");
  return v.get<std::string>();
}

static std::string join_choices(const std::vector<std::string>& c) {
  std::string s;
  for (std::size_t i = 0; i < c.size(); ++i) s += (i ? ", " : "") + ("\"" + c[i] + "\"");
  return s;
}

std::string JsonObject::one_of(const std::string& key, const std::vector<std::string>& choices) {
  const Json& v = get(key);
  if (v.is_string()) {
    for (const auto& c : choices)
      if (c == v.get<std::string>()) return c;
  }
  fail(key, "one of " + join_choices(choices));
}

bool JsonObject::boolean(const std::string& key) {
  const Json& v = get(key);
  if (!v.is_boolean()) fail(key, "true or false");
  return v.get<bool>();
}

JsonObject JsonObject::object(const std::string& key) {
  const Json& v = get(key);
  return JsonObject(v, source_, path_of(key));
}

JsonArray JsonObject::array(const std::string& key) {
  const Json& v = get(key);
  return JsonArray(v, source_, path_of(key));
}

double JsonObject::number_or(const std::string& key, double def) { return has(key) ? number(key) : def; }
double JsonObject::positive_or(const std::string& key, double def) { return has(key) ? positive(key) : def; }
double JsonObject::non_negative_or(const std::string& key, double def) { return has(key) ? non_negative(key) : def; }
std::int64_t JsonObject::integer_or(const std::string& key, std::int64_t def, std::int64_t min, std::int64_t max) {
  return has(key) ? integer(key, min, max) : def;
}
std::string JsonObject::string_or(const std::string& key, const std::string& def) {
  return has(key) ? string(key) : def;
}
std::string JsonObject::one_of_or(const std::string& key, const std::vector<std::string>& choices,
                                  const std::string& def) {
  return has(key) ? one_of(key, choices) : def;
}
bool JsonObject::boolean_or(const std::string& key, bool def) { return has(key) ? boolean(key) : def; }
double JsonObject::number_or_nan(const std::string& key) {
  if (!has(key) || raw(key).is_null()) return NAN;
  return number(key);
}
double JsonObject::non_negative_or_nan(const std::string& key) {
  if (!has(key) || raw(key).is_null()) return NAN;
  return non_negative(key);
}

void JsonObject::finish() const {
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (used_.count(it.key())) continue;
    std::vector<std::string> known(used_.begin(), used_.end());
    throw InputError(input_error_message(
        source_, path_of(it.key()),
        known.empty() ? "no such key (unknown key)" : "one of the known keys " + join_choices(known),
        "unknown key \"" + it.key() + "\""));
  }
}

// ---------------------------------------------------------------------------------------------
JsonArray::JsonArray(const Json& j, std::string source, std::string path)
    : j_(j), source_(std::move(source)), path_(std::move(path)) {
  if (!j_.is_array()) throw_input_error(source_, path_, "an array", describe_json(j_));
}

void JsonArray::fail(std::size_t i, const std::string& expected) const {
  throw_input_error(source_, path_of(i), expected, describe_json(j_.at(i)));
}
void JsonArray::fail_here(const std::string& expected) const { throw_input_error(source_, path_, expected, ""); }

JsonObject JsonArray::object(std::size_t i) const { return JsonObject(j_.at(i), source_, path_of(i)); }

double JsonArray::number(std::size_t i) const {
  if (!finite_number(j_.at(i))) fail(i, "a finite number");
  return j_.at(i).get<double>();
}
double JsonArray::positive(std::size_t i) const {
  if (!finite_number(j_.at(i)) || j_.at(i).get<double>() <= 0) fail(i, "a finite number > 0");
  return j_.at(i).get<double>();
}
std::int64_t JsonArray::integer(std::size_t i, std::int64_t min, std::int64_t max) const {
  std::int64_t x = 0;
  if (!json_integer(j_.at(i), x) || x < min || x > max) fail(i, range_text(min, max));
  return x;
}
std::string JsonArray::string(std::size_t i) const {
  if (!j_.at(i).is_string()) fail(i, "a string");
  return j_.at(i).get<std::string>();
}
std::vector<double> JsonArray::numbers() const {
  std::vector<double> v(size());
  for (std::size_t i = 0; i < size(); ++i) v[i] = number(i);
  return v;
}

}  // namespace knee

#include "common/parse.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "common/error.hpp"

namespace knee {

namespace {
[[noreturn]] void bad(const std::string& what, const std::string& expected, const std::string& text) {
  throw InputError(what + ": expected " + expected + ", got '" + text + "'");
}
}  // namespace

Bytes parse_bytes(const std::string& text, const std::string& what) {
  const std::string expected = "a size such as 8B, 4KiB or 1GB (non-negative)";
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) bad(what, expected, text);
  std::string num = text.substr(0, i), unit = text.substr(i);
  char* end = nullptr;
  double v = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(v) || v < 0) bad(what, expected, text);
  double mult = 0;
  static const struct {
    const char* u;
    double m;
  } units[] = {{"", 1},
               {"B", 1},
               {"KiB", 1024.0},
               {"MiB", 1048576.0},
               {"GiB", 1073741824.0},
               {"TiB", 1099511627776.0},
               {"KB", 1e3},
               {"MB", 1e6},
               {"GB", 1e9},
               {"TB", 1e12},
               {"K", 1024.0},
               {"M", 1048576.0},
               {"G", 1073741824.0}};
  for (const auto& u : units)
    if (unit == u.u) mult = u.m;
  if (mult == 0) bad(what, expected, text);
  double b = v * mult;
  if (b != std::floor(b) || b > 9.0e18) bad(what, expected + " that is a whole number of bytes", text);
  return static_cast<Bytes>(b);
}

std::vector<Bytes> parse_size_sweep(const std::string& text, const std::string& what) {
  auto colon = text.find(':');
  if (colon == std::string::npos) bad(what, "a range such as 8B:8GiB", text);
  Bytes lo = parse_bytes(text.substr(0, colon), what);
  Bytes hi = parse_bytes(text.substr(colon + 1), what);
  if (lo < 1 || hi < lo) bad(what, "a range MIN:MAX with 1 <= MIN <= MAX", text);
  std::vector<Bytes> out;
  for (Bytes b = lo; b <= hi; b *= 2) {
    out.push_back(b);
    if (b > hi / 2) break;
  }
  return out;
}

std::int64_t parse_integer(const std::string& text, const std::string& what, std::int64_t min, std::int64_t max) {
  std::string expected = "an integer";
  if (min != INT64_MIN) expected += " >= " + std::to_string(min);
  if (max != INT64_MAX) expected += (min != INT64_MIN ? " and <= " : " <= ") + std::to_string(max);
  if (text.empty()) bad(what, expected, text);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size() || v < min || v > max) bad(what, expected, text);
  return v;
}

double parse_number(const std::string& text, const std::string& what) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) bad(what, "a finite number", text);
  return v;
}

std::vector<std::int64_t> parse_integer_list(const std::string& text, const std::string& what, std::int64_t min) {
  std::vector<std::int64_t> out;
  std::size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    out.push_back(parse_integer(text.substr(start, comma - start), what, min, INT64_MAX));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string format_bytes(Bytes b) {
  static const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && b >= 1024 && b % 1024 == 0) {
    b /= 1024;
    ++u;
  }
  return std::to_string(b) + names[u];
}

#ifndef KNEE_VERSION
#define KNEE_VERSION "0.0.0"
#endif
const char* knee_git_revision_text();  // generated at build time (cmake/git_rev.cmake)
const char* knee_version() { return KNEE_VERSION; }
const char* knee_git_revision() { return knee_git_revision_text(); }

}  // namespace knee

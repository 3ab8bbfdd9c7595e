#include "metrics/format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace knee {

namespace {

// "1234567.89" -> "1,234,567.89" (the integer part grouped; a leading '-' kept).
std::string group_thousands(const std::string& s) {
  const std::size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  const std::size_t end = std::min(s.find('.'), s.size());
  std::string o = s.substr(0, start);
  for (std::size_t i = start; i < end; ++i) {
    o += s[i];
    const std::size_t left = end - i - 1;
    if (left > 0 && left % 3 == 0) o += ',';
  }
  return o + s.substr(end);
}

// "-0" (a negative value rounded to zero) is "0".
std::string no_negative_zero(std::string s) {
  if (!s.empty() && s[0] == '-' && s.find_first_not_of("0.,", 1) == std::string::npos) s.erase(0, 1);
  return s;
}

// v rounded to `digits` significant digits.
double round_sig(double v, int digits) {
  if (v == 0 || !std::isfinite(v)) return v;
  const double scale = std::pow(10.0, std::floor(std::log10(std::fabs(v))) - (digits - 1));
  return std::round(v / scale) * scale;
}

}  // namespace

std::string format_count(double v) {
  if (!std::isfinite(v)) return "-";
  char b[400];
  std::snprintf(b, sizeof b, "%.0f", std::round(v));
  return no_negative_zero(group_thousands(b));
}

std::string format_sig(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  digits = std::clamp(digits, 1, 15);
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= std::pow(10.0, digits - 1)) return format_count(v);
  const int mag = static_cast<int>(std::floor(std::log10(a)));
  const int decimals = digits - 1 - mag;  // >= 1: a < 10^(digits - 1)
  char b[64];
  if (decimals > 24) {  // far below anything a report shows: an exponent is the readable form
    std::snprintf(b, sizeof b, "%.*g", digits, v);
    return b;
  }
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  std::string s = b;
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return no_negative_zero(group_thousands(s));
}

std::string format_scaled(double v) {
  if (!std::isfinite(v)) return "-";
  const double r = round_sig(v, 3);
  static const struct {
    double unit;
    const char* suffix;
  } kUnits[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}};
  for (const auto& u : kUnits)
    if (std::fabs(r) >= u.unit) return format_sig(r / u.unit, 3) + u.suffix;
  return format_sig(v, 3);
}

std::string format_usd(double v) {
  if (!std::isfinite(v)) return "-";
  if (v < 0) return "-" + format_usd(-v);
  return "$" + (v >= 100 ? format_count(v) : format_sig(v, 3));
}

std::string format_tokens(double v) { return std::isfinite(v) ? format_scaled(v) + " tokens" : "-"; }

std::string format_tokens_per_s(double v) {
  if (!std::isfinite(v)) return "-";
  return (std::fabs(v) >= 100 ? format_count(v) : format_sig(v, 3)) + " tokens/s";
}

std::string format_columns(const std::vector<std::vector<std::string>>& rows, std::size_t left_columns) {
  std::vector<std::size_t> w;
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], r[i].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      const std::string pad(w[i] - r[i].size(), ' ');
      line += (i ? "  " : "") + (i < left_columns ? r[i] + pad : pad + r[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace knee

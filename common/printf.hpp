// One number through a printf format ("%.3g", "%.1f"): for messages and tables.
#pragma once
#include <cstdio>
#include <string>

namespace knee {

inline std::string printf_double(const char* format, double v) {
  char b[64];
  std::snprintf(b, sizeof b, format, v);
  return b;
}

}  // namespace knee

// A small seeded random source whose sequence is fixed by this file alone (std::normal_distribution
// differs between standard libraries), so a scenario and its seed give the same draws everywhere.
#pragma once
#include <cmath>
#include <cstdint>

namespace knee {

class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  // SplitMix64 (Steele, Lea, Flood 2014): one 64-bit word per call.
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1): 53 random bits, never 0.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  // Standard normal by Box-Muller (both values of a pair are used).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2 * std::log(uniform())), a = 6.283185307179586 * uniform();
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }
  // Lognormal multiplier with mean 1 and coefficient of variation cv (1 when cv is 0).
  double multiplier(double cv) {
    if (cv <= 0) return 1;
    const double s2 = std::log1p(cv * cv);
    return std::exp(std::sqrt(s2) * normal() - s2 / 2);
  }

 private:
  std::uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace knee

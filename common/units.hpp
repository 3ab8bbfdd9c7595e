// Units used across knee. Simulated time is an integer count of picoseconds so that
// event order never depends on floating-point drift; rates are doubles in bytes per second.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace knee {

using TimePs = std::int64_t;  // simulated time, integer picoseconds (2^63 ps is ~106 days)
using Bytes = std::int64_t;   // sizes of messages and buffers
using BytesPerSec = double;   // link capacities and flow rates

inline constexpr TimePs kPsPerNs = 1'000;
inline constexpr TimePs kPsPerUs = 1'000'000;
inline constexpr TimePs kPsPerMs = 1'000'000'000;
inline constexpr TimePs kPsPerS = 1'000'000'000'000;
inline constexpr TimePs kTimeNever = std::numeric_limits<TimePs>::max();

inline constexpr double ps_to_s(TimePs t) { return static_cast<double>(t) * 1e-12; }
inline constexpr double ps_to_us(TimePs t) { return static_cast<double>(t) * 1e-6; }

// Conversions from real-valued durations round up: an event never fires before the model says.
inline TimePs s_to_ps_ceil(double s) { return static_cast<TimePs>(std::ceil(s * 1e12)); }
inline TimePs ns_to_ps(double ns) { return static_cast<TimePs>(std::llround(ns * 1e3)); }
inline TimePs us_to_ps(double us) { return static_cast<TimePs>(std::llround(us * 1e6)); }

inline constexpr BytesPerSec GBps_to_Bps(double gbps) { return gbps * 1e9; }        // GB/s, powers of ten
inline constexpr BytesPerSec Gbitps_to_Bps(double gbit) { return gbit * 1e9 / 8; }  // Gb/s line rates
inline constexpr double Bps_to_GBps(BytesPerSec bps) { return bps * 1e-9; }

inline constexpr Bytes kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

}  // namespace knee

// Parsing of the human-written quantities knee accepts on the command line and in files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/units.hpp"

namespace knee {

// "8", "8B", "4KiB", "1.5GiB", "10MB" (KB/MB/GB/TB are powers of ten, KiB/MiB/GiB/TiB of two).
// Throws InputError("WHAT: expected a size such as 8B, 4KiB or 1GB, got 'TEXT'").
Bytes parse_bytes(const std::string& text, const std::string& what);
// "8B:8GiB" -> every power of two from 8 B to 8 GiB (both ends included when powers of two).
std::vector<Bytes> parse_size_sweep(const std::string& text, const std::string& what);
// Decimal integer within [min, max].
std::int64_t parse_integer(const std::string& text, const std::string& what, std::int64_t min, std::int64_t max);
double parse_number(const std::string& text, const std::string& what);
// "8,16,32" -> {8,16,32}
std::vector<std::int64_t> parse_integer_list(const std::string& text, const std::string& what, std::int64_t min);
// 1073741824 -> "1GiB"; 1000 -> "1000B"
std::string format_bytes(Bytes b);

// Version and revision baked in at build time, for manifests and reproducibility blocks.
const char* knee_version();
const char* knee_git_revision();

}  // namespace knee

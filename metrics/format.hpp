// Numbers as people write them, for reports and tables meant to be read: thousands separated by
// commas, no exponents, units in words. Every function prints "-" for NaN or infinity.
//
//   format_count(411547.3)     "411,547"          format_sig(0.01234, 3)   "0.0123"
//   format_usd(528916.4)       "$528,916"         format_sig(1234.5, 3)    "1,235"
//   format_usd(0.25)           "$0.25"            format_scaled(3e11)      "300B"
//   format_tokens(3e11)        "300B tokens"      format_tokens_per_s(411547.3)  "411,547 tokens/s"
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace knee {

// Rounded to the nearest integer, thousands separated: 16384 -> "16,384", -1024 -> "-1,024".
std::string format_count(double v);

// `digits` significant digits (1..15) without an exponent: values of 10^(digits-1) and more are
// rounded to an integer and grouped (1234.5 -> "1,235"), smaller ones keep `digits` significant
// digits with trailing zeros dropped (2.50 -> "2.5", 0.012345 -> "0.0123", 8.0 -> "8").
std::string format_sig(double v, int digits = 3);

// Millions and more with the suffix people use, M, B (billion) or T (trillion), at three
// significant digits with trailing zeros dropped: 3e11 -> "300B", 1.5e12 -> "1.5T", 2.5e6 ->
// "2.5M", 999.9e6 -> "1B". Below a million (after rounding) format_sig(v, 3): "12,500", "0.5".
std::string format_scaled(double v);

// Dollars: $100 and more to the whole dollar, grouped ("$528,916", "$1,400,000"); less with
// three significant digits ("$2.5", "$0.25", "$0.0123"); "-$5" for negatives.
std::string format_usd(double v);

// A token count: format_scaled and " tokens" ("300B tokens", "2.1M tokens", "4,096 tokens").
std::string format_tokens(double v);

// A rate in tokens per second: whole tokens from 100/s ("411,547 tokens/s"), three significant
// digits below ("12.5 tokens/s").
std::string format_tokens_per_s(double v);

// A text table: every column padded to its widest cell, two spaces apart, the first
// `left_columns` left-aligned and the rest right-aligned, trailing spaces dropped, one line per row.
std::string format_columns(const std::vector<std::vector<std::string>>& rows, std::size_t left_columns = 1);

}  // namespace knee

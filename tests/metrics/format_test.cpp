#include "metrics/format.hpp"

#include <cmath>

#include <gtest/gtest.h>

using namespace knee;

TEST(Format, CountsAreRoundedAndGrouped) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(8), "8");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1024), "1,024");
  EXPECT_EQ(format_count(16384), "16,384");
  EXPECT_EQ(format_count(411547.3), "411,547");
  EXPECT_EQ(format_count(411547.5), "411,548");
  EXPECT_EQ(format_count(1e6), "1,000,000");
  EXPECT_EQ(format_count(300e9), "300,000,000,000");
  EXPECT_EQ(format_count(-1024), "-1,024");
  EXPECT_EQ(format_count(-0.3), "0");
  EXPECT_EQ(format_count(NAN), "-");
  EXPECT_EQ(format_count(INFINITY), "-");
}

TEST(Format, SignificantDigitsWithoutExponents) {
  EXPECT_EQ(format_sig(0), "0");
  EXPECT_EQ(format_sig(8.0), "8");
  EXPECT_EQ(format_sig(2.5), "2.5");
  EXPECT_EQ(format_sig(0.1), "0.1");
  EXPECT_EQ(format_sig(1.0 / 3), "0.333");
  EXPECT_EQ(format_sig(0.012345), "0.0123");
  EXPECT_EQ(format_sig(0.00012345), "0.000123");
  EXPECT_EQ(format_sig(14.04), "14");
  EXPECT_EQ(format_sig(99.96), "100");
  EXPECT_EQ(format_sig(123.456), "123");
  EXPECT_EQ(format_sig(1234.5), "1,235");
  EXPECT_EQ(format_sig(472000), "472,000");  // not 4.72e+05
  EXPECT_EQ(format_sig(-0.0456), "-0.0456");
  EXPECT_EQ(format_sig(8.0, 4), "8");
  EXPECT_EQ(format_sig(2.71828, 4), "2.718");
  EXPECT_EQ(format_sig(0.5, 1), "0.5");
  EXPECT_EQ(format_sig(NAN), "-");
}

TEST(Format, ScaledUsesMillionsBillionsTrillions) {
  EXPECT_EQ(format_scaled(3e11), "300B");
  EXPECT_EQ(format_scaled(1.5e12), "1.5T");
  EXPECT_EQ(format_scaled(15.6e12), "15.6T");
  EXPECT_EQ(format_scaled(2.5e6), "2.5M");
  EXPECT_EQ(format_scaled(1e9), "1B");
  EXPECT_EQ(format_scaled(999.9e6), "1B");  // rounded first, then the unit chosen
  EXPECT_EQ(format_scaled(1234567), "1.23M");
  EXPECT_EQ(format_scaled(12500), "12,500");
  EXPECT_EQ(format_scaled(0.5), "0.5");
  EXPECT_EQ(format_scaled(-2e9), "-2B");
}

TEST(Format, Dollars) {
  EXPECT_EQ(format_usd(528916.4), "$528,916");
  EXPECT_EQ(format_usd(1.4e6), "$1,400,000");
  EXPECT_EQ(format_usd(100), "$100");
  EXPECT_EQ(format_usd(99.5), "$99.5");
  EXPECT_EQ(format_usd(2.5), "$2.5");
  EXPECT_EQ(format_usd(2), "$2");
  EXPECT_EQ(format_usd(0.25), "$0.25");
  EXPECT_EQ(format_usd(0.12), "$0.12");
  EXPECT_EQ(format_usd(0.012345), "$0.0123");
  EXPECT_EQ(format_usd(0), "$0");
  EXPECT_EQ(format_usd(-5), "-$5");
  EXPECT_EQ(format_usd(NAN), "-");
}

TEST(Format, TokensAndRates) {
  EXPECT_EQ(format_tokens(3e11), "300B tokens");
  EXPECT_EQ(format_tokens(15e12), "15T tokens");
  EXPECT_EQ(format_tokens(2.1e6), "2.1M tokens");
  EXPECT_EQ(format_tokens(4096), "4,096 tokens");
  EXPECT_EQ(format_tokens(NAN), "-");
  EXPECT_EQ(format_tokens_per_s(411547.3), "411,547 tokens/s");
  EXPECT_EQ(format_tokens_per_s(1000), "1,000 tokens/s");
  EXPECT_EQ(format_tokens_per_s(12.5), "12.5 tokens/s");
  EXPECT_EQ(format_tokens_per_s(NAN), "-");
}

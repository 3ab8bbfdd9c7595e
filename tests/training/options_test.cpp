// Scenario options parsed once into enums: every spelling of the scenario format maps to its own
// enum value and back, and anything else is an InputError listing the choices.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "tests/common/error_of.hpp"
#include "workloads/training/options.hpp"

using namespace knee;
using knee::test::error_of;

namespace {
template <class E>
void round_trips(const std::vector<std::string>& spellings) {
  std::set<E> seen;
  for (const auto& s : spellings) {
    const E e = parse_option<E>(s, "x");
    EXPECT_EQ(to_string(e), s);
    EXPECT_TRUE(seen.insert(e).second) << s << " maps to a value another spelling has";
  }
}
}  // namespace

TEST(Options, EverySpellingRoundTrips) {
  // The spellings of docs/scenarios.md.
  round_trips<FfnKind>({"gelu", "swiglu"});
  round_trips<Schedule>({"1f1b", "interleaved", "gpipe"});
  round_trips<Precision>({"bf16", "mixed"});
  round_trips<Recompute>({"none", "selective", "full"});
  round_trips<Optimizer>({"adamw", "sgd"});
  round_trips<Framework>({"eager", "megatron"});
  round_trips<Attention>({"flash", "unfused"});
  round_trips<GradDtype>({"fp32", "bf16", "fp16"});
}

TEST(Options, UnknownSpellingNamesTheChoices) {
  EXPECT_EQ(error_of([] { parse_option<Recompute>("partial", "s.json: $.training.recompute"); }),
            "s.json: $.training.recompute: expected one of 'none', 'selective', 'full', got 'partial'");
  EXPECT_THROW(parse_option<Schedule>("1F1B", "x"), InputError);  // case matters, as in the file format
}

#include "workloads/training/options.hpp"

#include <array>
#include <utility>

#include "common/error.hpp"

namespace knee {
namespace {

template <class E, std::size_t N>
using Names = std::array<std::pair<E, const char*>, N>;

constexpr Names<FfnKind, 2> kFfn{{{FfnKind::gelu, "gelu"}, {FfnKind::swiglu, "swiglu"}}};
constexpr Names<Schedule, 3> kSchedule{
    {{Schedule::f1b1, "1f1b"}, {Schedule::interleaved, "interleaved"}, {Schedule::gpipe, "gpipe"}}};
constexpr Names<Precision, 2> kPrecision{{{Precision::bf16, "bf16"}, {Precision::mixed, "mixed"}}};
constexpr Names<Recompute, 3> kRecompute{
    {{Recompute::none, "none"}, {Recompute::selective, "selective"}, {Recompute::full, "full"}}};
constexpr Names<Optimizer, 2> kOptimizer{{{Optimizer::adamw, "adamw"}, {Optimizer::sgd, "sgd"}}};
constexpr Names<Framework, 2> kFramework{{{Framework::eager, "eager"}, {Framework::megatron, "megatron"}}};
constexpr Names<Attention, 2> kAttention{{{Attention::flash, "flash"}, {Attention::unfused, "unfused"}}};
constexpr Names<GradDtype, 3> kGradDtype{
    {{GradDtype::fp32, "fp32"}, {GradDtype::bf16, "bf16"}, {GradDtype::fp16, "fp16"}}};
constexpr Names<GradSync, 2> kGradSync{
    {{GradSync::last_microbatch, "last_microbatch"}, {GradSync::every_microbatch, "every_microbatch"}}};

template <class E, std::size_t N>
const char* name_of(const Names<E, N>& names, E e) {
  for (const auto& [v, n] : names)
    if (v == e) return n;
  return "?";
}

template <class E, std::size_t N>
E parse_in(const Names<E, N>& names, const std::string& text, const std::string& what) {
  std::string list;
  for (const auto& [v, n] : names) {
    if (text == n) return v;
    list += (list.empty() ? "" : ", ") + std::string("'") + n + "'";
  }
  throw InputError(what + ": expected one of " + list + ", got '" + text + "'");
}

}  // namespace

const char* to_string(FfnKind e) { return name_of(kFfn, e); }
const char* to_string(Schedule e) { return name_of(kSchedule, e); }
const char* to_string(Precision e) { return name_of(kPrecision, e); }
const char* to_string(Recompute e) { return name_of(kRecompute, e); }
const char* to_string(Optimizer e) { return name_of(kOptimizer, e); }
const char* to_string(Framework e) { return name_of(kFramework, e); }
const char* to_string(Attention e) { return name_of(kAttention, e); }
const char* to_string(GradDtype e) { return name_of(kGradDtype, e); }
const char* to_string(GradSync e) { return name_of(kGradSync, e); }

template <>
FfnKind parse_option(const std::string& t, const std::string& w) {
  return parse_in(kFfn, t, w);
}
template <>
Schedule parse_option(const std::string& t, const std::string& w) {
  return parse_in(kSchedule, t, w);
}
template <>
Precision parse_option(const std::string& t, const std::string& w) {
  return parse_in(kPrecision, t, w);
}
template <>
Recompute parse_option(const std::string& t, const std::string& w) {
  return parse_in(kRecompute, t, w);
}
template <>
Optimizer parse_option(const std::string& t, const std::string& w) {
  return parse_in(kOptimizer, t, w);
}
template <>
Framework parse_option(const std::string& t, const std::string& w) {
  return parse_in(kFramework, t, w);
}
template <>
Attention parse_option(const std::string& t, const std::string& w) {
  return parse_in(kAttention, t, w);
}
template <>
GradDtype parse_option(const std::string& t, const std::string& w) {
  return parse_in(kGradDtype, t, w);
}

template <>
GradSync parse_option(const std::string& t, const std::string& w) {
  return parse_in(kGradSync, t, w);
}

}  // namespace knee

// The string options of a training scenario, parsed once into enums (as collective_types.hpp
// does for collectives): the scenario file says "swiglu", the model code compares FfnKind.
// to_string gives back the scenario's spelling, for messages and results.
#pragma once
#include <string>

#include "workloads/model/model_spec.hpp"  // FfnKind

namespace knee {

enum class Schedule { f1b1, interleaved, gpipe };  // "1f1b", "interleaved", "gpipe"
enum class Precision { bf16, mixed };              // pure bf16, or mixed with fp32 master weights
enum class Recompute { none, selective, full };
enum class Optimizer { adamw, sgd };
enum class Framework { eager, megatron };  // eager PyTorch (a host launch per op) or Megatron-Core
enum class Attention { flash, unfused };
enum class GradDtype { fp32, bf16, fp16 };  // of gradient buffers and their reduction
// When data-parallel gradients are reduced under gradient accumulation: during the last
// microbatch's backward only (Megatron-Core, DDP's no_sync on the others) or during every one
// (PyTorch DDP/FSDP without no_sync).
enum class GradSync { last_microbatch, every_microbatch };

const char* to_string(FfnKind);
const char* to_string(Schedule);
const char* to_string(Precision);
const char* to_string(Recompute);
const char* to_string(Optimizer);
const char* to_string(Framework);
const char* to_string(Attention);
const char* to_string(GradDtype);
const char* to_string(GradSync);

// The enum value whose to_string is `text`; InputError "WHAT: expected one of ..., got 'TEXT'".
template <class E>
E parse_option(const std::string& text, const std::string& what);

}  // namespace knee

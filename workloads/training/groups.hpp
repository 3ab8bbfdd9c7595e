// The parallel groups a training step communicates in, as indices of per-group arrays.
#pragma once

namespace knee::workload {

enum Group { kTP = 0, kPP = 1, kDP = 2, kCP = 3, kEP = 4 };
inline constexpr const char* kGroupNames[5] = {"tp", "pp", "dp", "cp", "ep"};

}  // namespace knee::workload

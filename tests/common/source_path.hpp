// Test helper shared by the suites: paths into the source tree (KNEE_SOURCE_DIR, set by CMake),
// and the files more than one suite reads.
#pragma once
#include <string>

namespace knee::test {

inline std::string source_path(const std::string& relative) { return std::string(KNEE_SOURCE_DIR) + "/" + relative; }

// The shipped datasheets (profile/datasheets/*.json), and the hypothetical GPU that extends one.
inline const std::string kSheets = source_path("profile/datasheets/");
inline const std::string kExample = source_path("examples/datasheets/h200-2x-hbm.json");

}  // namespace knee::test

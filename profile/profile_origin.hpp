// Where a profile's numbers came from, in one sentence, for every result and report that used it
// (issue 17: "the report states the derivation of every profile it used").
#pragma once
#include <string>

#include "profile/profile.hpp"

namespace knee {

// "derived from profile 'h200' (NVIDIA H200, unedited) by mechanisms: ... with datasheets
// builtin:h200 -> builtin:h100", "fitted by knee fit from measurements of NVIDIA H200 on
// 2026-11-27T06:54:00Z (calibrate/data/...)"; with ", then edited by hand" when the parameters no
// longer match the digest knee fit wrote, and a note when there is no digest to check.
std::string profile_origin(const Profile& p);

}  // namespace knee

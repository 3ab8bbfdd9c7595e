// profile_origin: the one sentence every result and report carries about how its profile was made.
#include <gtest/gtest.h>

#include "profile/profile.hpp"
#include "profile/profile_origin.hpp"

using namespace knee;

TEST(ProfileOrigin, SaysFittedDerivedOrEdited) {
  const std::string fitted = profile_origin(Profile::builtin("h200"));
  EXPECT_EQ(fitted.rfind("fitted by knee fit from measurements of NVIDIA H200 on 2026-11-27", 0), 0u) << fitted;
  EXPECT_NE(fitted.find("calibrate/data/h200-2026-11-27/run2/micro.json"), std::string::npos) << fitted;
  EXPECT_EQ(fitted.find("edited"), std::string::npos) << fitted;

  const std::string derived = profile_origin(Profile::builtin("h100"));
  EXPECT_EQ(derived.rfind("derived from profile 'h200' (NVIDIA H200, unedited) by mechanisms: ", 0), 0u) << derived;
  EXPECT_NE(derived.find("with datasheets builtin:h200 -> builtin:h100"), std::string::npos) << derived;

  nlohmann::ordered_json j = Profile::builtin("h100").json();
  j["memory"]["copy"]["alpha_s"]["value"] = 2e-6;  // a hand edit: the digest no longer matches
  const std::string edited = profile_origin(Profile::from_json(j, "edited.json"));
  EXPECT_NE(edited.find(", then edited by hand"), std::string::npos) << edited;

  j["manifest"].erase("parameters_digest");
  j.erase("derivation");
  const std::string bare = profile_origin(Profile::from_json(j, "bare.json"));
  EXPECT_EQ(bare.rfind("fitted by knee fit from measurements of NVIDIA H100", 0), 0u) << bare;
  EXPECT_NE(bare.find("; no digest recorded"), std::string::npos) << bare;
}

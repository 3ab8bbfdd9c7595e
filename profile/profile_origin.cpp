#include "profile/profile_origin.hpp"

namespace knee {

namespace {
std::string str(const nlohmann::ordered_json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
}  // namespace

std::string profile_origin(const Profile& p) {
  const auto& j = p.json();
  std::string o;
  if (j.contains("derivation") && j["derivation"].is_object()) {
    const auto& d = j["derivation"];
    o = "derived from profile '" + str(d, "base_profile") + "' (" + str(d, "base_gpu") + ", " + str(d, "base_state") +
        ") by " + str(d, "method") + ", with datasheets " + str(d, "base_datasheet") + " -> " + str(d, "datasheet");
  } else {  // $.manifest is required
    const auto& m = j["manifest"];
    std::string files;
    if (m.contains("source_files") && m["source_files"].is_array())
      for (const auto& f : m["source_files"])
        if (f.is_string()) files += (files.empty() ? "" : ", ") + f.get<std::string>();
    const std::string gpu = str(m, "gpu_name").empty() ? p.gpu() : str(m, "gpu_name");
    o = std::string(p.measured_on_cpu() ? "measured on a CPU (says nothing about a GPU): " : "") +
        "fitted by knee fit from measurements of " + gpu + (str(m, "date").empty() ? "" : " on " + str(m, "date")) +
        (files.empty() ? "" : " (" + files + ")");
  }
  if (p.parameters_state() == "edited") o += ", then edited by hand (its parameters no longer match knee fit's digest)";
  if (p.parameters_state() == "no digest")
    o += "; no digest recorded, so edits cannot be told (written before digests, or by hand)";
  return o;
}

}  // namespace knee

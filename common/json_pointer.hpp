// Plain JSON pointers of object keys ("/ttft_s/p99"), as the interval tables name their figures:
// the value at one, and a value put at one (creating the objects on the way). No array indices,
// no ~ escapes: the keys are knee's own.
#pragma once
#include <algorithm>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace knee {

// The value at `pointer`, or nullptr where a key is missing or a step is not an object.
inline const nlohmann::ordered_json* json_at(const nlohmann::ordered_json& j, const std::string& pointer) {
  const nlohmann::ordered_json* at = &j;
  std::size_t i = 1;
  while (i <= pointer.size()) {
    const std::size_t e = std::min(pointer.find('/', i), pointer.size());
    const std::string key = pointer.substr(i, e - i);
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &at->at(key);
    i = e + 1;
  }
  return at;
}

// The number at `pointer`, or nullptr where there is none.
inline const nlohmann::ordered_json* json_number_at(const nlohmann::ordered_json& j, const std::string& pointer) {
  const nlohmann::ordered_json* at = json_at(j, pointer);
  return at && at->is_number() ? at : nullptr;
}

inline void json_put(nlohmann::ordered_json& j, const std::string& pointer, nlohmann::ordered_json v) {
  nlohmann::ordered_json* at = &j;
  std::size_t i = 1;
  while (true) {
    const std::size_t e = std::min(pointer.find('/', i), pointer.size());
    const std::string key = pointer.substr(i, e - i);
    if (e == pointer.size()) {
      (*at)[key] = std::move(v);
      return;
    }
    at = &(*at)[key];
    i = e + 1;
  }
}

}  // namespace knee

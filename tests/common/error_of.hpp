// Test helper shared by the suites: the message of the InputError `f` throws.
#pragma once
#include <functional>
#include <string>

#include "common/error.hpp"

namespace knee::test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) { return e.what(); }
  return "(no InputError)";
}

}  // namespace knee::test

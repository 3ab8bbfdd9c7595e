// Errors that reach the user. InputError is bad input (a file, a flag, a scenario): the CLI prints
// its message on one line and exits with status 2; Python raises it as ValueError.
#pragma once
#include <stdexcept>
#include <string>

namespace knee {

inline constexpr int kExitBadInput = 2;
inline constexpr int kExitDoesNotFit = 3;

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "SOURCE: PATH: expected WHAT, got GOT" — the one shape every input error takes.
std::string input_error_message(const std::string& source, const std::string& path, const std::string& expected,
                                const std::string& got);
[[noreturn]] void throw_input_error(const std::string& source, const std::string& path, const std::string& expected,
                                    const std::string& got);

}  // namespace knee

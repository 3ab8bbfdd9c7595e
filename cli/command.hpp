// The command-line tool's small framework: each subcommand lives in its own cli/cmd_*.cpp and
// registers itself with KNEE_COMMAND, so adding a command touches no other file.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/parse.hpp"

namespace knee::cli {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value;  // --name VALUE (or --name=VALUE) versus a bare switch
  std::string help;
};

// Parsed arguments of one subcommand. Unknown flags and missing values are InputErrors.
class Args {
 public:
  Args(std::string command, const std::vector<std::string>& argv, std::vector<FlagSpec> spec);
  bool flag(const std::string& name) const;  // a switch was given
  std::optional<std::string> value(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& def) const;
  std::int64_t integer_or(const std::string& name, std::int64_t def, std::int64_t min,
                          std::int64_t max = INT64_MAX) const;
  double number_or(const std::string& name, double def) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // "knee topology: --nodes" for error messages.
  std::string what(const std::string& flag) const { return "knee " + command_ + ": --" + flag; }
  const std::string& command() const { return command_; }
  std::string usage() const;

 private:
  std::string command_;
  std::vector<FlagSpec> spec_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

struct Command {
  std::string name, summary, synopsis;
  std::vector<FlagSpec> flags;
  std::function<int(const Args&)> run;
};

std::map<std::string, Command>& registry();
struct Registrar {
  explicit Registrar(Command c);
};

#define KNEE_CONCAT2(a, b) a##b
#define KNEE_CONCAT(a, b) KNEE_CONCAT2(a, b)
#define KNEE_COMMAND(...) \
  static ::knee::cli::Registrar KNEE_CONCAT(knee_registrar_, __LINE__)(::knee::cli::Command{__VA_ARGS__})

// The full command line as typed, for manifests and reproducibility blocks.
const std::string& command_line();

}  // namespace knee::cli

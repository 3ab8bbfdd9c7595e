// build/knee: the command-line entry point. Dispatches to the registered subcommands and turns
// every InputError into one line on stderr and exit status 2.
#include <cstdio>
#include <exception>
#include <iostream>

#include "cli/command.hpp"

namespace knee::cli {

static std::string g_command_line;
const std::string& command_line() { return g_command_line; }

std::map<std::string, Command>& registry() {
  static std::map<std::string, Command> r;
  return r;
}
Registrar::Registrar(Command c) { registry().emplace(c.name, std::move(c)); }

Args::Args(std::string command, const std::vector<std::string>& argv, std::vector<FlagSpec> spec)
    : command_(std::move(command)), spec_(std::move(spec)) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), val;
    bool has_eq = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      val = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_eq = true;
    }
    const FlagSpec* fs = nullptr;
    for (const auto& s : spec_)
      if (s.name == name) fs = &s;
    if (!fs)
      throw InputError("knee " + command_ + ": " + a + ": expected one of the flags of '" + command_ + "' (see knee " +
                       command_ + " --help), got an unknown flag");
    if (fs->takes_value) {
      if (!has_eq) {
        if (i + 1 >= argv.size())
          throw InputError("knee " + command_ + ": --" + name + ": expected a value, got nothing");
        val = argv[++i];
      }
    } else if (has_eq) {
      throw InputError("knee " + command_ + ": --" + name + ": expected no value, got '" + val + "'");
    }
    if (values_.count(name)) throw InputError("knee " + command_ + ": --" + name + ": expected once, got it twice");
    values_[name] = val;
  }
}

bool Args::flag(const std::string& name) const { return values_.count(name) > 0; }
std::optional<std::string> Args::value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}
std::string Args::value_or(const std::string& name, const std::string& def) const { return value(name).value_or(def); }
std::int64_t Args::integer_or(const std::string& name, std::int64_t def, std::int64_t min, std::int64_t max) const {
  auto v = value(name);
  return v ? parse_integer(*v, what(name), min, max) : def;
}
double Args::number_or(const std::string& name, double def) const {
  auto v = value(name);
  return v ? parse_number(*v, what(name)) : def;
}
std::string Args::usage() const {
  auto it = registry().find(command_);
  std::string u = "usage: knee " + command_;
  if (it != registry().end()) {
    u += " " + it->second.synopsis + "\n" + it->second.summary + "\n";
    for (const auto& f : spec_) u += "  --" + f.name + (f.takes_value ? " VALUE" : "") + "\n      " + f.help + "\n";
  }
  return u;
}

}  // namespace knee::cli

static void print_help() {
  std::printf("knee %s: a calibrated discrete-event simulator of GPU clusters\n\nusage: knee COMMAND [ARGS]\n\n",
              knee::knee_version());
  for (const auto& [name, c] : knee::cli::registry()) std::printf("  %-12s %s\n", name.c_str(), c.summary.c_str());
  std::printf("\nknee COMMAND --help shows a command's flags.\n");
}

int main(int argc, char** argv) {
  using namespace knee::cli;
  for (int i = 0; i < argc; ++i) g_command_line += (i ? " " : "") + std::string(argv[i]);
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    print_help();
    return argc < 2 ? knee::kExitBadInput : 0;
  }
  if (std::string(argv[1]) == "--version") {
    std::printf("knee %s (%s)\n", knee::knee_version(), knee::knee_git_revision());
    return 0;
  }
  auto it = registry().find(argv[1]);
  if (it == registry().end()) {
    std::fprintf(stderr, "knee: %s: expected a command (knee --help lists them), got an unknown command\n", argv[1]);
    return knee::kExitBadInput;
  }
  std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    auto flags = it->second.flags;
    flags.push_back({"help", false, "show this help"});
    Args args(it->first, rest, flags);
    if (args.flag("help")) {
      std::cout << args.usage();
      return 0;
    }
    return it->second.run(args);
  } catch (const knee::InputError& e) {
    // Messages from flags already start with "knee COMMAND:"; file errors start with the file.
    std::string m = e.what();
    std::fprintf(stderr, "%s%s\n", m.rfind("knee ", 0) == 0 ? "" : "knee: ", m.c_str());
    return knee::kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "knee: out of memory (the simulated system is too large for this machine)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "knee: internal error: %s\n", e.what());
    return 1;
  }
}

// knee fit: raw measurements -> profile (least squares with confidence intervals), or a derived
// profile of another GPU by datasheet ratios.
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "calibrate/derive_profile.hpp"
#include "calibrate/fitter.hpp"
#include "calibrate/trace_refit.hpp"
#include "cli/command.hpp"
#include "common/json_reader.hpp"
#include "metrics/kernel_classify.hpp"
#include "metrics/kernel_comparison.hpp"
#include "metrics/kineto_trace.hpp"
#include "profile/profile.hpp"

namespace knee::cli {
namespace {

void write_profile(const OrderedJson& p, const std::optional<std::string>& out) {
  // Validate before writing: what knee fit writes, Profile::load must accept.
  Profile::from_json(p, "fitted profile");
  const std::string text = p.dump(1) + "\n";
  if (!out) {
    std::cout << text;
    return;
  }
  std::ofstream f(*out, std::ios::binary);
  if (!f || !(f << text)) throw InputError("knee fit: --out: expected a writable file, got '" + *out + "'");
}

// knee fit --kineto TRACE.json [--profile BASE]: the base profile refitted from the trace's measured
// kernels (calibrate/trace_refit.hpp), classified as knee analyze --trace classifies them.
int run_fit_kineto(const Args& a, const std::string& trace_path) {
  if (!a.positional().empty())
    throw InputError("knee fit --kineto TRACE.json: expected no raw measurement files with it, got '" +
                     a.positional()[0] + "'");
  for (const char* f : {"derive", "datasheet", "base-datasheet", "nccl-class", "power-settle-s"})
    if (a.value(f)) throw InputError(a.what(f) + ": expected it without --kineto (a trace takes --profile, --name)");
  const KinetoTrace trace = load_kineto_trace(trace_path);
  std::string basis = "--profile";
  const std::string base_name =
      a.value("profile") ? *a.value("profile") : default_profile_for(trace.device_name, basis);
  const Profile base = load_profile_arg(base_name, a.what("profile"));
  const KernelComparison c = compare_kernels(trace, base, basis);
  TraceRefitOptions opt;
  opt.name = a.value_or("name", "");
  opt.trace_source = trace_path;
  opt.command_line = command_line();
  opt.git_revision = knee_git_revision();
  write_profile(refit_profile_from_trace(base.json(), measured_kernels(c.calls), opt), a.value("out"));
  return 0;
}

int run_fit(const Args& a) {
  if (auto trace = a.value("kineto")) return run_fit_kineto(a, *trace);
  if (a.value("profile")) throw InputError(a.what("profile") + ": expected --kineto TRACE.json with it, got none");
  FitOptions opt;
  opt.name = a.value_or("name", "");
  opt.command_line = command_line();
  opt.git_revision = knee_git_revision();
  if (auto derive = a.value("derive")) {
    // knee fit --derive BASE.json --datasheet GPU.json, or the older --derive GPU BASE.json (a
    // built-in datasheet by key).
    std::string base_path;
    std::optional<Datasheet> to;
    if (auto sheet = a.value("datasheet")) {
      if (!a.positional().empty())
        throw InputError("knee fit --derive BASE.json --datasheet GPU.json: expected no other file, got '" +
                         a.positional()[0] + "'");
      base_path = *derive;
      to = datasheet_arg(*sheet, a.what("datasheet"));
    } else {
      if (a.positional().size() != 1)
        throw InputError(
            "knee fit --derive: expected --derive BASE.json --datasheet GPU.json, or --derive GPU "
            "BASE.json with one base profile file, got " +
            std::to_string(a.positional().size()) + " files");
      base_path = a.positional()[0];
    }
    std::optional<Datasheet> from;
    if (auto b = a.value("base-datasheet")) from = datasheet_arg(*b, a.what("base-datasheet"));
    Profile base = Profile::load(base_path);
    const OrderedJson p = to ? derive_profile(base.json(), *to, opt, from ? &*from : nullptr)
                          : from
                              ? derive_profile(base.json(), datasheet_arg(*derive, a.what("derive")), opt, &*from, true)
                              : derive_profile(base.json(), *derive, opt);
    write_profile(p, a.value("out"));
    return 0;
  }
  for (const char* f : {"datasheet", "base-datasheet"})
    if (a.value(f)) throw InputError(a.what(f) + ": expected it with --derive BASE.json, got no --derive");
  std::vector<RawRun> runs;
  std::vector<std::string> nccl;
  for (const auto& path : a.positional()) {
    std::string text = read_text_file(path);
    if (looks_like_nccl_tests(text)) {
      nccl.push_back(path);
      continue;
    }
    if (runs.size() == 2)
      throw InputError("knee fit: " + path + ": expected at most two raw JSON runs (RAW [RAW2]), got a third");
    runs.push_back(read_raw_json(parse_json_text(text, path), path));
  }
  if (runs.empty()) throw InputError("knee fit: expected a raw measurement file (RAW.json [RAW2.json]), got none");
  const std::string cls = a.value_or("nccl-class", "nvlink");
  for (const auto& path : nccl) import_nccl_tests(read_text_file(path), path, cls, runs[0]);
  if (opt.name.empty()) {
    const Datasheet* d = runs[0].device_kind == "gpu" && runs[0].manifest.contains("gpu_name")
                             ? find_datasheet(runs[0].manifest["gpu_name"].get<std::string>())
                             : nullptr;
    opt.name = d ? d->key : runs[0].device_kind;
  }
  opt.power_settle_s = a.number_or("power-settle-s", 1.0);
  write_profile(fit_profile(runs[0], runs.size() > 1 ? &runs[1] : nullptr, opt), a.value("out"));
  return 0;
}

}  // namespace

KNEE_COMMAND(
    "fit", "fit raw calibration measurements into a profile, or refit one from a PyTorch profiler trace",
    "RAW.json [RAW2.json] [NCCL_TESTS.txt ...] [--out profile.json] [--name NAME] | --derive BASE.json "
    "--datasheet GPU.json [--base-datasheet BASE_GPU.json] [--out profile.json] | --derive GPU BASE.json | "
    "--kineto TRACE.json [--profile NAME|FILE] [--name NAME] [--out profile.json]",
    {{"out", true, "write the profile here (default: standard output)"},
     {"name", true, "profile name (default: the GPU's short name, e.g. h200)"},
     {"nccl-class", true, "link class that nccl-tests output is fitted into (default nvlink)"},
     {"power-settle-s", true, "power samples this soon after a phase change are excluded (default 1)"},
     {"derive", true,
      "derive a profile from base profile BASE.json by datasheet ratios (with --datasheet), or of built-in "
      "datasheet GPU (a100, b200, gb200, h100, h100-pcie, h200) from the base profile given"},
     {"datasheet", true,
      "the target GPU's datasheet: a file (docs/calibration.md, \"Datasheet files\") or a built-in key"},
     {"base-datasheet", true, "the base GPU's datasheet (default: the built-in one matching the base profile's $.gpu)"},
     {"kineto", true,
      "refit a base profile from a PyTorch profiler (Kineto) trace's measured kernels "
      "(docs/calibration.md, \"Refitting from a trace\")"},
     {"profile", true, "with --kineto: the base profile, a built-in name or a file (default: by the trace's GPU)"}},
    run_fit);

}  // namespace knee::cli

// knee calibrate: measure this machine (CPU backend, or the CUDA backend's helper executable
// knee-calibrate-cuda when a GPU is present) and fit the result into a profile.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "calibrate/backends.hpp"
#include "calibrate/fitter.hpp"
#include "calibrate/profile.hpp"
#include "cli/command.hpp"

namespace knee::cli {
namespace {

std::filesystem::path cuda_helper() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : self.parent_path() / "knee-calibrate-cuda";
}

// The helper's raw file, or nothing on an MPI rank other than 0 (only rank 0 writes it).
std::optional<RawRun> run_cuda(bool quick, bool mpi) {
  const auto helper = cuda_helper();
  if (helper.empty() || !std::filesystem::exists(helper))
    throw InputError("knee calibrate: --backend cuda: expected knee built with the CUDA backend "
                     "(knee-calibrate-cuda beside knee), got none (nvcc was absent at build time)");
  const std::string raw = (std::filesystem::temp_directory_path() / ("knee-cuda-raw-" + std::to_string(getpid()) + ".json")).string();
  std::string cmd = "'" + helper.string() + "' --raw '" + raw + "'" + (quick ? " --quick" : "") + (mpi ? " --mpi" : "");
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::remove(raw.c_str());
    throw InputError("knee calibrate: --backend cuda: expected knee-calibrate-cuda to succeed, got exit status " +
                     std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : rc));
  }
  if (mpi && !std::filesystem::exists(raw)) return std::nullopt;
  RawRun r = read_raw_file(raw);
  std::remove(raw.c_str());
  return r;
}

int run_calibrate(const Args& a) {
  const std::string backend = a.value_or("backend", "auto");
  if (backend != "auto" && backend != "cpu" && backend != "cuda")
    throw InputError(a.what("backend") + ": expected cuda, cpu or auto, got '" + backend + "'");
  std::string why;
  const int devices = backend == "cpu" ? 0 : cuda_device_count(&why);
  std::string chosen = backend;
  if (backend == "auto") chosen = devices > 0 && std::filesystem::exists(cuda_helper()) ? "cuda" : "cpu";
  if (chosen == "cuda" && devices == 0)
    throw InputError(a.what("backend") + ": expected a machine with a GPU, got no CUDA device (" + why + ")");

  const auto t0 = std::chrono::steady_clock::now();
  BackendOptions opt;
  opt.quick = a.flag("quick");
  opt.command_line = command_line();
  opt.progress = [&](const std::string& what) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "knee calibrate [%s %5.1f s] %s\n", chosen.c_str(), s, what.c_str());
  };
  const bool mpi = a.flag("mpi");
  RawRun run;
  if (chosen == "cuda") {
    auto r = run_cuda(opt.quick, mpi);
    if (!r) return 0;  // an MPI rank other than 0: rank 0 writes the raw file and the profile
    run = std::move(*r);
  } else if (mpi) {
    // The MPI ping-pong first, with every rank busy; then MPI is finalized, the other ranks exit
    // and rank 0 measures the rest undisturbed.
    RawRun links;
    if (!run_mpi_pingpong(opt, links)) return 0;
    run = run_cpu_backend(opt);
    for (auto& [cls, cases] : links.links) run.links[cls] = std::move(cases);
    for (auto& [cls, note] : links.link_notes) run.link_notes[cls] = note;
    run.manifest["mpi"] = links.manifest["mpi"];
  } else {
    run = run_cpu_backend(opt);
  }
  run.source = a.value_or("raw", chosen + " backend");
  if (auto raw = a.value("raw")) {
    std::ofstream f(*raw, std::ios::binary);
    if (!f || !(f << raw_to_json(run).dump(1) << "\n"))
      throw InputError(a.what("raw") + ": expected a writable file, got '" + *raw + "'");
  }
  FitOptions fo;
  fo.name = a.value_or("name", chosen);
  fo.command_line = command_line();
  fo.git_revision = knee_git_revision();
  OrderedJson prof = fit_profile(run, nullptr, fo);
  Profile p = Profile::from_json(prof, "calibrated profile");
  const std::string text = prof.dump(1) + "\n";
  if (auto out = a.value("out")) {
    std::ofstream f(*out, std::ios::binary);
    if (!f || !(f << text)) throw InputError(a.what("out") + ": expected a writable file, got '" + *out + "'");
  } else {
    std::cout << text;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "knee calibrate: %s backend done in %.1f s; memory %.1f GB/s, launch %.2f us\n",
               chosen.c_str(), s, p.memory_bandwidth_Bps() / 1e9, p.launch_overhead_s() * 1e6);
  return 0;
}

}  // namespace

KNEE_COMMAND("calibrate", "measure this machine and write a calibrated profile",
             "[--backend cuda|cpu|auto] [--out profile.json] [--raw raw.json] [--quick] [--name NAME] [--mpi]",
             {{"backend", true, "cuda, cpu or auto (default: cuda when a GPU is present, else cpu)"},
              {"out", true, "write the profile here (default: standard output)"},
              {"raw", true, "also write every repetition (knee-raw/1) here"},
              {"quick", false, "a short run (CI): fewer sizes and repetitions"},
              {"name", true, "profile name (default: the backend's name)"},
              {"mpi", false, "under mpirun: also measure rank 0 <-> rank 1 (cpu: MPI ping-pong, link host_mpi; "
                             "cuda: NCCL over all ranks, one GPU each); rank 0 writes the output"}},
             run_calibrate);

}  // namespace knee::cli

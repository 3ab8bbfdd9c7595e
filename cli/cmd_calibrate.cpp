// knee calibrate: measure this machine (CPU backend, or the CUDA backend's helper executable
// knee-calibrate-cuda when a GPU is present) and fit the result into a profile.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "calibrate/backends.hpp"
#include "calibrate/fitter.hpp"
#include "cli/command.hpp"
#include "profile/profile.hpp"

namespace knee::cli {
namespace {

// The helper executables live beside knee: knee-calibrate-cuda (CUDA backend) and
// knee-calibrate-mpi (MPI ping-pong), so knee itself links neither CUDA nor MPI.
std::filesystem::path helper(const char* name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : self.parent_path() / name;
}

// Runs a helper with --raw TMP and reads what it wrote. Under MPI (`mpi`), every rank's knee runs
// its own helper process (an MPI process below a non-MPI parent, as `mpirun sh -c` does) and only
// rank 0's helper writes: nothing comes back on the other ranks.
std::optional<RawRun> run_helper(const char* name, const std::string& flag, const std::string& missing,
                                 const std::string& args, bool mpi) {
  const auto exe = helper(name);
  if (exe.empty() || !std::filesystem::exists(exe))
    throw InputError("knee calibrate: " + flag + ": expected knee built with " + name + " beside it, got none (" +
                     missing + ")");
  const std::string raw =
      (std::filesystem::temp_directory_path() / (std::string(name) + "-raw-" + std::to_string(getpid()) + ".json"))
          .string();
  std::string cmd = "'" + exe.string() + "' --raw '" + raw + "'" + args;
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::remove(raw.c_str());
    throw InputError("knee calibrate: " + flag + ": expected " + name + " to succeed, got exit status " +
                     std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : rc));
  }
  if (mpi && !std::filesystem::exists(raw)) return std::nullopt;
  RawRun r = read_raw_file(raw);
  std::remove(raw.c_str());
  return r;
}

// Ranks in this MPI job, from the launcher's environment (Open MPI, MPICH/Hydra, Slurm); 0 outside.
int mpi_world_size() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return 0;
}

int run_calibrate(const Args& a) {
  const std::string backend = a.value_or("backend", "auto");
  if (backend != "auto" && backend != "cpu" && backend != "cuda")
    throw InputError(a.what("backend") + ": expected cuda, cpu or auto, got '" + backend + "'");
  std::string why, found;
  const int devices = backend == "cpu" ? 0 : cuda_device_count(&why, &found);
  std::string chosen = backend;
  if (backend == "auto") {
    // Say which backend auto chose and why, before any measurement (one line on stderr).
    const auto cuda_helper = helper("knee-calibrate-cuda");
    const bool have_helper = !cuda_helper.empty() && std::filesystem::exists(cuda_helper);
    std::string reason;
    if (devices == 0) {
      chosen = "cpu";
      reason = why;
    } else if (!have_helper) {
      chosen = "cpu";
      reason =
          "libcuda found, " + found + ", but knee-calibrate-cuda is not beside knee: it is built only where nvcc is";
    } else {
      chosen = "cuda";
      reason = "libcuda found, " + found;
    }
    const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
    if (!rank || std::string(rank) == "0")
      std::fprintf(stderr, "knee calibrate: backend %s (%s)\n", chosen.c_str(), reason.c_str());
  }
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
  if (mpi && mpi_world_size() < 2)
    throw InputError(a.what("mpi") + ": expected to run under mpirun with at least 2 ranks, got " +
                     std::to_string(mpi_world_size()) + " (e.g. mpirun -np 2 knee calibrate --mpi ...)");
  const std::string quick = opt.quick ? " --quick" : "";
  RawRun run;
  if (chosen == "cuda") {
    auto r = run_helper("knee-calibrate-cuda", "--backend cuda", "nvcc was absent at build time",
                        quick + (mpi ? " --mpi" : ""), mpi);
    if (!r) return 0;  // an MPI rank other than 0: rank 0 writes the raw file and the profile
    run = std::move(*r);
  } else {
    if (mpi) {
      // The MPI ping-pong first, every rank busy; then the helpers exit, the other ranks' knee
      // returns and rank 0 measures the rest undisturbed.
      const char* r = std::getenv("OMPI_COMM_WORLD_RANK");
      if (!r || std::string(r) == "0") opt.progress("mpi ping-pong (knee-calibrate-mpi)");
      auto links = run_helper("knee-calibrate-mpi", "--mpi", "CMake found no MPI; install libopenmpi-dev", quick, true);
      if (!links) return 0;
      run = run_cpu_backend(opt);
      for (auto& [cls, cases] : links->links) run.links[cls] = std::move(cases);
      for (auto& [cls, note] : links->link_notes) run.link_notes[cls] = note;
      run.manifest["mpi"] = links->manifest["mpi"];
    } else {
      run = run_cpu_backend(opt);
    }
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
  std::fprintf(stderr, "knee calibrate: %s backend done in %.1f s; memory %.1f GB/s, launch %.2f us\n", chosen.c_str(),
               s, p.memory_bandwidth_Bps() / 1e9, p.launch_overhead_s() * 1e6);
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
              {"mpi", false,
               "under mpirun: also measure rank 0 <-> rank 1 (cpu: MPI ping-pong, link host_mpi; "
               "cuda: NCCL over all ranks, one GPU each); rank 0 writes the output"}},
             run_calibrate);

}  // namespace knee::cli

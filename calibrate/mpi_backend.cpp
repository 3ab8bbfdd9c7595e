// Process-to-process latency and bandwidth over MPI (link class "host_mpi"): a ping-pong between
// ranks 0 and 1 of MPI_COMM_WORLD, as osu_latency/osu_bw do. Compiled with KNEE_HAVE_MPI=1 only
// when CMake found MPI (calibrate/calibrate.cmake); otherwise every entry point says so.
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "calibrate/backends.hpp"
#include "calibrate/timing.hpp"
#include "sim/common/error.hpp"
#include "sim/common/parse.hpp"

#if KNEE_HAVE_MPI
#include <mpi.h>
#endif

namespace knee {

bool mpi_built() {
#if KNEE_HAVE_MPI
  return true;
#else
  return false;
#endif
}

std::vector<std::size_t> mpi_pingpong_sizes(bool quick) {
  // 8 B .. 64 MiB: every power of two, or every third one (plus 64 MiB) when quick.
  std::vector<std::size_t> v;
  for (int e = 3; e <= 26; e += quick ? 3 : 1) v.push_back(std::size_t(1) << e);
  if (v.back() != std::size_t(1) << 26) v.push_back(std::size_t(1) << 26);
  return v;
}

#if KNEE_HAVE_MPI
namespace {

constexpr int kData = 1, kStop = 2;

void ck(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI call failed: ") + what);
}

std::string host_name() {
  char h[256] = {};
  gethostname(h, sizeof h - 1);
  return h;
}

}  // namespace

bool run_mpi_pingpong(const BackendOptions& opt, RawRun& into) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (inited) throw InputError("knee calibrate: --mpi: expected MPI not yet initialized, got it initialized");
  ck(MPI_Init(nullptr, nullptr), "MPI_Init");
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) {
    MPI_Finalize();
    throw InputError("knee calibrate: --mpi: expected at least 2 MPI ranks (run it under mpirun -np 2), got " +
                     std::to_string(size));
  }
  // Rank 1 tells rank 0 where it runs: same host = shared memory, else the network.
  char peer[256] = {};
  const std::string me = host_name();
  if (rank == 1) ck(MPI_Send(me.c_str(), int(me.size()) + 1, MPI_CHAR, 0, kData, MPI_COMM_WORLD), "MPI_Send");
  if (rank == 0) ck(MPI_Recv(peer, sizeof peer - 1, MPI_CHAR, 1, kData, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");

  const auto sizes = mpi_pingpong_sizes(opt.quick);
  const std::size_t max_size = sizes.back();
  std::vector<char> buf(max_size, 1);
  if (rank == 0) {
    const timing::Plan plan = opt.quick ? timing::Plan{0.03, 2e-4, 5, 40} : timing::Plan{0.25, 1e-3, 9, 300};
    for (std::size_t s : sizes) {
      if (opt.progress) opt.progress("mpi ping-pong " + format_bytes(static_cast<Bytes>(s)));
      auto one = [&] {
        ck(MPI_Send(buf.data(), int(s), MPI_BYTE, 1, kData, MPI_COMM_WORLD), "MPI_Send");
        ck(MPI_Recv(buf.data(), int(s), MPI_BYTE, 1, kData, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
      };
      auto t = timing::measure(one, plan);
      for (double& x : t) x /= 2;  // one way = round trip / 2
      into.links["host_mpi"].push_back({static_cast<double>(s), Reps::of(std::move(t))});
    }
    ck(MPI_Send(buf.data(), 0, MPI_BYTE, 1, kStop, MPI_COMM_WORLD), "MPI_Send");
  } else if (rank == 1) {  // echo until told to stop
    for (;;) {
      MPI_Status st;
      ck(MPI_Recv(buf.data(), int(max_size), MPI_BYTE, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st), "MPI_Recv");
      if (st.MPI_TAG == kStop) break;
      int n = 0;
      MPI_Get_count(&st, MPI_BYTE, &n);
      ck(MPI_Send(buf.data(), n, MPI_BYTE, 0, kData, MPI_COMM_WORLD), "MPI_Send");
    }
  }
  char lib[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  MPI_Get_library_version(lib, &len);
  MPI_Finalize();  // before any other measurement: idle ranks would otherwise poll and steal a core
  if (rank != 0) return false;
  std::string libs(lib, std::strlen(lib));
  if (auto nl = libs.find('\n'); nl != std::string::npos) libs.resize(nl);
  const bool same = me == peer;
  into.link_notes["host_mpi"] = "MPI ping-pong between rank 0 (" + me + ") and rank 1 (" + peer + "), " +
                                (same ? "same host" : "different hosts") +
                                "; one-way time = round trip / 2; " + std::to_string(size) + " ranks";
  into.manifest["mpi"] = {{"library", libs}, {"ranks", size}, {"rank0_host", me}, {"rank1_host", std::string(peer)},
                          {"same_host", same}};
  return true;
}
#else
bool run_mpi_pingpong(const BackendOptions&, RawRun&) {
  throw InputError("knee calibrate: --mpi: expected knee built with MPI, got a build without it "
                   "(CMake found no MPI; install libopenmpi-dev and reconfigure)");
}
#endif

}  // namespace knee

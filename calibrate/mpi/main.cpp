// knee-calibrate-mpi: process-to-process latency and bandwidth over MPI (link class "host_mpi"), a
// ping-pong between ranks 0 and 1 of MPI_COMM_WORLD as osu_latency/osu_bw do, 8 B .. 64 MiB,
// one-way time = round trip / 2. Built only when CMake finds MPI, and kept out of knee itself so
// knee needs no MPI library to run: `mpirun -np 2 knee calibrate --mpi` starts it on every rank.
// Rank 0 writes knee-raw/1 (links only) to --raw; the other ranks write nothing. Exit 2 on bad
// arguments or fewer than 2 ranks.
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "calibrate/raw.hpp"
#include "calibrate/timing.hpp"
#include "common/parse.hpp"

namespace {

constexpr int kData = 1, kStop = 2;

void ck(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    std::fprintf(stderr, "knee-calibrate-mpi: %s failed\n", what);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

std::string host_name() {
  char h[256] = {};
  gethostname(h, sizeof h - 1);
  return h;
}

// 8 B .. 64 MiB: every power of two, or every third one (plus 64 MiB) when quick.
std::vector<std::size_t> sizes(bool quick) {
  std::vector<std::size_t> v;
  for (int e = 3; e <= 26; e += quick ? 3 : 1) v.push_back(std::size_t(1) << e);
  if (v.back() != std::size_t(1) << 26) v.push_back(std::size_t(1) << 26);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string raw_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--raw" && i + 1 < argc) raw_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: knee-calibrate-mpi --raw OUT.json [--quick] (under mpirun -np 2)\n");
      return 2;
    }
  }
  if (raw_path.empty()) {
    std::fprintf(stderr, "knee-calibrate-mpi: --raw: expected an output path, got none\n");
    return 2;
  }
  const double t_start = knee::timing::now_s();
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) {
    std::fprintf(stderr, "knee-calibrate-mpi: expected at least 2 MPI ranks (run it under mpirun -np 2), got %d\n",
                 size);
    MPI_Finalize();
    return 2;
  }
  // Rank 1 tells rank 0 where it runs: same host = shared memory, else the network.
  char peer[256] = {};
  const std::string me = host_name();
  if (rank == 1) ck(MPI_Send(me.c_str(), int(me.size()) + 1, MPI_CHAR, 0, kData, MPI_COMM_WORLD), "MPI_Send");
  if (rank == 0) ck(MPI_Recv(peer, sizeof peer - 1, MPI_CHAR, 1, kData, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");

  knee::RawRun run;
  run.device_kind = "cpu";
  const auto sz = sizes(quick);
  const std::size_t max_size = sz.back();
  std::vector<char> buf(max_size, 1);
  if (rank == 0) {
    const knee::timing::Plan plan =
        quick ? knee::timing::Plan{0.03, 2e-4, 5, 40} : knee::timing::Plan{0.25, 1e-3, 9, 300};
    for (std::size_t s : sz) {
      std::fprintf(stderr, "knee-calibrate-mpi [%5.1f s] ping-pong %s\n", knee::timing::now_s() - t_start,
                   knee::format_bytes(static_cast<knee::Bytes>(s)).c_str());
      auto one = [&] {
        ck(MPI_Send(buf.data(), int(s), MPI_BYTE, 1, kData, MPI_COMM_WORLD), "MPI_Send");
        ck(MPI_Recv(buf.data(), int(s), MPI_BYTE, 1, kData, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
      };
      auto t = knee::timing::measure(one, plan);
      for (double& x : t) x /= 2;  // one way = round trip / 2
      run.links["host_mpi"].push_back({static_cast<double>(s), knee::Reps::of(std::move(t))});
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
  MPI_Finalize();
  if (rank != 0) return 0;
  std::string libs(lib, std::strlen(lib));
  if (auto nl = libs.find('\n'); nl != std::string::npos) libs.resize(nl);
  const bool same = me == peer;
  run.link_notes["host_mpi"] = "MPI ping-pong between rank 0 (" + me + ") and rank 1 (" + peer + "), " +
                               (same ? "same host" : "different hosts") + "; one-way time = round trip / 2; " +
                               std::to_string(size) + " ranks";
  run.manifest["mpi"] = {{"library", libs},   {"ranks", size},
                         {"rank0_host", me},  {"rank1_host", std::string(peer)},
                         {"same_host", same}, {"elapsed_s", knee::timing::now_s() - t_start}};
  std::ofstream out(raw_path, std::ios::binary);
  if (!out || !(out << knee::raw_to_json(run).dump(1) << "\n")) {
    std::fprintf(stderr, "knee-calibrate-mpi: cannot write %s\n", raw_path.c_str());
    return 1;
  }
  return 0;
}

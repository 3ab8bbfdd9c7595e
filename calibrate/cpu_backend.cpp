#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include <Eigen/Dense>

#include "calibrate/backends.hpp"
#include "calibrate/timing.hpp"
#include "common/parse.hpp"

namespace knee {

namespace {

using timing::measure;
using timing::now_s;
using timing::Plan;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      if (p != std::string::npos) return line.substr(line.find_first_not_of(' ', p + 1));
    }
  return "unknown CPU";
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

template <class Scalar>
void gemm_cases(const char* dtype, const std::vector<int>& sizes, const Plan& plan, const BackendOptions& opt,
                RawRun& run) {
  using M = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  for (int n : sizes) {
    if (opt.progress) opt.progress(std::string("gemm ") + dtype + " " + std::to_string(n) + "^3");
    M a = M::Random(n, n), b = M::Random(n, n), c(n, n);
    run.gemm.push_back({n, n, n, dtype, "square", Reps::of(measure([&] { c.noalias() = a * b; }, plan))});
  }
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}
bool read_all(int fd, char* p, std::size_t n) {
  while (n) {
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// Ping-pong between this process and a forked echo process over two pipes; one-way time is half
// the round trip.
void pipe_cases(const std::vector<std::size_t>& sizes, const Plan& plan, const BackendOptions& opt, RawRun& run) {
  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0) throw std::runtime_error("pipe() failed");
  if (pipe(to_parent) != 0) throw std::runtime_error("pipe() failed");
  const std::size_t max_size = *std::max_element(sizes.begin(), sizes.end());
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork() failed");
  if (pid == 0) {  // echo child: only read/write, then _exit (no atexit handlers of the parent)
    close(to_child[1]);
    close(to_parent[0]);
    std::vector<char> buf(max_size);
    for (std::uint64_t n; read_all(to_child[0], reinterpret_cast<char*>(&n), sizeof n) && n > 0;)
      if (!read_all(to_child[0], buf.data(), n) || !write_all(to_parent[1], buf.data(), n)) break;
    _exit(0);
  }
  close(to_child[0]);
  close(to_parent[1]);
  std::vector<char> buf(max_size, 1);
  bool ok = true;
  for (std::size_t s : sizes) {
    if (opt.progress) opt.progress("pipe ping-pong " + format_bytes(static_cast<Bytes>(s)));
    auto one = [&] {
      std::uint64_t n = s;
      ok = ok && write_all(to_child[1], reinterpret_cast<char*>(&n), sizeof n) &&
           write_all(to_child[1], buf.data(), s) && read_all(to_parent[0], buf.data(), s);
    };
    auto t = measure(one, plan);
    for (double& x : t) x /= 2;
    if (!ok) break;
    run.links["host_pipe"].push_back({static_cast<double>(s), Reps::of(std::move(t))});
  }
  std::uint64_t zero = 0;
  write_all(to_child[1], reinterpret_cast<char*>(&zero), sizeof zero);
  close(to_child[1]);
  close(to_parent[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!ok) throw std::runtime_error("the pipe ping-pong with the echo process failed");
  run.link_notes["host_pipe"] = "process-to-process over a pipe pair; one-way time = round trip / 2";
}

// Thread wake-up: the analogue of launching work on another engine. One-way = round trip / 2.
std::vector<double> wakeup_times(const Plan& plan) {
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;  // 1: worker's turn, 2: main's turn, -1: stop
  std::thread worker([&] {
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return turn != 0 && turn != 2; });
      if (turn < 0) return;
      turn = 2;
      cv.notify_all();
    }
  });
  auto rt = [&] {
    std::unique_lock<std::mutex> lk(mu);
    turn = 1;
    cv.notify_all();
    cv.wait(lk, [&] { return turn == 2; });
    turn = 0;
  };
  auto t = measure(rt, plan);
  {
    std::lock_guard<std::mutex> lk(mu);
    turn = -1;
  }
  cv.notify_all();
  worker.join();
  for (double& x : t) x /= 2;
  return t;
}

}  // namespace

RawRun run_cpu_backend(const BackendOptions& opt) {
  const double t_start = now_s();
  RawRun run;
  run.source = "cpu backend";
  run.format = "knee-raw/1";
  run.device_kind = "cpu";
  const Plan plan = opt.quick ? Plan{0.05, 2e-4, 5, 60} : Plan{0.4, 1e-3, 9, 400};
  const Plan big = opt.quick ? Plan{0.15, 2e-4, 5, 40} : Plan{1.0, 1e-3, 7, 200};

  gemm_cases<float>("fp32", opt.quick ? std::vector<int>{64, 128, 256} : std::vector<int>{64, 128, 256, 512, 1024}, big,
                    opt, run);
  gemm_cases<double>("fp64", opt.quick ? std::vector<int>{64, 128, 256} : std::vector<int>{64, 128, 256, 512}, big, opt,
                     run);

  const std::size_t top = opt.quick ? 16 * kMiB : 256 * kMiB;
  {
    std::vector<char> src(top, 1), dst(top, 0);
    for (std::size_t s = kKiB; s <= top; s *= opt.quick ? 4 : 2) {
      if (opt.progress) opt.progress("memcpy " + format_bytes(static_cast<Bytes>(s)));
      auto t = measure(
          [&] {
            std::memcpy(dst.data(), src.data(), s);
            asm volatile("" ::: "memory");
          },
          plan);
      run.copy.push_back({2.0 * static_cast<double>(s), Reps::of(std::move(t))});
    }
  }
  {
    const std::size_t n_top = top / 4 / 2;
    std::vector<float> a(n_top, 1.0f), b(n_top, 2.0f), c(n_top);
    for (std::size_t n = 1024; n <= n_top; n *= opt.quick ? 4 : 2) {
      if (opt.progress) opt.progress("add " + std::to_string(n) + " floats");
      auto t = measure(
          [&] {
            for (std::size_t i = 0; i < n; ++i) c[i] = a[i] + b[i];
            asm volatile("" ::: "memory");
          },
          plan);
      run.ops["add"].push_back({3.0 * 4 * static_cast<double>(n), Reps::of(std::move(t))});
    }
  }
  std::vector<std::size_t> psizes;
  for (std::size_t s = 8; s <= (opt.quick ? kMiB : 16 * kMiB); s *= 4) psizes.push_back(s);
  pipe_cases(psizes, plan, opt, run);

  if (opt.progress) opt.progress("thread wake-up");
  run.host_launch = Reps::of(wakeup_times(plan));
  {
    volatile int sink = 0;
    std::function<void()> f = [&] { sink = sink + 1; };
    run.tiny_kernel = Reps::of(measure([&] { f(); }, plan));
  }

  run.capacity_bytes = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  run.l2_bytes = l2 > 0 ? static_cast<double>(l2) : 0;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  OrderedJson& m = run.manifest;
  m["gpu_name"] = "cpu: " + cpu_model();
  m["gpu_count"] = 0;
  m["cpu_model"] = cpu_model();
  m["cores"] = std::thread::hardware_concurrency();
  m["host"] = host;
  m["date"] = utc_now();
  m["command_line"] = opt.command_line;
  m["git_revision"] = knee_git_revision();
  m["knee_version"] = knee_version();
  m["method"] = std::string("knee calibrate --backend cpu") + (opt.quick ? " --quick" : "") +
                ": steady_clock around each repetition, 2 warm-up calls excluded, repetitions of >= " +
                std::to_string(plan.min_rep_s * 1e3) + " ms, single thread (Eigen without OpenMP)";
  m["measurement_window"] = {{"started_utc", m["date"]}, {"elapsed_s", now_s() - t_start}};
  return run;
}

}  // namespace knee

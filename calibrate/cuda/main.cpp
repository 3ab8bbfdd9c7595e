// knee-calibrate-cuda: the CUDA calibration backend. Measures GPU 0 (and NCCL collectives over all
// GPUs of the node when there are several) and writes every repetition as knee-raw/1; `knee
// calibrate --backend cuda` runs it and fits the result. Exit 2 when there is no CUDA device.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <unistd.h>
#if KNEE_HAVE_NCCL
#include <nccl.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "calibrate/raw.hpp"
#include "sim/common/parse.hpp"

void knee_launch_empty(cudaStream_t s);
void knee_launch_add(const float* a, const float* b, float* c, size_t n, int sms, cudaStream_t s);
void knee_launch_gelu(const float* a, float* c, size_t n, int sms, cudaStream_t s);

namespace {

using knee::Reps;
using knee::RawRun;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "knee-calibrate-cuda: %s\n", what.c_str());
  std::exit(1);
}
void ck(cudaError_t e, const char* what) {
  if (e != cudaSuccess) die(std::string(what) + ": " + cudaGetErrorString(e));
}
void ck(cublasStatus_t e, const char* what) {
  if (e != CUBLAS_STATUS_SUCCESS) die(std::string(what) + ": cuBLAS status " + std::to_string(int(e)));
}
#define CK(x) ck((x), #x)

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

bool g_quick = false;
double g_t0 = 0;
void progress(const std::string& s) { std::fprintf(stderr, "knee-calibrate-cuda [%5.1f s] %s\n", now_s() - g_t0, s.c_str()); }

// Seconds per call, CUDA events around each repetition of `inner` calls; warm-up excluded.
template <class F>
std::vector<double> timed(F&& fn, cudaStream_t s, double target_s) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  fn();
  fn();
  CK(cudaStreamSynchronize(s));
  CK(cudaEventRecord(a, s));
  fn();
  CK(cudaEventRecord(b, s));
  CK(cudaEventSynchronize(b));
  float ms = 0;
  CK(cudaEventElapsedTime(&ms, a, b));
  const double probe = std::max(ms * 1e-3, 1e-7);
  const int inner = static_cast<int>(std::clamp(50e-6 / probe, 1.0, 100.0));
  const int reps = static_cast<int>(std::clamp(target_s / (probe * inner), 5.0, g_quick ? 20.0 : 50.0));
  std::vector<cudaEvent_t> ev(2 * reps);
  for (auto& e : ev) CK(cudaEventCreate(&e));
  for (int r = 0; r < reps; ++r) {
    CK(cudaEventRecord(ev[2 * r], s));
    for (int i = 0; i < inner; ++i) fn();
    CK(cudaEventRecord(ev[2 * r + 1], s));
  }
  CK(cudaStreamSynchronize(s));
  std::vector<double> out;
  for (int r = 0; r < reps; ++r) {
    CK(cudaEventElapsedTime(&ms, ev[2 * r], ev[2 * r + 1]));
    out.push_back(ms * 1e-3 / inner);
  }
  for (auto& e : ev) cudaEventDestroy(e);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return out;
}

// ---- NVML through dlopen (the header is not installed); only the functions used -----------------
struct Nvml {
  using init_t = int (*)();
  using handle_t = int (*)(unsigned, void**);
  using power_t = int (*)(void*, unsigned*);
  using limit_t = int (*)(void*, unsigned*);
  using clock_t_ = int (*)(void*, int, unsigned*);
  using driver_t = int (*)(char*, unsigned);
  void* lib = nullptr;
  void* dev = nullptr;
  power_t power = nullptr;
  limit_t limit = nullptr;
  clock_t_ max_clock = nullptr;
  driver_t driver = nullptr;
  bool open() {
    lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return false;
    auto init = reinterpret_cast<init_t>(dlsym(lib, "nvmlInit_v2"));
    auto handle = reinterpret_cast<handle_t>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
    power = reinterpret_cast<power_t>(dlsym(lib, "nvmlDeviceGetPowerUsage"));
    limit = reinterpret_cast<limit_t>(dlsym(lib, "nvmlDeviceGetEnforcedPowerLimit"));
    max_clock = reinterpret_cast<clock_t_>(dlsym(lib, "nvmlDeviceGetMaxClockInfo"));
    driver = reinterpret_cast<driver_t>(dlsym(lib, "nvmlSystemGetDriverVersion"));
    return init && handle && power && init() == 0 && handle(0, &dev) == 0;
  }
  double watts() const {
    unsigned mw = 0;
    return power && power(dev, &mw) == 0 ? mw / 1000.0 : 0;
  }
};

struct Buffers {
  void *a = nullptr, *b = nullptr, *c = nullptr;
  size_t bytes = 0;
};

void gemm_case(cublasHandle_t h, const Buffers& buf, long m, long n, long k, const std::string& dt,
               const std::string& label, cudaStream_t s, RawRun& run) {
  cudaDataType t = dt == "bf16" ? CUDA_R_16BF : dt == "fp16" ? CUDA_R_16F : CUDA_R_32F;
  cublasComputeType_t ct = dt == "tf32" ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const size_t elt = (dt == "bf16" || dt == "fp16") ? 2 : 4;
  if (size_t(std::max({m * k, k * n, m * n})) * elt > buf.bytes) return;
  const float one = 1, zero = 0;
  // Row-major C[m,n] = A[m,k] B[k,n] is column-major C^T = B^T A^T.
  auto fn = [&] {
    CK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, int(n), int(m), int(k), &one, buf.b, t, int(n), buf.a, t, int(k),
                    &zero, buf.c, t, int(n), ct, CUBLAS_GEMM_DEFAULT));
  };
  progress("gemm " + dt + " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
  run.gemm.push_back({m, n, k, dt, label, Reps::of(timed(fn, s, g_quick ? 0.05 : 0.2))});
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string raw_path, cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") g_quick = true;
    else if (a == "--raw" && i + 1 < argc) raw_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: knee-calibrate-cuda --raw OUT.json [--quick]\n");
      return 2;
    }
  }
  if (raw_path.empty()) {
    std::fprintf(stderr, "knee-calibrate-cuda: --raw: expected an output path, got none\n");
    return 2;
  }
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    std::fprintf(stderr, "knee-calibrate-cuda: expected a CUDA device, got none (no CUDA device)\n");
    return 2;
  }
  g_t0 = now_s();
  CK(cudaSetDevice(0));
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  cudaStream_t s;
  CK(cudaStreamCreate(&s));
  cublasHandle_t h;
  CK(cublasCreate(&h));
  CK(cublasSetStream(h, s));
  RawRun run;
  run.device_kind = "gpu";
  run.capacity_bytes = double(prop.totalGlobalMem);
  run.l2_bytes = double(prop.l2CacheSize);

  Buffers buf;
  buf.bytes = size_t(1) << 30;
  CK(cudaMalloc(&buf.a, buf.bytes));
  CK(cudaMalloc(&buf.b, buf.bytes));
  CK(cudaMalloc(&buf.c, buf.bytes));
  CK(cudaMemset(buf.a, 0x3c, buf.bytes));  // ~0.0115 in bf16/fp16/fp32: non-zero data, as in training
  CK(cudaMemset(buf.b, 0x3c, buf.bytes));

  // GEMM: squares and the forward/backward GEMMs of a transformer layer's linear layers.
  std::vector<long> squares = g_quick ? std::vector<long>{256, 1024, 4096, 8192}
                                      : std::vector<long>{64, 128, 256, 512, 1024, 2048, 4096, 6144, 8192, 12288, 16384};
  for (long n : squares)
    for (const char* dt : {"bf16", "fp16", "tf32", "fp32"}) {
      if (std::string(dt) == "fp32" && n > 8192) continue;
      gemm_case(h, buf, n, n, n, dt, "square", s, run);
    }
  if (!g_quick)
    for (long hd : {4096L, 8192L})
      for (long t : {2048L, 8192L})
        for (auto [name, din, dout] : {std::tuple{"qkv", hd, 3 * hd}, std::tuple{"proj", hd, hd},
                                       std::tuple{"fc1", hd, 4 * hd}, std::tuple{"fc2", 4 * hd, hd}}) {
          const std::string base = std::string(name) + ".";
          const std::string tail = " hidden=" + std::to_string(hd) + " tokens=" + std::to_string(t);
          gemm_case(h, buf, t, dout, din, "bf16", base + "fwd" + tail, s, run);
          gemm_case(h, buf, t, din, dout, "bf16", base + "bwd_data" + tail, s, run);
          gemm_case(h, buf, din, dout, t, "bf16", base + "bwd_weight" + tail, s, run);
        }

  // Device memory: copies from 1 KiB to 16x L2 (at least 1 GiB), and elementwise kernels.
  const size_t top = std::min(buf.bytes, std::max(size_t(1) << 30, size_t(16) * size_t(prop.l2CacheSize)));
  for (size_t b = 1024; b <= top; b *= g_quick ? 8 : 2) {
    progress("d2d copy " + knee::format_bytes(knee::Bytes(b)));
    auto t = timed([&] { CK(cudaMemcpyAsync(buf.c, buf.a, b, cudaMemcpyDeviceToDevice, s)); }, s, g_quick ? 0.03 : 0.15);
    run.copy.push_back({2.0 * double(b), Reps::of(std::move(t))});
  }
  const int sms = prop.multiProcessorCount;
  for (size_t n = size_t(1) << 16; n * 4 <= buf.bytes; n *= g_quick ? 16 : 4) {
    progress("add/gelu " + std::to_string(n) + " floats");
    auto ta = timed([&] { knee_launch_add((float*)buf.a, (float*)buf.b, (float*)buf.c, n, sms, s); }, s, 0.05);
    run.ops["add"].push_back({12.0 * double(n), Reps::of(std::move(ta))});
    auto tg = timed([&] { knee_launch_gelu((float*)buf.a, (float*)buf.c, n, sms, s); }, s, 0.05);
    run.ops["gelu"].push_back({8.0 * double(n), Reps::of(std::move(tg))});
  }

  // Launch overhead: host throughput of back-to-back launches, one kernel event-timed, graph replay.
  progress("launch overhead");
  std::vector<double> host;
  for (int r = 0; r < (g_quick ? 5 : 11); ++r) {
    const int n = 20000;
    CK(cudaStreamSynchronize(s));
    double t0 = now_s();
    for (int i = 0; i < n; ++i) knee_launch_empty(s);
    host.push_back((now_s() - t0) / n);  // host time: the queue absorbs the kernels
    CK(cudaStreamSynchronize(s));
  }
  run.host_launch = Reps::of(host);
  {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    std::vector<double> t;
    for (int r = 0; r < 200; ++r) {
      CK(cudaEventRecord(a, s));
      knee_launch_empty(s);
      CK(cudaEventRecord(b, s));
      CK(cudaEventSynchronize(b));
      float ms = 0;
      CK(cudaEventElapsedTime(&ms, a, b));
      t.push_back(ms * 1e-3);
    }
    run.tiny_kernel = Reps::of(t);
    cudaGraph_t g;
    cudaGraphExec_t ge;
    CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    for (int i = 0; i < 100; ++i) knee_launch_empty(s);
    CK(cudaStreamEndCapture(s, &g));
    CK(cudaGraphInstantiate(&ge, g, 0));
    auto tg = timed([&] { CK(cudaGraphLaunch(ge, s)); }, s, 0.05);
    for (double& x : tg) x /= 100;
    run.graph_per_kernel = Reps::of(tg);
    cudaGraphExecDestroy(ge);
    cudaGraphDestroy(g);
  }

  // Host links: pinned and pageable, both directions.
  const size_t htop = g_quick ? (size_t(64) << 20) : buf.bytes;
  void* pinned = nullptr;
  CK(cudaMallocHost(&pinned, htop));
  std::vector<char> pageable(htop, 1);
  std::memset(pinned, 1, htop);
  for (int pin = 1; pin >= 0; --pin)
    for (size_t b = 1; b <= htop; b *= g_quick ? 64 : 4) {
      void* hp = pin ? pinned : static_cast<void*>(pageable.data());
      progress(std::string(pin ? "pinned" : "pageable") + " h2d/d2h " + knee::format_bytes(knee::Bytes(b)));
      auto h2d = timed([&] { CK(cudaMemcpyAsync(buf.a, hp, b, cudaMemcpyHostToDevice, s)); }, s, 0.03);
      auto d2h = timed([&] { CK(cudaMemcpyAsync(hp, buf.a, b, cudaMemcpyDeviceToHost, s)); }, s, 0.03);
      const std::string cls = std::string("host_") + (pin ? "pinned_" : "pageable_");
      run.links[cls + "h2d"].push_back({double(b), Reps::of(std::move(h2d))});
      run.links[cls + "d2h"].push_back({double(b), Reps::of(std::move(d2h))});
    }
  CK(cudaFreeHost(pinned));

#if KNEE_HAVE_NCCL
  if (ndev >= 2) {  // collectives over the node's GPUs, one process (multi-node: docs, future work)
    std::vector<ncclComm_t> comms(ndev);
    std::vector<cudaStream_t> st(ndev);
    std::vector<void*> sb(ndev), rb(ndev);
    const size_t ctop = g_quick ? (size_t(64) << 20) : (size_t(1) << 30);
    if (ncclCommInitAll(comms.data(), ndev, nullptr) != ncclSuccess) die("ncclCommInitAll failed");
    for (int d = 0; d < ndev; ++d) {
      CK(cudaSetDevice(d));
      CK(cudaStreamCreate(&st[d]));
      CK(cudaMalloc(&sb[d], ctop));
      CK(cudaMalloc(&rb[d], ctop));
    }
    const double nd = ndev;
    struct Op { const char* name; double bus; };
    for (Op op : {Op{"all_reduce", 2 * (nd - 1) / nd}, Op{"all_gather", (nd - 1) / nd}, Op{"reduce_scatter", (nd - 1) / nd}}) {
      for (size_t b = 8 * ndev; b <= ctop; b *= g_quick ? 16 : 4) {
        progress(std::string("nccl ") + op.name + " " + knee::format_bytes(knee::Bytes(b)));
        auto one = [&] {
          ncclGroupStart();
          for (int d = 0; d < ndev; ++d) {
            const size_t cnt = b / 4;
            if (op.name[4] == 'r') ncclAllReduce(sb[d], rb[d], cnt, ncclFloat, ncclSum, comms[d], st[d]);
            else if (op.name[4] == 'g') ncclAllGather(sb[d], rb[d], cnt / ndev, ncclFloat, comms[d], st[d]);
            else ncclReduceScatter(sb[d], rb[d], cnt / ndev, ncclFloat, ncclSum, comms[d], st[d]);
          }
          ncclGroupEnd();
          for (int d = 0; d < ndev; ++d) cudaStreamSynchronize(st[d]);
        };
        one();
        one();  // warm-up
        std::vector<double> t;
        for (int r = 0; r < (g_quick ? 5 : 20); ++r) {
          double t0 = now_s();
          one();
          t.push_back(now_s() - t0);
        }
        const std::string cls = std::string(op.name) == "all_reduce" ? "nvlink" : std::string("nccl_") + op.name;
        run.links[cls].push_back({double(b) * op.bus, Reps::of(std::move(t))});
      }
      const std::string cls = std::string(op.name) == "all_reduce" ? "nvlink" : std::string("nccl_") + op.name;
      run.link_notes[cls] = std::string("NCCL ") + op.name + " over " + std::to_string(ndev) +
                            " GPUs of one node; bytes are bus bytes, alpha is the collective's latency";
    }
    for (int d = 0; d < ndev; ++d) ncclCommDestroy(comms[d]);
    CK(cudaSetDevice(0));
  }
  int nccl_version = 0;
  ncclGetVersion(&nccl_version);
  run.manifest["nccl"] = std::to_string(nccl_version);
#endif

  // Power: NVML samples every 100 ms over idle, compute-bound and memory-bound phases.
  Nvml nvml;
  if (nvml.open()) {
    std::mutex mu;
    std::string phase = "idle";
    std::atomic<bool> stop{false};
    std::thread sampler([&] {
      while (!stop) {
        double w = nvml.watts();
        {
          std::lock_guard<std::mutex> lk(mu);
          run.power.push_back({now_s() - g_t0, phase, w});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    auto set_phase = [&](const char* p) {
      std::lock_guard<std::mutex> lk(mu);
      phase = p;
    };
    const double idle_s = g_quick ? 1.5 : 3, busy_s = g_quick ? 2.5 : 8;
    progress("power: idle");
    std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
    progress("power: bf16 GEMM 8192");
    set_phase("compute");
    double t0 = now_s();
    long iters = 0;
    const float one = 1, zero = 0;
    while (now_s() - t0 < busy_s) {
      for (int i = 0; i < 10; ++i)
        CK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 8192, 8192, 8192, &one, buf.b, CUDA_R_16BF, 8192, buf.a,
                        CUDA_R_16BF, 8192, &zero, buf.c, CUDA_R_16BF, 8192, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      CK(cudaStreamSynchronize(s));
      iters += 10;
    }
    run.power_gemm_tflops = iters * 2.0 * 8192.0 * 8192 * 8192 / (now_s() - t0) / 1e12;
    progress("power: device copy");
    set_phase("memory");
    t0 = now_s();
    iters = 0;
    while (now_s() - t0 < busy_s) {
      for (int i = 0; i < 10; ++i) CK(cudaMemcpyAsync(buf.c, buf.a, buf.bytes, cudaMemcpyDeviceToDevice, s));
      CK(cudaStreamSynchronize(s));
      iters += 10;
    }
    run.power_copy_Bps = iters * 2.0 * double(buf.bytes) / (now_s() - t0);
    set_phase("idle_after");
    std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
    stop = true;
    sampler.join();
    unsigned lim = 0;
    if (nvml.limit && nvml.limit(nvml.dev, &lim) == 0) run.power_limit_W = lim / 1000.0;
    unsigned sm = 0, mem = 0;
    if (nvml.max_clock && nvml.max_clock(nvml.dev, 1, &sm) == 0 && nvml.max_clock(nvml.dev, 2, &mem) == 0)
      run.manifest["clocks"] = {{"sm_max_MHz", sm}, {"mem_max_MHz", mem}};
    char drv[96] = {};
    if (nvml.driver && nvml.driver(drv, sizeof drv) == 0) run.manifest["driver"] = drv;
  } else {
    run.manifest["errors"].push_back("power: libnvidia-ml.so.1 not available; no power samples");
  }

  int rt = 0, drv = 0, cb = 0;
  cudaRuntimeGetVersion(&rt);
  cudaDriverGetVersion(&drv);
  cublasGetVersion(h, &cb);
  char hostname[256] = {};
  gethostname(hostname, sizeof hostname - 1);
  auto& m = run.manifest;
  m["gpu_name"] = prop.name;
  m["gpu_count"] = ndev;
  m["capability"] = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  m["sm_count"] = prop.multiProcessorCount;
  m["cuda"] = std::to_string(rt / 1000) + "." + std::to_string(rt % 1000 / 10);
  if (!m.contains("driver")) m["driver"] = "CUDA driver API " + std::to_string(drv);
  m["cublas"] = std::to_string(cb);
  m["host"] = hostname;
  m["date"] = utc_now();
  m["command_line"] = cmdline;
  m["git_revision"] = knee::knee_git_revision();
  m["method"] = std::string("knee-calibrate-cuda") + (g_quick ? " --quick" : "") +
                ": CUDA events around each repetition, 2 warm-up calls excluded, tiny cases timed in "
                "batches of up to 100; cuBLAS GemmEx; fp8 not measured (needs cuBLASLt scaling)";
  m["measurement_window"] = {{"elapsed_s", now_s() - g_t0}};
  if (!run.power.empty()) run.power_limit_W = std::max(run.power_limit_W, 0.0);

  std::ofstream out(raw_path, std::ios::binary);
  if (!out || !(out << knee::raw_to_json(run).dump(1) << "\n")) die("cannot write " + raw_path);
  progress("done");
  return 0;
}

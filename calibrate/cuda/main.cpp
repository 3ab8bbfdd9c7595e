// knee-calibrate-cuda: the CUDA calibration backend. Measures one GPU (cuBLAS/cuBLASLt GEMMs,
// batched GEMM, unfused attention, copies, elementwise and normalization kernels, how a copy loop
// on a few SMs (as NCCL's) slows a GEMM and a memory-bound kernel, launch and graph replay, host
// links, power) and NCCL collectives over every GPU it is given: all GPUs of the node
// in one process, or one GPU per rank under mpirun with --mpi (NCCL bootstrapped over MPI as
// nccl-tests does). Writes every repetition as knee-raw/1 (rank 0 only); `knee calibrate --backend
// cuda` runs it and fits the result. Exit 2 when there is no CUDA device or on bad arguments.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <unistd.h>
#if KNEE_HAVE_NCCL
#include <nccl.h>
#endif
#if KNEE_HAVE_MPI
#include <mpi.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "calibrate/raw.hpp"
#include "common/parse.hpp"

void knee_launch_empty(cudaStream_t s);
void knee_launch_add(const void* a, const void* b, void* c, size_t n, int sms, cudaStream_t s);
void knee_launch_gelu(const void* a, void* c, size_t n, int sms, cudaStream_t s);
void knee_launch_layernorm(const void* x, void* y, int rows, int cols, cudaStream_t s);
void knee_launch_dropout_add(const void* x, const void* y, void* out, void* mask, size_t n, float keep,
                             unsigned long long seed, int sms, cudaStream_t s);
void knee_launch_softmax(const void* x, void* y, int rows, int cols, bool causal, cudaStream_t s);
void knee_launch_side_copy(const void* src, void* dst, size_t chunk_bytes, size_t chunks_per_cta, const int* stop,
                           unsigned long long* done, int* smid, unsigned long long limit_ns, int ctas, int threads,
                           cudaStream_t s);

namespace {

using knee::RawRun;
using knee::Reps;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "knee-calibrate-cuda: %s\n", what.c_str());
  std::exit(1);
}
// Failures throw: an optional section (fp8, batched GEMM, attention, interference, NCCL) that fails is
// recorded in manifest.errors and the run goes on; main() turns any other failure into exit 1.
void ck(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}
void ck(cublasStatus_t e, const char* what) {
  if (e != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": cuBLAS status " + std::to_string(int(e)));
}
#if KNEE_HAVE_NCCL
void ck(ncclResult_t e, const char* what) {
  if (e != ncclSuccess) throw std::runtime_error(std::string(what) + ": " + ncclGetErrorString(e));
}
#endif
#define CK(x) ck((x), #x)

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

bool g_quick = false;
double g_t0 = 0;
int g_rank = 0;
void progress(const std::string& s) {
  if (g_rank == 0) std::fprintf(stderr, "knee-calibrate-cuda [%5.1f s] %s\n", now_s() - g_t0, s.c_str());
}

// Runs an optional section; a failure becomes one manifest error and a progress line.
void optional_section(RawRun& run, const std::string& name, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    cudaGetLastError();  // clear a non-sticky error so the next section starts clean
    run.manifest["errors"].push_back(name + ": " + e.what());
    progress("skipped " + name + ": " + e.what());
  }
}

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
  bool open(unsigned index) {
    lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return false;
    auto init = reinterpret_cast<init_t>(dlsym(lib, "nvmlInit_v2"));
    auto handle = reinterpret_cast<handle_t>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
    power = reinterpret_cast<power_t>(dlsym(lib, "nvmlDeviceGetPowerUsage"));
    limit = reinterpret_cast<limit_t>(dlsym(lib, "nvmlDeviceGetEnforcedPowerLimit"));
    max_clock = reinterpret_cast<clock_t_>(dlsym(lib, "nvmlDeviceGetMaxClockInfo"));
    driver = reinterpret_cast<driver_t>(dlsym(lib, "nvmlSystemGetDriverVersion"));
    return init && handle && power && init() == 0 && handle(index, &dev) == 0;
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

struct Ctx {
  cudaStream_t s;
  cublasHandle_t h;
  Buffers buf;
  cudaDeviceProp prop;
};

// Row-major C[m,n] = op(A) op(B): A stored [m,k] (ta: stored [k,m], A = its transpose), B stored
// [k,n] (tb: stored [n,k]). A linear layer's three GEMMs are three such layouts (gemm_shapes).
void gemm_case(Ctx& x, long m, long n, long k, const std::string& dt, const std::string& label, RawRun& run,
               bool ta = false, bool tb = false) {
  cudaDataType t = dt == "bf16" ? CUDA_R_16BF : dt == "fp16" ? CUDA_R_16F : CUDA_R_32F;
  cublasComputeType_t ct = dt == "tf32" ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const size_t elt = (dt == "bf16" || dt == "fp16") ? 2 : 4;
  if (size_t(std::max({m * k, k * n, m * n})) * elt > x.buf.bytes) return;
  const float one = 1, zero = 0;
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: a row-major [r,c] buffer is
  // the column-major [c,r] transpose, so a stored-transposed operand takes CUBLAS_OP_T.
  const cublasOperation_t ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N, oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ldb = int(tb ? k : n), lda = int(ta ? m : k);
  auto fn = [&] {
    CK(cublasGemmEx(x.h, ob, oa, int(n), int(m), int(k), &one, x.buf.b, t, ldb, x.buf.a, t, lda, &zero, x.buf.c, t,
                    int(n), ct, CUBLAS_GEMM_DEFAULT));
  };
  progress("gemm " + dt + " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
           (ta || tb ? std::string(" ") + (ta ? "T" : "N") + (tb ? "T" : "N") : ""));
  const double target = g_quick ? 0.05 : label == "square" ? 0.2 : 0.08;
  run.gemm.push_back({m, n, k, dt, label, Reps::of(timed(fn, x.s, target))});
}

// One bf16 GEMM repeated back to back, each repetition between its own pair of events (adjacent
// repetitions share one), kept in order: how kernel times drift over an op's duration, for the
// straggler model's variability.op_cv (the shared H200 data's gemm_noise, same shape and count).
void gemm_noise(Ctx& x, RawRun& run) {
  const long n = 4096;
  if (size_t(n * n) * 2 > x.buf.bytes) return;
  const float one = 1, zero = 0;
  auto fn = [&] {
    CK(cublasGemmEx(x.h, CUBLAS_OP_N, CUBLAS_OP_N, int(n), int(n), int(n), &one, x.buf.b, CUDA_R_16BF, int(n), x.buf.a,
                    CUDA_R_16BF, int(n), &zero, x.buf.c, CUDA_R_16BF, int(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  };
  const int reps = g_quick ? 200 : 1000;
  progress("gemm noise: bf16 4096^3 x " + std::to_string(reps) + " back to back");
  for (int i = 0; i < 3; ++i) fn();
  std::vector<cudaEvent_t> ev(static_cast<size_t>(reps) + 1);
  for (auto& e : ev) CK(cudaEventCreate(&e));
  CK(cudaEventRecord(ev[0], x.s));
  for (int r = 0; r < reps; ++r) {
    fn();
    CK(cudaEventRecord(ev[static_cast<size_t>(r) + 1], x.s));
  }
  CK(cudaStreamSynchronize(x.s));
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, ev[static_cast<size_t>(r)], ev[static_cast<size_t>(r) + 1]));
    t.push_back(std::max(ms * 1e-3, 1e-9));
  }
  for (auto& e : ev) cudaEventDestroy(e);
  run.noise = knee::GemmCase{n, n, n, "bf16", "noise", Reps::of(t)};
}

// FP8 (e4m3 x e4m3 -> bf16, fp32 accumulation) through cuBLASLt with per-tensor scale pointers;
// cuBLASLt's FP8 kernels want the "TN" layout (A transposed), which has the same cost.
void fp8_cases(Ctx& x, const std::vector<long>& sizes, RawRun& run) {
  cublasLtHandle_t lt;
  CK(cublasLtCreate(&lt));
  float* scales = nullptr;
  CK(cudaMalloc(&scales, 2 * sizeof(float)));
  const float ones[2] = {1, 1};
  CK(cudaMemcpy(scales, ones, sizeof ones, cudaMemcpyHostToDevice));
  const size_t ws_bytes = size_t(32) << 20;
  void* ws = nullptr;
  CK(cudaMalloc(&ws, ws_bytes));
  for (long n : sizes) {
    if (size_t(n) * n * 2 > x.buf.bytes) continue;
    cublasLtMatmulDesc_t op;
    CK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    const float* sa = scales;
    const float* sb = scales + 1;
    CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &sa, sizeof sa));
    CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &sb, sizeof sb));
    cublasLtMatrixLayout_t la, lb, lc;
    CK(cublasLtMatrixLayoutCreate(&la, CUDA_R_8F_E4M3, n, n, n));
    CK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8F_E4M3, n, n, n));
    CK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, n, n, n));
    cublasLtMatmulPreference_t pref;
    CK(cublasLtMatmulPreferenceCreate(&pref));
    const uint64_t wsb = ws_bytes;
    CK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb, sizeof wsb));
    cublasLtMatmulHeuristicResult_t heur{};
    int found = 0;
    CK(cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, 1, &heur, &found));
    if (found == 0) throw std::runtime_error("cuBLASLt has no fp8 algorithm for " + std::to_string(n) + "^3");
    const float one = 1, zero = 0;
    auto fn = [&] {
      CK(cublasLtMatmul(lt, op, &one, x.buf.a, la, x.buf.b, lb, &zero, x.buf.c, lc, x.buf.c, lc, &heur.algo, ws,
                        ws_bytes, x.s));
    };
    progress("gemm fp8 (cuBLASLt e4m3) " + std::to_string(n) + "^3");
    run.gemm.push_back({n, n, n, "fp8", "square", Reps::of(timed(fn, x.s, g_quick ? 0.05 : 0.2))});
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(op);
  }
  cudaFree(ws);
  cudaFree(scales);
  cublasLtDestroy(lt);
}

void batched_case(Ctx& x, long batch, long m, long n, long k, RawRun& run) {
  if (size_t(batch) * std::max({m * k, k * n, m * n}) * 2 > x.buf.bytes) return;
  const float one = 1, zero = 0;
  auto fn = [&] {
    CK(cublasGemmStridedBatchedEx(x.h, CUBLAS_OP_N, CUBLAS_OP_N, int(n), int(m), int(k), &one, x.buf.b, CUDA_R_16BF,
                                  int(n), k * n, x.buf.a, CUDA_R_16BF, int(k), m * k, &zero, x.buf.c, CUDA_R_16BF,
                                  int(n), m * n, int(batch), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  };
  progress("batched gemm bf16 " + std::to_string(batch) + " x " + std::to_string(m) + "x" + std::to_string(n) + "x" +
           std::to_string(k));
  knee::GemmCase g{m, n, k, "bf16", "batched", Reps::of(timed(fn, x.s, g_quick ? 0.05 : 0.1))};
  g.batch = batch;
  run.gemm.push_back(std::move(g));
}

// The unfused attention forward, bf16, as eager frameworks without a fused kernel run it:
// S = Q K^T (all seq x seq scores), P = softmax(S) with the causal mask, O = P V.
void attention_case(Ctx& x, int b, int heads, int seq, int d, RawRun& run) {
  const long bh = long(b) * heads, sd = long(seq) * d, ss = long(seq) * seq;
  const size_t s_bytes = size_t(bh) * ss * 2, qkv_bytes = size_t(bh) * sd * 2;
  size_t free_b = 0, total_b = 0;
  CK(cudaMemGetInfo(&free_b, &total_b));
  if (s_bytes + 4 * qkv_bytes > free_b / 2) {
    run.manifest["errors"].push_back("attention_unfused b=" + std::to_string(b) + " h=" + std::to_string(heads) +
                                     " s=" + std::to_string(seq) + ": skipped, the score matrices need " +
                                     knee::format_bytes(knee::Bytes(s_bytes)));
    return;
  }
  void *q, *k, *v, *o, *sc;
  CK(cudaMalloc(&q, qkv_bytes));
  CK(cudaMalloc(&k, qkv_bytes));
  CK(cudaMalloc(&v, qkv_bytes));
  CK(cudaMalloc(&o, qkv_bytes));
  CK(cudaMalloc(&sc, s_bytes));  // scores, then probabilities in place (the softmax kernel allows it)
  for (void* t : {q, k, v}) CK(cudaMemset(t, 0x3c, qkv_bytes));
  const float scale = 1.0f / std::sqrt(float(d)), zero = 0, one = 1;
  auto fn = [&] {
    // Column-major view: S^T = K Q^T per head (row-major S = Q K^T), then O^T = V^T P^T.
    CK(cublasGemmStridedBatchedEx(x.h, CUBLAS_OP_T, CUBLAS_OP_N, seq, seq, d, &scale, k, CUDA_R_16BF, d, sd, q,
                                  CUDA_R_16BF, d, sd, &zero, sc, CUDA_R_16BF, seq, ss, int(bh), CUBLAS_COMPUTE_32F,
                                  CUBLAS_GEMM_DEFAULT));
    knee_launch_softmax(sc, sc, int(bh * seq), seq, true, x.s);
    CK(cublasGemmStridedBatchedEx(x.h, CUBLAS_OP_N, CUBLAS_OP_N, d, seq, seq, &one, v, CUDA_R_16BF, d, sd, sc,
                                  CUDA_R_16BF, seq, ss, &zero, o, CUDA_R_16BF, d, sd, int(bh), CUBLAS_COMPUTE_32F,
                                  CUBLAS_GEMM_DEFAULT));
  };
  progress("attention (unfused) b=" + std::to_string(b) + " h=" + std::to_string(heads) + " s=" + std::to_string(seq) +
           " d=" + std::to_string(d));
  knee::AttentionCase a;
  a.batch = b;
  a.heads = heads;
  a.seq = seq;
  a.head_dim = d;
  a.causal = true;
  a.fwd = Reps::of(timed(fn, x.s, g_quick ? 0.05 : 0.1));
  run.attention_unfused.push_back(std::move(a));
  for (void* t : {q, k, v, o, sc}) cudaFree(t);
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// ---- NCCL collectives ------------------------------------------------------------------------------
#if KNEE_HAVE_NCCL
struct Collectives {
  int nranks = 1;                 // ranks in the communicator
  std::vector<ncclComm_t> comms;  // one per GPU this process drives
  std::vector<cudaStream_t> st;
  std::vector<void*> sb, rb;
  std::vector<int> dev, rank;
  bool mpi = false;
  int hosts = 1, per_host = 1;
  size_t top = 0;
};

enum class Op { all_reduce, all_gather, reduce_scatter, all_to_all, send_recv };
const char* op_name(Op o) {
  switch (o) {
    case Op::all_reduce:
      return "all_reduce";
    case Op::all_gather:
      return "all_gather";
    case Op::reduce_scatter:
      return "reduce_scatter";
    case Op::all_to_all:
      return "all_to_all";
    default:
      return "send_recv";
  }
}

void barrier(const Collectives& c) {
#if KNEE_HAVE_MPI
  if (c.mpi) MPI_Barrier(MPI_COMM_WORLD);
#else
  (void)c;
#endif
}
double max_over_ranks(const Collectives& c, double v) {
#if KNEE_HAVE_MPI
  if (c.mpi) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
#else
  (void)c;
#endif
  return v;
}

// One call of `op` moving `bytes` per rank (nccl-tests' size: the all-reduce/send buffer, the
// all-gather output, the reduce-scatter input, the all-to-all buffer), on every local GPU.
void issue(const Collectives& c, Op op, size_t bytes) {
  const size_t n = size_t(c.nranks), chunk = bytes / 4 / n;  // floats per peer
  // Send/recv partners: the next rank on one host; across hosts the same local GPU on the next
  // host, so every pair crosses the network at once (each GPU's NIC loaded, as in training).
  const int shift = c.hosts > 1 ? c.per_host : 1;
  CK(ncclGroupStart());
  for (size_t i = 0; i < c.comms.size(); ++i) {
    char* s = static_cast<char*>(c.sb[i]);
    char* r = static_cast<char*>(c.rb[i]);
    switch (op) {
      case Op::all_reduce:
        CK(ncclAllReduce(s, r, bytes / 4, ncclFloat, ncclSum, c.comms[i], c.st[i]));
        break;
      case Op::all_gather:
        CK(ncclAllGather(s, r, chunk, ncclFloat, c.comms[i], c.st[i]));
        break;
      case Op::reduce_scatter:
        CK(ncclReduceScatter(s, r, chunk, ncclFloat, ncclSum, c.comms[i], c.st[i]));
        break;
      case Op::all_to_all:  // grouped send/recv, as nccl-tests' alltoall
        for (size_t p = 0; p < n; ++p) {
          CK(ncclSend(s + p * chunk * 4, chunk, ncclFloat, int(p), c.comms[i], c.st[i]));
          CK(ncclRecv(r + p * chunk * 4, chunk, ncclFloat, int(p), c.comms[i], c.st[i]));
        }
        break;
      case Op::send_recv: {
        const int me = c.rank[i], N = c.nranks;
        CK(ncclSend(s, bytes / 4, ncclFloat, (me + shift) % N, c.comms[i], c.st[i]));
        CK(ncclRecv(r, bytes / 4, ncclFloat, ((me - shift) % N + N) % N, c.comms[i], c.st[i]));
        break;
      }
    }
  }
  CK(ncclGroupEnd());
}

void sync_all(const Collectives& c) {
  for (size_t i = 0; i < c.comms.size(); ++i) CK(cudaStreamSynchronize(c.st[i]));
}

// Wall time per call of the slowest rank (barrier, `inner` calls, stream sync, max over ranks).
std::vector<double> time_collective(const Collectives& c, Op op, size_t bytes) {
  issue(c, op, bytes);
  issue(c, op, bytes);
  sync_all(c);
  barrier(c);
  double t0 = now_s();
  issue(c, op, bytes);
  sync_all(c);
  const double probe = max_over_ranks(c, now_s() - t0);
  const int inner = int(std::clamp(1e-3 / std::max(probe, 1e-7), 1.0, 50.0));  // the same on every rank
  std::vector<double> out;
  for (int r = 0; r < (g_quick ? 5 : 15); ++r) {
    barrier(c);
    t0 = now_s();
    for (int i = 0; i < inner; ++i) issue(c, op, bytes);
    sync_all(c);
    out.push_back(max_over_ranks(c, (now_s() - t0) / inner));
  }
  return out;
}

void collective_sweep(const Collectives& c, RawRun& run) {
  const double n = c.nranks;
  const bool net = c.hosts > 1;
  for (Op op : {Op::all_reduce, Op::all_gather, Op::reduce_scatter, Op::all_to_all, Op::send_recv}) {
    // Bus bytes (nccl-tests' busbw convention): the bytes each rank's busiest link carries.
    const double bus = op == Op::all_reduce ? 2 * (n - 1) / n : op == Op::send_recv ? 1.0 : (n - 1) / n;
    const std::string name = op_name(op);
    const std::string cls = net ? (op == Op::send_recv ? std::string("network") : "net_" + name)
                                : (op == Op::all_reduce ? std::string("nvlink") : "nccl_" + name);
    for (size_t b = size_t(1) << 10; b <= c.top; b *= g_quick ? 16 : 4) {
      const size_t per = b / 4 / size_t(n);
      if (per == 0) continue;
      const size_t eff = (op == Op::all_reduce || op == Op::send_recv) ? b : per * 4 * size_t(n);
      progress("nccl " + name + " " + knee::format_bytes(knee::Bytes(eff)) + " over " + std::to_string(c.nranks) +
               " GPUs");
      auto t = time_collective(c, op, eff);
      run.links[cls].push_back({double(eff) * bus, Reps::of(std::move(t))});
    }
    std::string note = "NCCL " + name + " over " + std::to_string(c.nranks) + " GPUs (" + std::to_string(c.hosts) +
                       " host" + (c.hosts > 1 ? "s" : "") + ", " +
                       (c.mpi ? "one rank per GPU, MPI bootstrap" : "one process") +
                       "); bytes are bus bytes, alpha is the collective's latency";
    if (op == Op::send_recv)
      note = net ? "NCCL send/recv, every GPU to the same local GPU of the next host at once (" +
                       std::to_string(c.nranks) + " GPUs, " + std::to_string(c.hosts) +
                       " hosts): the per-GPU network path under full load"
                 : "NCCL send/recv, every GPU to the next in a ring (" + std::to_string(c.nranks) + " GPUs, one host)";
    run.link_notes[cls] = note;
  }
  run.manifest["collectives"] = {{"ranks", c.nranks},
                                 {"hosts", c.hosts},
                                 {"gpus_per_host", c.per_host},
                                 {"bootstrap", c.mpi ? "MPI (ncclGetUniqueId on rank 0, MPI_Bcast, ncclCommInitRank)"
                                                     : "ncclCommInitAll (one process)"}};
}

void alloc_buffers(Collectives& c) {
  c.top = g_quick ? (size_t(64) << 20) : (size_t(1) << 30);
  for (size_t i = 0; i < c.comms.size(); ++i) {
    CK(cudaSetDevice(c.dev[i]));
    CK(cudaStreamCreate(&c.st[i]));
    CK(cudaMalloc(&c.sb[i], c.top));
    CK(cudaMalloc(&c.rb[i], c.top));
    CK(cudaMemset(c.sb[i], 0, c.top));
  }
}
void free_buffers(Collectives& c) {
  for (size_t i = 0; i < c.comms.size(); ++i) {
    cudaSetDevice(c.dev[i]);
    ncclCommDestroy(c.comms[i]);
    cudaFree(c.sb[i]);
    cudaFree(c.rb[i]);
    cudaStreamDestroy(c.st[i]);
  }
}

// All GPUs of this node from one process.
void collectives_single_process(int ndev, RawRun& run) {
  Collectives c;
  c.nranks = ndev;
  c.per_host = ndev;
  c.comms.resize(ndev);
  c.st.resize(ndev);
  c.sb.resize(ndev);
  c.rb.resize(ndev);
  for (int d = 0; d < ndev; ++d) {
    c.dev.push_back(d);
    c.rank.push_back(d);
  }
  CK(ncclCommInitAll(c.comms.data(), ndev, nullptr));
  alloc_buffers(c);
  collective_sweep(c, run);
  free_buffers(c);
}

#if KNEE_HAVE_MPI
// One GPU per rank, any number of hosts: NCCL bootstrapped over MPI as nccl-tests does.
void collectives_mpi(int rank, int size, int device, int hosts, int per_host, RawRun& run) {
  Collectives c;
  c.mpi = true;
  c.nranks = size;
  c.hosts = hosts;
  c.per_host = per_host;
  c.comms.resize(1);
  c.st.resize(1);
  c.sb.resize(1);
  c.rb.resize(1);
  c.dev = {device};
  c.rank = {rank};
  ncclUniqueId id;
  if (rank == 0) CK(ncclGetUniqueId(&id));
  MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
  CK(cudaSetDevice(device));
  CK(ncclCommInitRank(&c.comms[0], size, id, rank));
  alloc_buffers(c);
  collective_sweep(c, run);
  free_buffers(c);
}
#endif
#endif  // KNEE_HAVE_NCCL

// ---- one GPU ---------------------------------------------------------------------------------------
// GEMM: the squares and transformer linear-layer shapes of calibrate/data/h200-2026-11-27, so a
// new GPU compares shape by shape (scripts/compare-profiles.py).
void gemm_shapes(Ctx& x, RawRun& run) {
  std::vector<long> squares =
      g_quick ? std::vector<long>{256, 1024, 4096, 8192}
              : std::vector<long>{64, 128, 256, 512, 1024, 2048, 3072, 4096, 6144, 8192, 12288, 16384};
  for (const char* dt : {"bf16", "fp16", "tf32", "fp32"})
    for (long n : squares) {
      if (std::string(dt) == "fp32" && n > 8192) continue;
      gemm_case(x, n, n, n, dt, "square", run);
    }
  std::vector<long> hiddens = g_quick ? std::vector<long>{4096} : std::vector<long>{1024, 2048, 4096, 8192, 12288};
  std::vector<long> tokens = g_quick ? std::vector<long>{2048} : std::vector<long>{2048, 8192};
  for (long hd : hiddens)
    for (long t : tokens)
      for (auto [name, din, dout] : {std::tuple{"qkv", hd, 3 * hd}, std::tuple{"proj", hd, hd},
                                     std::tuple{"fc1", hd, 4 * hd}, std::tuple{"fc2", 4 * hd, hd}}) {
        const std::string base = std::string(name) + ".";
        const std::string tail = " hidden=" + std::to_string(hd) + " tokens=" + std::to_string(t);
        // Each in its framework layout (PyTorch's nn.Linear keeps W as [out, in]): forward Y = X W^T
        // (B stored transposed), input gradient dX = dY W (as stored), weight gradient as
        // X^T dY (A stored transposed). The shared H200 data ran all three as plain row-major
        // matmuls (layout=NN); the layout word says which a profile's samples measured.
        gemm_case(x, t, dout, din, "bf16", base + "fwd" + tail + " layout=NT", run, false, true);
        gemm_case(x, t, din, dout, "bf16", base + "bwd_data" + tail + " layout=NN", run);
        gemm_case(x, din, dout, t, "bf16", base + "bwd_weight" + tail + " layout=TN", run, true, false);
      }
}

// The sections a GPU or library may lack (fp8 needs compute capability 8.9+): each failure is a
// manifest error, not the end of the run.
void optional_matmul_sections(Ctx& x, RawRun& run) {
  const cudaDeviceProp& prop = x.prop;
  if (prop.major * 10 + prop.minor >= 89)
    optional_section(run, "gemm fp8", [&] {
      fp8_cases(x, g_quick ? std::vector<long>{4096} : std::vector<long>{1024, 4096, 8192, 16384}, run);
    });
  else
    run.manifest["errors"].push_back("gemm fp8: not measured, needs compute capability 8.9+ (this GPU: " +
                                     std::to_string(prop.major) + "." + std::to_string(prop.minor) + ")");
  optional_section(run, "gemm noise", [&] { gemm_noise(x, run); });
  optional_section(run, "batched gemm", [&] {
    using B = std::tuple<long, long, long, long>;
    std::vector<B> cases = g_quick ? std::vector<B>{{64, 1024, 1024, 128}, {256, 128, 128, 128}}
                                   : std::vector<B>{{1024, 128, 128, 64},  {256, 128, 128, 128}, {64, 1024, 1024, 128},
                                                    {32, 2048, 2048, 128}, {128, 512, 512, 512}, {8, 4096, 4096, 4096}};
    for (auto [b, m, n, k] : cases) batched_case(x, b, m, n, k, run);
  });
  optional_section(run, "attention_unfused", [&] {
    using A = std::tuple<int, int, int, int>;
    std::vector<A> cases =
        g_quick
            ? std::vector<A>{{8, 16, 1024, 64}, {4, 16, 2048, 128}}
            : std::vector<A>{
                  {8, 16, 1024, 64}, {4, 16, 2048, 128}, {2, 32, 4096, 128}, {1, 32, 8192, 128}, {1, 64, 16384, 128}};
    for (auto [b, h, s, d] : cases) attention_case(x, b, h, s, d, run);
  });
}

// Device memory: copies from 1 KiB to the buffer size, which is at least 32 x L2, so the
// asymptote is HBM bandwidth, not L2.
void device_copies(Ctx& x, RawRun& run) {
  for (size_t b = 1024; b <= x.buf.bytes; b *= g_quick ? 8 : 2) {
    progress("d2d copy " + knee::format_bytes(knee::Bytes(b)));
    auto t = timed([&] { CK(cudaMemcpyAsync(x.buf.c, x.buf.a, b, cudaMemcpyDeviceToDevice, x.s)); }, x.s,
                   g_quick ? 0.03 : 0.1);
    run.copy.push_back({2.0 * double(b), Reps::of(std::move(t))});
  }
  run.manifest["copy_max_over_l2"] = double(x.buf.bytes) / std::max(1.0, double(x.prop.l2CacheSize));
}

// Elementwise and normalization kernels, bf16, at (tokens, hidden) shapes including those of the
// H200 data; bytes are the least traffic each op needs, counted as bytes_moved_min there
// (knee::op_bytes_min). dropout_add is one fused kernel (PyTorch eager runs dropout, then add):
// keep 0.9, output and a 1-byte mask, the mask placed in c after the output.
void memory_bound_ops(Ctx& x, RawRun& run) {
  using TH = std::pair<long, long>;
  std::vector<TH> shapes = g_quick ? std::vector<TH>{{64, 4096}, {2048, 1024}, {8192, 4096}}
                                   : std::vector<TH>{{16, 4096},   {64, 4096},   {256, 4096},  {1024, 4096},
                                                     {2048, 1024}, {8192, 4096}, {8192, 8192}, {16384, 12288}};
  const int sms = x.prop.multiProcessorCount;
  const double op_s = g_quick ? 0.03 : 0.06;
  for (auto [t, hd] : shapes) {
    const size_t n = size_t(t) * size_t(hd);
    progress("add/gelu/layernorm/softmax/dropout_add bf16 tokens=" + std::to_string(t) +
             " hidden=" + std::to_string(hd));
    if (n * 2 <= x.buf.bytes) {
      auto ta = timed([&] { knee_launch_add(x.buf.a, x.buf.b, x.buf.c, n, sms, x.s); }, x.s, op_s);
      run.ops["add"].push_back({knee::op_bytes_min("add", t, hd), Reps::of(std::move(ta))});
      auto tl = timed([&] { knee_launch_layernorm(x.buf.a, x.buf.c, int(t), int(hd), x.s); }, x.s, op_s);
      run.ops["layernorm"].push_back({knee::op_bytes_min("layernorm", t, hd), Reps::of(std::move(tl))});
      auto tsm = timed([&] { knee_launch_softmax(x.buf.a, x.buf.c, int(t), int(hd), false, x.s); }, x.s, op_s);
      run.ops["softmax"].push_back({knee::op_bytes_min("softmax", t, hd), Reps::of(std::move(tsm))});
    }
    const size_t mask_at = (n * 2 + 255) / 256 * 256;  // output, then the mask, both in c
    if (mask_at + n <= x.buf.bytes) {
      void* mask = static_cast<char*>(x.buf.c) + mask_at;
      auto td =
          timed([&] { knee_launch_dropout_add(x.buf.a, x.buf.b, x.buf.c, mask, n, 0.9f, 0x6b6e6565ull, sms, x.s); },
                x.s, op_s);
      run.ops["dropout_add"].push_back({knee::op_bytes_min("dropout_add", t, hd), Reps::of(std::move(td))});
    }
    if (4 * n * 2 <= x.buf.bytes) {  // GELU on the 4h-wide MLP activation
      auto tg = timed([&] { knee_launch_gelu(x.buf.a, x.buf.c, 4 * n, sms, x.s); }, x.s, op_s);
      run.ops["gelu"].push_back({knee::op_bytes_min("gelu", t, hd), Reps::of(std::move(tg))});
    }
  }
}

// ---- communication beside compute ----------------------------------------------------------------
// While an NCCL kernel runs it holds SMs (NCCL runs one CTA per channel, each on its own SM, for the
// whole collective) and HBM bandwidth (it streams the payload through device memory), so a GEMM or
// a memory-bound kernel overlapping it slows down. The simulator models a compute-bound kernel
// beside k held SMs of n at (n - a k)/n of its rate and a memory-bound kernel beside communication
// moving H bytes/s at (1 - b H/B); this section measures what a and b are on this GPU, without a
// second GPU: a side kernel imitating NCCL's copy loop (knee_side_copy_kernel, k CTAs of 512
// threads, one per SM) runs on its own stream for the whole measurement while the main stream
// times a bf16 8192^3 cuBLAS GEMM (compute-bound) and the add kernel of memory_bound_ops on 2 GiB
// tensors (memory-bound), each alone and beside it, k = 8, 16, 32 (NCCL's usual channel counts).
// The side kernel's own bytes/s (read + write) is sampled alone and beside each main kernel. About
// 2 s in all (1 s with --quick).
class SideLoop {
 public:
  static constexpr size_t kChunk = size_t(1) << 20;  // bytes per chunk, counted when copied
  static constexpr int kThreads = 512;
  SideLoop(size_t buffer_bytes, int max_ctas) : bytes_(buffer_bytes), max_ctas_(max_ctas) {
    try {
      CK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
      CK(cudaStreamCreateWithFlags(&ctl_, cudaStreamNonBlocking));
      CK(cudaMalloc(&src_, bytes_));
      CK(cudaMalloc(&dst_, bytes_));
      CK(cudaMemset(src_, 0x3c, bytes_));
      CK(cudaMalloc(&stop_, sizeof(int)));
      CK(cudaMalloc(&smid_, sizeof(int) * size_t(max_ctas)));
      CK(cudaHostAlloc(&done_, sizeof(unsigned long long) * size_t(max_ctas), cudaHostAllocMapped));
      CK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&done_dev_), done_, 0));
      CK(cudaHostAlloc(&one_, sizeof(int), cudaHostAllocDefault));
      *one_ = 1;
      CK(cudaDeviceSynchronize());
    } catch (...) {
      release();  // no destructor runs after a failed constructor
      throw;
    }
  }
  SideLoop(const SideLoop&) = delete;
  SideLoop& operator=(const SideLoop&) = delete;
  ~SideLoop() {
    if (ctas_ > 0) {  // left running by a failure: stop it (its own time limit ends it otherwise)
      cudaMemcpyAsync(stop_, one_, sizeof(int), cudaMemcpyHostToDevice, ctl_);
      cudaStreamSynchronize(ctl_);
    }
    release();
  }
  // Launches k CTAs and returns once every one of them has copied a chunk (all k SMs held).
  void start(int k) {
    if (k < 1 || k > max_ctas_) throw std::runtime_error("side loop: bad CTA count " + std::to_string(k));
    for (int i = 0; i < k; ++i) done_[i] = 0;
    CK(cudaMemsetAsync(stop_, 0, sizeof(int), side_));
    const size_t chunks = bytes_ / kChunk / size_t(k);  // each CTA's slice, in chunks
    knee_launch_side_copy(src_, dst_, kChunk, chunks, stop_, done_dev_, smid_, 20'000'000'000ull, k, kThreads, side_);
    CK(cudaGetLastError());
    ctas_ = k;
    const double t0 = now_s();
    for (;;) {
      int started = 0;
      for (int i = 0; i < k; ++i) started += volatile_done(i) > 0;
      if (started == k) break;
      if (now_s() - t0 > 5) throw std::runtime_error("side loop: not all " + std::to_string(k) + " CTAs ran in 5 s");
      std::this_thread::yield();
    }
  }
  // Bytes the side kernel has moved (read + write) since start().
  double bytes_moved() const {
    double c = 0;
    for (int i = 0; i < ctas_; ++i) c += double(volatile_done(i));
    return c * 2.0 * double(kChunk);
  }
  // Sets the stop flag from another stream and waits for the kernel; returns the distinct SMs its
  // CTAs ran on.
  int stop() {
    const int k = ctas_;
    ctas_ = 0;
    CK(cudaMemcpyAsync(stop_, one_, sizeof(int), cudaMemcpyHostToDevice, ctl_));
    CK(cudaStreamSynchronize(ctl_));
    CK(cudaStreamSynchronize(side_));
    std::vector<int> sm(static_cast<size_t>(k));
    CK(cudaMemcpy(sm.data(), smid_, sizeof(int) * size_t(k), cudaMemcpyDeviceToHost));
    std::sort(sm.begin(), sm.end());
    return int(std::unique(sm.begin(), sm.end()) - sm.begin());
  }
  size_t buffer_bytes() const { return bytes_; }

 private:
  void release() {
    if (side_) cudaStreamSynchronize(side_);
    for (void* p : {src_, dst_, static_cast<void*>(stop_), static_cast<void*>(smid_)})
      if (p) cudaFree(p);
    if (done_) cudaFreeHost(done_);
    if (one_) cudaFreeHost(one_);
    if (side_) cudaStreamDestroy(side_);
    if (ctl_) cudaStreamDestroy(ctl_);
  }
  unsigned long long volatile_done(int i) const { return static_cast<volatile unsigned long long*>(done_)[i]; }
  size_t bytes_;
  int max_ctas_, ctas_ = 0;
  cudaStream_t side_ = nullptr, ctl_ = nullptr;
  void *src_ = nullptr, *dst_ = nullptr;
  int *stop_ = nullptr, *smid_ = nullptr, *one_ = nullptr;
  unsigned long long *done_ = nullptr, *done_dev_ = nullptr;
};

// `windows` x `per_window` repetitions of fn on x.s, each timed by CUDA events (one warm-up call
// first). With `side` running, the side kernel's bytes/s over each window (host clock, between
// the synchronizations) goes to side_Bps.
template <class F>
std::vector<double> timed_windows(F&& fn, cudaStream_t s, int windows, int per_window, const SideLoop* side,
                                  std::vector<double>* side_Bps) {
  fn();
  CK(cudaStreamSynchronize(s));
  std::vector<cudaEvent_t> ev(2 * size_t(per_window));
  for (auto& e : ev) CK(cudaEventCreate(&e));
  std::vector<double> out;
  for (int w = 0; w < windows; ++w) {
    const double b0 = side ? side->bytes_moved() : 0, t0 = now_s();
    for (int r = 0; r < per_window; ++r) {
      CK(cudaEventRecord(ev[2 * size_t(r)], s));
      fn();
      CK(cudaEventRecord(ev[2 * size_t(r) + 1], s));
    }
    CK(cudaStreamSynchronize(s));
    if (side) side_Bps->push_back((side->bytes_moved() - b0) / (now_s() - t0));
    for (int r = 0; r < per_window; ++r) {
      float ms = 0;
      CK(cudaEventElapsedTime(&ms, ev[2 * size_t(r)], ev[2 * size_t(r) + 1]));
      out.push_back(ms * 1e-3);
    }
  }
  for (auto& e : ev) cudaEventDestroy(e);
  return out;
}

void interference(Ctx& x, RawRun& run) {
  const int sms = x.prop.multiProcessorCount;
  const long g = 8192;
  if (size_t(g) * size_t(g) * 2 > x.buf.bytes) throw std::runtime_error("buffers too small for an 8192^2 GEMM");
  // The side buffer: 2 x 512 MiB, at least 8 x L2 on H100/H200 so that the loop streams HBM.
  size_t side_bytes = size_t(512) << 20, free_b = 0, total_b = 0;
  CK(cudaMemGetInfo(&free_b, &total_b));
  while (2 * side_bytes > free_b / 2 && side_bytes > (size_t(64) << 20)) side_bytes /= 2;
  const std::vector<int> ks = {8, 16, 32};
  SideLoop side(side_bytes, ks.back());
  const float one = 1, zero = 0;
  auto gemm = [&] {
    CK(cublasGemmEx(x.h, CUBLAS_OP_N, CUBLAS_OP_N, int(g), int(g), int(g), &one, x.buf.b, CUDA_R_16BF, int(g), x.buf.a,
                    CUDA_R_16BF, int(g), &zero, x.buf.c, CUDA_R_16BF, int(g), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  };
  const size_t tensor = std::min(x.buf.bytes, size_t(2) << 30), n = tensor / 2;  // bf16 elements
  auto copy = [&] { knee_launch_add(x.buf.a, x.buf.b, x.buf.c, n, sms, x.s); };
  const int windows = g_quick ? 4 : 8, per = g_quick ? 4 : 5;
  knee::InterferenceRun r;  // into run only when complete: a failure leaves no partial section
  r.sm_count = sms;
  r.side_threads = SideLoop::kThreads;
  r.side_buffer_bytes = double(side.buffer_bytes());
  r.gemm_m = r.gemm_n = r.gemm_k = g;
  r.gemm_dtype = "bf16";
  r.copy_kernel = "add";
  r.copy_bytes_moved = 3.0 * double(tensor);
  for (int k : ks) {
    if (k >= sms) continue;
    progress("interference: bf16 GEMM 8192 and add " + knee::format_bytes(knee::Bytes(tensor)) + " beside " +
             std::to_string(k) + " copy-loop CTAs");
    knee::InterferenceCase c;
    c.side_ctas = k;
    std::vector<double> alone_Bps, gemm_Bps, copy_Bps;
    side.start(k);
    for (int w = 0; w < windows; ++w) {  // the side kernel alone: ~20 ms windows
      const double b0 = side.bytes_moved(), t0 = now_s();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      alone_Bps.push_back((side.bytes_moved() - b0) / (now_s() - t0));
    }
    c.distinct_sms = side.stop();
    // Alone, then beside, per k: drift in clocks or temperature between the two stays small.
    c.gemm_alone = Reps::of(timed_windows(gemm, x.s, windows, per, nullptr, nullptr));
    side.start(k);
    c.gemm_beside = Reps::of(timed_windows(gemm, x.s, windows, per, &side, &gemm_Bps));
    side.stop();
    c.copy_alone = Reps::of(timed_windows(copy, x.s, windows, per, nullptr, nullptr));
    side.start(k);
    c.copy_beside = Reps::of(timed_windows(copy, x.s, windows, per, &side, &copy_Bps));
    c.distinct_sms = std::min(c.distinct_sms, side.stop());
    c.side_alone_Bps = Reps::of(std::move(alone_Bps));
    c.side_beside_gemm_Bps = Reps::of(std::move(gemm_Bps));
    c.side_beside_copy_Bps = Reps::of(std::move(copy_Bps));
    r.cases.push_back(std::move(c));
  }
  if (r.cases.empty()) throw std::runtime_error("no side CTA count below the GPU's " + std::to_string(sms) + " SMs");
  run.interference = std::move(r);
}

// Launch overhead: host throughput of back-to-back launches, one kernel event-timed, graph replay.
void launch_overhead(Ctx& x, RawRun& run) {
  progress("launch overhead, CUDA graph replay");
  std::vector<double> host;
  for (int r = 0; r < (g_quick ? 5 : 11); ++r) {
    const int n = 20000;
    CK(cudaStreamSynchronize(x.s));
    double t0 = now_s();
    for (int i = 0; i < n; ++i) knee_launch_empty(x.s);
    host.push_back((now_s() - t0) / n);  // host time: the queue absorbs the kernels
    CK(cudaStreamSynchronize(x.s));
  }
  run.host_launch = Reps::of(host);
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  std::vector<double> t;
  for (int r = 0; r < 200; ++r) {
    CK(cudaEventRecord(a, x.s));
    knee_launch_empty(x.s);
    CK(cudaEventRecord(b, x.s));
    CK(cudaEventSynchronize(b));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms * 1e-3);
  }
  run.tiny_kernel = Reps::of(t);
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CK(cudaStreamBeginCapture(x.s, cudaStreamCaptureModeGlobal));
  for (int i = 0; i < 100; ++i) knee_launch_empty(x.s);
  CK(cudaStreamEndCapture(x.s, &g));
  CK(cudaGraphInstantiate(&ge, g, 0));
  auto tg = timed([&] { CK(cudaGraphLaunch(ge, x.s)); }, x.s, 0.05);
  for (double& v : tg) v /= 100;
  run.graph_per_kernel = Reps::of(tg);
  cudaGraphExecDestroy(ge);
  cudaGraphDestroy(g);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
}

// Host links: pinned and pageable, both directions, 1 B .. 1 GiB by 4x (the H200 data's sizes).
void host_links(Ctx& x, RawRun& run) {
  const size_t htop = g_quick ? (size_t(64) << 20) : (size_t(1) << 30);
  void* pinned = nullptr;
  CK(cudaMallocHost(&pinned, htop));
  std::vector<char> pageable(htop, 1);
  std::memset(pinned, 1, htop);
  for (int pin = 1; pin >= 0; --pin)
    for (size_t b = 1; b <= htop; b *= g_quick ? 64 : 4) {
      void* hp = pin ? pinned : static_cast<void*>(pageable.data());
      progress(std::string(pin ? "pinned" : "pageable") + " h2d/d2h " + knee::format_bytes(knee::Bytes(b)));
      auto h2d = timed([&] { CK(cudaMemcpyAsync(x.buf.a, hp, b, cudaMemcpyHostToDevice, x.s)); }, x.s, 0.03);
      auto d2h = timed([&] { CK(cudaMemcpyAsync(hp, x.buf.a, b, cudaMemcpyDeviceToHost, x.s)); }, x.s, 0.03);
      const std::string cls = std::string("host_") + (pin ? "pinned_" : "pageable_");
      run.links[cls + "h2d"].push_back({double(b), Reps::of(std::move(h2d))});
      run.links[cls + "d2h"].push_back({double(b), Reps::of(std::move(d2h))});
    }
  CK(cudaFreeHost(pinned));
}

// The two busy phases of the power measurement, each for busy_s seconds: bf16 GEMMs (compute
// bound), then device copies (memory bound). `set_phase` labels the sampler's readings.
void power_load(Ctx& x, RawRun& run, double busy_s, const std::function<void(const char*)>& set_phase) {
  progress("power: bf16 GEMM 8192");
  set_phase("compute");
  double t0 = now_s();
  long iters = 0;
  const float one = 1, zero = 0;
  while (now_s() - t0 < busy_s) {
    for (int i = 0; i < 10; ++i)
      CK(cublasGemmEx(x.h, CUBLAS_OP_N, CUBLAS_OP_N, 8192, 8192, 8192, &one, x.buf.b, CUDA_R_16BF, 8192, x.buf.a,
                      CUDA_R_16BF, 8192, &zero, x.buf.c, CUDA_R_16BF, 8192, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    CK(cudaStreamSynchronize(x.s));
    iters += 10;
  }
  run.power_gemm_tflops = iters * 2.0 * 8192.0 * 8192 * 8192 / (now_s() - t0) / 1e12;
  progress("power: device copy");
  set_phase("memory");
  t0 = now_s();
  iters = 0;
  while (now_s() - t0 < busy_s) {
    for (int i = 0; i < 10; ++i) CK(cudaMemcpyAsync(x.buf.c, x.buf.a, x.buf.bytes, cudaMemcpyDeviceToDevice, x.s));
    CK(cudaStreamSynchronize(x.s));
    iters += 10;
  }
  run.power_copy_Bps = iters * 2.0 * double(x.buf.bytes) / (now_s() - t0);
}

// Power: NVML samples every 100 ms over idle, compute-bound and memory-bound phases.
void measure_power(Ctx& x, int device, RawRun& run) {
  Nvml nvml;
  if (!nvml.open(unsigned(device))) {
    run.manifest["errors"].push_back("power: libnvidia-ml.so.1 not available; no power samples");
    return;
  }
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
  power_load(x, run, busy_s, set_phase);
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
}

// Everything measured on one GPU, in the order the raw file records it.
void single_gpu(Ctx& x, int device, RawRun& run) {
  gemm_shapes(x, run);
  optional_matmul_sections(x, run);
  device_copies(x, run);
  memory_bound_ops(x, run);
  optional_section(run, "interference", [&] { interference(x, run); });
  launch_overhead(x, run);
  host_links(x, run);
  measure_power(x, device, run);
}

int usage() {
  std::fprintf(stderr, "usage: knee-calibrate-cuda --raw OUT.json [--quick] [--mpi]\n");
  return 2;
}

struct Options {
  std::string raw_path, cmdline;
  bool mpi = false;
};

// Reads the command line into `o` (and g_quick). Returns -1 to go on, else the exit status.
int parse_args(int argc, char** argv, Options& o) {
  for (int i = 0; i < argc; ++i) o.cmdline += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") g_quick = true;
    else if (a == "--mpi") o.mpi = true;
    else if (a == "--raw" && i + 1 < argc) o.raw_path = argv[++i];
    else return usage();
  }
  if (o.raw_path.empty()) {
    std::fprintf(stderr, "knee-calibrate-cuda: --raw: expected an output path, got none\n");
    return 2;
  }
#if !KNEE_HAVE_MPI
  if (o.mpi) {
    std::fprintf(stderr,
                 "knee-calibrate-cuda: --mpi: expected a build with MPI, got one without (CMake found no MPI)\n");
    return 2;
  }
#endif
  return -1;
}

// Where this process runs: rank of `size` (MPI_COMM_WORLD), index among the `per_host` ranks of its
// host, and the number of hosts. Without --mpi: one process on one host.
struct Placement {
  int rank = 0, size = 1, local_rank = 0, per_host = 1, hosts = 1;
};

#if KNEE_HAVE_MPI
// Starts MPI and finds the hosts (ranks sharing memory). Returns -1 to go on, else the exit status
// (MPI already finalized): NCCL's partner choice needs the same number of ranks on every host.
int start_mpi(int* argc, char*** argv, Placement& pl) {
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &pl.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &pl.size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, pl.rank, MPI_INFO_NULL, &node);
  int local_size = 1, lo = 0, hi = 0, leader = 0;
  MPI_Comm_rank(node, &pl.local_rank);
  MPI_Comm_size(node, &local_size);
  leader = pl.local_rank == 0;
  MPI_Allreduce(&leader, &pl.hosts, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(&local_size, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&local_size, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Comm_free(&node);
  pl.per_host = local_size;
  g_rank = pl.rank;
  if (lo != hi) {
    if (pl.rank == 0)
      std::fprintf(stderr,
                   "knee-calibrate-cuda: --mpi: expected the same number of ranks on every host, got %d to %d\n", lo,
                   hi);
    MPI_Finalize();
    return 2;
  }
  return -1;
}
#endif

// NCCL collectives over every GPU given, first, while every rank is busy.
void measure_collectives([[maybe_unused]] bool mpi, const Placement& pl, int ndev, [[maybe_unused]] int device,
                         RawRun& run) {
#if KNEE_HAVE_NCCL
  if (mpi && pl.size > 1) {
#if KNEE_HAVE_MPI
    // Then MPI ends, the other ranks exit and rank 0 measures its GPU alone. A failure here would
    // leave the other ranks waiting: abort all.
    try {
      collectives_mpi(pl.rank, pl.size, device, pl.hosts, pl.per_host, run);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "knee-calibrate-cuda: rank %d: NCCL over MPI failed: %s\n", pl.rank, e.what());
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
#endif
  } else if (!mpi && ndev >= 2) {
    optional_section(run, "nccl", [&] { collectives_single_process(ndev, run); });
  }
  int nccl_version = 0;
  ncclGetVersion(&nccl_version);
  run.manifest["nccl"] = std::to_string(nccl_version);
#else
  if (ndev >= 2 || pl.size > 1) run.manifest["errors"].push_back("nccl: built without NCCL; no collectives measured");
#endif
}

// Opens `device` for the single-GPU measurements: stream, cuBLAS handle and the three buffers.
void open_device(Ctx& x, int device, RawRun& run) {
  CK(cudaSetDevice(device));
  CK(cudaGetDeviceProperties(&x.prop, device));
  CK(cudaStreamCreate(&x.s));
  CK(cublasCreate(&x.h));
  CK(cublasSetStream(x.h, x.s));
  run.capacity_bytes = double(x.prop.totalGlobalMem);
  run.l2_bytes = double(x.prop.l2CacheSize);
  // Buffers: at least 2 GiB and 32 x L2 (a power of two), at most a quarter of free memory each.
  size_t free_b = 0, total_b = 0;
  CK(cudaMemGetInfo(&free_b, &total_b));
  size_t want = size_t(2) << 30;
  while (want < size_t(32) * size_t(x.prop.l2CacheSize)) want *= 2;
  while (want > free_b / 4 && want > (size_t(64) << 20)) want /= 2;
  x.buf.bytes = want;
  CK(cudaMalloc(&x.buf.a, x.buf.bytes));
  CK(cudaMalloc(&x.buf.b, x.buf.bytes));
  CK(cudaMalloc(&x.buf.c, x.buf.bytes));
  CK(cudaMemset(x.buf.a, 0x3c, x.buf.bytes));  // ~0.0115 in bf16/fp16, 1.5 in fp8 e4m3: non-zero data
  CK(cudaMemset(x.buf.b, 0x3c, x.buf.bytes));
}

// The manifest's description of the machine, the software and how this run measured.
void describe_run(const Ctx& x, const Options& o, int gpu_count, RawRun& run) {
  int rt = 0, drv = 0, cb = 0;
  cudaRuntimeGetVersion(&rt);
  cudaDriverGetVersion(&drv);
  cublasGetVersion(x.h, &cb);
  char hostname[256] = {};
  gethostname(hostname, sizeof hostname - 1);
  auto& m = run.manifest;
  m["gpu_name"] = x.prop.name;
  m["gpu_count"] = gpu_count;
  m["capability"] = std::to_string(x.prop.major) + "." + std::to_string(x.prop.minor);
  m["sm_count"] = x.prop.multiProcessorCount;
  m["cuda"] = std::to_string(rt / 1000) + "." + std::to_string(rt % 1000 / 10);
  if (!m.contains("driver")) m["driver"] = "CUDA driver API " + std::to_string(drv);
  m["cublas"] = std::to_string(cb);
  m["host"] = hostname;
  m["date"] = utc_now();
  m["command_line"] = o.cmdline;
  m["git_revision"] = knee::knee_git_revision();
  m["method"] = std::string("knee-calibrate-cuda") + (g_quick ? " --quick" : "") +
                ": CUDA events around each repetition, 2 warm-up calls excluded, tiny cases timed in batches of up "
                "to 100; cuBLAS GemmEx, fp8 through cuBLASLt (e4m3, scale pointers), strided-batched GEMM, "
                "unfused attention (cuBLAS QK^T, softmax kernel, PV); memory-bound ops are knee's own kernels "
                "(dropout_add one fused kernel); interference: a copy-loop side kernel on k SMs (one CTA each, "
                "as NCCL's channels) beside a bf16 8192^3 GEMM and the add kernel; NCCL timed by wall clock, "
                "slowest rank";
  m["measurement_window"] = {{"elapsed_s", now_s() - g_t0}};
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (int rc = parse_args(argc, argv, opt); rc >= 0) return rc;
  g_t0 = now_s();
  Placement pl;
#if KNEE_HAVE_MPI
  if (opt.mpi) {
    if (int rc = start_mpi(&argc, &argv, pl); rc >= 0) return rc;
  }
#endif
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    if (pl.rank == 0) std::fprintf(stderr, "knee-calibrate-cuda: expected a CUDA device, got none (no CUDA device)\n");
#if KNEE_HAVE_MPI
    if (opt.mpi) MPI_Finalize();
#endif
    return 2;
  }
  const int device = pl.local_rank % ndev;  // one rank per GPU: the i-th rank of a host takes GPU i
  RawRun run;
  run.device_kind = "gpu";
  try {
    measure_collectives(opt.mpi, pl, ndev, device, run);
#if KNEE_HAVE_MPI
    if (opt.mpi) {
      MPI_Finalize();
      if (pl.rank != 0) return 0;  // rank 0 alone measures its GPU and writes the raw file
    }
#endif
    Ctx x;
    open_device(x, device, run);
    single_gpu(x, device, run);
    describe_run(x, opt, opt.mpi ? pl.size : ndev, run);
    std::ofstream out(opt.raw_path, std::ios::binary);
    if (!out || !(out << knee::raw_to_json(run).dump(1) << "\n")) die("cannot write " + opt.raw_path);
  } catch (const std::exception& e) { die(e.what()); }
  progress("done");
  return 0;
}

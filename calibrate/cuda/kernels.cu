// Device kernels of the CUDA backend, behind plain launch functions so main.cpp stays C++. They are
// straightforward reference kernels (grid-stride elementwise, one block per row for the row
// reductions), not PyTorch's: what they measure is this kernel on this GPU.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

__global__ void knee_empty_kernel() {}

__global__ void knee_add_kernel(const __nv_bfloat16* a, const __nv_bfloat16* b, __nv_bfloat16* c, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    c[i] = __float2bfloat16(__bfloat162float(a[i]) + __bfloat162float(b[i]));
}

__global__ void knee_gelu_kernel(const __nv_bfloat16* a, __nv_bfloat16* c, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    float x = __bfloat162float(a[i]);
    c[i] = __float2bfloat16(0.5f * x * (1.0f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x))));
  }
}

// Philox4x32-10 (Salmon et al., SC'11; the generator behind curand's and PyTorch's dropout): 4
// random words per (counter, key), no state, so every element's draw depends only on its index
// and the seed. Host and device, so tests/calibrate/cuda_host_test.cu checks it on the CPU
// against Random123's known answers.
__host__ __device__ inline uint4 knee_philox(uint4 c, uint2 k) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k.x += 0x9E3779B9u;
      k.y += 0xBB67AE85u;
    }
    const unsigned long long p0 = 0xD2511F53ull * c.x, p1 = 0xCD9E8D57ull * c.z;  // 32 x 32 -> 64 bits
    c = make_uint4(unsigned(p1 >> 32) ^ c.y ^ k.x, unsigned(p1), unsigned(p0 >> 32) ^ c.w ^ k.y, unsigned(p0));
  }
  return c;
}

// One element of dropout_add: x / keep + y when kept, else y.
__host__ __device__ inline __nv_bfloat16 knee_dropout_add_one(__nv_bfloat16 x, __nv_bfloat16 y, bool keep,
                                                              float scale) {
  return __float2bfloat16(keep ? __bfloat162float(x) * scale + __bfloat162float(y) : __bfloat162float(y));
}

// A Philox word below this keeps its element: keep * 2^32, saturated.
inline unsigned knee_keep_threshold(float keep) {
  const double t = double(keep) * 4294967296.0;
  return t >= 4294967295.0 ? 0xFFFFFFFFu : unsigned(t);
}

// out = dropout(x, 1 - keep) + y in one pass, with the keep mask written as one byte per element
// (as PyTorch's native_dropout keeps it for the backward). Element i keeps x when its Philox word
// is below keep * 2^32. Four elements per thread and Philox call (counter = i / 4; 8-byte bf16
// loads and stores, a 4-byte mask store); the last n % 4 elements by the first threads of block 0.
__global__ void knee_dropout_add_kernel(const __nv_bfloat16* x, const __nv_bfloat16* y, __nv_bfloat16* out,
                                        unsigned char* mask, size_t n, uint2 key, unsigned threshold, float scale) {
  const size_t groups = n / 4;
  for (size_t g = blockIdx.x * size_t(blockDim.x) + threadIdx.x; g < groups; g += size_t(gridDim.x) * blockDim.x) {
    const uint4 r = knee_philox(make_uint4(unsigned(g), unsigned(g >> 32), 0, 0), key);
    const unsigned rs[4] = {r.x, r.y, r.z, r.w};
    alignas(8) __nv_bfloat16 xs[4], ys[4], os[4];
    *reinterpret_cast<uint2*>(xs) = reinterpret_cast<const uint2*>(x)[g];
    *reinterpret_cast<uint2*>(ys) = reinterpret_cast<const uint2*>(y)[g];
    unsigned char m[4];
    for (int i = 0; i < 4; ++i) {
      m[i] = rs[i] < threshold;
      os[i] = knee_dropout_add_one(xs[i], ys[i], m[i] != 0, scale);
    }
    reinterpret_cast<uint2*>(out)[g] = *reinterpret_cast<const uint2*>(os);
    reinterpret_cast<uchar4*>(mask)[g] = make_uchar4(m[0], m[1], m[2], m[3]);
  }
  const size_t rest = n - groups * 4;
  if (blockIdx.x == 0 && threadIdx.x < rest) {
    const uint4 r = knee_philox(make_uint4(unsigned(groups), unsigned(groups >> 32), 0, 0), key);
    const unsigned rs[4] = {r.x, r.y, r.z, r.w};
    const size_t i = groups * 4 + threadIdx.x;
    const bool keep = rs[threadIdx.x] < threshold;
    mask[i] = keep;
    out[i] = knee_dropout_add_one(x[i], y[i], keep, scale);
  }
}

// Sum (or max) over the block; every thread gets the result. blockDim.x is a multiple of 32, <= 1024.
template <bool kMax>
__device__ float block_reduce(float v) {
  __shared__ float part[32];
  for (int o = 16; o > 0; o >>= 1) {
    float w = __shfl_xor_sync(0xffffffffu, v, o);
    v = kMax ? fmaxf(v, w) : v + w;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();  // part[] may still be read by a previous call
  if (lane == 0) part[warp] = v;
  __syncthreads();
  v = lane < warps ? part[lane] : (kMax ? -INFINITY : 0.0f);
  for (int o = 16; o > 0; o >>= 1) {
    float w = __shfl_xor_sync(0xffffffffu, v, o);
    v = kMax ? fmaxf(v, w) : v + w;
  }
  return v;
}

// LayerNorm over rows of `cols` (gamma = 1, beta = 0: the parameters are a negligible read).
__global__ void knee_layernorm_kernel(const __nv_bfloat16* x, __nv_bfloat16* y, int cols) {
  const __nv_bfloat16* r = x + size_t(blockIdx.x) * cols;
  __nv_bfloat16* o = y + size_t(blockIdx.x) * cols;
  float s = 0, s2 = 0;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) {
    float v = __bfloat162float(r[j]);
    s += v;
    s2 += v * v;
  }
  s = block_reduce<false>(s);
  s2 = block_reduce<false>(s2);
  const float mean = s / cols, rstd = rsqrtf(fmaxf(s2 / cols - mean * mean, 0.0f) + 1e-5f);
  for (int j = threadIdx.x; j < cols; j += blockDim.x) o[j] = __float2bfloat16((__bfloat162float(r[j]) - mean) * rstd);
}

// Softmax over rows of `cols`; causal: row i of each seq x seq score matrix keeps columns <= i
// (the others become 0), as the unfused attention reference needs. y may be x (in place): each
// element is read and then written by the same thread, after the reductions.
__global__ void knee_softmax_kernel(const __nv_bfloat16* x, __nv_bfloat16* y, int cols, int causal) {
  const __nv_bfloat16* r = x + size_t(blockIdx.x) * cols;
  __nv_bfloat16* o = y + size_t(blockIdx.x) * cols;
  const int valid = causal ? int(blockIdx.x % unsigned(cols)) + 1 : cols;
  float m = -INFINITY;
  for (int j = threadIdx.x; j < valid; j += blockDim.x) m = fmaxf(m, __bfloat162float(r[j]));
  m = block_reduce<true>(m);
  float s = 0;
  for (int j = threadIdx.x; j < valid; j += blockDim.x) s += __expf(__bfloat162float(r[j]) - m);
  s = block_reduce<false>(s);
  const float inv = 1.0f / s;
  for (int j = threadIdx.x; j < cols; j += blockDim.x)
    o[j] = __float2bfloat16(j < valid ? __expf(__bfloat162float(r[j]) - m) * inv : 0.0f);
}

void knee_launch_empty(cudaStream_t s) { knee_empty_kernel<<<1, 1, 0, s>>>(); }

void knee_launch_add(const void* a, const void* b, void* c, size_t n, int sms, cudaStream_t s) {
  knee_add_kernel<<<sms * 8, 256, 0, s>>>(static_cast<const __nv_bfloat16*>(a), static_cast<const __nv_bfloat16*>(b),
                                          static_cast<__nv_bfloat16*>(c), n);
}

void knee_launch_gelu(const void* a, void* c, size_t n, int sms, cudaStream_t s) {
  knee_gelu_kernel<<<sms * 8, 256, 0, s>>>(static_cast<const __nv_bfloat16*>(a), static_cast<__nv_bfloat16*>(c), n);
}

// x, y, out: 8-byte aligned (cudaMalloc'd); mask: 4-byte aligned; keep in (0, 1).
void knee_launch_dropout_add(const void* x, const void* y, void* out, void* mask, size_t n, float keep,
                             unsigned long long seed, int sms, cudaStream_t s) {
  const unsigned threshold = knee_keep_threshold(keep);
  knee_dropout_add_kernel<<<sms * 8, 256, 0, s>>>(
      static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(y), static_cast<__nv_bfloat16*>(out),
      static_cast<unsigned char*>(mask), n, make_uint2(unsigned(seed), unsigned(seed >> 32)), threshold, 1.0f / keep);
}

void knee_launch_layernorm(const void* x, void* y, int rows, int cols, cudaStream_t s) {
  knee_layernorm_kernel<<<rows, 256, 0, s>>>(static_cast<const __nv_bfloat16*>(x), static_cast<__nv_bfloat16*>(y),
                                             cols);
}

void knee_launch_softmax(const void* x, void* y, int rows, int cols, bool causal, cudaStream_t s) {
  knee_softmax_kernel<<<rows, 256, 0, s>>>(static_cast<const __nv_bfloat16*>(x), static_cast<__nv_bfloat16*>(y), cols,
                                           causal ? 1 : 0);
}

// The side kernel of the interference section: an imitation of NCCL's copy loop. NCCL runs one CTA
// per channel, each CTA copying its share of the buffer chunk by chunk for as long as the
// collective lasts; while it runs, those SMs are not the GEMM's and its traffic is not the
// memory-bound kernels'. Here each CTA (one per SM: launched on an idle GPU, the scheduler places
// them on distinct SMs, which `smid` records) copies its slice of src to dst, `chunks` chunks of
// `chunk` int4 (16 bytes), block-stride within the chunk with four 16-byte loads in flight per
// thread (NCCL's loops unroll likewise), round and round. After every chunk thread 0 publishes
// the CTA's count of chunks done (`done`: mapped host memory, so the host reads the rate while the
// kernel runs) and reads the stop flag (device memory, set by a cudaMemcpyAsync on another
// stream); the kernel also ends by itself after `limit_ns` (%globaltimer), so an abandoned run
// cannot hold the GPU. chunk must be a multiple of 4 * blockDim.x.
__global__ void knee_side_copy_kernel(const int4* __restrict__ src, int4* __restrict__ dst, size_t chunk, size_t chunks,
                                      const volatile int* stop, volatile unsigned long long* done, int* smid,
                                      unsigned long long limit_ns) {
  __shared__ int quit;
  unsigned long long t0 = 0;
  if (threadIdx.x == 0) {
    unsigned sm = 0;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
    smid[blockIdx.x] = int(sm);
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  }
  const size_t base = size_t(blockIdx.x) * chunks * chunk, step = blockDim.x;
  for (unsigned long long c = 0;; ++c) {
    const size_t off = base + (c % chunks) * chunk;
    for (size_t i = threadIdx.x; i < chunk; i += 4 * step) {
      int4 v[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) v[u] = src[off + i + u * step];
#pragma unroll
      for (int u = 0; u < 4; ++u) dst[off + i + u * step] = v[u];
    }
    __syncthreads();  // the whole chunk is copied before it is counted
    if (threadIdx.x == 0) {
      done[blockIdx.x] = c + 1;
      unsigned long long t = 0;
      asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
      quit = *stop != 0 || t - t0 > limit_ns;
    }
    __syncthreads();
    if (quit) break;
  }
}

void knee_launch_side_copy(const void* src, void* dst, size_t chunk_bytes, size_t chunks_per_cta, const int* stop,
                           unsigned long long* done, int* smid, unsigned long long limit_ns, int ctas, int threads,
                           cudaStream_t s) {
  knee_side_copy_kernel<<<ctas, threads, 0, s>>>(static_cast<const int4*>(src), static_cast<int4*>(dst),
                                                 chunk_bytes / sizeof(int4), chunks_per_cta, stop, done, smid,
                                                 limit_ns);
}

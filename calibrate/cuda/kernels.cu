// Device kernels of the CUDA backend, behind plain launch functions so main.cpp stays C++.
#include <cuda_runtime.h>

__global__ void knee_empty_kernel() {}

__global__ void knee_add_kernel(const float* a, const float* b, float* c, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    c[i] = a[i] + b[i];
}

__global__ void knee_gelu_kernel(const float* a, float* c, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    float x = a[i];
    c[i] = 0.5f * x * (1.0f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)));
  }
}

void knee_launch_empty(cudaStream_t s) { knee_empty_kernel<<<1, 1, 0, s>>>(); }

void knee_launch_add(const float* a, const float* b, float* c, size_t n, int sms, cudaStream_t s) {
  knee_add_kernel<<<sms * 8, 256, 0, s>>>(a, b, c, n);
}

void knee_launch_gelu(const float* a, float* c, size_t n, int sms, cudaStream_t s) {
  knee_gelu_kernel<<<sms * 8, 256, 0, s>>>(a, c, n);
}

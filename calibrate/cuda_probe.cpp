#include <dlfcn.h>

#include "calibrate/backends.hpp"

namespace knee {

int cuda_device_count(std::string* why) {
  // The two driver entry points needed, declared here so knee builds without the CUDA headers.
  using cuInit_t = int (*)(unsigned);
  using cuDeviceGetCount_t = int (*)(int*);
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    if (why) *why = "no CUDA driver (libcuda.so.1 not found)";
    return 0;
  }
  auto init = reinterpret_cast<cuInit_t>(dlsym(lib, "cuInit"));
  auto count = reinterpret_cast<cuDeviceGetCount_t>(dlsym(lib, "cuDeviceGetCount"));
  int n = 0;
  if (!init || !count) {
    if (why) *why = "libcuda.so.1 lacks cuInit/cuDeviceGetCount";
  } else if (int rc = init(0); rc != 0) {
    if (why) *why = "cuInit failed with CUDA error " + std::to_string(rc);
  } else if (count(&n) != 0 || n == 0) {
    n = 0;
    if (why) *why = "the CUDA driver reports no device";
  }
  dlclose(lib);
  return n;
}

}  // namespace knee

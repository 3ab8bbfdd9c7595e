#include <dlfcn.h>

#include <map>
#include <string>
#include <vector>

#include "calibrate/backends.hpp"

namespace knee {

int cuda_device_count(std::string* why, std::string* found) {
  // The driver entry points needed, declared here so knee builds without the CUDA headers
  // (CUdevice is an int, CUresult an enum: 0 is success).
  using cuInit_t = int (*)(unsigned);
  using cuDeviceGetCount_t = int (*)(int*);
  using cuDeviceGet_t = int (*)(int*, int);
  using cuDeviceGetName_t = int (*)(char*, int, int);
  dlerror();
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    if (why) {
      std::string detail;
      if (const char* e = dlerror()) {
        detail = e;
        const std::string self = "libcuda.so.1: ";  // dlerror repeats the name first
        if (detail.rfind(self, 0) == 0) detail.erase(0, self.size());
      }
      *why = "no CUDA driver: libcuda.so.1 not loadable" + (detail.empty() ? std::string() : " (" + detail + ")");
    }
    return 0;
  }
  auto init = reinterpret_cast<cuInit_t>(dlsym(lib, "cuInit"));
  auto count = reinterpret_cast<cuDeviceGetCount_t>(dlsym(lib, "cuDeviceGetCount"));
  int n = 0;
  if (!init || !count) {
    if (why) *why = "libcuda.so.1 found, but it lacks cuInit/cuDeviceGetCount";
  } else if (int rc = init(0); rc != 0) {
    if (why) *why = "libcuda.so.1 found, but cuInit failed with CUDA error " + std::to_string(rc);
  } else if (count(&n) != 0 || n == 0) {
    n = 0;
    if (why) *why = "libcuda.so.1 found, but the CUDA driver reports no device";
  } else if (found) {
    // "1 GPU: NVIDIA H200", "8 GPUs: 8 x NVIDIA H100 80GB HBM3", "2 GPUs: NVIDIA A100, NVIDIA A10".
    auto get = reinterpret_cast<cuDeviceGet_t>(dlsym(lib, "cuDeviceGet"));
    auto get_name = reinterpret_cast<cuDeviceGetName_t>(dlsym(lib, "cuDeviceGetName"));
    std::map<std::string, int> names;
    std::vector<std::string> order;
    for (int i = 0; i < n; ++i) {
      char buf[256] = {};
      int dev = 0;
      std::string name = "unnamed device";
      if (get && get_name && get(&dev, i) == 0 && get_name(buf, sizeof buf - 1, dev) == 0 && buf[0]) name = buf;
      if (names[name]++ == 0) order.push_back(name);
    }
    std::string list;
    for (const auto& name : order)
      list +=
          (list.empty() ? "" : ", ") + (names[name] > 1 ? std::to_string(names[name]) + " x " : std::string()) + name;
    *found = std::to_string(n) + (n == 1 ? " GPU: " : " GPUs: ") + list;
  }
  dlclose(lib);
  return n;
}

}  // namespace knee

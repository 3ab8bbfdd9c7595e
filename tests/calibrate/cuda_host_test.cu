// Host-side checks of the CUDA backend's device code (calibrate/cuda/kernels.cu), built by nvcc
// where the backend is and run on the CPU, so they need no GPU: the dropout RNG (Philox4x32-10)
// against Random123's known-answer vectors, its keep fraction, and dropout_add's per-element math.
#include "calibrate/cuda/kernels.cu"

#include <cmath>
#include <cstdio>

namespace {
int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    ++failures;
  }
}
bool same(uint4 a, uint4 b) { return a.x == b.x && a.y == b.y && a.z == b.z && a.w == b.w; }
}  // namespace

int main() {
  // Random123 kat_vectors, philox4x32 with 10 rounds.
  check(same(knee_philox(make_uint4(0, 0, 0, 0), make_uint2(0, 0)),
             make_uint4(0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
        "philox(0, 0)");
  check(same(knee_philox(make_uint4(~0u, ~0u, ~0u, ~0u), make_uint2(~0u, ~0u)),
             make_uint4(0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
        "philox(~0, ~0)");
  check(
      same(knee_philox(make_uint4(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), make_uint2(0xa4093822, 0x299f31d0)),
           make_uint4(0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
      "philox(pi digits)");
  // Keep 0.9 with the backend's seed over 4 Mi elements: within 5 standard errors (0.00073).
  const unsigned thr = knee_keep_threshold(0.9f);
  long kept = 0, n = 0;
  for (unsigned g = 0; g < (1u << 20); ++g) {
    const uint4 r = knee_philox(make_uint4(g, 0, 0, 0), make_uint2(0x6b6e6565u, 0));
    kept += (r.x < thr) + (r.y < thr) + (r.z < thr) + (r.w < thr);
    n += 4;
  }
  check(std::fabs(double(kept) / n - 0.9) < 5 * std::sqrt(0.9 * 0.1 / n), "keep fraction 0.9");
  // Kept: x / keep + y; dropped: y (bf16 values exact in these cases).
  const float x = 0.5f, y = 0.25f;
  const float kept_v = __bfloat162float(knee_dropout_add_one(__float2bfloat16(x), __float2bfloat16(y), true, 1 / 0.5f));
  const float drop_v =
      __bfloat162float(knee_dropout_add_one(__float2bfloat16(x), __float2bfloat16(y), false, 1 / 0.5f));
  check(kept_v == 1.25f, "kept element = x / keep + y");
  check(drop_v == 0.25f, "dropped element = y");
  if (failures == 0) std::printf("ok\n");
  return failures == 0 ? 0 : 1;
}

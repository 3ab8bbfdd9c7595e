// Power of work on one GPU from its profile's power model (docs/workloads.md and docs/serving.md,
// "Energy and cost"): the FLOPs and HBM bytes of a span of kernels as utilization of the power
// calibration's workloads (Profile::power_reference()), then Profile::power_W. Training charges
// each kernel with it, serving each iteration.
#pragma once

#include "profile/profile.hpp"

namespace knee {

// Power of one GPU running work of `flops` and `hbm_bytes` for `dur_s`: the profile's model at that
// utilization of its calibration workloads (prof.power_reference()); idle when dur_s is 0.
double work_power_W(const Profile& prof, double flops, double hbm_bytes, double dur_s);
// The same with prof.power_reference() fetched once by the caller (serving charges millions of
// iterations).
inline double work_power_W(const Profile& prof, const Profile::PowerReference& ref, double flops, double hbm_bytes,
                           double dur_s) {
  if (!(dur_s > 0)) return prof.power_W(0, 0);
  const double cu = ref.flops_per_s > 0 ? flops / dur_s / ref.flops_per_s : 0;
  return prof.power_W(cu, hbm_bytes / dur_s / ref.memory_Bps);
}

}  // namespace knee

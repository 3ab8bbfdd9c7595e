#include "profile/power.hpp"

namespace knee {

double work_power_W(const Profile& prof, double flops, double hbm_bytes, double dur_s) {
  return work_power_W(prof, prof.power_reference(), flops, hbm_bytes, dur_s);
}

}  // namespace knee

#include "workloads/model/cost_prices.hpp"

#include "common/json_reader.hpp"

namespace knee {

void parse_cost_prices(JsonObject& o, CostPrices& c) {
  c.usd_per_gpu_hour = o.non_negative_or("usd_per_gpu_hour", -1);
  c.usd_per_kWh = o.non_negative_or("usd_per_kWh", -1);
  c.pue = o.number_or("pue", 1);
  if (!(c.pue >= 1 && c.pue <= 10)) o.fail("pue", "a power usage effectiveness between 1 and 10");
  c.other_W_per_gpu = o.non_negative_or("other_W_per_gpu", 0);
}

}  // namespace knee

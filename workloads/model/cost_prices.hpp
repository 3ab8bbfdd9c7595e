// The prices and facility of a scenario's "cost" object that every kind of job reads alike
// (training adds train_tokens; docs/scenarios.md, "cost"): read once, here.
#pragma once

namespace knee {

class JsonObject;  // common/json_reader.hpp

struct CostPrices {
  double usd_per_gpu_hour = -1;  // rental or amortized price of one GPU-hour; < 0: not given
  double usd_per_kWh = -1;       // electricity, applied to facility energy; < 0: not given
  double pue = 1;                // facility energy / IT energy (1: IT energy only)
  double other_W_per_gpu = 0;    // host CPUs, memory, NICs and switches, per GPU
  bool priced() const { return usd_per_gpu_hour >= 0 || usd_per_kWh >= 0; }
};

// Reads those four keys of the "cost" object `o` (the caller reads its own and finishes it):
// InputErrors name $.cost.KEY (a negative price, a pue outside [1, 10]).
void parse_cost_prices(JsonObject& o, CostPrices& c);

}  // namespace knee

// The JSON shapes of profile parameters that both the fitter (calibrate/fitter.cpp) and the
// derivation (calibrate/derive_profile.cpp) write: numbers quoted in notes, datasheet figures as
// parameters, and the datasheet's NVLink and network links.
#pragma once
#include <string>

#include "common/json_reader.hpp"
#include "profile/datasheet.hpp"

namespace knee {

// "%.6g" of v: the numbers quoted in notes (deterministic, short).
std::string num(double v);
// A datasheet figure as a parameter: provenance "datasheet", the note its citation.
OrderedJson sheet_param(const Datasheet& d, const std::string& field, double v);
// links.nvlink and links.network from the datasheet, where `links` has none measured.
void add_datasheet_links(OrderedJson& links, const Datasheet& d);

}  // namespace knee

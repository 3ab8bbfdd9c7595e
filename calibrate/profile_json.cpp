#include "calibrate/profile_json.hpp"

#include <cstdio>

namespace knee {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

OrderedJson sheet_param(const Datasheet& d, const std::string& field, double v) {
  return {{"value", v}, {"provenance", "datasheet"}, {"note", field + " of datasheet " + d.key + ": " + d.cite(field)}};
}

namespace {
OrderedJson datasheet_link(double alpha_s, const std::string& alpha_note, double Bps, const std::string& note,
                           const std::string& bw_note) {
  return {{"provenance", "datasheet"},
          {"note", note},
          {"alpha_s", {{"value", alpha_s}, {"provenance", "assumed"}, {"note", alpha_note}}},
          {"beta_s_per_byte", {{"value", 1 / Bps}, {"provenance", "datasheet"}, {"note", "1 / bandwidth_Bps"}}},
          {"bandwidth_Bps", {{"value", Bps}, {"provenance", "datasheet"}, {"note", bw_note}}}};
}
}  // namespace

void add_datasheet_links(OrderedJson& links, const Datasheet& d) {
  if (!links.contains("nvlink"))
    links["nvlink"] = datasheet_link(
        1e-6, "not on the datasheet; ~1 us is the order of NCCL's NVLink base latency, measure it with nccl-tests",
        d.nvlink_total_Bps / 2,
        "per direction: half of the datasheet's " + std::to_string(int(d.nvlink_total_Bps / 1e9)) +
            " GB/s bidirectional total (one GPU cannot measure it)",
        "half of nvlink_total_Bps " + num(d.nvlink_total_Bps) + " B/s of datasheet " + d.key + ": " +
            d.cite("nvlink_total_Bps"));
  if (!links.contains("network"))
    links["network"] = datasheet_link(
        5e-6, "not on the datasheet; ~5 us is the order of an InfiniBand NCCL hop, measure it with nccl-tests",
        d.nic_bps / 8, "one " + std::to_string(int(d.nic_bps / 1e9)) + " Gb/s NIC per GPU",
        "nic_bps " + num(d.nic_bps) + " b/s / 8 of datasheet " + d.key + ": " + d.cite("nic_bps"));
}

}  // namespace knee

// GPU datasheets: the published figures knee derives profiles of GPUs it has not measured from
// (calibrate/fitter.hpp, derive_profile) and reads SM counts from (Profile::comm_interference).
// A datasheet is a JSON file (format "knee-datasheet/1", docs/calibration.md, "Datasheet files");
// the built-in ones are profile/datasheets/*.json, embedded in the binary, keyed by file name.
//
//   Datasheet d = load_datasheet("my-gpu.json");          // strict: InputErrors name file and field
//   const Datasheet* h100 = find_datasheet("NVIDIA H100 SXM");   // built-in, by key or GPU name
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace knee {

struct Datasheet {
  std::string key;      // short name: $.key, else the file name without .json ("h100")
  std::string gpu;      // $.gpu, the GPU's name ("NVIDIA H100 SXM"), a derived profile's $.gpu
  std::string origin;   // where it was read: "builtin:h100" or the file's path
  std::string extends;  // $.extends: the built-in key whose figures it starts from ("" if none)
  int sm_count = 0, pcie_gen = 0;
  double boost_clock_MHz = 0, base_clock_MHz = 0;  // base 0: not given
  // Dense (no sparsity) peaks by dtype: bf16, fp16, fp8, tf32 tensor core, fp32 non-tensor;
  // 0: the GPU has no such mode; absent: not given.
  std::map<std::string, double> dense_TFLOPs;
  double hbm_capacity_bytes = 0, hbm_bandwidth_Bps = 0;
  double l2_bytes = 0;          // 0: not given
  double nvlink_total_Bps = 0;  // bidirectional total per GPU
  double nic_bps = 0;           // network bits per second per GPU
  double tdp_W = 0;
  // Citations: field ("hbm_bandwidth_Bps", "dense_TFLOPs.bf16") -> its own "source"; fields
  // without one cite $.source (`source`).
  std::map<std::string, std::string> sources;
  std::string source;

  // Dense peak of `dtype`, 0 when the GPU has no such mode or the datasheet does not give it.
  double peak(const std::string& dtype) const;
  bool gives_peak(const std::string& dtype) const { return dense_TFLOPs.count(dtype) > 0; }
  // The citation of `field`: its own source, else the datasheet's, else "no source given".
  std::string cite(const std::string& field) const;
};

// The dtypes a datasheet may give peaks for, in the order written.
const std::vector<std::string>& datasheet_dtypes();

// Reads a datasheet document; `origin` names it in errors (a path, "builtin:KEY"), `default_key`
// is the key when the document has no $.key. Unknown keys, missing required fields, negative or
// non-numeric values are InputErrors "ORIGIN: $.FIELD: expected ..., got ...".
Datasheet datasheet_from_json(const nlohmann::json& j, const std::string& origin, const std::string& default_key);
Datasheet load_datasheet(const std::string& path);
// A file when `file_or_key` ends in .json or contains a '/', else a built-in key (an InputError
// listing the keys otherwise); `what` prefixes the error ("knee fit: --datasheet").
Datasheet datasheet_arg(const std::string& file_or_key, const std::string& what);

// Built-in datasheets: by key (case-insensitive), else the one whose key (with '-' read as ' ')
// the lower-cased name contains, the longest key first ("NVIDIA GB200" is gb200, not b200;
// "NVIDIA H100 PCIe" is h100-pcie, not h100). nullptr when none matches.
const Datasheet* find_datasheet(const std::string& key_or_gpu_name);
std::vector<std::string> datasheet_keys();

}  // namespace knee

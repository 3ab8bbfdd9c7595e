#include "profile/datasheet.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/json_reader.hpp"
#include "profile/embedded_profiles.hpp"

namespace knee {

namespace {

const char kFormat[] = "knee-datasheet/1";

enum class Kind { positive, non_negative, count };

std::string expected_of(Kind k) {
  switch (k) {
    case Kind::positive:
      return "a number > 0, or {\"value\": a number > 0, \"source\": TEXT}";
    case Kind::non_negative:
      return "a number >= 0 (0: the GPU has no such mode), or {\"value\": ..., \"source\": TEXT}";
    case Kind::count:
      return "an integer >= 1, or {\"value\": an integer >= 1, \"source\": TEXT}";
  }
  return "";
}

double checked(const Json& v, Kind k, const std::string& origin, const std::string& path) {
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    throw_input_error(origin, path, expected_of(k), describe_json(v));
  const double x = v.get<double>();
  const bool ok = k == Kind::non_negative ? x >= 0 : k == Kind::positive ? x > 0 : x >= 1 && x == std::floor(x);
  if (!ok) throw_input_error(origin, path, expected_of(k), describe_json(v));
  return x;
}

// A field's value: a number, or {"value": NUMBER, "source": TEXT} (the citation of that value).
double read_value(JsonObject& o, const std::string& key, const std::string& field, Kind k, Datasheet& d) {
  const Json& r = o.raw(key);
  const std::string path = o.path_of(key);
  if (!r.is_object()) return checked(r, k, o.source(), path);
  JsonObject e(r, o.source(), path);
  if (!e.has("value")) throw_input_error(o.source(), path + ".value", expected_of(k), "no such field");
  const double x = checked(e.raw("value"), k, o.source(), path + ".value");
  d.sources[field] = e.string("source");
  e.finish();
  return x;
}

struct Field {
  const char* key;
  Kind kind;
  bool required;
  const char* what;  // for "missing" errors
  double Datasheet::*number;
  int Datasheet::*integer;
};

const std::vector<Field>& fields() {
  static const std::vector<Field> f = {
      {"sm_count", Kind::count, true, "the number of streaming multiprocessors", nullptr, &Datasheet::sm_count},
      {"boost_clock_MHz", Kind::positive, true, "the boost clock in MHz", &Datasheet::boost_clock_MHz, nullptr},
      {"base_clock_MHz", Kind::positive, false, "the base clock in MHz", &Datasheet::base_clock_MHz, nullptr},
      {"hbm_capacity_bytes", Kind::positive, true, "the HBM capacity in bytes (as CUDA reports it)",
       &Datasheet::hbm_capacity_bytes, nullptr},
      {"hbm_bandwidth_Bps", Kind::positive, true, "the HBM bandwidth in bytes/s", &Datasheet::hbm_bandwidth_Bps,
       nullptr},
      {"l2_bytes", Kind::positive, false, "the L2 cache in bytes", &Datasheet::l2_bytes, nullptr},
      {"nvlink_total_Bps", Kind::positive, true, "the NVLink bandwidth per GPU in bytes/s, bidirectional total",
       &Datasheet::nvlink_total_Bps, nullptr},
      {"nic_bps", Kind::positive, true, "the network bandwidth per GPU in bits/s", &Datasheet::nic_bps, nullptr},
      {"tdp_W", Kind::positive, true, "the TDP in watts", &Datasheet::tdp_W, nullptr},
      {"pcie_gen", Kind::count, true, "the host link's PCIe generation", nullptr, &Datasheet::pcie_gen},
  };
  return f;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

std::string lower(const std::string& s) {
  std::string o;
  for (char c : s) o += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

const std::vector<Datasheet>& builtins() {
  static const std::vector<Datasheet> v = [] {
    std::vector<Datasheet> out;
    for (const auto& [name, text] : embedded_datasheets())
      out.push_back(datasheet_from_json(Json::parse(text), std::string("builtin:") + name, name));
    std::sort(out.begin(), out.end(), [](const Datasheet& a, const Datasheet& b) { return a.key < b.key; });
    return out;
  }();
  return v;
}

const Datasheet* builtin_by_key(const std::string& key) {
  const std::string k = lower(key);
  for (const auto& d : builtins())
    if (d.key == k) return &d;
  return nullptr;
}

}  // namespace

const std::vector<std::string>& datasheet_dtypes() {
  static const std::vector<std::string> v = {"bf16", "fp16", "fp8", "tf32", "fp32"};
  return v;
}

double Datasheet::peak(const std::string& dtype) const {
  auto it = dense_TFLOPs.find(dtype);
  return it == dense_TFLOPs.end() ? 0 : it->second;
}

std::string Datasheet::cite(const std::string& field) const {
  if (auto it = sources.find(field); it != sources.end()) return it->second;
  return source.empty() ? "no source given" : source;
}

Datasheet datasheet_from_json(const Json& j, const std::string& origin, const std::string& default_key) {
  JsonObject root = JsonObject::root(j, origin);
  Datasheet d;
  if (root.has("format")) root.one_of("format", {kFormat});
  if (root.has("extends")) {
    if (origin.rfind("builtin:", 0) == 0) root.fail("extends", "no extends in a built-in datasheet");
    const std::string base = root.string("extends");
    const Datasheet* b = builtin_by_key(base);
    if (!b) root.fail("extends", "a built-in datasheet (" + join(datasheet_keys()) + ")");
    d = *b;
    // Inherited figures keep the built-in's citations, whatever this file's $.source says.
    for (const Field& f : fields())
      if (!d.sources.count(f.key)) d.sources[f.key] = b->cite(f.key) + " (" + b->origin + ")";
    for (const auto& [dt, v] : b->dense_TFLOPs)
      if (!d.sources.count("dense_TFLOPs." + dt))
        d.sources["dense_TFLOPs." + dt] = b->cite("dense_TFLOPs." + dt) + " (" + b->origin + ")";
    d.extends = b->key;
  }
  const bool whole = d.extends.empty();  // every required field must be given
  d.origin = origin;
  d.key = lower(root.string_or("key", default_key));
  if (d.key.empty()) root.fail("key", "a non-empty short name");
  if (whole || root.has("gpu")) d.gpu = root.string("gpu");
  if (d.gpu.empty()) root.fail("gpu", "the GPU's name, e.g. \"NVIDIA H100 SXM\"");
  d.source = root.string_or("source", "");
  root.string_or("note", "");
  for (const Field& f : fields()) {
    if (!root.has(f.key)) {
      if (whole && f.required)
        throw_input_error(origin, root.path_of(f.key), std::string(f.what) + " (a required field)", "no such field");
      root.ignore(f.key);  // known, so that an unknown key's error lists it
      continue;
    }
    const double v = read_value(root, f.key, f.key, f.kind, d);
    if (f.number) d.*(f.number) = v;
    if (f.integer) {
      if (v > 1e6) root.fail(f.key, "an integer <= 1000000");
      d.*(f.integer) = static_cast<int>(v);
    }
  }
  if (root.has("dense_TFLOPs")) {
    const Json& raw = root.raw("dense_TFLOPs");
    JsonObject t(raw, origin, root.path_of("dense_TFLOPs"));
    for (auto it = raw.begin(); it != raw.end(); ++it) {
      const auto& dts = datasheet_dtypes();
      if (std::find(dts.begin(), dts.end(), it.key()) == dts.end())
        throw_input_error(origin, t.path_of(it.key()), "a dtype (" + join(dts) + "; fp32 is the non-tensor rate)",
                          "unknown key \"" + it.key() + "\"");
      d.dense_TFLOPs[it.key()] = read_value(t, it.key(), "dense_TFLOPs." + it.key(), Kind::non_negative, d);
    }
    t.finish();
  } else if (whole) {
    throw_input_error(origin, "$.dense_TFLOPs", "dense peaks by dtype, e.g. {\"bf16\": 989, \"fp32\": 67}",
                      "no such field");
  }
  for (const char* k : {"format", "extends", "key", "gpu", "source", "note", "dense_TFLOPs"}) root.ignore(k);
  root.finish();
  return d;
}

Datasheet load_datasheet(const std::string& path) {
  std::string stem = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0) stem.resize(stem.size() - 5);
  return datasheet_from_json(parse_json_file(path), path, stem);
}

Datasheet datasheet_arg(const std::string& file_or_key, const std::string& what) {
  const bool file = file_or_key.find('/') != std::string::npos ||
                    (file_or_key.size() > 5 && file_or_key.compare(file_or_key.size() - 5, 5, ".json") == 0);
  if (file) return load_datasheet(file_or_key);
  if (const Datasheet* d = builtin_by_key(file_or_key)) return *d;
  throw InputError(what + ": expected a datasheet file (*.json) or a built-in datasheet (" + join(datasheet_keys()) +
                   "), got '" + file_or_key + "'");
}

const Datasheet* find_datasheet(const std::string& key_or_name) {
  if (const Datasheet* d = builtin_by_key(key_or_name)) return d;
  const std::string low = lower(key_or_name);
  const Datasheet* best = nullptr;
  for (const auto& d : builtins()) {
    std::string k = d.key;
    std::replace(k.begin(), k.end(), '-', ' ');
    if (low.find(k) != std::string::npos && (!best || d.key.size() > best->key.size())) best = &d;
  }
  return best;
}

std::vector<std::string> datasheet_keys() {
  std::vector<std::string> k;
  for (const auto& d : builtins()) k.push_back(d.key);
  return k;
}

}  // namespace knee

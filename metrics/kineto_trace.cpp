// Reading a Kineto trace: the events of interest, strictly typed where read, the rest ignored.
#include "metrics/kineto_trace.hpp"

#include <algorithm>
#include <cmath>

#include <zlib.h>

#include "common/error.hpp"
#include "common/json_reader.hpp"

namespace knee {
namespace {

class EventReader {
 public:
  EventReader(const Json& ev, const std::string& source, std::size_t index)
      : ev_(ev), source_(source), path_("traceEvents[" + std::to_string(index) + "]") {}

  [[noreturn]] void fail(const std::string& field, const std::string& expected, const Json& got) const {
    throw_input_error(source_, path_ + "." + field, expected, describe_json(got));
  }
  [[noreturn]] void missing(const std::string& field, const std::string& expected) const {
    throw_input_error(source_, path_ + "." + field, expected, "no " + field);
  }
  const Json* args() const {
    auto it = ev_.find("args");
    if (it == ev_.end()) return nullptr;
    if (!it->is_object()) fail("args", "an object", *it);
    return &*it;
  }
  std::string name() const {
    auto it = ev_.find("name");
    if (it == ev_.end()) return "";
    if (!it->is_string()) fail("name", "a string", *it);
    return it->get<std::string>();
  }
  // ts or dur in microseconds -> picoseconds; dur must be >= 0.
  std::int64_t time_ps(const char* key) const {
    auto it = ev_.find(key);
    if (it == ev_.end()) missing(key, "a number of microseconds");
    if (!it->is_number() || !std::isfinite(it->get<double>())) fail(key, "a finite number of microseconds", *it);
    const double us = it->get<double>();
    if (std::string(key) == "dur" && us < 0) fail(key, "a duration >= 0 microseconds", *it);
    if (std::fabs(us) > 9.0e12) fail(key, "microseconds within +-9e12 (about 104 days)", *it);
    return std::llround(us * 1e6);
  }
  std::int64_t arg_int(const char* key) const {
    const Json* a = args();
    if (!a) return -1;
    auto it = a->find(key);
    if (it == a->end() || it->is_null()) return -1;
    if (!it->is_number_integer()) fail(std::string("args.") + key, "an integer", *it);
    return it->get<std::int64_t>();
  }
  std::string arg_text(const char* key) const {
    const Json* a = args();
    if (!a) return "";
    auto it = a->find(key);
    if (it == a->end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
  }
  const std::string& path() const { return path_; }

 private:
  const Json& ev_;
  const std::string& source_;
  std::string path_;
};

bool is_int_list(const Json& j) {
  if (!j.is_array()) return false;
  for (const auto& x : j)
    if (!x.is_number_integer() || x.get<std::int64_t>() < 0) return false;
  return true;
}

void read_shapes(const EventReader& r, const Json& args, KinetoCpuOp& op) {
  if (auto it = args.find("Input Dims"); it != args.end()) {
    const char* expected = "a list of int lists (one shape of sizes >= 0 per argument; a TensorList a list of them)";
    if (!it->is_array()) r.fail("args.Input Dims", expected, *it);
    op.has_dims = true;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const Json& d = (*it)[i];
      if (is_int_list(d)) {
        op.dims.push_back(d.get<std::vector<std::int64_t>>());
        op.dims_is_list.push_back(false);
        continue;
      }
      bool list_of_shapes = d.is_array() && !d.empty();
      for (const auto& e : d)
        if (!is_int_list(e)) list_of_shapes = false;
      if (!list_of_shapes) r.fail("args.Input Dims[" + std::to_string(i) + "]", expected, d);
      op.dims.emplace_back();
      op.dims_is_list.push_back(true);
    }
  }
  auto strings = [&](const char* key, std::vector<std::string>& out) {
    auto it = args.find(key);
    if (it == args.end()) return;
    if (!it->is_array()) r.fail(std::string("args.") + key, "a list of strings", *it);
    for (const auto& s : *it) out.push_back(s.is_string() ? s.get<std::string>() : s.dump());
  };
  strings("Input type", op.types);
  strings("Concrete Inputs", op.concrete);
}

// distributedInfo {"rank": R, "world_size": W, "backend": "nccl"}: optional, typed where present.
void read_distributed_info(const Json& doc, const std::string& source, KinetoTrace& t) {
  auto di = doc.find("distributedInfo");
  if (di == doc.end() || di->is_null()) return;
  if (!di->is_object())
    throw_input_error(source, "distributedInfo", "an object {\"rank\": R, \"world_size\": W}", describe_json(*di));
  auto integer = [&](const char* key, std::int64_t min) -> std::int64_t {
    auto it = di->find(key);
    if (it == di->end() || it->is_null()) return -1;
    if (!it->is_number_integer() || it->get<std::int64_t>() < min)
      throw_input_error(source, std::string("distributedInfo.") + key, "an integer >= " + std::to_string(min),
                        describe_json(*it));
    return it->get<std::int64_t>();
  };
  t.rank = integer("rank", 0);
  t.world_size = integer("world_size", 1);
  if (t.rank >= 0 && t.world_size > 0 && t.rank >= t.world_size)
    throw_input_error(source, "distributedInfo.rank", "a rank below world_size " + std::to_string(t.world_size),
                      std::to_string(t.rank));
  if (auto b = di->find("backend"); b != di->end() && !b->is_null()) {
    if (!b->is_string()) throw_input_error(source, "distributedInfo.backend", "a string", describe_json(*b));
    t.backend = b->get<std::string>();
  }
}

// A gzip stream (one member or several concatenated, as `cat a.gz b.gz` makes) inflated whole.
std::string gunzip(const std::string& in, const std::string& path) {
  z_stream s{};
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) throw InputError(path + ": zlib could not start inflating");
  std::string out;
  char buf[1 << 16];
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  for (;;) {
    s.next_out = reinterpret_cast<Bytef*>(buf);
    s.avail_out = sizeof buf;
    rc = inflate(&s, Z_NO_FLUSH);
    out.append(buf, sizeof buf - s.avail_out);
    if (rc == Z_STREAM_END) {
      if (s.avail_in == 0) break;
      inflateReset(&s);  // another member follows
      continue;
    }
    if (rc != Z_OK) break;  // Z_BUF_ERROR: the input ended mid-stream (truncated); else corrupt
  }
  const std::string msg =
      s.msg ? s.msg : (rc == Z_BUF_ERROR ? "unexpected end of file" : "error " + std::to_string(rc));
  const std::size_t at = in.size() - s.avail_in;
  inflateEnd(&s);
  if (rc == Z_STREAM_END) return out;
  throw InputError(path + ": expected a gzip-compressed JSON trace, got " +
                   (rc == Z_BUF_ERROR ? "a stream cut off after " + std::to_string(in.size()) + " bytes"
                                      : "corrupt data near byte " + std::to_string(at)) +
                   " (zlib: " + msg + ")");
}

}  // namespace

std::string kineto_dtype(const std::string& t) {
  if (t == "c10::BFloat16") return "bf16";
  if (t == "c10::Half") return "fp16";
  if (t == "float") return "fp32";
  if (t == "double") return "fp64";
  if (t == "c10::Float8_e4m3fn" || t == "c10::Float8_e5m2") return "fp8";
  return "";
}

double kineto_element_bytes(const std::string& t) {
  const std::string d = kineto_dtype(t);
  if (d == "bf16" || d == "fp16") return 2;
  if (d == "fp32") return 4;
  if (d == "fp64") return 8;
  if (d == "fp8") return 1;
  if (t == "long int" || t == "long") return 8;
  if (t == "int") return 4;
  if (t == "short int") return 2;
  if (t == "bool" || t == "unsigned char" || t == "signed char") return 1;
  return 0;
}

KinetoTrace parse_kineto_trace(const Json& doc, const std::string& source) {
  KinetoTrace t;
  t.source = source;
  if (!doc.is_object())
    throw_input_error(source, "$", "a Kineto trace object {\"traceEvents\": [...]}", describe_json(doc));
  auto evs = doc.find("traceEvents");
  if (evs == doc.end())
    throw_input_error(source, "traceEvents", "a list of trace events (a PyTorch profiler trace)", "no traceEvents");
  if (!evs->is_array()) throw_input_error(source, "traceEvents", "a list of trace events", describe_json(*evs));
  if (auto dp = doc.find("deviceProperties"); dp != doc.end() && dp->is_array() && !dp->empty() &&
                                              dp->at(0).is_object() && dp->at(0).contains("name") &&
                                              dp->at(0)["name"].is_string())
    t.device_name = dp->at(0)["name"].get<std::string>();
  read_distributed_info(doc, source, t);
  t.events = evs->size();
  for (std::size_t i = 0; i < evs->size(); ++i) {
    const Json& ev = (*evs)[i];
    if (!ev.is_object())
      throw_input_error(source, "traceEvents[" + std::to_string(i) + "]", "an event object", describe_json(ev));
    auto ph = ev.find("ph");
    auto cat = ev.find("cat");
    if (ph == ev.end() || !ph->is_string() || ph->get<std::string>() != "X") continue;
    if (cat == ev.end() || !cat->is_string()) continue;
    const std::string c = cat->get<std::string>();
    EventReader r(ev, source, i);
    if (c == "kernel" || c == "gpu_memcpy" || c == "gpu_memset") {
      KinetoKernel k;
      k.event = i;
      k.cat = c;
      k.name = r.name();
      k.ts_ps = r.time_ps("ts");
      k.dur_ps = r.time_ps("dur");
      k.device = r.arg_int("device");
      k.stream = r.arg_int("stream");
      k.external_id = r.arg_int("External id");
      k.correlation = r.arg_int("correlation");
      k.grid = r.arg_text("grid");
      k.block = r.arg_text("block");
      t.kernels.push_back(std::move(k));
    } else if (c == "cuda_runtime") {
      ++t.runtime_calls;
    } else if (c == "user_annotation" || c == "cpu_op") {
      const std::string name = r.name();
      if (name.rfind("ProfilerStep#", 0) == 0) {
        KinetoStep s;
        s.event = i;
        s.name = name;
        s.ts_ps = r.time_ps("ts");
        s.dur_ps = r.time_ps("dur");
        try {
          s.step = std::stoll(name.substr(13));
        } catch (const std::exception&) { s.step = -1; }
        t.steps.push_back(std::move(s));
      } else if (c == "cpu_op") {
        KinetoCpuOp op;
        op.event = i;
        op.name = name;
        op.ts_ps = r.time_ps("ts");
        op.dur_ps = r.time_ps("dur");
        op.external_id = r.arg_int("External id");
        if (const Json* a = r.args()) read_shapes(r, *a, op);
        t.cpu_ops.push_back(std::move(op));
      }
    }
  }
  std::stable_sort(t.steps.begin(), t.steps.end(),
                   [](const KinetoStep& a, const KinetoStep& b) { return a.ts_ps < b.ts_ps; });
  return t;
}

KinetoTrace load_kineto_trace(const std::string& path) {
  std::string text = read_text_file(path, "Kineto trace file");
  // torch.profiler writes trace.json.gz when asked: told by the magic bytes, whatever the name.
  if (text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0x1f && static_cast<unsigned char>(text[1]) == 0x8b)
    text = gunzip(text, path);
  return parse_kineto_trace(parse_json_text(text, path), path);
}

}  // namespace knee

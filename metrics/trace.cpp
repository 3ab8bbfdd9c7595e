#include "metrics/trace.hpp"

#include <cstdio>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/parse.hpp"

namespace knee {

void ChromeTrace::name_process(int pid, const std::string& name) { process_names_[pid] = name; }
void ChromeTrace::name_thread(int pid, int tid, const std::string& name) { thread_names_[{pid, tid}] = name; }

void ChromeTrace::complete(int pid, int tid, const std::string& name, const std::string& category, TimePs start_ps,
                           TimePs duration_ps, const std::string& args_json) {
  if (events_.size() >= max_events_) {
    ++dropped_;
    return;
  }
  events_.push_back(Event{pid, tid, name, category, args_json, start_ps, duration_ps});
}

std::string ChromeTrace::json() const {
  // Timestamps are microseconds; picosecond resolution survives as fractional digits.
  std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  bool first = true;
  auto add = [&](const std::string& s) {
    if (!first) out += ",\n";
    out += s;
    first = false;
  };
  for (const auto& [pid, name] : process_names_)
    add("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(pid) +
        ",\"args\":{\"name\":" + nlohmann::json(name).dump() + "}}");
  for (const auto& [key, name] : thread_names_)
    add("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + std::to_string(key.first) +
        ",\"tid\":" + std::to_string(key.second) + ",\"args\":{\"name\":" + nlohmann::json(name).dump() + "}}");
  char buf[64];
  for (const auto& e : events_) {
    std::string s = "{\"ph\":\"X\",\"pid\":" + std::to_string(e.pid) + ",\"tid\":" + std::to_string(e.tid) +
                    ",\"name\":" + nlohmann::json(e.name).dump() + ",\"cat\":" + nlohmann::json(e.cat).dump();
    std::snprintf(buf, sizeof buf, ",\"ts\":%.6f,\"dur\":%.6f", static_cast<double>(e.start) * 1e-6,
                  static_cast<double>(e.dur) * 1e-6);
    s += buf;
    if (!e.args.empty()) s += ",\"args\":" + e.args;
    s += "}";
    add(s);
  }
  out += "\n],\"otherData\":{\"dropped_events\":" + std::to_string(dropped_) + "}}\n";
  return out;
}

void ChromeTrace::write_file(const std::string& path, const nlohmann::ordered_json& knee_metadata) const {
  std::string j = json();
  if (!knee_metadata.is_null()) {  // beside the dropped-event count
    const std::string key = "\"otherData\":{";
    const auto at = j.rfind(key);
    if (at != std::string::npos) j.insert(at + key.size(), "\"knee\":" + knee_metadata.dump() + ",");
  }
  std::ofstream f(path, std::ios::binary);
  if (!f) throw InputError(path + ": expected a writable trace file path, got one that cannot be opened");
  f << j;
  if (!f) throw InputError(path + ": expected a writable trace file path, got a write error");
}

std::vector<std::uint32_t> parse_rank_set(const std::string& text, const std::string& what, std::uint32_t limit) {
  std::set<std::uint32_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto dash = part.find('-');
    std::int64_t lo, hi;
    if (dash == std::string::npos) {
      lo = hi = parse_integer(part, what, 0, static_cast<std::int64_t>(limit) - 1);
    } else {
      lo = parse_integer(part.substr(0, dash), what, 0, static_cast<std::int64_t>(limit) - 1);
      hi = parse_integer(part.substr(dash + 1), what, lo, static_cast<std::int64_t>(limit) - 1);
    }
    for (auto r = lo; r <= hi; ++r) out.insert(static_cast<std::uint32_t>(r));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return {out.begin(), out.end()};
}

}  // namespace knee

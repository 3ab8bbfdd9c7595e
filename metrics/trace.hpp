// Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one process per GPU,
// one thread per stream (compute, each communicator, pipeline bubbles). Bounded: past
// `max_events` further events are counted as dropped, never silently lost.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/units.hpp"
#include "sim/engine/timeline.hpp"

namespace knee {

class ChromeTrace final : public Timeline {
 public:
  explicit ChromeTrace(std::size_t max_events = 2'000'000) : max_events_(max_events) {}

  void name_process(int pid, const std::string& name) override;
  void name_thread(int pid, int tid, const std::string& name) override;
  // A complete ("X") event: [start, start + duration) on process pid, thread tid.
  void complete(int pid, int tid, const std::string& name, const std::string& category, TimePs start_ps,
                TimePs duration_ps, const std::string& args_json = "") override;

  std::size_t events() const override { return events_.size(); }
  std::size_t dropped() const override { return dropped_; }
  std::string json() const;
  // Throws InputError naming the path when it cannot be written. `knee_metadata` (what the
  // simulation says of the trace: ranks, folding, event counts), when not null, goes under
  // otherData.knee.
  void write_file(const std::string& path, const nlohmann::ordered_json& knee_metadata = nullptr) const;

 private:
  struct Event {
    int pid, tid;
    std::string name, cat, args;
    TimePs start, dur;
  };
  std::size_t max_events_;
  std::size_t dropped_ = 0;
  std::vector<Event> events_;
  std::map<int, std::string> process_names_;
  std::map<std::pair<int, int>, std::string> thread_names_;
};

// "0-7,16,32-35" -> {0..7, 16, 32..35}; every value < limit. InputError naming `what` otherwise.
std::vector<std::uint32_t> parse_rank_set(const std::string& text, const std::string& what, std::uint32_t limit);

}  // namespace knee

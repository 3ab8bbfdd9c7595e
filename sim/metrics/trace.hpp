// Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one process per GPU,
// one thread per stream (compute, each communicator, pipeline bubbles). Bounded: past
// `max_events` further events are counted as dropped, never silently lost.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/common/units.hpp"

namespace knee {

class ChromeTrace {
 public:
  explicit ChromeTrace(std::size_t max_events = 2'000'000) : max_events_(max_events) {}

  void name_process(int pid, const std::string& name);
  void name_thread(int pid, int tid, const std::string& name);
  // A complete ("X") event: [start, start + duration) on process pid, thread tid.
  void complete(int pid, int tid, const std::string& name, const std::string& category, TimePs start_ps,
                TimePs duration_ps, const std::string& args_json = "");

  std::size_t events() const { return events_.size(); }
  std::size_t dropped() const { return dropped_; }
  std::string json() const;
  // Throws InputError naming the path when it cannot be written.
  void write_file(const std::string& path) const;

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

// What a simulation records of simulated time for a viewer: named processes (a GPU), threads (a
// stream of it) and complete intervals on them. Simulations write to it without knowing a file
// format; a front end picks the sink and renders it (metrics/trace.hpp writes Chrome trace-event
// JSON). It lives beside the engine so that workloads need nothing above them to record a step.
#pragma once
#include <cstddef>
#include <string>

#include "common/units.hpp"

namespace knee {

class Timeline {
 public:
  virtual ~Timeline() = default;
  virtual void name_process(int pid, const std::string& name) = 0;
  virtual void name_thread(int pid, int tid, const std::string& name) = 0;
  // A complete interval [start, start + duration) on process pid, thread tid; args_json is a JSON
  // object's text (or empty).
  virtual void complete(int pid, int tid, const std::string& name, const std::string& category, TimePs start_ps,
                        TimePs duration_ps, const std::string& args_json = "") = 0;
  virtual std::size_t events() const = 0;   // intervals kept
  virtual std::size_t dropped() const = 0;  // intervals refused past the sink's bound, counted
};

}  // namespace knee

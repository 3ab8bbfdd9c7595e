// The discrete-event engine. An Engine is an ordinary object: a process (or a notebook) may hold
// many. Events are plain data (sink, tag, payload) delivered in (time, insertion sequence) order,
// so runs are deterministic and no closure is allocated in the hot loop.
#pragma once
#include <cstdint>
#include <vector>

#include "common/units.hpp"

namespace knee {

class Engine;
using EventId = std::uint64_t;  // 0 is never a valid id
using SinkId = std::uint32_t;

// A component that receives events (the network, a collective, a workload executor).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void handle(Engine& engine, std::uint32_t tag, std::uint64_t payload) = 0;
};

class Engine {
 public:
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  SinkId add_sink(EventSink* sink);

  // Schedules an event at absolute time t >= now() (an earlier t is a logic error: throws).
  EventId schedule_at(TimePs t, SinkId sink, std::uint32_t tag, std::uint64_t payload = 0);
  EventId schedule_in(TimePs dt, SinkId sink, std::uint32_t tag, std::uint64_t payload = 0) {
    return schedule_at(now_ + dt, sink, tag, payload);
  }
  // Cancels a pending event; false when it already ran, was cancelled, or never existed.
  bool cancel(EventId id);

  TimePs now() const { return now_; }
  std::size_t pending() const { return live_; }
  std::uint64_t events_processed() const { return processed_; }
  // Time of the earliest pending event, kTimeNever when idle.
  TimePs next_time();

  // Runs one event; false when idle.
  bool step();
  // Runs until no event is pending.
  void run();
  // Runs every event with time <= t, then sets now() to t (if t is later). False if events remain.
  bool run_until(TimePs t);

 private:
  struct Entry {  // heap entry: ordering key plus the slot that holds the event's data
    TimePs time;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  struct Slot {
    std::uint64_t payload;
    SinkId sink;
    std::uint32_t tag;
    std::uint32_t generation;
    bool live;
  };
  static bool before(const Entry& a, const Entry& b) { return a.time < b.time || (a.time == b.time && a.seq < b.seq); }
  void push(const Entry& e);
  Entry pop();
  void drop_dead_top();
  void release(std::uint32_t slot);

  std::vector<Entry> heap_;  // 4-ary min-heap: fewer levels than binary, children share cache lines
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<EventSink*> sinks_;
  TimePs now_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t processed_ = 0;
  std::size_t live_ = 0;
};

}  // namespace knee

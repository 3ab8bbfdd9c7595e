#include "sim/engine/engine.hpp"

#include <stdexcept>
#include <string>

namespace knee {

// An EventId packs the slot (low 32 bits) and the slot's generation (high 32 bits), so a stale id
// for a reused slot never cancels the new event.
static EventId make_id(std::uint32_t slot, std::uint32_t gen) { return (static_cast<EventId>(gen) << 32) | slot; }

SinkId Engine::add_sink(EventSink* sink) {
  sinks_.push_back(sink);
  return static_cast<SinkId>(sinks_.size() - 1);
}

EventId Engine::schedule_at(TimePs t, SinkId sink, std::uint32_t tag, std::uint64_t payload) {
  if (t < now_)
    throw std::logic_error("Engine::schedule_at: time " + std::to_string(t) + " ps is before now " +
                           std::to_string(now_) + " ps");
  if (sink >= sinks_.size()) throw std::logic_error("Engine::schedule_at: unknown sink");
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(Slot{0, 0, 0, 1, false});
  }
  Slot& s = slots_[slot];
  s.payload = payload;
  s.sink = sink;
  s.tag = tag;
  s.live = true;
  push(Entry{t, ++seq_, slot});
  ++live_;
  return make_id(slot, s.generation);
}

bool Engine::cancel(EventId id) {
  std::uint32_t slot = static_cast<std::uint32_t>(id & 0xffffffffu);
  std::uint32_t gen = static_cast<std::uint32_t>(id >> 32);
  if (slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (!s.live || s.generation != gen) return false;
  s.live = false;  // the heap entry stays until it reaches the top (lazy deletion)
  --live_;
  return true;
}

void Engine::release(std::uint32_t slot) {
  ++slots_[slot].generation;
  free_slots_.push_back(slot);
}

void Engine::push(const Entry& e) {
  std::size_t i = heap_.size();
  heap_.push_back(e);
  while (i > 0) {
    std::size_t p = (i - 1) / 4;
    if (!before(e, heap_[p])) break;
    heap_[i] = heap_[p];
    i = p;
  }
  heap_[i] = e;
}

Engine::Entry Engine::pop() {
  Entry top = heap_[0];
  Entry last = heap_.back();
  heap_.pop_back();
  std::size_t n = heap_.size();
  if (n == 0) return top;
  std::size_t i = 0;
  while (true) {
    std::size_t c = 4 * i + 1;
    if (c >= n) break;
    std::size_t best = c;
    std::size_t end = c + 4 < n ? c + 4 : n;
    for (std::size_t k = c + 1; k < end; ++k)
      if (before(heap_[k], heap_[best])) best = k;
    if (!before(heap_[best], last)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = last;
  return top;
}

void Engine::drop_dead_top() {
  while (!heap_.empty() && !slots_[heap_[0].slot].live) release(static_cast<std::uint32_t>(pop().slot));
}

TimePs Engine::next_time() {
  drop_dead_top();
  return heap_.empty() ? kTimeNever : heap_[0].time;
}

bool Engine::step() {
  drop_dead_top();
  if (heap_.empty()) return false;
  Entry e = pop();
  std::uint32_t slot = static_cast<std::uint32_t>(e.slot);
  Slot s = slots_[slot];
  slots_[slot].live = false;
  release(slot);
  --live_;
  now_ = e.time;
  ++processed_;
  sinks_[s.sink]->handle(*this, s.tag, s.payload);
  return true;
}

void Engine::run() {
  while (step()) {}
}

bool Engine::run_until(TimePs t) {
  while (next_time() <= t) step();
  if (t > now_) now_ = t;
  return live_ == 0;
}

}  // namespace knee

#include "sim/engine/engine.hpp"

#include <gtest/gtest.h>

#include <random>
#include <tuple>
#include <vector>

using namespace knee;

namespace {
// Records (time, tag, payload) of every event it receives.
struct Recorder : EventSink {
  std::vector<std::tuple<TimePs, std::uint32_t, std::uint64_t>> seen;
  void handle(Engine& e, std::uint32_t tag, std::uint64_t payload) override {
    seen.emplace_back(e.now(), tag, payload);
  }
};
}  // namespace

TEST(Engine, DeliversInTimeThenInsertionOrder) {
  Engine e;
  Recorder r;
  SinkId s = e.add_sink(&r);
  e.schedule_at(30, s, 1);
  e.schedule_at(10, s, 2);
  e.schedule_at(30, s, 3);  // same time as tag 1, inserted later: runs after it
  e.schedule_at(20, s, 4);
  e.schedule_at(10, s, 5);
  e.run();
  std::vector<std::uint32_t> tags;
  std::vector<TimePs> times;
  for (auto& [t, tag, p] : r.seen) {
    tags.push_back(tag);
    times.push_back(t);
  }
  EXPECT_EQ(tags, (std::vector<std::uint32_t>{2, 5, 4, 1, 3}));
  EXPECT_EQ(times, (std::vector<TimePs>{10, 10, 20, 30, 30}));
  EXPECT_EQ(e.now(), 30);
  EXPECT_EQ(e.events_processed(), 5u);
}

TEST(Engine, CancelledEventsNeverRunAndStaleIdsDoNothing) {
  Engine e;
  Recorder r;
  SinkId s = e.add_sink(&r);
  EventId a = e.schedule_at(5, s, 1);
  EventId b = e.schedule_at(6, s, 2);
  EXPECT_TRUE(e.cancel(a));
  EXPECT_FALSE(e.cancel(a));  // twice
  EXPECT_EQ(e.pending(), 1u);
  e.run();
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(std::get<1>(r.seen[0]), 2u);
  EXPECT_FALSE(e.cancel(b));  // already ran
  // The slot of `a` is reused by a new event; the old id must not cancel it.
  e.schedule_at(7, s, 3);
  EXPECT_FALSE(e.cancel(a));
  e.run();
  EXPECT_EQ(r.seen.size(), 2u);
}

TEST(Engine, RunUntilStopsAtTheGivenTime) {
  Engine e;
  Recorder r;
  SinkId s = e.add_sink(&r);
  for (int i = 1; i <= 10; ++i) e.schedule_at(i * 100, s, i);
  e.run_until(450);
  EXPECT_EQ(r.seen.size(), 4u);
  EXPECT_EQ(e.now(), 450);
  EXPECT_EQ(e.pending(), 6u);
  e.run_until(1000);  // inclusive
  EXPECT_EQ(r.seen.size(), 10u);
  EXPECT_EQ(e.next_time(), kTimeNever);
}

TEST(Engine, SchedulingInThePastIsALogicError) {
  Engine e;
  Recorder r;
  SinkId s = e.add_sink(&r);
  e.schedule_at(100, s, 1);
  e.run();
  EXPECT_THROW(e.schedule_at(99, s, 1), std::logic_error);
  EXPECT_THROW(e.schedule_at(200, 7, 1), std::logic_error);  // unknown sink
}

namespace {
// Hold model: each event schedules one more at now + random delay, until a budget is spent.
struct Hold : EventSink {
  std::mt19937_64 rng{42};
  std::uniform_int_distribution<TimePs> d{0, 1000};
  int budget = 0;
  SinkId self = 0;
  std::vector<TimePs> trace;
  void handle(Engine& e, std::uint32_t, std::uint64_t) override {
    trace.push_back(e.now());
    if (budget-- > 0) e.schedule_in(d(rng), self, 0);
  }
};
std::vector<TimePs> hold_trace() {
  Engine e;
  Hold h;
  h.self = e.add_sink(&h);
  h.budget = 20000;
  for (int i = 0; i < 1000; ++i) e.schedule_at(h.d(h.rng), h.self, 0);
  e.run();
  return h.trace;
}
}  // namespace

TEST(Engine, HoldModelIsMonotoneAndDeterministic) {
  auto a = hold_trace();
  auto b = hold_trace();
  ASSERT_EQ(a.size(), 21000u);
  EXPECT_EQ(a, b);
  for (std::size_t i = 1; i < a.size(); ++i) ASSERT_LE(a[i - 1], a[i]);
}

TEST(Engine, ManyCancellationsKeepOrder) {
  Engine e;
  Recorder r;
  SinkId s = e.add_sink(&r);
  std::mt19937_64 rng(7);
  std::vector<EventId> ids;
  std::vector<bool> cancelled;
  for (int i = 0; i < 5000; ++i) ids.push_back(e.schedule_at(rng() % 100000, s, 0, i));
  cancelled.assign(ids.size(), false);
  for (std::size_t i = 0; i < ids.size(); i += 3) {
    EXPECT_TRUE(e.cancel(ids[i]));
    cancelled[i] = true;
  }
  e.run();
  EXPECT_EQ(r.seen.size(), 5000u - (5000u + 2) / 3);
  for (auto& [t, tag, p] : r.seen) EXPECT_FALSE(cancelled[p]);
  for (std::size_t i = 1; i < r.seen.size(); ++i) ASSERT_LE(std::get<0>(r.seen[i - 1]), std::get<0>(r.seen[i]));
}

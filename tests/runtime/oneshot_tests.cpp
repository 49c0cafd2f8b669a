// Tests for pollscope/oneshot.hpp: oneshot<T>(), a channel for exactly one value.
#include <atomic>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/pollscope.hpp>

#include "../support/counted.hpp"
#include "../support/test_wakers.hpp"

using namespace pollscope;
using Catch::Matchers::Message;
using pollscope_test::CountingWaker;
using pollscope_test::event_names;
using pollscope_test::events_of;
using pollscope_test::LifeCounts;
using pollscope_test::poll_once;
using pollscope_test::Tracked;
using pollscope_test::WakerCalls;

namespace {

/// Records every event, and fulfils `parked` at the first `park` event: the moment
/// block_on is about to put its thread to sleep.
class ParkSignallingTracer final : public Tracer {
 public:
  void record(const Event& event) override {
    recorder.record(event);
    if (event.kind == EventKind::park && !signalled_) {
      signalled_ = true;
      parked.set_value();
    }
  }
  TraceRecorder recorder;
  std::promise<void> parked;

 private:
  bool signalled_ = false;
};

Async<std::string> receive_or_default(OneshotReceiver<std::string> rx) {
  std::optional<std::string> v = co_await rx;
  co_return v.value_or("nothing");
}

}  // namespace

TEST_CASE("a value sent before the receiver is polled is Ready at its first poll", "[oneshot]") {
  auto [tx, rx] = oneshot<int>();
  REQUIRE(tx.send(5) == true);
  CountingWaker cw;
  const Waker w = cw.waker();
  REQUIRE(poll_once(rx, w).value() == std::optional<int>(5));
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE(
    "a receiver polled before the send is Pending with one waker clone, and the send wakes it once",
    "[oneshot]") {
  auto [tx, rx] = oneshot<int>();
  CountingWaker cw;
  const Waker w = cw.waker();
  REQUIRE(poll_once(rx, w).is_pending());
  REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(poll_once(rx, w).is_pending());  // the same waker: no new clone
  REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(tx.send(5) == true);
  REQUIRE(cw.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(poll_once(rx, w).value() == std::optional<int>(5));
  REQUIRE(cw.calls() == WakerCalls{1, 1, 0, 0});
}

TEST_CASE("a receiver re-polled with another waker keeps only the newest one", "[oneshot]") {
  auto [tx, rx] = oneshot<int>();
  CountingWaker first;
  CountingWaker second;
  REQUIRE(poll_once(rx, first.waker()).is_pending());
  REQUIRE(poll_once(rx, second.waker()).is_pending());
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 2});  // its clone was replaced and dropped
  REQUIRE(second.calls() == WakerCalls{1, 0, 0, 1});
  REQUIRE(tx.send(1) == true);
  REQUIRE(second.calls() == WakerCalls{1, 1, 0, 1});
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 2});
}

TEST_CASE("dropping the sender without sending wakes the receiver, which yields an empty optional",
          "[oneshot]") {
  auto [tx, rx] = oneshot<int>();
  CountingWaker cw;
  const Waker w = cw.waker();
  {
    OneshotSender<int> gone = std::move(tx);
    REQUIRE(poll_once(rx, w).is_pending());
  }
  REQUIRE(cw.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(poll_once(rx, w).value() == std::nullopt);
}

TEST_CASE(
    "a receiver whose sender is already gone is Ready with an empty optional at its first poll",
    "[oneshot]") {
  auto [tx, rx] = oneshot<int>();
  { OneshotSender<int> gone = std::move(tx); }
  CountingWaker cw;
  const Waker w = cw.waker();
  REQUIRE(poll_once(rx, w).value() == std::nullopt);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("send returns false and drops the value when the receiver is gone", "[oneshot]") {
  LifeCounts counts;
  auto [tx, rx] = oneshot<Tracked>();
  { OneshotReceiver<Tracked> gone = std::move(rx); }
  REQUIRE(tx.send(Tracked(counts, 1)) == false);
  REQUIRE(counts.made() == 1);
  REQUIRE(counts.drops() == 1);
}

TEST_CASE("dropping the receiver drops a value that was sent but never received", "[oneshot]") {
  LifeCounts counts;
  auto [tx, rx] = oneshot<Tracked>();
  REQUIRE(tx.send(Tracked(counts, 1)) == true);
  REQUIRE(counts.live() == 1);
  { OneshotReceiver<Tracked> gone = std::move(rx); }
  REQUIRE(counts.drops() == 1);
  REQUIRE(counts.live() == 0);
}

TEST_CASE("sending twice throws std::logic_error and the first value stands", "[oneshot]") {
  auto [tx, rx] = oneshot<int>();
  REQUIRE(tx.send(1) == true);
  REQUIRE_THROWS_MATCHES(tx.send(2), std::logic_error,
                         Message("pollscope::OneshotSender::send called twice"));
  REQUIRE(poll_once(rx, Waker::noop()).value() == std::optional<int>(1));
}

TEST_CASE("polling the receiver after it completed throws std::logic_error", "[oneshot]") {
  auto [tx, rx] = oneshot<int>();
  REQUIRE(tx.send(1) == true);
  REQUIRE(poll_once(rx, Waker::noop()).value() == std::optional<int>(1));
  REQUIRE_THROWS_MATCHES(poll_once(rx, Waker::noop()), std::logic_error,
                         Message("pollscope::OneshotReceiver polled after it completed"));
}

TEST_CASE("a task awaiting a oneshot receives the value sent by another task of the LocalExecutor",
          "[oneshot]") {
  auto [tx, rx] = oneshot<std::string>();
  LocalExecutor ex;
  JoinHandle<std::string> h = ex.spawn(receive_or_default(std::move(rx)));
  struct SendsInTask {
    using Output = void;
    OneshotSender<std::string> tx;
    Poll<void> poll(Context&) {
      if (!tx.send("hello")) throw std::logic_error("the receiver is gone");
      return ready();
    }
  };
  ex.spawn(SendsInTask{std::move(tx)});
  RunReport report = ex.run();
  REQUIRE(report.status == RunStatus::completed);
  REQUIRE(report.polls == 3u);  // receive: Pending; send; receive: Ready
  REQUIRE(poll_once(h, Waker::noop()).value() == "hello");
}

TEST_CASE("a send from another thread wakes a parked block_on", "[oneshot]") {
  if (!pollscope_test::kHasThreads) {
    WARN("skipped: this build has no threads");
    return;
  }
  auto [tx, rx] = oneshot<int>();
  ParkSignallingTracer tracer;
  std::future<void> parked = tracer.parked.get_future();
  std::thread sender([&parked, tx = std::move(tx)]() mutable {
    parked.wait();  // send only once block_on is parking
    tx.send(9);
  });
  std::optional<int> out = block_on(rx, ExecutorOptions{false, 0, &tracer});
  sender.join();
  REQUIRE(out == std::optional<int>(9));
  const auto events = tracer.recorder.events();
  REQUIRE(event_names(events) == std::vector<std::string>{"spawn", "poll_start", "waker_clone",
                                                          "poll_pending", "park", "unpark",
                                                          "poll_start", "poll_ready", "complete"});
  REQUIRE(events_of(events, EventKind::unpark)[0].source == WakeSource::thread);
}

// Tests for pollscope/channel.hpp: channel<T>(capacity), a bounded MPSC queue.
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
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
using pollscope_test::LifeCounts;
using pollscope_test::poll_once;
using pollscope_test::Tracked;
using pollscope_test::WakerCalls;

namespace {

/// A waker that runs `on_drop` whenever one of its references is dropped: stands for a
/// waker whose release runs user code (e.g. frees a task whose output holds a Sender).
struct DropHook {
  std::function<void()> on_drop;
  int drops = 0;
};
RawWaker hook_clone(const void* data) noexcept;
void hook_wake(const void*) noexcept {}
void hook_drop(const void* data) noexcept {
  auto* hook = static_cast<DropHook*>(const_cast<void*>(data));
  ++hook->drops;
  if (hook->on_drop) hook->on_drop();
}
constexpr RawWakerVTable hook_vtable{&hook_clone, &hook_wake, &hook_wake, &hook_drop};
RawWaker hook_clone(const void* data) noexcept {
  return RawWaker{data, &hook_vtable};
}

/// A value that runs `on_destroy` when it dies (unless moved from).
struct RunsOnDestroy {
  explicit RunsOnDestroy(std::function<void()> f) : on_destroy(std::move(f)) {}
  RunsOnDestroy(RunsOnDestroy&& other) noexcept
      : on_destroy(std::exchange(other.on_destroy, nullptr)) {}
  RunsOnDestroy& operator=(RunsOnDestroy&&) = delete;
  ~RunsOnDestroy() {
    if (on_destroy) on_destroy();
  }
  std::function<void()> on_destroy;
};

Async<int> sum_received(Receiver<int>& rx) {
  int sum = 0;
  while (std::optional<int> v = co_await rx.recv()) sum += *v;
  co_return sum;
}

Async<> send_all(Sender<int> tx, std::vector<int> values) {
  for (int v : values) {
    if (!co_await tx.send(v)) throw std::logic_error("the receiver is gone");
  }
}

}  // namespace

TEST_CASE("channel<int>(0) throws std::invalid_argument", "[channel]") {
  REQUIRE_THROWS_MATCHES(channel<int>(0), std::invalid_argument,
                         Message("pollscope::channel capacity must be at least 1"));
}

TEST_CASE("values sent into a channel are received in send order, each send and recv Ready at once",
          "[channel]") {
  auto [tx, rx] = channel<int>(3);
  CountingWaker cw;
  const Waker w = cw.waker();
  for (int v : {1, 2, 3}) {
    auto send = tx.send(v);
    REQUIRE(poll_once(send, w).value() == true);
  }
  for (int v : {1, 2, 3}) {
    auto recv = rx.recv();
    REQUIRE(poll_once(recv, w).value() == std::optional<int>(v));
  }
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});  // nobody ever waited
}

TEST_CASE(
    "recv on an empty channel is Pending, keeps one clone of the waker, and a send wakes it once",
    "[channel]") {
  auto [tx, rx] = channel<int>(1);
  CountingWaker receiver;
  const Waker w = receiver.waker();
  auto recv = rx.recv();
  REQUIRE(poll_once(recv, w).is_pending());
  REQUIRE(receiver.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(poll_once(recv, w).is_pending());  // the same waker: no new clone
  REQUIRE(receiver.calls() == WakerCalls{1, 0, 0, 0});

  CountingWaker sender;
  auto send = tx.send(42);
  REQUIRE(poll_once(send, sender.waker()).value() == true);
  REQUIRE(receiver.calls() == WakerCalls{1, 1, 0, 0});  // woken by value: the clone is consumed
  REQUIRE(sender.calls() == WakerCalls{0, 0, 0, 1});

  REQUIRE(poll_once(recv, w).value() == std::optional<int>(42));
  REQUIRE(receiver.calls() == WakerCalls{1, 1, 0, 0});
}

TEST_CASE(
    "a full channel makes send Pending and each recv wakes exactly the sender that waited longest",
    "[channel]") {
  auto [tx, rx] = channel<int>(1);
  CountingWaker first;
  CountingWaker second;
  CountingWaker receiver;
  const Waker w1 = first.waker();
  const Waker w2 = second.waker();
  const Waker wr = receiver.waker();

  auto s1 = tx.send(1);
  REQUIRE(poll_once(s1, w1).value() == true);
  auto s2 = tx.send(2);
  auto s3 = tx.send(3);
  REQUIRE(poll_once(s2, w1).is_pending());
  REQUIRE(poll_once(s3, w2).is_pending());
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(second.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(poll_once(s2, w1).is_pending());  // re-polled with the same waker: nothing changes
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 0});

  auto r1 = rx.recv();
  REQUIRE(poll_once(r1, wr).value() == std::optional<int>(1));
  REQUIRE(first.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(second.calls() == WakerCalls{1, 0, 0, 0});

  REQUIRE(poll_once(s2, w1).value() == true);
  auto r2 = rx.recv();
  REQUIRE(poll_once(r2, wr).value() == std::optional<int>(2));
  REQUIRE(second.calls() == WakerCalls{1, 1, 0, 0});

  REQUIRE(poll_once(s3, w2).value() == true);
  auto r3 = rx.recv();
  REQUIRE(poll_once(r3, wr).value() == std::optional<int>(3));
  REQUIRE(first.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(second.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(receiver.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("a Pending send re-polled with another waker replaces its queued waker", "[channel]") {
  auto [tx, rx] = channel<int>(1);
  CountingWaker old_waker;
  CountingWaker new_waker;
  auto s1 = tx.send(1);
  REQUIRE(poll_once(s1, Waker::noop()).value() == true);
  auto s2 = tx.send(2);
  REQUIRE(poll_once(s2, old_waker.waker()).is_pending());
  REQUIRE(poll_once(s2, new_waker.waker()).is_pending());
  REQUIRE(old_waker.calls() == WakerCalls{1, 0, 0, 2});  // its clone was replaced and dropped
  REQUIRE(new_waker.calls() == WakerCalls{1, 0, 0, 1});

  auto r = rx.recv();
  REQUIRE(poll_once(r, Waker::noop()).value() == std::optional<int>(1));
  REQUIRE(new_waker.calls() == WakerCalls{1, 1, 0, 1});
  REQUIRE(old_waker.calls() == WakerCalls{1, 0, 0, 2});
}

TEST_CASE("dropping a woken send before it runs passes the wake on to the next blocked send",
          "[channel]") {
  auto [tx, rx] = channel<int>(1);
  CountingWaker first;
  CountingWaker second;
  auto s1 = tx.send(1);
  REQUIRE(poll_once(s1, Waker::noop()).value() == true);
  std::optional<Sender<int>::SendFuture> s2(tx.send(2));
  auto s3 = tx.send(3);
  REQUIRE(poll_once(*s2, first.waker()).is_pending());
  REQUIRE(poll_once(s3, second.waker()).is_pending());

  auto r1 = rx.recv();
  REQUIRE(poll_once(r1, Waker::noop()).value() == std::optional<int>(1));
  REQUIRE(first.calls() == WakerCalls{1, 1, 0, 1});  // s2 was woken: there is room now
  REQUIRE(second.calls() == WakerCalls{1, 0, 0, 1});

  s2.reset();  // ... but it is dropped instead of sending: the room goes to s3
  REQUIRE(second.calls() == WakerCalls{1, 1, 0, 1});
  REQUIRE(poll_once(s3, Waker::noop()).value() == true);
  auto r3 = rx.recv();
  REQUIRE(poll_once(r3, Waker::noop()).value() == std::optional<int>(3));
}

TEST_CASE("dropping a send that is still waiting wakes nobody and leaves the queue to the others",
          "[channel]") {
  auto [tx, rx] = channel<int>(1);
  CountingWaker first;
  CountingWaker second;
  auto s1 = tx.send(1);
  REQUIRE(poll_once(s1, Waker::noop()).value() == true);
  std::optional<Sender<int>::SendFuture> s2(tx.send(2));
  auto s3 = tx.send(3);
  REQUIRE(poll_once(*s2, first.waker()).is_pending());
  REQUIRE(poll_once(s3, second.waker()).is_pending());

  s2.reset();
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 2});  // its queued clone is dropped, not woken
  REQUIRE(second.calls() == WakerCalls{1, 0, 0, 1});

  auto r1 = rx.recv();
  REQUIRE(poll_once(r1, Waker::noop()).value() == std::optional<int>(1));
  REQUIRE(second.calls() == WakerCalls{1, 1, 0, 1});
  REQUIRE(poll_once(s3, Waker::noop()).value() == true);
}

TEST_CASE(
    "recv drains the buffered values after every sender is gone, then yields an empty optional",
    "[channel]") {
  auto [tx, rx] = channel<int>(2);
  {
    Sender<int> only = std::move(tx);
    auto s1 = only.send(1);
    auto s2 = only.send(2);
    REQUIRE(poll_once(s1, Waker::noop()).value() == true);
    REQUIRE(poll_once(s2, Waker::noop()).value() == true);
  }
  CountingWaker cw;
  const Waker w = cw.waker();
  auto r1 = rx.recv();
  auto r2 = rx.recv();
  auto r3 = rx.recv();
  REQUIRE(poll_once(r1, w).value() == std::optional<int>(1));
  REQUIRE(poll_once(r2, w).value() == std::optional<int>(2));
  REQUIRE(poll_once(r3, w).value() == std::nullopt);
  REQUIRE(poll_once(r3, w).value() == std::nullopt);  // and stays ended
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("dropping the last sender wakes a Pending recv, which then yields an empty optional",
          "[channel]") {
  auto [tx, rx] = channel<int>(1);
  CountingWaker cw;
  const Waker w = cw.waker();
  auto r = rx.recv();
  {
    Sender<int> only = std::move(tx);
    REQUIRE(poll_once(r, w).is_pending());
    REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});
  }
  REQUIRE(cw.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(poll_once(r, w).value() == std::nullopt);
}

TEST_CASE("copies of a sender count: the channel ends only when the last copy is gone",
          "[channel]") {
  auto [tx, rx] = channel<int>(2);
  CountingWaker cw;
  const Waker w = cw.waker();
  auto r = rx.recv();
  std::optional<Sender<int>> original(std::move(tx));
  std::optional<Sender<int>> copy(*original);
  {
    Sender<int> moved = std::move(*copy);  // moving makes no new sender
    copy.reset();                          // the moved-from object ends nothing
    REQUIRE(poll_once(r, w).is_pending());
    original.reset();
    REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});  // `moved` is still alive
    auto s = moved.send(7);
    REQUIRE(poll_once(s, Waker::noop()).value() == true);
    REQUIRE(cw.calls() == WakerCalls{1, 1, 0, 0});
    REQUIRE(poll_once(r, w).value() == std::optional<int>(7));
  }
  auto end = rx.recv();
  REQUIRE(poll_once(end, w).value() == std::nullopt);
}

TEST_CASE("send returns false and drops the value once the receiver is gone", "[channel]") {
  LifeCounts counts;
  auto [tx, rx] = channel<Tracked>(1);
  { Receiver<Tracked> gone = std::move(rx); }
  auto s = tx.send(Tracked(counts, 5));
  REQUIRE(counts.live() == 1);  // held by the send future
  CountingWaker cw;
  REQUIRE(poll_once(s, cw.waker()).value() == false);
  REQUIRE(counts.drops() == 1);  // dropped by that poll, while the future is still alive
  REQUIRE(counts.live() == 0);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 1});
}

TEST_CASE(
    "dropping the receiver drops the buffered values and wakes every blocked send, which returns "
    "false",
    "[channel]") {
  LifeCounts counts;
  auto [tx, rx] = channel<Tracked>(1);
  CountingWaker blocked;
  auto s1 = tx.send(Tracked(counts, 1));
  auto s2 = tx.send(Tracked(counts, 2));
  REQUIRE(poll_once(s1, Waker::noop()).value() == true);
  REQUIRE(poll_once(s2, blocked.waker()).is_pending());
  REQUIRE(blocked.calls() == WakerCalls{1, 0, 0, 1});
  REQUIRE(counts.live() == 2);

  { Receiver<Tracked> gone = std::move(rx); }
  REQUIRE(counts.drops() == 1);  // the buffered value
  REQUIRE(blocked.calls() == WakerCalls{1, 1, 0, 1});

  REQUIRE(poll_once(s2, blocked.waker()).value() == false);
  REQUIRE(counts.drops() == 2);
  REQUIRE(counts.live() == 0);
}

TEST_CASE("polling a send future after it completed throws std::logic_error", "[channel]") {
  auto [tx, rx] = channel<int>(1);
  auto s = tx.send(1);
  REQUIRE(poll_once(s, Waker::noop()).value() == true);
  REQUIRE_THROWS_MATCHES(poll_once(s, Waker::noop()), std::logic_error,
                         Message("pollscope::Sender::send future polled after it completed"));
}

TEST_CASE(
    "a producer task and a consumer task on a LocalExecutor pass every value through a 1-slot "
    "channel",
    "[channel]") {
  auto [tx, rx] = channel<int>(1);
  LocalExecutor ex;
  JoinHandle<int> consumer = ex.spawn(sum_received(rx));
  ex.spawn(send_all(std::move(tx), {1, 2, 3, 4, 5}));
  REQUIRE(ex.run().status == RunStatus::completed);
  REQUIRE(poll_once(consumer, Waker::noop()).value() == 15);
}

TEST_CASE(
    "values sent from another thread arrive in order at a block_on receiver on the real clock",
    "[channel]") {
  if (!pollscope_test::kHasThreads) {
    WARN("skipped: this build has no threads");
    return;
  }
  auto [tx, rx] = channel<int>(1);
  std::thread producer([tx = std::move(tx)]() mutable {
    for (int v = 1; v <= 100; ++v) {
      if (!block_on(tx.send(v))) return;
    }
  });
  std::vector<int> received;
  while (std::optional<int> v = block_on(rx.recv())) received.push_back(*v);
  producer.join();
  REQUIRE(received.size() == 100u);
  for (int i = 0; i < 100; ++i) REQUIRE(received[static_cast<std::size_t>(i)] == i + 1);
}

// A Waker's drop may run arbitrary code, which may use the same channel: the channel
// must not hold its lock while it drops a waker (see detail/spin_lock.hpp). Before the
// fix, the two tests below deadlocked.

TEST_CASE("dropping the receiver drops the waiting recv's waker outside the channel's lock",
          "[channel]") {
  auto [tx, rx] = channel<int>(1);
  std::optional<Sender<int>> extra(tx);
  DropHook hook;
  hook.on_drop = [&extra] { extra.reset(); };  // ~Sender takes the channel's lock
  const Waker w = Waker::from_raw(RawWaker{&hook, &hook_vtable});
  auto r = rx.recv();
  REQUIRE(poll_once(r, w).is_pending());  // the channel keeps a clone of w
  REQUIRE(hook.drops == 0);
  { Receiver<int> gone = std::move(rx); }
  REQUIRE(hook.drops == 1);
  REQUIRE_FALSE(extra.has_value());
}

TEST_CASE("dropping a waiting send drops its queued waker outside the channel's lock",
          "[channel]") {
  auto [tx, rx] = channel<int>(1);
  std::optional<Sender<int>> extra(tx);
  DropHook hook;
  hook.on_drop = [&extra] { extra.reset(); };
  const Waker w = Waker::from_raw(RawWaker{&hook, &hook_vtable});
  auto s1 = tx.send(1);
  REQUIRE(poll_once(s1, w).value() == true);
  std::optional<Sender<int>::SendFuture> s2(tx.send(2));
  REQUIRE(poll_once(*s2, w).is_pending());  // queued with a clone of w
  REQUIRE(hook.drops == 0);
  s2.reset();
  REQUIRE(hook.drops == 1);
  REQUIRE_FALSE(extra.has_value());
  auto r = rx.recv();
  REQUIRE(poll_once(r, Waker::noop()).value() == std::optional<int>(1));
}

TEST_CASE("a value dropped because the receiver is gone is destroyed outside the channel's lock",
          "[channel]") {
  auto [tx, rx] = channel<RunsOnDestroy>(1);
  std::optional<Sender<RunsOnDestroy>> extra(tx);
  { Receiver<RunsOnDestroy> gone = std::move(rx); }
  auto s = tx.send(RunsOnDestroy([&extra] { extra.reset(); }));  // ~Sender takes the channel's lock
  REQUIRE(poll_once(s, Waker::noop()).value() == false);
  REQUIRE_FALSE(extra.has_value());
}

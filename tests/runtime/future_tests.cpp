// Tests for pollscope/future.hpp: the Future concept and its helper aliases.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/pollscope.hpp>

#include "../support/test_wakers.hpp"

using namespace pollscope;
using pollscope_test::CountingWaker;
using pollscope_test::WakerCalls;

namespace {

// --- types that are not futures ---
struct NoOutput {
  Poll<int> poll(Context&) { return ready(1); }
};
struct WrongPollType {  // Output says int, poll answers Poll<long>
  using Output = int;
  Poll<long> poll(Context&) { return ready(1L); }
};
struct ReturnsValueNotPoll {
  using Output = int;
  int poll(Context&) { return 1; }
};
struct PollWithoutContext {
  using Output = int;
  Poll<int> poll() { return ready(1); }
};
struct PollTakesWaker {
  using Output = int;
  Poll<int> poll(const Waker&) { return ready(1); }
};
struct NoPoll {
  using Output = int;
};
struct PollNeedsRvalueContext {
  using Output = int;
  Poll<int> poll(Context&&) { return ready(1); }
};

// --- a hand-written leaf future: Pending twice (waking itself), then Ready("done") ---
struct TwoPendingsThenDone {
  using Output = std::string;
  int polls = 0;
  Poll<std::string> poll(Context& cx) {
    ++polls;
    if (polls < 3) {
      cx.waker().wake_by_ref();
      return pending;
    }
    return ready(std::string("done"));
  }
};

// --- a leaf future woken from another thread: the first poll keeps a copy of the waker
// and starts a thread that sets `fired` and wakes it; Ready once `fired` is set ---
class WokenByThread {
 public:
  using Output = int;
  WokenByThread() = default;
  WokenByThread(WokenByThread&&) = delete;
  ~WokenByThread() {
    if (thread_.joinable()) thread_.join();
  }
  Poll<int> poll(Context& cx) {
    ++polls_;
    if (fired_.load()) return ready(42);
    if (!thread_.joinable()) {
      thread_ = std::thread([this, w = cx.waker()]() mutable {
        fired_.store(true);
        std::move(w).wake();
      });
    }
    return pending;
  }
  int polls() const { return polls_; }

 private:
  std::atomic<bool> fired_{false};
  int polls_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("every pollscope future type satisfies Future", "[future]") {
  static_assert(Future<Count>);
  static_assert(Future<YieldNow>);
  static_assert(Future<Sleep>);
  static_assert(Future<ReadyFuture<int>>);
  static_assert(Future<ReadyFuture<void>>);
  static_assert(Future<Async<int>>);
  static_assert(Future<Async<>>);
  static_assert(Future<JoinHandle<int>>);
  static_assert(Future<JoinHandle<void>>);
  static_assert(Future<Join<Count, YieldNow>>);
  static_assert(Future<JoinAll<Count>>);
  static_assert(Future<Select<Count, Sleep>>);
  static_assert(Future<Sender<int>::SendFuture>);
  static_assert(Future<Receiver<int>::RecvFuture>);
  static_assert(Future<OneshotReceiver<int>>);
  static_assert(Future<TwoPendingsThenDone>);
  // And their outputs are what the headers say.
  static_assert(std::is_same_v<output_t<Count>, std::uint64_t>);
  static_assert(std::is_same_v<output_t<Sleep>, void>);
  static_assert(std::is_same_v<output_t<Async<std::string>>, std::string>);
  static_assert(
      std::is_same_v<output_t<Join<Count, YieldNow>>, std::tuple<std::uint64_t, std::monostate>>);
  static_assert(
      std::is_same_v<output_t<Select<Count, Sleep>>, std::variant<std::uint64_t, std::monostate>>);
  static_assert(std::is_same_v<output_t<Sender<int>::SendFuture>, bool>);
  static_assert(std::is_same_v<output_t<Receiver<int>::RecvFuture>, std::optional<int>>);
  static_assert(std::is_same_v<output_t<OneshotReceiver<int>>, std::optional<int>>);
  // A non-static member poll on a real object: the concept is satisfied by the type.
  Count c = count(1);
  CountingWaker cw;
  REQUIRE(pollscope_test::poll_once(c, cw.waker()).value() == std::uint64_t{1});
}

TEST_CASE("a type without Output, with a wrong poll signature or without poll is not a Future",
          "[future]") {
  static_assert(!Future<NoOutput>);
  static_assert(!Future<WrongPollType>);
  static_assert(!Future<ReturnsValueNotPoll>);
  static_assert(!Future<PollWithoutContext>);
  static_assert(!Future<PollTakesWaker>);
  static_assert(!Future<NoPoll>);
  static_assert(!Future<PollNeedsRvalueContext>);
  static_assert(!Future<int>);
  static_assert(!Future<Poll<int>>);
  // References are not futures themselves, only FutureOrRef.
  static_assert(!Future<Count&>);
  static_assert(FutureOrRef<Count&>);
  static_assert(FutureOrRef<Count&&>);
  static_assert(FutureOrRef<Count>);
  static_assert(!FutureOrRef<NoOutput&>);
  // A const future cannot be polled (poll is not const).
  static_assert(!Future<const Count>);
  WrongPollType w;
  CountingWaker cw;
  const Waker waker = cw.waker();
  Context cx(waker);
  REQUIRE(w.poll(cx).value() == 1L);  // it polls fine; it just does not match its Output
}

TEST_CASE("output_t strips references and value_or_monostate_t turns void into std::monostate",
          "[future]") {
  static_assert(std::is_same_v<output_t<Count&>, std::uint64_t>);
  static_assert(std::is_same_v<output_t<const Count&>, std::uint64_t>);
  static_assert(std::is_same_v<output_t<YieldNow&&>, void>);
  static_assert(std::is_same_v<value_or_monostate_t<void>, std::monostate>);
  static_assert(std::is_same_v<value_or_monostate_t<int>, int>);
  static_assert(std::is_same_v<value_or_monostate_t<std::string>, std::string>);
  Join<YieldNow> j = join(yield_now());
  CountingWaker cw;
  auto result = pollscope_test::poll_loop(j, cw.waker());
  REQUIRE(result.polls == 2);
  REQUIRE(std::get<0>(result.output) == std::monostate{});
}

TEST_CASE("a hand-written leaf future runs under block_on, polled three times, in place",
          "[future]") {
  TwoPendingsThenDone f;
  std::string out = block_on(f);
  REQUIRE(out == "done");
  REQUIRE(f.polls == 3);  // polled through the reference: the caller's object itself
}

TEST_CASE("a hand-written leaf future passed by value runs under block_on and block_on_busy",
          "[future]") {
  REQUIRE(block_on(TwoPendingsThenDone{}) == "done");
  REQUIRE(block_on_busy(TwoPendingsThenDone{}, ExecutorOptions{true, 0, nullptr}) == "done");
}

TEST_CASE(
    "a hand-written leaf future awaited in an Async under a LocalExecutor is polled three times",
    "[future]") {
  LocalExecutor ex;
  TwoPendingsThenDone f;
  struct Await {
    static Async<std::string> in(TwoPendingsThenDone& leaf) { co_return co_await leaf; }
  };
  REQUIRE(ex.block_on(Await::in(f)) == "done");
  REQUIRE(f.polls == 3);
}

TEST_CASE(
    "a leaf future that keeps cx.waker() and is woken from another thread completes under block_on",
    "[future]") {
  if (!pollscope_test::kHasThreads) {
    WARN("skipped: this build has no threads");
    return;
  }
  WokenByThread f;
  REQUIRE(block_on(f) == 42);
  // The first poll is Pending; block_on parks until the thread wakes the kept copy;
  // the second poll sees `fired`.
  REQUIRE(f.polls() == 2);
}

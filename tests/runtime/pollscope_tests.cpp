// Tests for pollscope/pollscope.hpp, the umbrella header: small programs written
// only against the public API (no detail::, no test-support helpers).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/pollscope.hpp>

using namespace std::chrono_literals;
namespace ps = pollscope;

namespace {

// A leaf future written by hand: a door that something outside opens. Waiting on
// it keeps the waker of the latest poll; opening it wakes that waker.
class Door {
  struct State {
    bool open = false;
    std::optional<ps::Waker> waker;
  };

 public:
  class Opened {
   public:
    using Output = void;
    explicit Opened(std::shared_ptr<State> state) : state_(std::move(state)) {}
    ps::Poll<void> poll(ps::Context& cx) {
      if (state_->open) return ps::ready();
      if (!state_->waker || !state_->waker->will_wake(cx.waker())) state_->waker = cx.waker();
      return ps::pending;
    }

   private:
    std::shared_ptr<State> state_;
  };

  Opened opened() const { return Opened(state_); }
  void open() {
    state_->open = true;
    if (state_->waker) {
      ps::Waker waker = std::move(*state_->waker);
      state_->waker.reset();
      std::move(waker).wake();
    }
  }

 private:
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// The output of a finished task, read through its handle.
template <class T>
T output_of(ps::JoinHandle<T>& handle) {
  const ps::Waker noop = ps::Waker::noop();
  ps::Context cx(noop);
  return handle.poll(cx).value();
}

std::string describe(const ps::RunReport& report) {
  std::string text = std::string(ps::to_string(report.status)) + " after " +
                     std::to_string(report.polls) + " polls";
  for (ps::TaskId id : report.stuck_tasks) text += ", task " + std::to_string(id) + " stuck";
  return text;
}

// --- async functions awaiting each other -------------------------------------------

ps::Async<int> digit_value(char c) {
  co_return c - '0';
}

ps::Async<int> digit_sum(std::string digits) {
  int sum = 0;
  for (char c : digits) sum += co_await digit_value(c);
  co_return sum;
}

ps::Async<std::string> describe_sum(std::string digits) {
  const int sum = co_await digit_sum(digits);
  co_return digits + " sums to " + std::to_string(sum);
}

ps::Async<> note_after_yield(std::vector<std::string>& log, std::string note) {
  co_await ps::yield_now();
  log.push_back(std::move(note));
}

ps::Async<std::unique_ptr<int>> boxed_after_yield(int value) {
  co_await ps::yield_now();
  co_return std::make_unique<int>(value);
}

ps::Async<std::string> collect(ps::JoinHandle<int> number, ps::JoinHandle<std::string> text,
                               ps::JoinHandle<void> side_effect,
                               ps::JoinHandle<std::unique_ptr<int>> box) {
  const int n = co_await std::move(number);
  std::string t = co_await std::move(text);
  co_await std::move(side_effect);
  std::unique_ptr<int> b = co_await std::move(box);
  co_return std::to_string(n) + " | " + t + " | " + std::to_string(*b);
}

ps::Async<int> after_door(Door door, int value) {
  co_await door.opened();
  co_return value;
}

// Sleeps each of `naps` in turn, logging "<name>@<time>" after each.
ps::Async<> napper(ps::LocalExecutor& ex, std::string name,
                   std::vector<std::chrono::milliseconds> naps, std::vector<std::string>& log) {
  for (auto nap : naps) {
    co_await ps::sleep(nap);
    log.push_back(name + "@" + ps::format_duration(ex.now()));
  }
}

ps::Async<int> delayed(std::chrono::milliseconds d, int value) {
  co_await ps::sleep(d);
  co_return value;
}

}  // namespace

TEST_CASE("Async functions awaiting each other finish in a single executor poll", "[pollscope]") {
  ps::LocalExecutor ex;
  ps::JoinHandle<std::string> handle = ex.spawn(describe_sum("2024"));
  REQUIRE(describe(ex.run()) == "completed after 1 polls");
  REQUIRE(output_of(handle) == "2024 sums to 8");
}

TEST_CASE("Tasks of different output types are joined by a task awaiting their handles",
          "[pollscope]") {
  ps::LocalExecutor ex;
  std::vector<std::string> log;
  ps::JoinHandle<int> number = ex.spawn(digit_sum("123"));
  ps::JoinHandle<std::string> text = ex.spawn(describe_sum("99"));
  ps::JoinHandle<void> side_effect = ex.spawn(note_after_yield(log, "noted"));
  ps::JoinHandle<std::unique_ptr<int>> box = ex.spawn(boxed_after_yield(42));
  ps::JoinHandle<std::string> all =
      ex.spawn(collect(std::move(number), std::move(text), std::move(side_effect), std::move(box)));

  // 1 + 1 + 2 + 2 polls for the four, 2 for the collector (it waits once, for task 3).
  REQUIRE(describe(ex.run()) == "completed after 8 polls");
  REQUIRE(output_of(all) == "6 | 99 sums to 18 | 42");
  REQUIRE(log == std::vector<std::string>{"noted"});
}

TEST_CASE(
    "A door opened from outside lets its waiting task finish, and until then the run stalls on it",
    "[pollscope]") {
  ps::LocalExecutor ex(ps::ExecutorOptions{.virtual_clock = true});
  Door door;
  ps::JoinHandle<int> waiting = ex.spawn(after_door(door, 7));
  ps::JoinHandle<int> independent = ex.spawn(digit_sum("55"));

  REQUIRE(describe(ex.run()) == "stalled after 2 polls, task 1 stuck");
  REQUIRE(output_of(independent) == 10);
  REQUIRE_FALSE(waiting.is_finished());

  door.open();
  REQUIRE(describe(ex.run()) == "completed after 1 polls");
  REQUIRE(output_of(waiting) == 7);
}

TEST_CASE("Virtual-clock sleeps end in deadline order at their exact deadlines", "[pollscope]") {
  ps::LocalExecutor ex(ps::ExecutorOptions{.virtual_clock = true});
  std::vector<std::string> log;
  (void)ex.spawn(napper(ex, "tea", {3000ms}, log));
  (void)ex.spawn(napper(ex, "toast", {1000ms, 1000ms, 1500ms}, log));
  (void)ex.spawn(napper(ex, "eggs", {2000ms}, log));

  REQUIRE(describe(ex.run()) == "completed after 8 polls");
  // At 2s eggs' timer (registered at 0s) fires before toast's second one (registered at 1s).
  REQUIRE(log ==
          std::vector<std::string>{"toast@1s", "eggs@2s", "toast@2s", "tea@3s", "toast@3.5s"});
  REQUIRE(ex.now() == 3500ms);
}

TEST_CASE("A stalled task is named in the report while the others complete", "[pollscope]") {
  ps::LocalExecutor ex(ps::ExecutorOptions{.virtual_clock = true});
  Door never_opened;
  std::vector<std::string> log;
  ps::JoinHandle<int> sum = ex.spawn(digit_sum("7"));
  ps::JoinHandle<int> stuck = ex.spawn(after_door(never_opened, 1));
  (void)ex.spawn(napper(ex, "nap", {5ms}, log));

  REQUIRE(describe(ex.run()) == "stalled after 4 polls, task 2 stuck");
  REQUIRE(output_of(sum) == 7);
  REQUIRE(log == std::vector<std::string>{"nap@5ms"});
  REQUIRE(ex.now() == 5ms);
  REQUIRE_FALSE(stuck.is_finished());
}

TEST_CASE("block_on drives a join of async functions and sleeps to its result", "[pollscope]") {
  ps::TraceRecorder trace;
  auto [text, value] = ps::block_on(ps::join(describe_sum("31"), delayed(40ms, 3)),
                                    ps::ExecutorOptions{.virtual_clock = true, .tracer = &trace});
  REQUIRE(text == "31 sums to 4");
  REQUIRE(value == 3);
  const std::vector<ps::Event> events = trace.events();
  REQUIRE(ps::format_event(events.back()) == "[40ms] task 1 complete");
}

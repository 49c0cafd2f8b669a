// The poll loop, printed: what `npm start` shows until the playground page exists.
//
// Part 1 drives the Counter future with block_on, which parks between polls.
// Part 2 runs two tasks on the single-threaded LocalExecutor, the way the article's
// task runtime runs two counting tasks, but cooperatively on one thread.
#include <cstdio>
#include <string>

#include "pollscope/pollscope.hpp"

namespace ps = pollscope;

namespace {

/// Prints every event as it happens.
class PrintingTracer final : public ps::Tracer {
 public:
  void record(const ps::Event& event) override { std::printf("  %s\n", ps::format_event(event).c_str()); }
};

ps::Async<std::uint64_t> count_to(std::uint64_t n) {
  const std::uint64_t reached = co_await ps::count(n);
  co_return reached;
}

}  // namespace

int main() {
  PrintingTracer printer;
  ps::ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &printer;

  std::printf("block_on(count(3)): each Pending poll woke itself, so block_on polls again at once\n");
  const std::uint64_t reached = ps::block_on(ps::count(3), options);
  std::printf("  => %llu\n\n", static_cast<unsigned long long>(reached));

  std::printf("LocalExecutor: two counting tasks take turns in the run queue; a third awaits both handles\n");
  ps::LocalExecutor executor(options);
  auto first = executor.spawn(count_to(3));
  auto second = executor.spawn(count_to(2));
  const auto [a, b] = executor.block_on(ps::join(std::move(first), std::move(second)));
  std::printf("  => task 1 reached %llu, task 2 reached %llu\n", static_cast<unsigned long long>(a),
              static_cast<unsigned long long>(b));
  return 0;
}

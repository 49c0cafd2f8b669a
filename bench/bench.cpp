// pollscope's benchmarks: the workloads of bench/README.md on LocalExecutor,
// ThreadPool(2), block_on, and LocalExecutor with a recording tracer. The same
// source runs natively and as wasm under Node; bench/run.mjs runs both, the
// JavaScript-promise and tokio peers, and compares.
//
// Usage: pollscope_bench [--smoke] [--runs N] [--warmup N] [--only WORKLOAD] [--executor NAME]
// Prints one JSON document on stdout (the format of bench/tokio/src/main.rs).
// Exits 1 when any workload computes a wrong result (or throws), so the smoke run
// is a test; it never looks at timings.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "pollscope/detail/clock.hpp"
#include "pollscope/detail/trace_buffer.hpp"
#include "pollscope/pollscope.hpp"

#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
#include "pollscope/thread_pool.hpp"
#define POLLSCOPE_BENCH_THREADS 1
#else
#define POLLSCOPE_BENCH_THREADS 0  // single-threaded wasm: no ThreadPool
#endif

namespace {

using pollscope::Async;
using pollscope::Context;
using pollscope::Poll;

/// Workload sizes: the full run, or the smoke run (same shapes, tiny). Keep in
/// step with bench/tokio/src/main.rs, bench/promises.mjs and bench/run.mjs.
struct Sizes {
  std::uint64_t spawn_many;
  std::uint64_t yield_tasks;
  std::uint64_t yields_per_task;
  std::uint64_t ping_pong;
  std::uint64_t chained_spawn;
  std::uint64_t block_on_ready;
  std::uint64_t block_on_yield;
  std::uint64_t clock_read;
};
constexpr Sizes kFull{100'000, 100, 10'000, 100'000, 10'000, 1'000'000, 100'000, 1'000'000};
constexpr Sizes kSmoke{1'000, 10, 100, 1'000, 100, 10'000, 1'000, 1'000};

/// Hides a value from the optimiser (like Rust's black_box), so a loop of
/// block_on calls on constants cannot be folded away.
template <class T>
T opaque(T v) {
  volatile T sink = v;
  return sink;
}

/// Pending `left` times, waking itself each time, then Ready: block_on_yield's future.
class SelfWaking {
 public:
  using Output = void;
  explicit SelfWaking(int left) noexcept : left_(left) {}
  Poll<void> poll(Context& cx) {
    if (left_ == 0) return pollscope::ready();
    --left_;
    cx.waker().wake_by_ref();
    return pollscope::pending;
  }

 private:
  int left_;
};

// --- the task workloads, generic over the executor (LocalExecutor, ThreadPool) ---

Async<std::uint64_t> index_task(std::uint64_t i) { co_return i; }

template <class Exec>
Async<std::uint64_t> spawn_many(Exec& ex, std::uint64_t n) {
  std::vector<pollscope::JoinHandle<std::uint64_t>> handles;
  handles.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) handles.push_back(ex.spawn(index_task(i)));
  std::uint64_t sum = 0;
  for (auto& h : handles) sum += co_await h;
  co_return sum;
}

Async<std::uint64_t> yielder(std::uint64_t yields) {
  for (std::uint64_t k = 0; k < yields; ++k) co_await pollscope::yield_now();
  co_return yields;
}

template <class Exec>
Async<std::uint64_t> yield_many(Exec& ex, std::uint64_t tasks, std::uint64_t yields) {
  std::vector<pollscope::JoinHandle<std::uint64_t>> handles;
  handles.reserve(tasks);
  for (std::uint64_t t = 0; t < tasks; ++t) handles.push_back(ex.spawn(yielder(yields)));
  std::uint64_t sum = 0;
  for (auto& h : handles) sum += co_await h;
  co_return sum;
}

Async<std::uint64_t> ponger(pollscope::Receiver<std::uint64_t> rx, pollscope::Sender<std::uint64_t> tx) {
  std::uint64_t count = 0;
  while (auto v = co_await rx.recv()) {
    if (!co_await tx.send(*v + 1)) co_return 0;
    ++count;
  }
  co_return count;
}

Async<std::uint64_t> pinger(pollscope::Sender<std::uint64_t> tx, pollscope::Receiver<std::uint64_t> rx,
                            std::uint64_t n) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!co_await tx.send(i)) co_return 0;
    auto v = co_await rx.recv();
    if (!v) co_return 0;
    sum += *v;
  }
  co_return sum;  // the frame ends here and drops `tx`: the ponger's recv() ends
}

template <class Exec>
Async<std::uint64_t> ping_pong(Exec& ex, std::uint64_t n) {
  auto [ping_tx, ping_rx] = pollscope::channel<std::uint64_t>(1);
  auto [pong_tx, pong_rx] = pollscope::channel<std::uint64_t>(1);
  auto pong = ex.spawn(ponger(std::move(ping_rx), std::move(pong_tx)));
  auto ping = ex.spawn(pinger(std::move(ping_tx), std::move(pong_rx), n));
  const std::uint64_t sum = co_await ping;
  const std::uint64_t count = co_await pong;
  co_return count == n ? sum : 0;
}

template <class Exec>
Async<std::uint64_t> chain(Exec& ex, std::uint64_t depth) {
  if (depth == 0) co_return 0;
  co_return co_await ex.spawn(chain(ex, depth - 1)) + 1;
}

// --- the harness ---------------------------------------------------------------

struct Result {
  std::string workload;
  std::string executor;
  std::uint64_t ops = 0;
  bool ok = true;
  std::string error;
  std::vector<double> ns_per_op;
};

class Harness {
 public:
  Harness(int runs, int warmup, std::string only, std::string executor)
      : runs_(runs), warmup_(warmup), only_(std::move(only)), executor_(std::move(executor)) {}

  /// False when --executor names another one (its setup, e.g. starting a pool, is skipped too).
  bool wants(const char* executor) const { return executor_.empty() || executor_ == executor; }

  /// Runs `body` (returning the workload's check value) warmup + runs times and
  /// records ns per operation. `between` runs before each run, outside the timing.
  template <class Body, class Between>
  void measure(const char* workload, const char* executor, std::uint64_t ops, std::uint64_t expected, Body&& body,
               Between&& between) {
    if ((!only_.empty() && only_ != workload) || !wants(executor)) return;
    Result r{workload, executor, ops, true, {}, {}};
    for (int run = 0; run < warmup_ + runs_; ++run) {
      between();
      const auto start = std::chrono::steady_clock::now();
      std::uint64_t got = 0;
      try {
        got = body();
      } catch (const std::exception& e) {
        r.ok = false;
        r.error = e.what();
        break;
      }
      const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
      if (got != expected) {
        r.ok = false;
        r.error = "got " + std::to_string(got) + ", expected " + std::to_string(expected);
      }
      if (run >= warmup_) r.ns_per_op.push_back(ns / static_cast<double>(ops));
    }
    if (!r.ok) std::fprintf(stderr, "%s on %s: %s\n", workload, executor, r.error.c_str());
    results_.push_back(std::move(r));
  }
  template <class Body>
  void measure(const char* workload, const char* executor, std::uint64_t ops, std::uint64_t expected, Body&& body) {
    measure(workload, executor, ops, expected, std::forward<Body>(body), [] {});
  }

  bool all_ok() const {
    return std::all_of(results_.begin(), results_.end(), [](const Result& r) { return r.ok; });
  }

  void print_json(const char* program) const {
    std::printf("{\"program\":\"%s\",\"results\":[", program);
    for (std::size_t i = 0; i < results_.size(); ++i) {
      const Result& r = results_[i];
      std::printf("%s{\"workload\":\"%s\",\"executor\":\"%s\",\"ops\":%llu,\"ok\":%s,\"ns_per_op\":[", i ? "," : "",
                  r.workload.c_str(), r.executor.c_str(), static_cast<unsigned long long>(r.ops),
                  r.ok ? "true" : "false");
      for (std::size_t k = 0; k < r.ns_per_op.size(); ++k) std::printf("%s%.3f", k ? "," : "", r.ns_per_op[k]);
      std::printf("]}");
    }
    std::printf("]}\n");
  }

 private:
  int runs_;
  int warmup_;
  std::string only_;
  std::string executor_;
  std::vector<Result> results_;
};

/// The four task workloads; `run(ex, root)` drives one root task to completion.
template <class Exec, class Run>
void task_workloads(Harness& h, const Sizes& s, const char* name, Exec& ex, Run&& run) {
  const std::uint64_t n = s.spawn_many;
  h.measure("spawn_many", name, n, n * (n - 1) / 2, [&] { return run(ex, spawn_many(ex, n)); });
  const std::uint64_t tasks = s.yield_tasks, yields = s.yields_per_task;
  h.measure("yield_many", name, tasks * yields, tasks * yields,
            [&] { return run(ex, yield_many(ex, tasks, yields)); });
  const std::uint64_t pp = s.ping_pong;
  h.measure("ping_pong", name, pp, pp * (pp + 1) / 2, [&] { return run(ex, ping_pong(ex, pp)); });
  const std::uint64_t depth = s.chained_spawn;
  h.measure("chained_spawn", name, depth, depth, [&] { return run(ex, chain(ex, depth)); });
}

auto run_local = [](pollscope::LocalExecutor& ex, Async<std::uint64_t> root) {
  return ex.block_on(ex.spawn(std::move(root)));
};

int usage() {
  std::fprintf(stderr, "usage: pollscope_bench [--smoke] [--runs N] [--warmup N] [--only WORKLOAD] [--executor NAME]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  int runs = 7;
  int warmup = 1;
  std::string only;
  std::string executor;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") {
      smoke = true;
    } else if ((a == "--runs" || a == "--warmup" || a == "--only" || a == "--executor") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--only") {
        only = v;
      } else if (a == "--executor") {
        executor = v;
      } else {
        const int n = std::atoi(v.c_str());
        if (n < (a == "--runs" ? 1 : 0)) return usage();
        (a == "--runs" ? runs : warmup) = n;
      }
    } else {
      return usage();
    }
  }
  const Sizes& s = smoke ? kSmoke : kFull;
  Harness h(runs, warmup, only, executor);

  if (h.wants("local")) {
    pollscope::LocalExecutor ex;
    task_workloads(h, s, "local", ex, run_local);
  }
  if (h.wants("local_traced")) {
    // Tracing overhead: yield_many with every event recorded in memory. The
    // recorder is emptied between runs (outside the timing); it keeps its capacity.
    pollscope::TraceRecorder recorder;
    pollscope::LocalExecutor ex(pollscope::ExecutorOptions{false, 0, &recorder});
    const std::uint64_t tasks = s.yield_tasks, yields = s.yields_per_task;
    h.measure(
        "yield_many", "local_traced", tasks * yields, tasks * yields,
        [&] {
          const std::uint64_t sum = run_local(ex, yield_many(ex, tasks, yields));
          // Every yield leaves at least its poll_start and wake_by_ref events.
          return recorder.size() >= 2 * tasks * yields ? sum : 0;
        },
        [&] { recorder.clear(); });
  }
  if (h.wants("trace_clock")) {
    // Not a peer's workload: the reading a traced poll takes (TraceBuffer::stamp_now:
    // the tick clock where the CPU has an invariant one, else the executor's clock,
    // in wasm a call into JavaScript). A floor under tracing's cost per poll,
    // measured in the same run. The result counts readings that did not go back.
    pollscope::detail::Clock clock(/*is_virtual=*/false);
    pollscope::detail::TraceBuffer buffer(clock);
    const std::uint64_t n = s.clock_read;
    h.measure("clock_read", "trace_clock", n, n, [&] {
      std::uint64_t in_order = 0;
      pollscope::detail::TraceBuffer::Stamp previous = buffer.stamp_now();
      for (std::uint64_t i = 0; i < n; ++i) {
        const pollscope::detail::TraceBuffer::Stamp now = buffer.stamp_now();
        in_order += now.ticks >= previous.ticks && now.time >= previous.time;
        previous = now;
      }
      return in_order;
    });
  }
#if POLLSCOPE_BENCH_THREADS
  if (h.wants("thread_pool_2")) {
    pollscope::ThreadPool pool(2);
    task_workloads(h, s, "thread_pool_2", pool,
                   [](pollscope::ThreadPool& p, Async<std::uint64_t> root) { return p.spawn(std::move(root)).join(); });
  }
#endif
  const std::uint64_t ready_n = s.block_on_ready;
  h.measure("block_on_ready", "block_on", ready_n, ready_n * (ready_n - 1) / 2, [&] {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < ready_n; ++i) sum += pollscope::block_on(pollscope::ready_future(opaque(i)));
    return sum;
  });
  const std::uint64_t yield_n = s.block_on_yield;
  h.measure("block_on_yield", "block_on", yield_n, yield_n, [&] {
    std::uint64_t done = 0;
    for (std::uint64_t i = 0; i < yield_n; ++i) {
      pollscope::block_on(SelfWaking(opaque(10)));
      ++done;
    }
    return done;
  });

#ifdef __EMSCRIPTEN__
  h.print_json("wasm");
#else
  h.print_json("native");
#endif
  return h.all_ok() ? 0 : 1;
}

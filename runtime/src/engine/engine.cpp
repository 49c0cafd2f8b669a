#include "pollscope/engine/engine.hpp"

#include <stdexcept>

#include "interpreter.hpp"
#include "pollscope/block_on.hpp"
#include "pollscope/local_executor.hpp"
#include "pollscope/run_report.hpp"
#include "pollscope/simulated_pool.hpp"
#include "pollscope/simulated_thread_per_task.hpp"
#include "pollscope/thread_per_task_runtime.hpp"
#include "pollscope/thread_pool.hpp"

namespace pollscope::engine {

using scenario::ExecutorKind;
using scenario::OpKind;

const char* to_string(EndStatus status) noexcept {
  switch (status) {
    case EndStatus::completed: return "completed";
    case EndStatus::stalled: return "stalled";
    case EndStatus::budget_exhausted: return "budget exhausted";
    case EndStatus::failed: return "failed";
  }
  return "unknown";
}

struct Engine::Run {
  explicit Run(scenario::Scenario s, std::uint64_t max_events) : scenario(std::move(s)), store(max_events) {}
  scenario::Scenario scenario;
  TraceStore store;
  std::optional<SnapshotIndex> index;
  Outcome outcome;
};

namespace {

/// Whether this build runs `threads real`. The single-threaded wasm build (the page
/// most visitors load) cannot start a thread, and its loads never ask for real threads
/// (LoadOptions::real_threads_available is false there), so it leaves ThreadPool and
/// ThreadPerTaskRuntime out: ~20 KB less wasm for the page's size budget.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define POLLSCOPE_ENGINE_REAL_THREADS 0
#else
#define POLLSCOPE_ENGINE_REAL_THREADS 1
#endif

/// Real threads may sleep in a `block` for at most this long (the page must stay
/// usable); the virtual clock has no such cap.
constexpr std::chrono::seconds kRealBlockCap{10};

/// Where a setting was written, for diagnostics about settings (1:1 if absent).
std::pair<int, int> setting_position(std::string_view text, std::string_view setting) {
  int line = 1;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(start, end - start);
    if (l.substr(0, setting.size()) == setting &&
        (l.size() == setting.size() || l[setting.size()] == ' ' || l[setting.size()] == '\t')) {
      return {line, 1};
    }
    start = end + 1;
    ++line;
  }
  return {1, 1};
}

/// Spawns the root on `executor` and runs until every task finished or the run
/// stops; `finish` is run() for executors driven by this thread, wait() for real threads.
template <class Executor, class Finish>
RunReport run_tasks(Executor& executor, detail::Interpreter& interpreter, TraceStore& store, Finish finish) {
  interpreter.set_spawner([&executor](Async<> f) { return executor.spawn(std::move(f)); });
  JoinHandle<void> root = executor.spawn(interpreter.function(0, 0));
  store.name_task(static_cast<std::uint32_t>(root.id()), 0);
  return finish(executor);
}

RunReport run_scenario(const scenario::Scenario& sc, TraceStore& store) {
  const scenario::Settings& settings = sc.settings;
  ExecutorOptions options;
  options.virtual_clock = settings.clock == scenario::ClockKind::virtual_time;
  options.tracer = &store;
  // Every poll records at least two events, so this many polls always overrun the
  // event budget: the store truncates at the budget and the run stops soon after.
  options.max_polls = store.max_events() / 2 + 1;
  const auto block_cap = options.virtual_clock ? std::chrono::nanoseconds(scenario::limits::duration)
                                               : std::chrono::nanoseconds(kRealBlockCap);
  detail::Interpreter interpreter(sc, store, block_cap);
  const auto run = [](auto& executor) { return executor.run(); };
  [[maybe_unused]] const auto wait = [](auto& executor) { return executor.wait(); };
  const bool real_threads = settings.threads == scenario::ThreadsKind::real;

  switch (settings.executor) {
    case ExecutorKind::block_on_busy:
    case ExecutorKind::block_on: {
      store.name_task(1, 0);
      try {
        if (settings.executor == ExecutorKind::block_on_busy) {
          block_on_busy(interpreter.function(0, 0), options);
        } else {
          block_on(interpreter.function(0, 0), options);
        }
        return RunReport{};
      } catch (const RunError& error) {
        return error.report();
      }
    }
    case ExecutorKind::local: {
      LocalExecutor executor(options);
      return run_tasks(executor, interpreter, store, run);
    }
    case ExecutorKind::thread_per_task: {
      if (real_threads) {
#if POLLSCOPE_ENGINE_REAL_THREADS
        ThreadPerTaskRuntime executor(options);
        return run_tasks(executor, interpreter, store, wait);
#else
        break;
#endif
      }
      SimulatedThreadPerTask executor(settings.seed, options);
      return run_tasks(executor, interpreter, store, run);
    }
    case ExecutorKind::thread_pool: {
      const auto workers = static_cast<std::size_t>(settings.workers);
      if (real_threads) {
#if POLLSCOPE_ENGINE_REAL_THREADS
        ThreadPool executor(workers, options);
        return run_tasks(executor, interpreter, store, wait);
#else
        break;
#endif
      }
      SimulatedPool executor(workers, settings.seed, options);
      return run_tasks(executor, interpreter, store, run);
    }
  }
  throw std::invalid_argument("executor " + std::string(scenario::to_string(settings.executor)) +
                              (real_threads ? " with threads real" : "") + " is not available in this build");
}

std::string stuck_reason(const scenario::Scenario& sc, const scenario::Op* op, const Snapshot& last,
                         const std::vector<std::uint32_t>& stuck_ids, const Engine& engine) {
  if (op == nullptr) return "it waits for a wake that never comes";
  switch (op->kind) {
    case OpKind::lose_waker:
      return "it returned Pending from lose_waker without keeping its waker; nothing can wake it";
    case OpKind::recv:
      return "it waits on channel \"" + op->target + "\", but no task will ever send to it";
    case OpKind::send:
      return "it waits for room in channel \"" + op->target + "\", but no task will ever receive from it";
    case OpKind::join: {
      const int target = sc.task_index(op->target);
      for (const TaskView& t : last.tasks) {
        if (t.function == target) {
          for (std::uint32_t id : stuck_ids) {
            if (id == t.id) return "it waits for " + engine.task_name(id) + " to finish, which is stuck too";
          }
          return "it waits for " + engine.task_name(t.id) + " to finish";
        }
      }
      return "it waits for task \"" + op->target + "\" to be spawned, which never happens";
    }
    default:
      return "it waits for a wake that never comes";
  }
}

}  // namespace

std::optional<Outcome> failed_outcome(const TraceStore& store,
                                      const std::function<std::string(std::uint32_t)>& name_of) {
  const std::vector<PackedEvent>& events = store.events();
  Outcome out;
  out.status = EndStatus::failed;
  // TraceStore keeps the message of every task_error (an empty one too), by step.
  for (const auto& [step, message] : store.messages()) {
    if (step < events.size() && events[step].kind == EventKind::task_error) {
      out.failures.push_back(TaskFailure{events[step].task, step, message});
    }
  }
  if (out.failures.empty()) return std::nullopt;
  const TaskFailure& first = out.failures.front();
  out.summary = "failed: " + name_of(first.task) + " threw an exception: " + first.message;
  if (out.failures.size() > 1) out.summary += " (" + std::to_string(out.failures.size()) + " tasks failed)";
  return out;
}

Engine::Engine() = default;
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

scenario::ParseResult Engine::load(std::string_view text, const LoadOptions& options) {
  scenario::ParseResult parsed = scenario::parse(text);
  if (!parsed.ok()) return parsed;
  scenario::Scenario& sc = *parsed.scenario;
  if (sc.settings.threads == scenario::ThreadsKind::real && !options.real_threads_available) {
    auto [line, column] = setting_position(text, "threads");
    parsed.diagnostics.push_back(scenario::Diagnostic{
        scenario::Severity::error, line, column,
        "real threads are not available here: this page is not cross-origin isolated, so the browser gives it "
        "no SharedArrayBuffer and no threads",
        "use \"threads simulated\": it shows the same design, deterministically, or open the full playground"});
    parsed.scenario.reset();
    return parsed;
  }
  const std::uint64_t max_events = options.max_events != 0 ? options.max_events : sc.settings.max_events;
  auto run = std::make_unique<Run>(sc, max_events);
  RunReport report;
  try {
    report = run_scenario(run->scenario, run->store);
  } catch (const std::invalid_argument& unavailable) {
    auto [line, column] = setting_position(text, "executor");
    parsed.diagnostics.push_back(
        scenario::Diagnostic{scenario::Severity::error, line, column, unavailable.what(), "use executor local"});
    parsed.scenario.reset();
    return parsed;
  }
  run->index.emplace(run->store);
  run_ = std::move(run);

  Outcome& out = run_->outcome;
  const std::uint64_t events = run_->store.events().size();
  if (std::optional<Outcome> failed =
          failed_outcome(run_->store, [this](std::uint32_t task) { return task_name(task); })) {
    out = std::move(*failed);
  } else if (run_->store.truncated() || report.status == RunStatus::budget_exhausted) {
    out.status = EndStatus::budget_exhausted;
    out.summary = "budget exhausted: stopped after " + std::to_string(events) + " events";
  } else if (report.status == RunStatus::stalled) {
    out.status = EndStatus::stalled;
    const Snapshot last = run_->index->at(events);
    std::vector<std::uint32_t> ids;
    for (TaskId id : report.stuck_tasks) ids.push_back(static_cast<std::uint32_t>(id));
    std::string names;
    for (std::uint32_t id : ids) {
      StuckTask stuck;
      stuck.task = id;
      if (id >= 1 && id <= last.tasks.size()) {
        const TaskView& view = last.tasks[id - 1];
        stuck.function = view.function;
        if (!view.stack.empty()) {
          stuck.function = view.stack.back().function;
          stuck.line = view.stack.back().line;
        }
      }
      stuck.reason = stuck_reason(run_->scenario, op_at(stuck.function, stuck.line), last, ids, *this);
      names += (names.empty() ? "" : ", ") + task_name(id);
      out.stuck.push_back(std::move(stuck));
    }
    out.summary = "stalled: " + names + " can never be woken";
  } else {
    out.status = EndStatus::completed;
    out.summary = "completed in " + std::to_string(events) + " events";
  }
  return parsed;
}

const scenario::Scenario& Engine::scenario() const {
  if (!run_) throw std::logic_error("pollscope::engine::Engine: nothing loaded");
  return run_->scenario;
}

std::uint64_t Engine::event_count() const { return run_ ? run_->store.events().size() : 0; }

Event Engine::event(std::uint64_t index) const {
  if (index >= event_count()) throw std::out_of_range("pollscope::engine::Engine::event: no event " + std::to_string(index));
  Event e = unpack(run_->store.events()[static_cast<std::size_t>(index)], index);
  auto it = run_->store.messages().find(static_cast<std::uint32_t>(index));
  if (it != run_->store.messages().end()) e.message = it->second;
  return e;
}

Snapshot Engine::snapshot(std::uint64_t step) const {
  if (!run_) return Snapshot{};
  return run_->index->at(step);
}

const Outcome& Engine::outcome() const {
  static const Outcome none;
  return run_ ? run_->outcome : none;
}

const TraceStore& Engine::store() const {
  if (!run_) throw std::logic_error("pollscope::engine::Engine: nothing loaded");
  return run_->store;
}

std::string Engine::task_name(std::uint32_t task) const {
  if (run_) {
    const std::vector<int>& functions = run_->store.task_functions();
    if (task < functions.size() && functions[task] >= 0) {
      return run_->scenario.tasks[static_cast<std::size_t>(functions[task])].name;
    }
  }
  return "task " + std::to_string(task);
}

const scenario::Op* Engine::op_at(int function, std::uint32_t line) const {
  if (!run_ || function < 0 || static_cast<std::size_t>(function) >= run_->scenario.tasks.size()) return nullptr;
  for (const scenario::Op& op : run_->scenario.tasks[static_cast<std::size_t>(function)].ops) {
    if (static_cast<std::uint32_t>(op.line) == line) return &op;
  }
  return nullptr;
}

}  // namespace pollscope::engine

// pollscope scenario format: the model, the text parser/printer and the JSON form.
//
// A scenario describes tasks for the executor playground in a small line-based text
// format (see `format_help` below for the reference). `parse` turns text into a
// validated `Scenario` or a list of diagnostics; `to_text` prints the canonical text;
// `to_json`/`from_json` convert to and from JSON with the same validation as the text.
//
// Round trips:
//   * parse(to_text(s)) gives back `s` apart from source positions (line/column), for
//     every valid `s`; for a scenario that was itself parsed from canonical text it
//     gives back exactly `s` (to_text is a fixed point).
//   * from_json(to_json(s)) gives back exactly `s`, positions included.
//   Use `same_content` to compare two scenarios while ignoring source positions.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pollscope::scenario {

// ---------------------------------------------------------------------------------
// Enumerations. `to_string` gives the spelling used in the text format and in JSON.

enum class ExecutorKind { block_on_busy, block_on, local, thread_per_task, thread_pool };
enum class ClockKind { virtual_time, real_time };  // spelled "virtual" / "real"
enum class ThreadsKind { simulated, real };
enum class OpKind { count, yield, sleep, spawn, join, call, send, recv, block, lose_waker };
enum class Severity { error, warning, note };

inline constexpr std::array<ExecutorKind, 5> all_executor_kinds{
    ExecutorKind::block_on_busy, ExecutorKind::block_on, ExecutorKind::local,
    ExecutorKind::thread_per_task, ExecutorKind::thread_pool};
inline constexpr std::array<OpKind, 10> all_op_kinds{
    OpKind::count, OpKind::yield, OpKind::sleep, OpKind::spawn, OpKind::join,
    OpKind::call,  OpKind::send,  OpKind::recv,  OpKind::block, OpKind::lose_waker};

[[nodiscard]] std::string_view to_string(ExecutorKind kind) noexcept;
[[nodiscard]] std::string_view to_string(ClockKind kind) noexcept;
[[nodiscard]] std::string_view to_string(ThreadsKind kind) noexcept;
[[nodiscard]] std::string_view to_string(OpKind kind) noexcept;
[[nodiscard]] std::string_view to_string(Severity severity) noexcept;

// ---------------------------------------------------------------------------------
// Limits (all inclusive). Each one has its own diagnostic.

namespace limits {
inline constexpr std::size_t text_bytes = 16 * 1024;    // UTF-8 bytes of scenario text
inline constexpr std::size_t json_bytes = 1024 * 1024;  // bytes of JSON given to from_json
inline constexpr int tasks = 64;
inline constexpr int ops_per_task = 256;
inline constexpr int channels = 64;
inline constexpr int name_length = 32;   // characters of a task or channel name
inline constexpr int real_threads = 16;  // browser: one Web Worker per real thread
inline constexpr int errors = 50;        // errors reported before the parser gives up
inline constexpr int warnings = 50;
inline constexpr std::uint64_t count = 1'000'000;       // count N: 0..count
inline constexpr std::uint64_t yield = 1'000'000;       // yield N: 1..yield
inline constexpr std::uint64_t capacity = 1'000'000;    // channel capacity: 1..capacity
inline constexpr std::uint64_t max_events = 1'000'000;  // max_events N: 1..max_events
inline constexpr int workers = 8;                       // workers N: 1..workers
inline constexpr std::chrono::nanoseconds duration = std::chrono::hours{1};  // 0..duration
static_assert(workers <= real_threads, "a thread pool always fits the real-thread limit");
}  // namespace limits

// ---------------------------------------------------------------------------------
// The model. Source positions are 1-based (columns count code points; a tab is one
// column); 0 means "unknown" (a scenario built by hand or read from JSON without them).

struct Op {
  OpKind kind = OpKind::count;
  std::uint64_t amount = 0;              // count N, yield N (yield without N stores 1)
  std::int64_t value = 0;                // send CHANNEL VALUE
  std::chrono::nanoseconds duration{0};  // sleep, block
  std::string target;                    // spawn/join/call: a task; send/recv: a channel
  int line = 0;                          // position of the operation keyword
  int column = 0;
  // Fields an operation does not use stay at their zero value, so == is meaningful.
  friend bool operator==(const Op&, const Op&) = default;
};

struct Task {
  std::string name;
  int line = 0;  // line of "task NAME" (always at column 1)
  std::vector<Op> ops;
  friend bool operator==(const Task&, const Task&) = default;
};

struct Channel {
  std::string name;
  std::uint64_t capacity = 1;
  int line = 0;  // line of "channel NAME" (always at column 1)
  friend bool operator==(const Channel&, const Channel&) = default;
};

// Every setting has its default here; the text omits settings that are at the default
// (except `executor`, which is always printed).
struct Settings {
  ExecutorKind executor = ExecutorKind::local;
  ClockKind clock = ClockKind::virtual_time;
  ThreadsKind threads = ThreadsKind::simulated;
  int workers = 2;                     // thread_pool only
  std::uint64_t seed = 1;              // interleaving of simulated threads
  std::uint64_t max_events = 100'000;  // the engine's event budget
  friend bool operator==(const Settings&, const Settings&) = default;
};

struct Scenario {
  Settings settings;
  std::vector<Task> tasks;  // tasks[0] is the root future
  std::vector<Channel> channels;

  // Index of the task/channel with that name, or -1. Task and channel names live in
  // separate namespaces (a task and a channel may share a name).
  [[nodiscard]] int task_index(std::string_view name) const noexcept;
  [[nodiscard]] int channel_index(std::string_view name) const noexcept;
  // The root task. Precondition: !tasks.empty() (always true for a parsed scenario).
  [[nodiscard]] const Task& root() const { return tasks.front(); }

  friend bool operator==(const Scenario&, const Scenario&) = default;
};

// Equal apart from source positions (Op/Task/Channel line and column).
[[nodiscard]] bool same_content(const Scenario& a, const Scenario& b);

// ---------------------------------------------------------------------------------
// Diagnostics. Messages and hints are plain lowercase sentences without a trailing
// period; names and values from the input are shown in double quotes. Diagnostics from
// the text are sorted by position. Diagnostics from JSON have line 0 / column 0 and
// start with a path, e.g. `tasks[1].ops[0].kind: unknown operation "cont"`, except
// JSON syntax errors, which carry the line/column in the JSON text.
// At most limits::errors errors and limits::warnings warnings are kept; when more were
// found, a final note says so.

struct Diagnostic {
  Severity severity = Severity::error;
  int line = 0;
  int column = 0;
  std::string message;
  std::string hint;  // may be empty
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

struct ParseResult {
  std::optional<Scenario> scenario;  // present iff there is no error (warnings allowed)
  std::vector<Diagnostic> diagnostics;
  [[nodiscard]] bool ok() const noexcept { return scenario.has_value(); }
};

// "FILE:LINE:COL: error: message\nhint: ...\n" (the location parts that are 0 are left
// out; the hint line only when there is a hint).
[[nodiscard]] std::string format_diagnostic(const Diagnostic& diagnostic,
                                            std::string_view source_name);

// ---------------------------------------------------------------------------------
// Text and JSON.

[[nodiscard]] ParseResult parse(std::string_view text);

// Canonical text: `executor` always, other settings when they differ from the default,
// then channels, then tasks (blank line between sections and tasks, two-space indent).
[[nodiscard]] std::string to_text(const Scenario& scenario);

// JSON object {"settings": {...}, "channels": [...], "tasks": [...]}. Settings follow
// the to_text rule. Durations are strings in the text syntax ("5ms"). seed and send
// values are numbers when |x| <= 2^53-1 (exact in JavaScript), decimal strings
// otherwise; from_json accepts both forms. line/column are written when non-zero.
[[nodiscard]] std::string to_json(const Scenario& scenario);
[[nodiscard]] ParseResult from_json(std::string_view json);

// Shortest exact spelling with the largest unit: 5ms, 1500us, 0s.
[[nodiscard]] std::string format_duration(std::chrono::nanoseconds duration);

// ---------------------------------------------------------------------------------
// Reference of the text format (for `pollscope --help` and the playground).

inline constexpr std::string_view format_help = R"(pollscope scenario format

A scenario is UTF-8 text of at most 16 KiB, one statement per line. "#" starts a
comment that runs to the end of the line; blank lines are ignored; CRLF is fine.

Top-level lines start at column 1:
  task NAME                define a task; its operations follow on indented lines
  channel NAME [CAP]       declare a channel, capacity 1..1000000 (default 1)
  executor KIND            block_on_busy | block_on | local | thread_per_task
                           | thread_pool                       (default local)
  clock KIND               virtual | real                      (default virtual)
  threads KIND             simulated | real      (default simulated; only for
                           thread_per_task and thread_pool; real needs clock real)
  workers N                1..8, default 2                  (thread_pool only)
  seed N                   0..18446744073709551615, default 1: the interleaving of
                           simulated threads
  max_events N             1..1000000, default 100000: the engine's event budget
Each setting may appear once, anywhere at top level.

Operations, indented with spaces or tabs under their task; each is one await
unless noted:
  count N            Counter future: Pending N-1 times (waking itself), then Ready
                     (N 0..1000000)
  yield [N]          give the executor a turn N times (default 1, 1..1000000)
  sleep DURATION     wait for a timer
  block DURATION     a blocking call inside poll (holds the thread)
  spawn TASK         start TASK as a separate task (not an await)
  join TASK          wait until a spawned TASK has finished
  call TASK          await TASK's async function inline (a nested call, no spawn)
  send CHANNEL VALUE send a signed 64-bit integer (waits while the channel is full)
  recv CHANNEL       receive a value (waits while the channel is empty)
  lose_waker         return Pending without keeping the waker

NAME      letter or _, then letters, digits or _ (at most 32 characters). Tasks and
          channels have separate names; keywords may be used as names.
N         decimal digits; _ may separate digits (1_000).
DURATION  whole number and unit ns, us (or µs), ms or s, e.g. 5ms; 0 to 1 hour.

Rules:
  - the first task is the root future; at most 64 tasks, 256 operations per task
    and 64 channels
  - a task is either spawned (at most once) or called, never both; the root is
    neither; join only spawned tasks; calls must not form a cycle
  - block_on_busy and block_on have no run queue: no spawn or join
  - threads real runs on the real clock and allows at most 16 real threads (the
    browser starts one Web Worker per thread): with thread_per_task, the root and
    each spawn the run executes need one (a spawn in a task called N times runs N
    times)
  - settings that do not apply to the executor, and tasks that never run, are
    warnings

Example:
  executor thread_per_task
  seed 7

  task main
    spawn a
    spawn b
    join a
    join b

  task a
    count 10

  task b
    sleep 5ms
    count 3
)";

}  // namespace pollscope::scenario

// Tests of the scenario format: parse, to_text, to_json/from_json and every diagnostic.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pollscope/scenario.hpp"

using namespace pollscope::scenario;
using namespace std::chrono_literals;
using Diags = std::vector<Diagnostic>;

namespace Catch {
template <>
struct StringMaker<Diagnostic> {
  static std::string convert(const Diagnostic& d) {
    return "{" + std::string(to_string(d.severity)) + " " + std::to_string(d.line) + ":" +
           std::to_string(d.column) + " \"" + d.message + "\" hint \"" + d.hint + "\"}";
  }
};
template <>
struct StringMaker<Scenario> {
  static std::string convert(const Scenario& s) { return "\n" + to_text(s); }
};
}  // namespace Catch

namespace {

Diagnostic error(int line, int column, std::string message, std::string hint = {}) {
  return {Severity::error, line, column, std::move(message), std::move(hint)};
}
Diagnostic warning(int line, int column, std::string message, std::string hint = {}) {
  return {Severity::warning, line, column, std::move(message), std::move(hint)};
}
// A diagnostic from JSON: no position, the path is part of the message.
Diagnostic json_error(std::string message, std::string hint = {}) {
  return error(0, 0, std::move(message), std::move(hint));
}

Diags diags(std::string_view text) {
  return parse(text).diagnostics;
}

// Parses text that must be valid and free of warnings.
Scenario clean(std::string_view text) {
  ParseResult r = parse(text);
  INFO(text);
  CHECK(r.diagnostics == Diags{});
  REQUIRE(r.ok());
  return *r.scenario;
}

Scenario clean_json(std::string_view text) {
  ParseResult r = from_json(text);
  INFO(text);
  CHECK(r.diagnostics == Diags{});
  REQUIRE(r.ok());
  return *r.scenario;
}

std::string repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

// "task main" spawning t1..tN, each with one yield.
std::string spawning(int spawned, std::string_view settings = {}) {
  std::string text(settings);
  text += "task main\n";
  for (int i = 1; i <= spawned; ++i) text += "  spawn t" + std::to_string(i) + "\n";
  for (int i = 1; i <= spawned; ++i) text += "task t" + std::to_string(i) + "\n  yield\n";
  return text;
}

const std::string kOpsHint =
    "operations are count, yield, sleep, spawn, join, call, send, recv, block, lose_waker";
const std::string kNameHint =
    "names start with a letter or \"_\" and continue with letters, digits or \"_\"";
const std::string kExecutors =
    "choose one of: block_on_busy, block_on, local, thread_per_task, thread_pool";
const std::string kNoQueueHint =
    " runs only the root future; use \"call TASK\" to await a task inline, or \"executor local\"";
const std::string kCycleHint =
    "a call runs the called task inline until it finishes, so a cycle never ends; remove one of "
    "these calls";
const std::string kUtf8Hint = "the scenario must be UTF-8 text; save it as UTF-8";
const std::string kControlHint = "only tab, line feed and carriage return may appear; remove it";
const Diagnostic kNoTask = error(1, 1, "the scenario has no task",
                                 "add a root task: a \"task main\" line followed by indented "
                                 "operations");

const std::string kArticle = R"(# two tasks on a thread per task, as in the article
executor thread_per_task     # block_on_busy | block_on | local | thread_per_task | thread_pool
threads simulated            # simulated (default: deterministic, runs everywhere) | real
seed 7                       # interleaving of simulated threads

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

}  // namespace

// ===================================================================================
// The model

TEST_CASE("the article's example parses into its settings, three tasks and their operations") {
  const Scenario s = clean(kArticle);
  CHECK(s.settings == Settings{ExecutorKind::thread_per_task, ClockKind::virtual_time,
                               ThreadsKind::simulated, 2, 7, 100'000});
  REQUIRE(s.tasks.size() == 3);
  CHECK(s.channels.empty());
  CHECK(s.tasks[0] ==
        Task{"main",
             6,
             {Op{OpKind::spawn, 0, 0, 0ns, "a", 7, 3}, Op{OpKind::spawn, 0, 0, 0ns, "b", 8, 3},
              Op{OpKind::join, 0, 0, 0ns, "a", 9, 3}, Op{OpKind::join, 0, 0, 0ns, "b", 10, 3}}});
  CHECK(s.tasks[1] == Task{"a", 12, {Op{OpKind::count, 10, 0, 0ns, "", 13, 3}}});
  CHECK(s.tasks[2] ==
        Task{"b",
             15,
             {Op{OpKind::sleep, 0, 0, 5ms, "", 16, 3}, Op{OpKind::count, 3, 0, 0ns, "", 17, 3}}});
  CHECK(s.root().name == "main");
}

TEST_CASE("a count line parses into a count operation with its amount") {
  const Scenario s = clean("task main\n  count 42\n");
  CHECK(s.tasks[0].ops == std::vector<Op>{Op{OpKind::count, 42, 0, 0ns, "", 2, 3}});
}

TEST_CASE("count accepts 0 and 1000000 and rejects 1000001") {
  CHECK(clean("task main\n  count 0\n").tasks[0].ops[0].amount == 0);
  CHECK(clean("task main\n  count 1000000\n").tasks[0].ops[0].amount == 1'000'000);
  CHECK(diags("task main\n  count 1000001\n") ==
        Diags{error(2, 9, "count must be between 0 and 1000000, got 1000001")});
}

TEST_CASE("yield without a number yields once and yield N stores N") {
  const Scenario s = clean("task main\n  yield\n  yield 5\n  yield 1000000\n");
  CHECK(s.tasks[0].ops[0] == Op{OpKind::yield, 1, 0, 0ns, "", 2, 3});
  CHECK(s.tasks[0].ops[1].amount == 5);
  CHECK(s.tasks[0].ops[2].amount == 1'000'000);
}

TEST_CASE("yield rejects 0 and 1000001") {
  CHECK(diags("task main\n  yield 0\n  yield 1000001\n") ==
        Diags{error(2, 9, "yield must be between 1 and 1000000, got 0"),
              error(3, 9, "yield must be between 1 and 1000000, got 1000001")});
}

TEST_CASE("sleep and block read durations in ns, us, µs, ms and s") {
  const Scenario s = clean(
      "task main\n  sleep 7ns\n  sleep 3us\n  sleep 4µs\n  sleep 5μs\n  block 2ms\n  block 9s\n");
  const auto& ops = s.tasks[0].ops;
  CHECK(ops[0] == Op{OpKind::sleep, 0, 0, 7ns, "", 2, 3});
  CHECK(ops[1].duration == 3us);
  CHECK(ops[2].duration == 4us);
  CHECK(ops[3].duration == 5us);
  CHECK(ops[4] == Op{OpKind::block, 0, 0, 2ms, "", 6, 3});
  CHECK(ops[5].duration == 9s);
}

TEST_CASE("durations from 0 to one hour are accepted and one nanosecond more is an error") {
  CHECK(clean("task main\n  sleep 0s\n").tasks[0].ops[0].duration == 0ns);
  CHECK(clean("task main\n  sleep 3600s\n").tasks[0].ops[0].duration == 1h);
  CHECK(clean("task main\n  block 3600000000000ns\n").tasks[0].ops[0].duration == 1h);
  const std::string bound = "duration must be between 0 and 3600s (1 hour), got ";
  CHECK(diags("task main\n  sleep 3600000000001ns\n  block 3601s\n") ==
        Diags{error(2, 9, "sleep " + bound + "3600000000001ns"),
              error(3, 9, "block " + bound + "3601s")});
}

TEST_CASE("negative and huge durations are out of range") {
  const std::string bound = "sleep duration must be between 0 and 3600s (1 hour), got ";
  CHECK(diags("task main\n  sleep -5ms\n  sleep 99999999999999999999999s\n") ==
        Diags{error(2, 9, bound + "-5ms"), error(3, 9, bound + "99999999999999999999999s")});
}

TEST_CASE("a duration without a unit is an error that lists the units") {
  CHECK(diags("task main\n  sleep 5\n") ==
        Diags{error(2, 9, "duration \"5\" has no unit",
                    "add a unit: ns, us, ms or s, e.g. \"sleep 5ms\"")});
}

TEST_CASE("a unit written apart from its number is one error suggesting to join them") {
  CHECK(diags("task main\n  block 5 ms\n") ==
        Diags{error(2, 9, "duration \"5\" has no unit",
                    "write the number and its unit without a space: \"5ms\"")});
}

TEST_CASE("an unknown duration unit is reported at the unit") {
  CHECK(diags("task main\n  sleep 15min\n") ==
        Diags{error(2, 11, "unknown duration unit \"min\"", "units are ns, us, ms or s")});
}

TEST_CASE("a duration that does not start with a number is an error") {
  CHECK(diags("task main\n  sleep ms\n") ==
        Diags{error(2, 9, "sleep needs a duration, got \"ms\"",
                    "write a whole number and a unit (ns, us, ms or s), e.g. \"sleep 5ms\"")});
}

TEST_CASE("spawn, join and call store the task name as their target") {
  const Scenario s = clean("task main\n  spawn a\n  join a\n  call b\ntask a\ntask b\n");
  CHECK(s.tasks[0].ops[0] == Op{OpKind::spawn, 0, 0, 0ns, "a", 2, 3});
  CHECK(s.tasks[0].ops[1] == Op{OpKind::join, 0, 0, 0ns, "a", 3, 3});
  CHECK(s.tasks[0].ops[2] == Op{OpKind::call, 0, 0, 0ns, "b", 4, 3});
}

TEST_CASE("send stores the channel and a signed value and recv stores the channel") {
  const Scenario s = clean("channel c\ntask main\n  send c -5\n  recv c\n");
  CHECK(s.tasks[0].ops[0] == Op{OpKind::send, 0, -5, 0ns, "c", 3, 3});
  CHECK(s.tasks[0].ops[1] == Op{OpKind::recv, 0, 0, 0ns, "c", 4, 3});
}

TEST_CASE("send values cover the signed 64-bit range and nothing beyond it") {
  const Scenario s = clean(
      "channel c 2\ntask main\n  send c -9223372036854775808\n  send c 9223372036854775807\n"
      "  recv c\n");
  CHECK(s.tasks[0].ops[0].value == INT64_MIN);
  CHECK(s.tasks[0].ops[1].value == INT64_MAX);
  const std::string bound =
      "send value must be between -9223372036854775808 and 9223372036854775807, got ";
  CHECK(diags("channel c\ntask main\n  send c 9223372036854775808\n  send c "
              "-9223372036854775809\n  recv c\n") ==
        Diags{error(3, 10, bound + "9223372036854775808"),
              error(4, 10, bound + "-9223372036854775809")});
}

TEST_CASE("lose_waker takes no argument") {
  CHECK(clean("task main\n  lose_waker\n").tasks[0].ops[0] ==
        Op{OpKind::lose_waker, 0, 0, 0ns, "", 2, 3});
  CHECK(diags("task main\n  lose_waker now\n") ==
        Diags{error(2, 14, "too many arguments for lose_waker", "lose_waker takes no arguments")});
}

TEST_CASE("settings take their defaults when they are not given") {
  const Scenario s = clean("task main\n");
  CHECK(s.settings == Settings{});
  CHECK(s.settings.executor == ExecutorKind::local);
  CHECK(s.settings.clock == ClockKind::virtual_time);
  CHECK(s.settings.threads == ThreadsKind::simulated);
  CHECK(s.settings.workers == 2);
  CHECK(s.settings.seed == 1);
  CHECK(s.settings.max_events == 100'000);
}

TEST_CASE("every executor kind and every setting value is read") {
  for (ExecutorKind e : all_executor_kinds) {
    const Scenario s = clean("executor " + std::string(to_string(e)) + "\ntask main\n");
    CHECK(s.settings.executor == e);
  }
  const Scenario s = clean(
      "executor thread_pool\nclock real\nthreads real\nworkers 8\nmax_events 1000000\ntask main\n");
  CHECK(s.settings == Settings{ExecutorKind::thread_pool, ClockKind::real_time, ThreadsKind::real,
                               8, 1, 1'000'000});
  CHECK(clean("executor thread_pool\nseed 18446744073709551615\ntask main\n").settings.seed ==
        UINT64_MAX);
  CHECK(clean("executor thread_pool\nseed 0\ntask main\n").settings.seed == 0);
}

TEST_CASE("underscores may separate digits in numbers") {
  const Scenario s = clean("task main\n  count 1_000_000\n  sleep 1_500us\n");
  CHECK(s.tasks[0].ops[0].amount == 1'000'000);
  CHECK(s.tasks[0].ops[1].duration == 1500us);
}

TEST_CASE("a number that is not plain decimal digits is an error with the usage") {
  const std::string usage = "usage: count N, e.g. \"count 3\"";
  CHECK(diags("task main\n  count abc\n  count 1.5\n  count +3\n  count 1__0\n  count _1\n"
              "  count 1_\n  count 0x10\n") ==
        Diags{error(2, 9, "count must be a whole number, got \"abc\"", usage),
              error(3, 9, "count must be a whole number, got \"1.5\"", usage),
              error(4, 9, "count must be a whole number, got \"+3\"", usage),
              error(5, 9, "count must be a whole number, got \"1__0\"", usage),
              error(6, 9, "count must be a whole number, got \"_1\"", usage),
              error(7, 9, "count must be a whole number, got \"1_\"", usage),
              error(8, 9, "count must be a whole number, got \"0x10\"", usage)});
}

TEST_CASE("a negative count or a count beyond 64 bits reports the range") {
  CHECK(diags("task main\n  count -3\n  count 18446744073709551616\n") ==
        Diags{error(2, 9, "count must be between 0 and 1000000, got -3"),
              error(3, 9, "count must be between 0 and 1000000, got 18446744073709551616")});
}

TEST_CASE("a send value or a capacity that is not a number is an error with the usage") {
  CHECK(diags("channel c many\ntask main\n  send c five\n") ==
        Diags{error(1, 11, "channel capacity must be a whole number, got \"many\"",
                    "usage: channel NAME [CAPACITY], e.g. \"channel jobs 4\""),
              error(3, 10, "send value must be a whole number, got \"five\"",
                    "usage: send CHANNEL VALUE, e.g. \"send jobs 42\"")});
}

TEST_CASE("a channel's capacity defaults to 1 and accepts 1 to 1000000") {
  const Scenario s = clean(
      "channel a\nchannel b 1000000\ntask main\n  send a 1\n  recv a\n  send b 2\n  recv b\n");
  CHECK(s.channels == std::vector<Channel>{{"a", 1, 1}, {"b", 1'000'000, 2}});
  const std::string bound = "channel capacity must be between 1 and 1000000, got ";
  CHECK(diags("channel a 0\nchannel b 1000001\ntask main\n  send a 1\n  send b 1\n") ==
        Diags{error(1, 11, bound + "0"), error(2, 11, bound + "1000001")});
}

TEST_CASE("channels may be declared anywhere at top level, also after their use") {
  const Scenario s = clean("task main\n  send late 1\n  recv late\nchannel late\n");
  CHECK(s.channels == std::vector<Channel>{{"late", 1, 4}});
}

TEST_CASE("tasks and channels have separate names and keywords may be used as names") {
  const Scenario s = clean(
      "channel task\nchannel x\ntask x\n  send x 1\n  recv task\n  spawn count\n  call channel\n"
      "task count\n  send task 2\n  recv x\ntask channel\n");
  CHECK(s.task_index("x") == 0);
  CHECK(s.task_index("count") == 1);
  CHECK(s.task_index("channel") == 2);
  CHECK(s.channel_index("task") == 0);
  CHECK(s.channel_index("x") == 1);
  CHECK(s.task_index("nope") == -1);
  CHECK(s.channel_index("count") == -1);
}

TEST_CASE("a task without operations is allowed") {
  const Scenario s = clean("task main\n  call empty\ntask empty\n");
  CHECK(s.tasks[1].ops.empty());
}

TEST_CASE(
    "operations may be indented with tabs or any number of spaces and tabs count as one "
    "column") {
  const Scenario s = clean("task main\n\tcount 1\n        yield\n \t spawn a\ntask a\n");
  CHECK(s.tasks[0].ops[0].column == 2);
  CHECK(s.tasks[0].ops[1].column == 9);
  CHECK(s.tasks[0].ops[2].column == 4);
  CHECK(diags("task main\n\tcount\tx\n") ==
        Diags{error(2, 8, "count must be a whole number, got \"x\"",
                    "usage: count N, e.g. \"count 3\"")});
}

// ===================================================================================
// Comments, blank lines, line endings

TEST_CASE("comments start with # anywhere and run to the end of the line") {
  const Scenario s = clean(
      "#executor block_on\nexecutor local#comment\ntask main # the root\n  count 3#three\n"
      "  # a whole comment line\n#  yield\n");
  CHECK(s.tasks[0].ops == std::vector<Op>{Op{OpKind::count, 3, 0, 0ns, "", 4, 3}});
  // "#" ends a name too.
  CHECK(clean("task main\n  call a#b\ntask a\n").tasks[0].ops[0].target == "a");
}

TEST_CASE("blank lines are ignored, also between a task line and its operations") {
  const Scenario s = clean("\n\n   \ntask main\n\n  \t \n  count 1\n\n\n");
  CHECK(s.tasks[0].line == 4);
  CHECK(s.tasks[0].ops[0].line == 7);
}

TEST_CASE("CRLF line endings are accepted and give the same scenario as LF") {
  std::string crlf;
  for (char c : kArticle) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  CHECK(clean(crlf) == clean(kArticle));
  CHECK(clean("task main\r\n  count 1\r").tasks[0].ops[0].amount == 1);
}

TEST_CASE("a missing final newline is fine") {
  CHECK(clean("task main\n  count 1").tasks[0].ops[0].amount == 1);
}

TEST_CASE("a UTF-8 byte order mark at the start is skipped") {
  const Scenario s = clean("\xEF\xBB\xBFtask main\n  count 1\n");
  CHECK(s.tasks[0].line == 1);
  CHECK(diags("\xEF\xBB\xBFtask 1\n") ==
        Diags{kNoTask, error(1, 6, "invalid task name \"1\"", kNameHint)});
}

// ===================================================================================
// Encoding

TEST_CASE("invalid UTF-8 is reported at the line and column where it occurs") {
  const auto at = [](int line, int column, std::string byte) {
    return error(line, column, "invalid UTF-8 byte sequence starting with byte 0x" + byte,
                 kUtf8Hint);
  };
  CHECK(diags("task main\n  count \xFF\n") == Diags{at(2, 9, "FF")});
  CHECK(diags("task main\n  count 1 # caf\xC3\n") == Diags{at(2, 16, "C3")});  // truncated
  CHECK(diags("\x80task main\n") == Diags{at(1, 1, "80")});                    // continuation
  CHECK(diags("task m\xC0\xAF\n") == Diags{at(1, 7, "C0")});                   // overlong
  CHECK(diags("task m\xE0\x80\xAF\n") == Diags{at(1, 7, "E0")});               // overlong
  CHECK(diags("task m\xED\xA0\x80\n") == Diags{at(1, 7, "ED")});               // surrogate
  CHECK(diags("task m\xF4\x90\x80\x80\n") == Diags{at(1, 7, "F4")});           // > U+10FFFF
  CHECK(diags("task m\xE2\x82 x\n") == Diags{at(1, 7, "E2")});                 // cut short
}

TEST_CASE("a multi-byte character before an error shifts the column by one") {
  // ü (2 bytes), € (3 bytes) and 😀 (4 bytes) are one column each.
  CHECK(diags("channel c\ntask main\n  send ü 1 2\n") ==
        Diags{warning(1, 9, "channel \"c\" is never used",
                      "use it with \"send c VALUE\" and \"recv c\", or remove it"),
              error(3, 8, "invalid channel name \"ü\"", kNameHint),
              error(3, 12, "too many arguments for send",
                    "usage: send CHANNEL VALUE, e.g. \"send jobs 42\"")});
  CHECK(
      diags("task main\n  call €uro x\n") ==
      Diags{error(2, 8, "invalid task name \"€uro\"", kNameHint),
            error(2, 13, "too many arguments for call", "usage: call TASK, e.g. \"call fetch\"")});
  CHECK(diags("task main\n  count 1 # 😀😀 \xFF\n") ==
        Diags{error(2, 16, "invalid UTF-8 byte sequence starting with byte 0xFF", kUtf8Hint)});
  CHECK(diags("task main\n  count 😀 1\n") ==
        Diags{error(2, 9, "count must be a whole number, got \"😀\"",
                    "usage: count N, e.g. \"count 3\""),
              error(2, 11, "too many arguments for count", "usage: count N, e.g. \"count 3\"")});
}

TEST_CASE("NUL, DEL and the other control characters are rejected") {
  const auto at = [](int line, int column, std::string code) {
    return error(line, column, "control character U+" + code + " is not allowed", kControlHint);
  };
  CHECK(diags(std::string("task main\n  count 1\0\n", 21)) == Diags{at(2, 10, "0000")});
  CHECK(diags("task \x1B[31mmain\n") == Diags{at(1, 6, "001B")});
  CHECK(diags("task main\n  yield\x7F\n") == Diags{at(2, 8, "007F")});
  CHECK(diags("task main # \xC2\x85\n") == Diags{at(1, 13, "0085")});
  CHECK(diags("task main\v\n\f\n") == Diags{at(1, 10, "000B"), at(2, 1, "000C")});
}

TEST_CASE("a carriage return without a line feed is rejected") {
  CHECK(diags("task main\r  count 1\n") ==
        Diags{error(1, 10, "carriage return without a line feed", "end lines with LF or CRLF")});
}

TEST_CASE("each line reports only its first encoding problem, and every such line is reported") {
  CHECK(diags("task \xFF\x01\n  count \x02\n") ==
        Diags{error(1, 6, "invalid UTF-8 byte sequence starting with byte 0xFF", kUtf8Hint),
              error(2, 9, "control character U+0002 is not allowed", kControlHint)});
}

// ===================================================================================
// Layout errors

TEST_CASE("an indented line before any task is an error") {
  CHECK(diags("  count 1\ntask main\n") ==
        Diags{error(1, 3, "indented line before any task",
                    "indented lines are operations of the \"task NAME\" line above them; start "
                    "with a task line")});
}

TEST_CASE("an operation at column 1 is an error with a hint to indent it") {
  CHECK(diags("task main\ncount 1\n") ==
        Diags{error(2, 1, "operation \"count\" must be indented under a task",
                    "indent it with spaces or a tab to add it to task \"main\"")});
  CHECK(diags("yield\ntask main\n") ==
        Diags{error(1, 1, "operation \"yield\" must be indented under a task",
                    "indent it with spaces or a tab under a \"task NAME\" line")});
}

TEST_CASE("an operation at column 1 still counts as its task's operation") {
  // The spawn is not lost, so the join is not reported as well.
  CHECK(diags("task main\nspawn a\n  join a\ntask a\n") ==
        Diags{error(2, 1, "operation \"spawn\" must be indented under a task",
                    "indent it with spaces or a tab to add it to task \"main\"")});
}

TEST_CASE("an indented task line is an error and still starts the task") {
  CHECK(diags("task main\n  call a\n  task a\n  count 1\n") ==
        Diags{error(3, 3, "a task line must not be indented",
                    "remove the spaces or tabs before \"task\"")});
}

TEST_CASE("an indented setting or channel declaration is an error") {
  CHECK(diags("task main\n  seed 3\n  channel c\n") ==
        Diags{error(2, 3, "a setting must not be indented",
                    "remove the spaces or tabs before \"seed\"; only operations are indented "
                    "under their task"),
              warning(2, 3, "seed has no effect with executor local",
                      "seed orders simulated threads, which only executor thread_per_task and "
                      "thread_pool use"),
              error(3, 3, "a channel declaration must not be indented",
                    "remove the spaces or tabs before \"channel\"; only operations are indented "
                    "under their task"),
              warning(3, 11, "channel \"c\" is never used",
                      "use it with \"send c VALUE\" and \"recv c\", or remove it")});
}

TEST_CASE("an indented line after a setting between tasks does not belong to a task") {
  CHECK(diags("task main\n  yield\nmax_events 10\n  yield\n") ==
        Diags{error(4, 3, "indented line does not belong to a task",
                    "operations must follow their \"task NAME\" line, without settings or "
                    "channel declarations in between")});
}

TEST_CASE("an unknown top-level statement lists the top-level lines and suggests the closest") {
  const std::string lines =
      "top-level lines are task, channel and the settings executor, clock, threads, workers, "
      "seed, max_events";
  CHECK(diags("exector local\ntask main\n") ==
        Diags{error(1, 1, "unknown statement \"exector\"", "did you mean \"executor\"? " + lines)});
  CHECK(diags("fn main\ntask main\n") == Diags{error(1, 1, "unknown statement \"fn\"", lines)});
}

TEST_CASE("an unknown operation lists the operations and suggests the closest") {
  CHECK(diags("task main\n  cont 3\n  await x\n") ==
        Diags{error(2, 3, "unknown operation \"cont\"", "did you mean \"count\"? " + kOpsHint),
              error(3, 3, "unknown operation \"await\"", kOpsHint)});
}

TEST_CASE("a missing argument is reported just after the keyword with the usage") {
  CHECK(diags("executor\nchannel\ntask\ntask main\n  count\n  sleep\n  spawn\n  send\n  send c\n"
              "  recv\n  block\n  join\n  call\nchannel c\n") ==
        Diags{error(1, 9, "executor needs a value", kExecutors),
              error(2, 8, "channel needs a name",
                    "usage: channel NAME [CAPACITY], e.g. \"channel jobs 4\""),
              error(3, 5, "task needs a name", "usage: task NAME, e.g. \"task main\""),
              error(5, 8, "count needs a number", "usage: count N, e.g. \"count 3\""),
              error(6, 8, "sleep needs a duration", "usage: sleep DURATION, e.g. \"sleep 5ms\""),
              error(7, 8, "spawn needs a task name", "usage: spawn TASK, e.g. \"spawn worker\""),
              error(8, 7, "send needs a channel name and a value",
                    "usage: send CHANNEL VALUE, e.g. \"send jobs 42\""),
              error(9, 9, "send needs a value", "usage: send CHANNEL VALUE, e.g. \"send jobs 42\""),
              error(10, 7, "recv needs a channel name", "usage: recv CHANNEL, e.g. \"recv jobs\""),
              error(11, 8, "block needs a duration", "usage: block DURATION, e.g. \"block 2ms\""),
              error(12, 7, "join needs a task name", "usage: join TASK, e.g. \"join worker\""),
              error(13, 7, "call needs a task name", "usage: call TASK, e.g. \"call fetch\"")});
}

TEST_CASE("extra arguments are reported at the first extra one") {
  CHECK(
      diags("executor local extra\nchannel c 1 2\ntask main x\n  count 3 4 5\n  recv c c\n"
            "  send c 1 2\n") ==
      Diags{error(1, 16, "too many arguments for executor", kExecutors),
            error(2, 13, "too many arguments for channel",
                  "usage: channel NAME [CAPACITY], e.g. \"channel jobs 4\""),
            error(3, 11, "too many arguments for task",
                  "usage: task NAME; its operations go on the indented lines below"),
            error(4, 11, "too many arguments for count", "usage: count N, e.g. \"count 3\""),
            error(5, 10, "too many arguments for recv", "usage: recv CHANNEL, e.g. \"recv jobs\""),
            error(6, 12, "too many arguments for send",
                  "usage: send CHANNEL VALUE, e.g. \"send jobs 42\"")});
}

// ===================================================================================
// Names

TEST_CASE("names must start with a letter or _ and contain only letters, digits and _") {
  const Scenario s = clean("task _Main_2\n  call A9\ntask A9\n");
  CHECK(s.tasks[0].name == "_Main_2");
  CHECK(diags("task main\n  call 9lives\n  call a-b\n  spawn x.y\n") ==
        Diags{error(2, 8, "invalid task name \"9lives\"", kNameHint),
              error(3, 8, "invalid task name \"a-b\"", kNameHint),
              error(4, 9, "invalid task name \"x.y\"", kNameHint)});
  CHECK(diags("task main:\n") == Diags{kNoTask, error(1, 6, "invalid task name \"main:\"",
                                                      kNameHint + "; remove the \":\"")});
}

TEST_CASE("names of 32 characters are accepted and 33 are too long") {
  const std::string n32(32, 'n'), n33(33, 'n');
  CHECK(clean("task " + n32 + "\n").tasks[0].name == n32);
  CHECK(diags("channel " + n33 + "\ntask main\n") ==
        Diags{error(1, 9, "channel name \"" + n33 + "\" is 33 characters long; the limit is 32",
                    "use a shorter name")});
}

TEST_CASE("a name with markup is rejected as invalid and shown as it was written") {
  CHECK(diags("task <script>alert(1)</script>\n") ==
        Diags{kNoTask, error(1, 6, "invalid task name \"<script>alert(1)</script>\"", kNameHint)});
}

TEST_CASE("quotes and backslashes in a shown token are escaped and long tokens are shortened") {
  CHECK(diags("task main\n  call a\"b\\c\n") ==
        Diags{error(2, 8, "invalid task name \"a\\\"b\\\\c\"", kNameHint)});
  const std::string long_token(100, '-');
  CHECK(diags("task main\n  count " + long_token + "\n")[0].message ==
        "count must be a whole number, got \"" + std::string(40, '-') + "...\"");
}

// ===================================================================================
// Settings

TEST_CASE("each setting may appear only once") {
  CHECK(diags("executor local\nclock virtual\nexecutor local\ntask main\nclock real\n") ==
        Diags{error(3, 1, "executor is already set on line 1",
                    "each setting may appear once; remove one of them"),
              error(5, 1, "clock is already set on line 2",
                    "each setting may appear once; remove one of them")});
}

TEST_CASE("an unknown executor, clock or threads value lists the valid values") {
  CHECK(diags("executor blok_on\nclock wall\nthreads many\ntask main\n") ==
        Diags{error(1, 10, "unknown executor \"blok_on\"",
                    "did you mean \"block_on\"? " + kExecutors),
              error(2, 7, "unknown clock \"wall\"", "choose one of: virtual, real"),
              error(3, 9, "unknown threads mode \"many\"", "choose one of: simulated, real")});
}

TEST_CASE("workers accepts 1 to 8 with executor thread_pool") {
  CHECK(clean("executor thread_pool\nworkers 1\ntask main\n").settings.workers == 1);
  CHECK(clean("executor thread_pool\nworkers 8\ntask main\n").settings.workers == 8);
  CHECK(diags("executor thread_pool\nworkers 0\ntask main\n") ==
        Diags{error(2, 9, "workers must be between 1 and 8, got 0")});
  CHECK(diags("executor thread_pool\nworkers 9\ntask main\n") ==
        Diags{error(2, 9, "workers must be between 1 and 8, got 9")});
  CHECK(diags("executor thread_pool\nworkers two\ntask main\n") ==
        Diags{error(2, 9, "workers must be a whole number, got \"two\"",
                    "usage: workers N (1 to 8)")});
}

TEST_CASE("seed accepts the whole unsigned 64-bit range and nothing beyond") {
  CHECK(diags("executor thread_pool\nseed 18446744073709551616\ntask main\n") ==
        Diags{error(2, 6,
                    "seed must be between 0 and 18446744073709551615, got "
                    "18446744073709551616")});
}

TEST_CASE("max_events accepts 1 to 1000000") {
  CHECK(clean("max_events 1\ntask main\n").settings.max_events == 1);
  CHECK(clean("max_events 1_000_000\ntask main\n").settings.max_events == 1'000'000);
  CHECK(diags("max_events 0\nmax_events 1000001\ntask main\n") ==
        Diags{error(1, 12, "max_events must be between 1 and 1000000, got 0"),
              error(2, 1, "max_events is already set on line 1",
                    "each setting may appear once; remove one of them")});
  CHECK(diags("max_events 1000001\ntask main\n") ==
        Diags{error(1, 12, "max_events must be between 1 and 1000000, got 1000001")});
}

TEST_CASE("workers with an executor other than thread_pool is a warning") {
  const ParseResult r = parse("executor thread_per_task\nworkers 4\ntask main\n");
  CHECK(r.ok());
  CHECK(r.diagnostics == Diags{warning(2, 1, "workers has no effect with executor thread_per_task",
                                       "workers only applies to executor thread_pool")});
  CHECK(r.scenario->settings.workers == 4);
}

TEST_CASE("threads with block_on_busy, block_on or local is a warning") {
  for (const char* e : {"block_on_busy", "block_on", "local"}) {
    const ParseResult r = parse("executor " + std::string(e) + "\nthreads simulated\ntask main\n");
    CHECK(r.ok());
    CHECK(r.diagnostics ==
          Diags{warning(2, 1, "threads has no effect with executor " + std::string(e),
                        "threads only applies to executor thread_per_task and thread_pool")});
  }
}

TEST_CASE("threads real with a single-threaded executor is only a warning") {
  const ParseResult r = parse("threads real\ntask main\n");
  CHECK(r.ok());
  CHECK(r.diagnostics == Diags{warning(1, 1, "threads has no effect with executor local",
                                       "threads only applies to executor thread_per_task and "
                                       "thread_pool")});
}

TEST_CASE("seed with block_on_busy, block_on or local is a warning") {
  const ParseResult r = parse("executor block_on_busy\nseed 5\ntask main\n");
  CHECK(r.ok());
  CHECK(r.diagnostics == Diags{warning(2, 1, "seed has no effect with executor block_on_busy",
                                       "seed orders simulated threads, which only executor "
                                       "thread_per_task and thread_pool use")});
}

TEST_CASE("seed with threads real is a warning") {
  const ParseResult r =
      parse("executor thread_pool\nclock real\nthreads real\nseed 5\ntask main\n");
  CHECK(r.ok());
  CHECK(r.diagnostics ==
        Diags{warning(4, 1, "seed has no effect with threads real",
                      "the operating system interleaves real threads; seed only applies to "
                      "threads simulated")});
}

TEST_CASE("threads real with the default virtual clock is an error that names the default") {
  CHECK(diags("executor thread_per_task\nthreads real\ntask main\n") ==
        Diags{error(2, 9, "real threads run on the real clock, but the clock is virtual by default",
                    "add \"clock real\", or use \"threads simulated\"")});
}

TEST_CASE("threads real with clock virtual set explicitly is an error pointing to that line") {
  CHECK(diags("executor thread_pool\nclock virtual\nthreads real\ntask main\n") ==
        Diags{error(3, 9,
                    "real threads run on the real clock, but the clock is set to virtual on "
                    "line 2",
                    "change it to \"clock real\", or use \"threads simulated\"")});
}

TEST_CASE("threads real with clock real is accepted") {
  const Scenario s = clean("executor thread_per_task\nthreads real\nclock real\ntask main\n");
  CHECK(s.settings.threads == ThreadsKind::real);
  CHECK(s.settings.clock == ClockKind::real_time);
}

TEST_CASE("thread_per_task with real threads allows 16 threads: the root and 15 spawned tasks") {
  const std::string real = "executor thread_per_task\nclock real\nthreads real\n";
  const Scenario s = clean(spawning(15, real));
  CHECK(s.tasks.size() == 16);
  // Called tasks run on their caller's thread and do not count.
  std::string called = real + "task main\n  call helper\n";
  for (int i = 1; i <= 15; ++i) called += "  spawn t" + std::to_string(i) + "\n";
  for (int i = 1; i <= 15; ++i) called += "task t" + std::to_string(i) + "\n  call helper\n";
  CHECK(clean(called + "task helper\n  yield\n").tasks.size() == 17);
  CHECK(diags(spawning(16, real)) ==
        Diags{error(3, 9,
                    "threads real with executor thread_per_task needs one real thread per task: "
                    "this scenario runs 17 tasks (the root and 16 spawned), the limit is 16",
                    "the browser starts a Web Worker for each real thread; spawn fewer tasks, use "
                    "\"executor thread_pool\", or use \"threads simulated\"")});
}

namespace {

// `calls` calls of f, which spawns x: x's spawn runs once per call.
std::string repeated_spawns(int calls, const std::string& settings = "executor thread_per_task\nclock real\nthreads real\n") {
  std::string text = settings + "\ntask main\n";
  for (int i = 0; i < calls; ++i) text += "  call f\n";
  return text + "\ntask f\n  spawn x\n\ntask x\n  sleep 1ms\n";
}

const char* const kRepeatedSpawnHint =
    "the browser runs each real thread in a Web Worker of a fixed pool; spawn fewer tasks, use "
    "\"executor thread_pool\", or use \"threads simulated\"";

}  // namespace

TEST_CASE("thread_per_task with real threads counts a spawn once per run of its task: 15 runs fit, 16 do not") {
  CHECK(clean(repeated_spawns(15)).tasks.size() == 3);
  // The spawn of x (line 24, column 3) runs 16 times: 17 threads with the root's.
  CHECK(diags(repeated_spawns(16)) ==
        Diags{error(24, 3,
                    "threads real with executor thread_per_task starts a real thread at every spawn: this one "
                    "runs 16 times, as task \"f\" runs 16 times, so the run starts 17 threads; the limit is 16",
                    kRepeatedSpawnHint)});
  CHECK_FALSE(parse(repeated_spawns(16)).ok());
}

TEST_CASE("repeated spawns multiply along nested calls and add up over spawn sites") {
  // main calls g 4 times, g calls f 4 times: f runs 16 times and spawns x each time.
  const std::string real = "executor thread_per_task\nclock real\nthreads real\n";
  const std::string nested = real +
                             "task main\n  call g\n  call g\n  call g\n  call g\n"
                             "task g\n  call f\n  call f\n  call f\n  call f\n"
                             "task f\n  spawn x\n"
                             "task x\n  yield\n";
  CHECK(diags(nested) ==
        Diags{error(15, 3,
                    "threads real with executor thread_per_task starts a real thread at every spawn: this one "
                    "runs 16 times, as task \"f\" runs 16 times, so the run starts 17 threads; the limit is 16",
                    kRepeatedSpawnHint)});
  // Two spawns in f, called 8 times: 1 + 16 threads; reported at the first spawn.
  std::string two = real + "task main\n";
  for (int i = 0; i < 8; ++i) two += "  call f\n";
  two += "task f\n  spawn x\n  spawn y\ntask x\n  yield\ntask y\n  yield\n";
  CHECK(diags(two) ==
        Diags{error(14, 3,
                    "threads real with executor thread_per_task starts a real thread at every spawn: this one "
                    "runs 8 times, as task \"f\" runs 8 times, so the run starts 17 threads; the limit is 16",
                    kRepeatedSpawnHint)});
}

TEST_CASE("a task started again by the tasks it starts repeats its spawn without end under real threads") {
  // a calls b, b spawns a again: a new a calls b, and so on.
  const std::string text =
      "executor thread_per_task\nclock real\nthreads real\n"
      "task main\n  call b\ntask a\n  call b\ntask b\n  spawn a\n";
  CHECK(diags(text) ==
        Diags{error(9, 3,
                    "threads real with executor thread_per_task starts a real thread at every spawn: this one "
                    "repeats without end, as task \"b\" is started again by the tasks it starts; the limit is "
                    "16 threads",
                    kRepeatedSpawnHint)});
  // Simulated threads and the thread pool start no thread per spawn: no limit applies.
  CHECK(parse("executor thread_per_task\ntask main\n  call b\ntask a\n  call b\ntask b\n  spawn a\n").ok());
  CHECK(parse(repeated_spawns(40, "executor thread_pool\nclock real\nthreads real\n")).ok());
  CHECK(parse(repeated_spawns(40, "executor thread_per_task\n")).ok());
}

TEST_CASE("the JSON form applies the repeated-spawn limit too, at the spawn's path") {
  ParseResult text = parse(repeated_spawns(16));
  REQUIRE_FALSE(text.ok());
  Scenario model = clean(repeated_spawns(15));
  model.tasks[0].ops.push_back(model.tasks[0].ops[0]);  // a 16th call of f
  const ParseResult r = from_json(to_json(model));
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].message ==
        "tasks[1].ops[0]: threads real with executor thread_per_task starts a real thread at every spawn: this "
        "one runs 16 times, as task \"f\" runs 16 times, so the run starts 17 threads; the limit is 16");
  CHECK(r.diagnostics[0].hint == kRepeatedSpawnHint);
}

TEST_CASE("with thread_pool and real threads any number of tasks fits the thread limit") {
  clean(spawning(40, "executor thread_pool\nworkers 8\nclock real\nthreads real\n"));
}

// ===================================================================================
// Tasks and references

TEST_CASE("a scenario without any task is an error") {
  const Diags expected{error(1, 1, "the scenario has no task",
                             "add a root task: a \"task main\" line followed by indented "
                             "operations")};
  CHECK(diags("") == expected);
  CHECK(diags("# nothing\n\nexecutor local\n") == expected);
}

TEST_CASE("an unknown task is reported at its name with a did-you-mean hint") {
  CHECK(diags("task main\n  spawn wroker\n  join worker\ntask worker\n") ==
        Diags{error(2, 9, "unknown task \"wroker\"", "did you mean \"worker\"?"),
              error(3, 8, "task \"worker\" is joined but never spawned",
                    "add \"spawn worker\" before joining it"),
              warning(4, 6, "task \"worker\" never runs",
                      "spawn it or call it from a task that runs")});
}

TEST_CASE("an unknown task without a close name suggests defining it or names the channel") {
  CHECK(diags("channel jobs\ntask main\n  call helper\n  spawn jobs\n  send jobs 1\n") ==
        Diags{error(3, 8, "unknown task \"helper\"", "define it with a \"task helper\" line"),
              error(4, 9, "unknown task \"jobs\"", "\"jobs\" is a channel, not a task")});
}

TEST_CASE("an unknown channel is reported at its name with a hint") {
  CHECK(
      diags("channel jobs\ntask main\n  send jbos 1\n  recv main\n  recv results\n  recv jobs\n") ==
      Diags{error(3, 8, "unknown channel \"jbos\"", "did you mean \"jobs\"?"),
            error(4, 8, "unknown channel \"main\"", "\"main\" is a task, not a channel"),
            error(5, 8, "unknown channel \"results\"",
                  "declare it at the top level with \"channel results\"")});
}

TEST_CASE("a task spawned twice is an error that points to the first spawn") {
  CHECK(diags("task main\n  spawn a\n  call b\ntask a\ntask b\n  spawn a\n") ==
        Diags{error(6, 9, "task \"a\" is already spawned on line 2",
                    "a task runs once; define another task to run the same steps again")});
}

TEST_CASE("joining a task that is never spawned is an error") {
  CHECK(diags("task main\n  join a\ntask a\n") ==
        Diags{error(2, 8, "task \"a\" is joined but never spawned",
                    "add \"spawn a\" before joining it"),
              warning(3, 6, "task \"a\" never runs", "spawn it or call it from a task that runs")});
  CHECK(diags("task main\n  call a\n  join a\ntask a\n") ==
        Diags{error(3, 8, "task \"a\" is joined but never spawned",
                    "\"a\" is called, not spawned: the call already waits for it")});
}

TEST_CASE("a task may be joined by several tasks and spawned after the join in the text") {
  clean("task main\n  call b\n  spawn a\ntask b\n  join a\ntask a\n  join c\n  spawn c\ntask c\n");
}

TEST_CASE("the root task cannot be spawned, joined or called") {
  CHECK(
      diags("task main\n  spawn main\n  join main\n  call main\n") ==
      Diags{
          error(2, 9, "the root task \"main\" cannot be spawned",
                "the first task is the root future, which the executor runs; spawn another task"),
          error(3, 8, "the root task \"main\" cannot be joined",
                "only spawned tasks can be joined"),
          error(4, 8, "the root task \"main\" cannot be called",
                "the first task is the root future, which the executor runs; call another task")});
}

TEST_CASE("spawn and join under block_on_busy and block_on are errors") {
  for (const std::string e : {"block_on_busy", "block_on"}) {
    CHECK(diags("executor " + e + "\ntask main\n  spawn a\n  join a\ntask a\n") ==
          Diags{error(3, 3, "spawn needs a run queue, but executor " + e + " has none",
                      e + kNoQueueHint),
                error(4, 3, "join needs a run queue, but executor " + e + " has none",
                      e + kNoQueueHint)});
  }
}

TEST_CASE("call works under block_on") {
  const Scenario s = clean("executor block_on\ntask main\n  call a\ntask a\n  count 2\n");
  CHECK(s.tasks[0].ops[0].kind == OpKind::call);
}

TEST_CASE("calling a spawned task is an error") {
  CHECK(diags("task main\n  call a\n  spawn a\n  join a\ntask a\n") ==
        Diags{error(2, 8, "task \"a\" is spawned on line 3, so it cannot also be called",
                    "a task is either spawned (it runs on its own) or called (it runs inline as an "
                    "async function); define a second task for the other use")});
}

TEST_CASE("a cycle of calls is an error that names the cycle") {
  CHECK(diags("task main\n  call a\ntask a\n  call b\ntask b\n  yield\n  call a\n") ==
        Diags{error(7, 8, "call cycle: a -> b -> a", kCycleHint)});
  CHECK(diags("task main\n  call a\ntask a\n  call a\n") ==
        Diags{error(4, 8, "call cycle: a -> a", kCycleHint)});
}

TEST_CASE("a long cycle of calls is shown shortened") {
  std::string text = "task main\n  call t0\n";
  for (int i = 0; i < 20; ++i)
    text += "task t" + std::to_string(i) + "\n  call t" + std::to_string((i + 1) % 20) + "\n";
  CHECK(
      diags(text) ==
      Diags{error(42, 8,
                  "call cycle: t0 -> t1 -> t2 -> t3 -> t4 -> t5 -> t6 -> t7 -> t8 -> t9 -> t10 -> "
                  "t11 -> t12 -> t13 -> t14 -> ... -> t19 -> t0",
                  kCycleHint)});
}

TEST_CASE("a task that never runs is a warning") {
  const ParseResult r = parse("task main\n  yield\ntask idle\n  call lazy\ntask lazy\n");
  CHECK(r.ok());
  CHECK(r.diagnostics == Diags{warning(3, 6, "task \"idle\" never runs",
                                       "spawn it or call it from a task that runs"),
                               warning(5, 6, "task \"lazy\" never runs",
                                       "it is only spawned or called by tasks that never run")});
}

TEST_CASE("a channel that is never used is a warning") {
  const ParseResult r = parse("channel spare 3\ntask main\n");
  CHECK(r.ok());
  CHECK(r.diagnostics == Diags{warning(1, 9, "channel \"spare\" is never used",
                                       "use it with \"send spare VALUE\" and \"recv spare\", or "
                                       "remove it")});
}

TEST_CASE("duplicate task names and duplicate channel names are errors") {
  CHECK(
      diags("channel c\ntask main\n  send c 1\n  recv c\ntask main\nchannel c 2\n") ==
      Diags{error(5, 6, "task \"main\" is already defined on line 2", "task names must be unique"),
            error(6, 9, "channel \"c\" is already declared on line 1",
                  "channel names must be unique")});
}

// ===================================================================================
// Limits

TEST_CASE("16 KiB of text is accepted and one byte more is an error at 1:1 with the size") {
  const std::string head = "task main\n  count 1\n";
  const std::string exact = head + "#" + std::string(16384 - head.size() - 2, 'x') + "\n";
  REQUIRE(exact.size() == 16384);
  clean(exact);
  CHECK(diags(exact + " ") == Diags{error(1, 1,
                                          "the scenario is 16385 bytes; the limit is 16384 "
                                          "bytes (16 KiB)",
                                          "shorten it, e.g. remove comments or unused tasks")});
}

TEST_CASE("64 tasks are accepted and a 65th is an error at its line") {
  const Scenario s = clean(spawning(63));
  CHECK(s.tasks.size() == 64);
  const std::string text = spawning(64);
  CHECK(diags(text) == Diags{error(192, 1, "too many tasks: 65 defined, the limit is 64",
                                   "merge tasks or remove unused ones")});
}

TEST_CASE("256 operations per task are accepted and a 257th is an error at its line") {
  CHECK(clean("task main\n" + repeat("  yield\n", 256)).tasks[0].ops.size() == 256);
  CHECK(diags("task main\n" + repeat("  yield\n", 257)) ==
        Diags{error(258, 3, "too many operations in task \"main\": 257, the limit is 256",
                    "move some of them into another task and call it")});
}

TEST_CASE("64 channels are accepted and a 65th is an error at its line") {
  const auto channels = [](int n) {
    std::string decl, use;
    for (int i = 0; i < n; ++i) {
      decl += "channel c" + std::to_string(i) + "\n";
      use += "  send c" + std::to_string(i) + " 1\n";
    }
    return decl + "task main\n" + use;
  };
  CHECK(clean(channels(64)).channels.size() == 64);
  CHECK(diags(channels(65)) == Diags{error(65, 1, "too many channels: 65 declared, the limit is 64",
                                           "remove unused channels")});
}

TEST_CASE("after 50 errors the parser stops and adds a note") {
  const ParseResult r = parse("task main\n" + repeat("  cont 1\n", 80));
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 51);
  CHECK(r.diagnostics[49] ==
        error(51, 3, "unknown operation \"cont\"", "did you mean \"count\"? " + kOpsHint));
  CHECK(r.diagnostics[50] ==
        Diagnostic{Severity::note, 0, 0, "too many errors; only the first 50 are shown", ""});
}

TEST_CASE("after 50 warnings further warnings are dropped with a note") {
  std::string text = "task main\n";
  for (int i = 0; i < 60; ++i) text += "channel c" + std::to_string(i) + "\n";
  const ParseResult r = parse(text);
  CHECK(r.ok());
  REQUIRE(r.diagnostics.size() == 51);
  CHECK(r.diagnostics[50] ==
        Diagnostic{Severity::note, 0, 0, "too many warnings; only the first 50 are shown", ""});
}

// ===================================================================================
// Printing and round trips

TEST_CASE("to_text prints the canonical form") {
  const Scenario s = clean(
      "seed 9 # c\nexecutor thread_pool\nworkers 2\nmax_events 500\nclock real\n"
      "channel jobs 4\nchannel one\n"
      "task main\n\tspawn w\n    send jobs -3\n  send one 1\n  join w\n"
      "task w\n  recv jobs\n  recv one\n  yield 1\n  yield 3\n  sleep 1500us\n  block 2000ms\n"
      "  sleep 0ms\n  count 0\n  lose_waker\n  call f\ntask f\n");
  CHECK(to_text(s) ==
        "executor thread_pool\nclock real\nseed 9\nmax_events 500\n"
        "\nchannel jobs 4\nchannel one\n"
        "\ntask main\n  spawn w\n  send jobs -3\n  send one 1\n  join w\n"
        "\ntask w\n  recv jobs\n  recv one\n  yield\n  yield 3\n  sleep 1500us\n  block 2s\n"
        "  sleep 0s\n  count 0\n  lose_waker\n  call f\n"
        "\ntask f\n");
}

TEST_CASE("format_duration picks the largest unit that is exact") {
  CHECK(format_duration(0ns) == "0s");
  CHECK(format_duration(7ns) == "7ns");
  CHECK(format_duration(1500ns) == "1500ns");
  CHECK(format_duration(2us) == "2us");
  CHECK(format_duration(1500us) == "1500us");
  CHECK(format_duration(3000ms) == "3s");
  CHECK(format_duration(1h) == "3600s");
}

namespace {
const std::vector<std::string> kRoundTrips = {
    kArticle,
    "task main\n",
    "executor block_on_busy\ntask main\n  call a\n  lose_waker\ntask a\n  block 3ms\n  yield 4\n",
    "executor thread_pool\nworkers 7\nseed 18446744073709551615\nclock real\nthreads real\n"
    "max_events 1\nchannel c 1000000\ntask main\n  spawn p\n  send c -9223372036854775808\n"
    "  join p\ntask p\n  recv c\n  sleep 3600s\n",
    "executor thread_per_task\nseed 9007199254740993\nchannel a\nchannel b 2\ntask m\n  send a "
    "9007199254740993\n"
    "  send b -9007199254740993\n  spawn x\n  recv a\n  recv b\ntask x\n  count 1000000\n  sleep "
    "1ns\n",
    // warnings survive the round trip as warnings
    "workers 2\nseed 1\nchannel idle\ntask main\ntask unused\n",
};
}  // namespace

TEST_CASE("text to model to text to model is a fixed point") {
  for (const std::string& text : kRoundTrips) {
    INFO(text);
    const ParseResult first = parse(text);
    REQUIRE(first.ok());
    const std::string canonical = to_text(*first.scenario);
    const ParseResult second = parse(canonical);
    REQUIRE(second.ok());
    CHECK(same_content(*first.scenario, *second.scenario));
    CHECK(to_text(*second.scenario) == canonical);
    CHECK(parse(to_text(*second.scenario)).scenario == second.scenario);
  }
}

TEST_CASE("text to JSON to model gives back the model exactly, positions included") {
  for (const std::string& text : kRoundTrips) {
    INFO(text);
    const ParseResult r = parse(text);
    REQUIRE(r.ok());
    const ParseResult back = from_json(to_json(*r.scenario));
    CHECK(back.scenario == r.scenario);
  }
}

TEST_CASE("text to JSON to text to model gives the same model as the canonical text") {
  for (const std::string& text : kRoundTrips) {
    INFO(text);
    const Scenario model = *parse(text).scenario;
    const std::string via_json = to_text(*from_json(to_json(model)).scenario);
    CHECK(via_json == to_text(model));
    CHECK(parse(via_json).scenario == parse(to_text(model)).scenario);
  }
}

TEST_CASE("same_content compares everything but source positions") {
  const Scenario a = clean("task main\n  count 1\n");
  const Scenario b = clean("\n\ntask main\n\n     count 1\n");
  CHECK(a != b);
  CHECK(same_content(a, b));
  CHECK_FALSE(same_content(a, clean("task main\n  count 2\n")));
}

TEST_CASE("to_json writes the documented layout") {
  const Scenario s =
      clean("executor thread_pool\nchannel c\ntask main\n  send c 1\n  recv c\n  sleep 5ms\n");
  CHECK(to_json(s) == R"({
  "settings": {
    "executor": "thread_pool"
  },
  "channels": [
    {
      "name": "c",
      "capacity": 1,
      "line": 2
    }
  ],
  "tasks": [
    {
      "name": "main",
      "line": 3,
      "ops": [
        {
          "kind": "send",
          "channel": "c",
          "value": 1,
          "line": 4,
          "column": 3
        },
        {
          "kind": "recv",
          "channel": "c",
          "line": 5,
          "column": 3
        },
        {
          "kind": "sleep",
          "duration": "5ms",
          "line": 6,
          "column": 3
        }
      ]
    }
  ]
}
)");
}

TEST_CASE("to_json writes 64-bit values beyond 2^53 as strings and from_json reads both forms") {
  const Scenario s = clean(
      "executor thread_pool\nseed 9007199254740992\nchannel c 3\ntask main\n  send c "
      "9007199254740991\n"
      "  send c -9007199254740992\n  recv c\n");
  const std::string json = to_json(s);
  CHECK(json.find("\"seed\": \"9007199254740992\"") != std::string::npos);
  CHECK(json.find("\"value\": 9007199254740991,") != std::string::npos);
  CHECK(json.find("\"value\": \"-9007199254740992\"") != std::string::npos);
  const Scenario numbers = clean_json(
      R"({"settings": {"executor": "thread_pool", "seed": 9007199254740992},
          "channels": [{"name": "c"}],
          "tasks": [{"name": "main", "ops": [{"kind": "send", "channel": "c", "value": -9007199254740992},
                                             {"kind": "recv", "channel": "c"}]}]})");
  CHECK(numbers.settings.seed == 9007199254740992u);
  CHECK(numbers.tasks[0].ops[0].value == -9007199254740992);
  CHECK(numbers.tasks[0].ops[0].line == 0);
}

TEST_CASE("a minimal JSON scenario needs only tasks and their names") {
  const Scenario s = clean_json(R"({"tasks": [{"name": "main"}]})");
  CHECK(s == Scenario{Settings{}, {Task{"main", 0, {}}}, {}});
  const Scenario y = clean_json(R"({"tasks": [{"name": "main", "ops": [{"kind": "yield"}]}]})");
  CHECK(y.tasks[0].ops[0] == Op{OpKind::yield, 1, 0, 0ns, "", 0, 0});
}

// ===================================================================================
// JSON errors

TEST_CASE("from_json reports invalid JSON at its line and column") {
  const ParseResult r = from_json("{\"tasks\": [\n  {\"name\": \"a\",, }]}");
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].line == 2);
  CHECK(r.diagnostics[0].column == 16);
  CHECK(r.diagnostics[0].message.rfind("invalid JSON: syntax error while parsing object key", 0) ==
        0);
}

TEST_CASE("from_json rejects a root that is not an object") {
  CHECK(
      from_json("[1]").diagnostics ==
      Diags{json_error("the JSON must be an object with \"settings\", \"channels\" and \"tasks\", "
                       "got an array")});
  CHECK(from_json("{}").diagnostics ==
        Diags{json_error("the scenario has no task",
                         "add \"tasks\": an array of tasks whose first one is the root")});
  CHECK(from_json(R"({"tasks": []})").diagnostics ==
        Diags{json_error("tasks: the scenario has no task",
                         "add a task object; the first one is the root")});
}

TEST_CASE("from_json reports an unknown operation kind with its path") {
  CHECK(
      from_json(
          R"({"tasks": [{"name": "main"}, {"name": "b", "ops": [{"kind": "cont", "amount": 1}]}]})")
          .diagnostics ==
      Diags{json_error("tasks[1].ops[0].kind: unknown operation \"cont\"",
                       "did you mean \"count\"? " + kOpsHint),
            Diagnostic{Severity::warning, 0, 0, "tasks[1].name: task \"b\" never runs",
                       "spawn it or call it from a task that runs"}});
}

TEST_CASE("from_json reports unknown and misplaced keys with their path") {
  CHECK(from_json(R"({"setings": {}, "tasks": [{"name": "main", "opz": [],
        "ops": [{"kind": "recv", "channel": "c", "value": 1}]}],
        "channels": [{"name": "c", "capasity": 2}]})")
            .diagnostics ==
        Diags{json_error("setings: unknown key \"setings\"",
                         "did you mean \"settings\"? a scenario has: settings, channels, tasks"),
              json_error("channels[0].capasity: unknown key \"capasity\"",
                         "did you mean \"capacity\"? a channel has: name, capacity, line"),
              json_error("tasks[0].opz: unknown key \"opz\"",
                         "did you mean \"ops\"? a task has: name, ops, line"),
              json_error("tasks[0].ops[0].value: \"value\" does not apply to a recv operation",
                         "a recv operation has: kind, channel, line, column")});
}

TEST_CASE("from_json reports missing fields and wrong types") {
  CHECK(
      from_json(R"({"settings": {"executor": 3, "workers": "2"},
        "tasks": [{"ops": []}, {"name": "main", "ops": [{"kind": "count"}, {"amount": 1},
        {"kind": "sleep", "duration": 5}, {"kind": "count", "amount": 2.5}, 7]}]})")
          .diagnostics ==
      Diags{json_error("settings.executor: expected a string, got a number"),
            json_error("settings.workers: workers must be a whole number, got \"2\""),
            json_error("tasks[0]: missing \"name\"",
                       "a task has a \"name\" and \"ops\", an array of operations"),
            json_error("tasks[1].ops[0]: missing \"amount\"",
                       "a count operation looks like {\"kind\": \"count\", \"amount\": ...}"),
            json_error("tasks[1].ops[1]: missing \"kind\"",
                       "an operation has a \"kind\": count, yield, sleep, spawn, join, call, "
                       "send, recv, block, lose_waker"),
            json_error("tasks[1].ops[2].duration: expected a duration string such as \"5ms\", got "
                       "a number",
                       "units are ns, us, ms or s"),
            json_error("tasks[1].ops[3].amount: count must be a whole number, got 2.5"),
            json_error("tasks[1].ops[4]: expected an object, got a number")});
}

TEST_CASE("from_json reports a channel without a name, a non-array and bad positions") {
  CHECK(from_json(R"({"channels": [{"capacity": 2}], "tasks": {"name": "main"}})").diagnostics ==
        Diags{json_error("channels[0]: missing \"name\"",
                         "a channel has a \"name\" and optionally a \"capacity\" (default 1)"),
              json_error("tasks: expected an array, got an object")});
  CHECK(from_json(R"({"tasks": [{"name": "main", "line": -1,
        "ops": [{"kind": "yield", "column": 2147483648}]}]})")
            .diagnostics ==
        Diags{json_error("tasks[0].line: line must be between 0 and 2147483647, got -1"),
              json_error("tasks[0].ops[0].column: column must be between 0 and 2147483647, got "
                         "2147483648")});
}

TEST_CASE("from_json accepts 64-bit values as strings of digits only") {
  CHECK(from_json(R"({"channels": [{"name": "c"}], "tasks": [{"name": "main",
        "ops": [{"kind": "send", "channel": "c", "value": "five"}, {"kind": "send", "channel": "c", "value": true}]}]})")
            .diagnostics ==
        Diags{json_error(
                  "tasks[0].ops[0].value: send value must be a whole number or a string of digits, "
                  "got \"five\""),
              json_error(
                  "tasks[0].ops[1].value: send value must be a whole number or a string of digits, "
                  "got true")});
}

TEST_CASE("control characters in JSON strings are escaped when shown") {
  CHECK(from_json(R"({"tasks": [{"name": "a\u0000b\u0085"}]})").diagnostics ==
        Diags{json_error("tasks[0].name: invalid task name \"a\\u0000b\\u0085\"", kNameHint),
              json_error("tasks: the scenario has no task",
                         "add a task object; the first one is the root")});
}

TEST_CASE("from_json checks values with the same bounds and messages as the text") {
  CHECK(
      from_json(R"({"settings": {"executor": "lokal", "max_events": 0, "seed": "-1"},
        "channels": [{"name": "9c", "capacity": 0}],
        "tasks": [{"name": "main", "ops": [{"kind": "count", "amount": 1000001},
        {"kind": "yield", "amount": 0}, {"kind": "sleep", "duration": "3601s"},
        {"kind": "block", "duration": "5"}, {"kind": "spawn", "task": "<b>"},
        {"kind": "count", "amount": 1e30}]}]})")
          .diagnostics ==
      Diags{json_error("settings.executor: unknown executor \"lokal\"",
                       "did you mean \"local\"? " + kExecutors),
            json_error("settings.seed: seed must be between 0 and 18446744073709551615, got -1"),
            json_error("settings.max_events: max_events must be between 1 and 1000000, got 0"),
            json_error("channels[0].name: invalid channel name \"9c\"", kNameHint),
            json_error("tasks[0].ops[0].amount: count must be between 0 and 1000000, got 1000001"),
            json_error("tasks[0].ops[1].amount: yield must be between 1 and 1000000, got 0"),
            json_error(
                "tasks[0].ops[2].duration: sleep duration must be between 0 and 3600s (1 hour), "
                "got 3601s"),
            json_error("tasks[0].ops[3].duration: duration \"5\" has no unit",
                       "add a unit: ns, us, ms or s, e.g. \"block 2ms\""),
            json_error("tasks[0].ops[4].task: invalid task name \"<b>\"", kNameHint),
            json_error("tasks[0].ops[5].amount: count must be between 0 and 1000000, got 1e+30")});
}

TEST_CASE("from_json applies the same rules across tasks as the text") {
  CHECK(from_json(R"({"settings": {"executor": "thread_per_task", "threads": "real", "workers": 2},
        "tasks": [{"name": "main", "ops": [{"kind": "spawn", "task": "a"}, {"kind": "spawn", "task": "a"},
          {"kind": "call", "task": "a"}, {"kind": "join", "task": "b"}, {"kind": "spawn", "task": "main"},
          {"kind": "call", "task": "c"}, {"kind": "spawn", "task": "d"}]},
          {"name": "a"}, {"name": "b"}, {"name": "c", "ops": [{"kind": "call", "task": "c"}]},
          {"name": "a"}]})")
            .diagnostics ==
        Diags{json_error("tasks[4].name: task \"a\" is already defined at tasks[1]",
                         "task names must be unique"),
              json_error("tasks[0].ops[1].task: task \"a\" is already spawned at tasks[0].ops[0]",
                         "a task runs once; define another task to run the same steps again"),
              json_error(
                  "tasks[0].ops[4].task: the root task \"main\" cannot be spawned",
                  "the first task is the root future, which the executor runs; spawn another task"),
              json_error("tasks[0].ops[6].task: unknown task \"d\"", "did you mean \"a\"?"),
              json_error(
                  "tasks[0].ops[2].task: task \"a\" is spawned at tasks[0].ops[0], so it cannot "
                  "also be called",
                  "a task is either spawned (it runs on its own) or called (it runs inline as an "
                  "async function); define a second task for the other use"),
              json_error("tasks[0].ops[3].task: task \"b\" is joined but never spawned",
                         "add \"spawn b\" before joining it"),
              json_error("tasks[3].ops[0].task: call cycle: c -> c", kCycleHint),
              Diagnostic{Severity::warning, 0, 0,
                         "settings.workers: workers has no effect with executor thread_per_task",
                         "workers only applies to executor thread_pool"},
              json_error("settings.threads: real threads run on the real clock, but the clock is "
                         "virtual by default",
                         "add \"clock real\", or use \"threads simulated\""),
              Diagnostic{Severity::warning, 0, 0, "tasks[2].name: task \"b\" never runs",
                         "spawn it or call it from a task that runs"}});
}

TEST_CASE("from_json applies the same limits as the text") {
  std::string tasks = R"({"tasks": [{"name": "main", "ops": [)";
  for (int i = 1; i <= 64; ++i)
    tasks += std::string(i > 1 ? "," : "") + R"({"kind": "spawn", "task": "t)" + std::to_string(i) +
             "\"}";
  tasks += "]}";
  for (int i = 1; i <= 64; ++i) tasks += R"(, {"name": "t)" + std::to_string(i) + "\"}";
  tasks += "]}";
  CHECK(from_json(tasks).diagnostics ==
        Diags{json_error("tasks[64]: too many tasks: 65 defined, the limit is 64",
                         "merge tasks or remove unused ones")});

  std::string ops = R"({"tasks": [{"name": "main", "ops": [)";
  for (int i = 0; i < 257; ++i) ops += std::string(i > 0 ? "," : "") + R"({"kind": "yield"})";
  ops += "]}]}";
  CHECK(from_json(ops).diagnostics ==
        Diags{json_error(
            "tasks[0].ops[256]: too many operations in task \"main\": 257, the limit is 256",
            "move some of them into another task and call it")});
}

TEST_CASE("from_json rejects a scenario whose text would exceed 16 KiB") {
  // 64 tasks of 256 "sleep 3600s" lines fit every per-part limit but not the text limit.
  std::string json = R"({"tasks": [{"name": "main", "ops": [)";
  for (int i = 0; i < 256; ++i)
    json += std::string(i > 0 ? "," : "") + R"({"kind": "sleep", "duration": "3600s"})";
  json += "]}]}";
  const ParseResult r = from_json(json);
  CHECK(r.ok());  // 256 * 14 bytes fit
  std::string big = R"({"tasks": [{"name": "main", "ops": [{"kind": "call", "task": "a"},
      {"kind": "call", "task": "b"}, {"kind": "call", "task": "c"}]})";
  for (const char* name : {"a", "b", "c"}) {
    big += std::string(R"(, {"name": ")") + name + R"(", "ops": [)";
    for (int i = 0; i < 256; ++i)
      big += std::string(i > 0 ? "," : "") +
             R"({"kind": "send", "channel": "c", "value": -9223372036854775808})";
    big += "]}";
  }
  big += R"(], "channels": [{"name": "c"}]})";
  // executor local (15) + channel c (11) + task main (11) + 3 calls (27) + 3 task lines (24)
  // + 768 sends of 30 bytes = 23128 bytes.
  CHECK(from_json(big).diagnostics ==
        Diags{json_error(
            "the scenario is too large: its text is 23128 bytes; the limit is 16384 bytes (16 KiB)",
            "remove tasks or operations")});
}

TEST_CASE("from_json rejects JSON over 1 MiB without parsing it") {
  const std::string json = "{\"tasks\": []}" + std::string(1024 * 1024, ' ');
  CHECK(from_json(json).diagnostics ==
        Diags{error(1, 1, "the JSON is 1048589 bytes; the limit is 1048576 bytes (1 MiB)")});
}

// ===================================================================================
// Hostile input

TEST_CASE("a single 16 KiB line is rejected with a short message") {
  const std::string line(16384, 'a');
  CHECK(diags(line) == Diags{error(1, 1, "unknown statement \"" + std::string(40, 'a') + "...\"",
                                   "top-level lines are task, channel and the settings executor, "
                                   "clock, threads, workers, seed, max_events"),
                             kNoTask});
  const std::string op = "task main\n  count " + std::string(16384 - 18, '9');
  CHECK(diags(op) ==
        Diags{error(2, 9,
                    "count must be between 0 and 1000000, got " + std::string(40, '9') + "...")});
}

TEST_CASE("10,000 nested-looking lines are rejected without recursion or delay") {
  // Over the size limit: rejected before parsing.
  std::string deep;
  for (int i = 0; i < 10'000; ++i)
    deep += std::string(static_cast<std::size_t>(i % 40), ' ') + "{\n";
  CHECK(diags(deep).size() == 1);
  // Within the size limit: blank and indented lines up to the error cap.
  std::string within = "task main\n";
  for (int i = 0; i < 10'000; ++i) within += i % 2 ? "\n" : "(\n";
  REQUIRE(within.size() <= limits::text_bytes);
  const ParseResult r = parse(within);
  CHECK_FALSE(r.ok());
  CHECK(r.diagnostics.size() == 51);
  // The same nesting in JSON.
  const std::string arrays = std::string(10'000, '[') + std::string(10'000, ']');
  CHECK(from_json(arrays).diagnostics.size() == 1);
  CHECK(from_json(std::string(100'000, '{')).diagnostics.size() == 1);
}

TEST_CASE("a call chain of 10,000 tasks is checked without recursion") {
  std::string json = R"({"tasks": [)";
  for (int i = 0; i < 10'000; ++i) {
    json += std::string(i ? "," : "") + R"({"name": "t)" + std::to_string(i) +
            R"(", "ops": [{"kind": "call", "task": "t)" + std::to_string((i + 1) % 10'000) +
            R"("}]})";
  }
  json += "]}";
  const ParseResult r = from_json(json);
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 2);
  CHECK(r.diagnostics[0].message == "tasks[64]: too many tasks: 10000 defined, the limit is 64");
  CHECK(r.diagnostics[1].message ==
        "tasks[9999].ops[0].task: the root task \"t0\" cannot be called");
}

TEST_CASE("random bytes never crash or hang the parsers") {
  std::uint64_t state = 0x9E3779B97F4A7C15u;
  const auto next = [&] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  const std::vector<std::string> words = {
      "task ",       "main",         "\n", "  ",       "spawn ", "join ", "call ", "count ",
      "1",           "ms",           "#",  "channel ", "send ",  "\t",    "\r\n",  "executor ",
      "thread_pool", "threads real", "é",  "a",        "-"};
  for (int round = 0; round < 1000; ++round) {
    std::string text;
    const auto length = next() % 200;
    for (std::uint64_t i = 0; i < length; ++i) {
      if (round % 2)
        text += static_cast<char>(next() & 0xFF);
      else
        text += words[next() % words.size()];
    }
    for (const ParseResult& r : {parse(text), from_json(text)}) {
      int errors = 0;
      for (const Diagnostic& d : r.diagnostics) errors += d.severity == Severity::error;
      CHECK(r.ok() == (errors == 0));
      CHECK(errors <= 50);
      if (r.ok()) {
        const ParseResult again = parse(to_text(*r.scenario));
        REQUIRE(again.ok());
        CHECK(same_content(*again.scenario, *r.scenario));
        CHECK(from_json(to_json(*r.scenario)).scenario == r.scenario);
      }
    }
  }
}

// ===================================================================================
// Names, help and printing

TEST_CASE("to_string spells every enumerator as the format does") {
  CHECK(to_string(ExecutorKind::block_on_busy) == "block_on_busy");
  CHECK(to_string(ExecutorKind::thread_pool) == "thread_pool");
  CHECK(to_string(ClockKind::virtual_time) == "virtual");
  CHECK(to_string(ClockKind::real_time) == "real");
  CHECK(to_string(ThreadsKind::simulated) == "simulated");
  CHECK(to_string(ThreadsKind::real) == "real");
  CHECK(to_string(OpKind::lose_waker) == "lose_waker");
  CHECK(to_string(Severity::warning) == "warning");
  std::string all;
  for (OpKind k : all_op_kinds) all += std::string(to_string(k)) + " ";
  CHECK(all == "count yield sleep spawn join call send recv block lose_waker ");
}

TEST_CASE("format_help documents every operation, setting and executor") {
  for (OpKind k : all_op_kinds)
    CHECK(format_help.find("  " + std::string(to_string(k))) != std::string_view::npos);
  for (ExecutorKind e : all_executor_kinds)
    CHECK(format_help.find(to_string(e)) != std::string_view::npos);
  for (const char* s :
       {"executor", "clock", "threads", "workers", "seed", "max_events", "channel", "task"})
    CHECK(format_help.find(std::string("\n  ") + s + " ") != std::string_view::npos);
  // Its example, without the two-space indent of the help, is a valid scenario.
  const auto example = format_help.substr(format_help.find("Example:\n") + 9);
  std::string text;
  for (std::size_t pos = 0; pos < example.size();) {
    const std::size_t end = example.find('\n', pos);
    const auto line = example.substr(pos, end - pos);
    text += std::string(line.substr(line.size() >= 2 ? 2 : line.size())) + "\n";
    pos = end + 1;
  }
  CHECK(parse(text).diagnostics == Diags{});
  const ParseResult help = parse(text);
  REQUIRE(help.ok());
  CHECK(same_content(*help.scenario, clean(kArticle)));
}

TEST_CASE("format_diagnostic prints FILE:LINE:COL: severity: message and a hint line") {
  CHECK(format_diagnostic(error(3, 9, "unknown task \"x\"", "did you mean \"a\"?"), "demo.scn") ==
        "demo.scn:3:9: error: unknown task \"x\"\nhint: did you mean \"a\"?\n");
  CHECK(format_diagnostic(warning(2, 1, "seed has no effect"), "s") ==
        "s:2:1: warning: seed has no effect\n");
  CHECK(format_diagnostic(json_error("tasks: the scenario has no task"), "x.json") ==
        "x.json: error: tasks: the scenario has no task\n");
}

// Scenario text parser/printer, JSON reader/writer and the validation they share.
//
// Both readers build a Draft (the Scenario plus where each part came from: a line and
// column in the text, a path in the JSON); `check` then applies every rule that spans
// several lines, so the text and the JSON are validated identically.
#include "pollscope/scenario.hpp"

#include "pollscope/detail/scenario_json.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

namespace pollscope::scenario {
namespace {

using std::chrono::nanoseconds;

// ================================================================================
// Names of enumerators, operations and settings

constexpr std::array<std::string_view, 5> kExecutorNames{"block_on_busy", "block_on", "local",
                                                         "thread_per_task", "thread_pool"};
constexpr std::array<std::string_view, 2> kClockNames{"virtual", "real"};
constexpr std::array<std::string_view, 2> kThreadsNames{"simulated", "real"};
constexpr std::array<std::string_view, 10> kOpNames{
    "count", "yield", "sleep", "spawn", "join", "call", "send", "recv", "block", "lose_waker"};
constexpr std::array<std::string_view, 3> kSeverityNames{"error", "warning", "note"};

enum class Setting { executor, clock, threads, workers, seed, max_events };
constexpr std::array<std::string_view, 6> kSettingNames{"executor", "clock", "threads",
                                                        "workers",  "seed",  "max_events"};
constexpr std::size_t kSettingCount = kSettingNames.size();

struct OpUsage {
  std::string_view usage;    // "count N"
  std::string_view example;  // "count 3"
};
constexpr std::array<OpUsage, 10> kOpUsage{{
    {"count N", "count 3"},
    {"yield [N]", "yield 2"},
    {"sleep DURATION", "sleep 5ms"},
    {"spawn TASK", "spawn worker"},
    {"join TASK", "join worker"},
    {"call TASK", "call fetch"},
    {"send CHANNEL VALUE", "send jobs 42"},
    {"recv CHANNEL", "recv jobs"},
    {"block DURATION", "block 2ms"},
    {"lose_waker", "lose_waker"},
}};

template <std::size_t N>
std::string join_names(const std::array<std::string_view, N>& names) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i != 0) out += ", ";
    out += names[i];
  }
  return out;
}

template <std::size_t N>
std::optional<std::size_t> find_name(const std::array<std::string_view, N>& names,
                                     std::string_view word) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == word) return i;
  return std::nullopt;
}

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, E value) noexcept {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : std::string_view{"?"};
}

std::string_view op_name(OpKind k) {
  return name_of(kOpNames, k);
}
const OpUsage& usage_of(OpKind k) {
  return kOpUsage[static_cast<std::size_t>(k)];
}

// ================================================================================
// Small text helpers

// Any integer type (std::size_t and std::uint64_t differ on wasm32).
template <class T>
std::string number(T v) {
  static_assert(std::is_integral_v<T>);
  if constexpr (std::is_signed_v<T>)
    return std::to_string(static_cast<long long>(v));
  else
    return std::to_string(static_cast<unsigned long long>(v));
}

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

int code_points(std::string_view s) {
  int n = 0;
  for (char c : s)
    if (!is_continuation(static_cast<unsigned char>(c))) ++n;
  return n;
}

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 if it is invalid.
// Rejects overlong forms, surrogates and code points above U+10FFFF.
int utf8_length(std::string_view s, std::size_t i, char32_t* out = nullptr) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const std::size_t left = s.size() - i;
  const unsigned char c = b(0);
  if (c < 0x80) {
    if (out) *out = c;
    return 1;
  }
  int len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c == 0xE0)
    len = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC)
    len = 3;
  else if (c == 0xED)
    len = 3, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF)
    len = 3;
  else if (c == 0xF0)
    len = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3)
    len = 4;
  else if (c == 0xF4)
    len = 4, hi = 0x8F;
  else
    return 0;
  if (left < static_cast<std::size_t>(len)) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (int k = 2; k < len; ++k)
    if (!is_continuation(b(static_cast<std::size_t>(k)))) return 0;
  if (out) {
    char32_t cp = c & (0x7F >> len);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (b(static_cast<std::size_t>(k)) & 0x3F);
    *out = cp;
  }
  return len;
}

char hex_digit(unsigned v) {
  return "0123456789ABCDEF"[v & 0xF];
}

// Text from the input made safe to show: quotes, backslashes and control characters
// escaped, invalid UTF-8 bytes written as \xNN, cut after max_chars characters ("...").
std::string escaped(std::string_view s, int max_chars) {
  std::string out;
  const auto hex2 = [&](unsigned v) {
    out += hex_digit(v >> 4);
    out += hex_digit(v);
  };
  std::size_t i = 0;
  for (int chars = 0; i < s.size() && chars < max_chars; ++chars) {
    char32_t cp = 0;
    const int len = utf8_length(s, i, &cp);
    if (len == 0) {
      out += "\\x";
      hex2(static_cast<unsigned char>(s[i]));
    } else if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      out += "\\u00";
      hex2(static_cast<unsigned>(cp));
    } else {
      out.append(s.substr(i, static_cast<std::size_t>(len)));
    }
    i += len == 0 ? 1 : static_cast<std::size_t>(len);
  }
  if (i < s.size()) out += "...";
  return out;
}

// A value from the input, shown in a message: in double quotes, at most 40 characters.
std::string quote(std::string_view s) {
  return "\"" + escaped(s, 40) + "\"";
}
// A number from the input, shown after "got" (no quotes).
std::string shown(std::string_view s) {
  return escaped(s, 40);
}

// Optimal string alignment distance, or 3 when it is more than 2.
int edit_distance_upto_2(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  if ((n > m ? n - m : m - n) > 2) return 3;
  std::vector<int> d((n + 1) * (m + 1));
  const auto at = [&](std::size_t i, std::size_t j) -> int& { return d[i * (m + 1) + j]; };
  for (std::size_t i = 0; i <= n; ++i) at(i, 0) = static_cast<int>(i);
  for (std::size_t j = 0; j <= m; ++j) at(0, j) = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        v = std::min(v, at(i - 2, j - 2) + 1);
      at(i, j) = v;
    }
  }
  return std::min(at(n, m), 3);
}

// The closest candidate within edit distance 2 (first one on ties).
template <class Range>
std::optional<std::string> closest(std::string_view word, const Range& candidates) {
  std::optional<std::string> best;
  int best_distance = 3;
  for (const auto& c : candidates) {
    const std::string_view cand = c;
    if (cand == word) continue;
    const int dist = edit_distance_upto_2(word, cand);
    if (dist < best_distance) best_distance = dist, best = std::string(cand);
  }
  return best;
}

template <class Range>
std::string did_you_mean(std::string_view word, const Range& candidates) {
  if (auto c = closest(word, candidates)) return "did you mean \"" + *c + "\"? ";
  return {};
}

// ================================================================================
// Locations and the diagnostic collector

// A place in the input: a line/column in the text, or a path in the JSON.
struct Where {
  int line = 0;
  int column = 0;
  std::string path;  // JSON only

  static Where text(int line, int column) { return Where{line, column, {}}; }
  Where key(std::string_view k) const {
    return Where{0, 0, path.empty() ? std::string(k) : path + "." + std::string(k)};
  }
  Where index(std::size_t i) const { return Where{0, 0, path + "[" + number(i) + "]"}; }
  Where shifted(int columns) const {
    Where w = *this;
    if (w.line > 0) w.column += columns;
    return w;
  }
};

// "on line 3" in the text, "at tasks[0].ops[1]" in JSON.
std::string place(const Where& w) {
  if (w.line > 0) return "on line " + number(w.line);
  return "at " + (w.path.empty() ? std::string("the top level") : w.path);
}

class Diags {
 public:
  void error(const Where& w, std::string message, std::string hint = {}) {
    add(Severity::error, w, std::move(message), std::move(hint));
  }
  void warning(const Where& w, std::string message, std::string hint = {}) {
    add(Severity::warning, w, std::move(message), std::move(hint));
  }
  // The error cap was hit: stop looking for more.
  bool full() const { return errors_dropped_; }
  int errors() const { return errors_; }

  std::vector<Diagnostic> take(bool sort_by_position) {
    if (sort_by_position) {
      std::stable_sort(list_.begin(), list_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
      });
    }
    if (errors_dropped_)
      list_.push_back({Severity::note,
                       0,
                       0,
                       "too many errors; only the first " + number(limits::errors) + " are shown",
                       {}});
    if (warnings_dropped_)
      list_.push_back(
          {Severity::note,
           0,
           0,
           "too many warnings; only the first " + number(limits::warnings) + " are shown",
           {}});
    return std::move(list_);
  }

 private:
  void add(Severity s, const Where& w, std::string message, std::string hint) {
    if (s == Severity::error) {
      if (errors_ == limits::errors) {
        errors_dropped_ = true;
        return;
      }
      ++errors_;
    } else {
      if (warnings_ == limits::warnings) {
        warnings_dropped_ = true;
        return;
      }
      ++warnings_;
    }
    if (!w.path.empty()) message = w.path + ": " + message;
    list_.push_back({s, w.line, w.column, std::move(message), std::move(hint)});
  }

  std::vector<Diagnostic> list_;
  int errors_ = 0;
  int warnings_ = 0;
  bool errors_dropped_ = false;
  bool warnings_dropped_ = false;
};

// ================================================================================
// Value checks shared by the text and the JSON path

// A decimal integer as written: optional '-', digits, '_' only between digits.
struct Number {
  bool negative = false;
  bool overflow = false;  // magnitude does not fit in 64 bits
  std::uint64_t magnitude = 0;
};

std::optional<Number> parse_number(std::string_view s) {
  Number n;
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') n.negative = true, ++i;
  if (i == s.size()) return std::nullopt;
  bool last_digit = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      if (!last_digit || i + 1 == s.size()) return std::nullopt;
      last_digit = false;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    last_digit = true;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n.magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      n.overflow = true;
    else
      n.magnitude = n.magnitude * 10 + digit;
  }
  if (!last_digit) return std::nullopt;
  return n;
}

std::optional<std::uint64_t> in_range(Diags& d, const Where& w, std::string_view what,
                                      const Number& n, std::string_view got, std::uint64_t lo,
                                      std::uint64_t hi) {
  const bool zero = !n.overflow && n.magnitude == 0;
  if (!n.overflow && (!n.negative || zero) && n.magnitude >= lo && n.magnitude <= hi)
    return n.magnitude;
  d.error(w, std::string(what) + " must be between " + number(lo) + " and " + number(hi) +
                 ", got " + std::string(got));
  return std::nullopt;
}

std::optional<std::int64_t> in_signed_range(Diags& d, const Where& w, std::string_view what,
                                            const Number& n, std::string_view got) {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!n.overflow && !n.negative && n.magnitude <= max)
    return static_cast<std::int64_t>(n.magnitude);
  if (!n.overflow && n.negative && n.magnitude <= max + 1) {
    if (n.magnitude == max + 1) return std::numeric_limits<std::int64_t>::min();
    return -static_cast<std::int64_t>(n.magnitude);
  }
  d.error(w, std::string(what) + " must be between " +
                 number(std::numeric_limits<std::int64_t>::min()) + " and " +
                 number(std::numeric_limits<std::int64_t>::max()) + ", got " + std::string(got));
  return std::nullopt;
}

std::optional<std::uint64_t> unsigned_token(Diags& d, const Where& w, std::string_view what,
                                            std::string_view token, std::uint64_t lo,
                                            std::uint64_t hi, std::string_view hint) {
  const auto n = parse_number(token);
  if (!n) {
    d.error(w, std::string(what) + " must be a whole number, got " + quote(token),
            std::string(hint));
    return std::nullopt;
  }
  return in_range(d, w, what, *n, shown(token), lo, hi);
}

std::optional<std::int64_t> signed_token(Diags& d, const Where& w, std::string_view what,
                                         std::string_view token, std::string_view hint) {
  const auto n = parse_number(token);
  if (!n) {
    d.error(w, std::string(what) + " must be a whole number, got " + quote(token),
            std::string(hint));
    return std::nullopt;
  }
  return in_signed_range(d, w, what, *n, shown(token));
}

struct Unit {
  std::string_view name;
  std::int64_t ns;
};
constexpr std::array<Unit, 6> kUnits{{{"ns", 1},
                                      {"us", 1'000},
                                      {"\xC2\xB5s", 1'000},  // µs (micro sign)
                                      {"\xCE\xBCs", 1'000},  // μs (Greek mu)
                                      {"ms", 1'000'000},
                                      {"s", 1'000'000'000}}};
constexpr std::string_view kUnitList = "ns, us, ms or s";

std::optional<std::int64_t> unit_ns(std::string_view unit) {
  for (const auto& u : kUnits)
    if (u.name == unit) return u.ns;
  return std::nullopt;
}

// A duration "5ms". `next` is the token after it on the line (text only): when the
// unit was written apart ("5 ms") it is named in the hint and *used_next is set.
std::optional<nanoseconds> duration_token(Diags& d, const Where& w, OpKind op,
                                          std::string_view token, std::string_view next = {},
                                          bool* used_next = nullptr) {
  const std::string kw(op_name(op));
  std::size_t split = 0;
  while (split < token.size() && (token[split] == '-' || token[split] == '_' ||
                                  (token[split] >= '0' && token[split] <= '9')))
    ++split;
  const std::string_view digits = token.substr(0, split), unit = token.substr(split);
  const auto n = parse_number(digits);
  if (!n) {
    d.error(w, kw + " needs a duration, got " + quote(token),
            "write a whole number and a unit (" + std::string(kUnitList) + "), e.g. \"" +
                std::string(usage_of(op).example) + "\"");
    return std::nullopt;
  }
  if (unit.empty()) {
    if (!next.empty() && unit_ns(next)) {
      if (used_next) *used_next = true;
      d.error(w, "duration " + quote(token) + " has no unit",
              "write the number and its unit without a space: " +
                  quote(std::string(token) + std::string(next)));
    } else {
      d.error(w, "duration " + quote(token) + " has no unit",
              "add a unit: " + std::string(kUnitList) + ", e.g. \"" +
                  std::string(usage_of(op).example) + "\"");
    }
    return std::nullopt;
  }
  const auto scale = unit_ns(unit);
  if (!scale) {
    d.error(w.shifted(static_cast<int>(split)), "unknown duration unit " + quote(unit),
            "units are " + std::string(kUnitList));
    return std::nullopt;
  }
  const auto max = static_cast<std::uint64_t>(limits::duration.count());
  const bool zero = !n->overflow && n->magnitude == 0;
  if (n->overflow || (n->negative && !zero) ||
      n->magnitude > max / static_cast<std::uint64_t>(*scale)) {
    d.error(w, kw + " duration must be between 0 and 3600s (1 hour), got " + shown(token));
    return std::nullopt;
  }
  return nanoseconds{static_cast<std::int64_t>(n->magnitude) * *scale};
}

bool name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

// kind: "task" or "channel".
bool check_name(Diags& d, const Where& w, std::string_view kind, std::string_view name) {
  bool valid = !name.empty();
  for (std::size_t i = 0; valid && i < name.size(); ++i) valid = name_char(name[i], i == 0);
  if (!valid) {
    std::string hint =
        "names start with a letter or \"_\" and continue with letters, digits or \"_\"";
    if (name.size() > 1 && name.back() == ':') hint += "; remove the \":\"";
    d.error(w, "invalid " + std::string(kind) + " name " + quote(name), std::move(hint));
    return false;
  }
  if (name.size() > static_cast<std::size_t>(limits::name_length)) {
    d.error(w,
            std::string(kind) + " name " + quote(name) + " is " + number(name.size()) +
                " characters long; the limit is " + number(limits::name_length),
            "use a shorter name");
    return false;
  }
  return true;
}

// The value of executor/clock/threads.
template <std::size_t N>
std::optional<std::size_t> keyword_value(Diags& d, const Where& w, std::string_view what,
                                         std::string_view value,
                                         const std::array<std::string_view, N>& names) {
  if (auto i = find_name(names, value)) return i;
  d.error(w, "unknown " + std::string(what) + " " + quote(value),
          did_you_mean(value, names) + "choose one of: " + join_names(names));
  return std::nullopt;
}

std::string setting_hint(Setting s) {
  switch (s) {
    case Setting::executor:
      return "choose one of: " + join_names(kExecutorNames);
    case Setting::clock:
      return "choose one of: " + join_names(kClockNames);
    case Setting::threads:
      return "choose one of: " + join_names(kThreadsNames);
    case Setting::workers:
      return "usage: workers N (1 to " + number(limits::workers) + ")";
    case Setting::seed:
      return "usage: seed N, e.g. \"seed 7\"";
    case Setting::max_events:
      return "usage: max_events N, e.g. \"max_events 5000\"";
  }
  return {};
}

// Applies a setting's value (its text form), or reports why it is invalid and returns false.
bool apply_setting(Settings& st, Setting k, std::string_view value, const Where& w, Diags& d) {
  const auto set = [](auto& field, const auto& parsed) {
    if (parsed) field = static_cast<std::remove_reference_t<decltype(field)>>(*parsed);
    return parsed.has_value();
  };
  switch (k) {
    case Setting::executor:
      return set(st.executor, keyword_value(d, w, "executor", value, kExecutorNames));
    case Setting::clock:
      return set(st.clock, keyword_value(d, w, "clock", value, kClockNames));
    case Setting::threads:
      return set(st.threads, keyword_value(d, w, "threads mode", value, kThreadsNames));
    case Setting::workers:
      return set(st.workers,
                 unsigned_token(d, w, "workers", value, 1,
                                static_cast<std::uint64_t>(limits::workers), setting_hint(k)));
    case Setting::seed:
      return set(st.seed,
                 unsigned_token(d, w, "seed", value, 0, std::numeric_limits<std::uint64_t>::max(),
                                setting_hint(k)));
    case Setting::max_events:
      return set(st.max_events,
                 unsigned_token(d, w, "max_events", value, 1, limits::max_events, setting_hint(k)));
  }
  return false;
}

// ================================================================================
// The draft: a scenario plus where each part came from. The text parser and the JSON
// reader both build one; `check` then applies the rules that span several lines.

struct OpSource {
  Where at;   // the operation (its keyword)
  Where arg;  // its target (task or channel), when it has one
};
struct TaskSource {
  Where at;    // the "task" line
  Where name;  // the name
  std::vector<OpSource> ops;
};
struct ChannelSource {
  Where at;
  Where name;
};
struct SettingSource {
  bool given = false;  // written in the input (a second one is an error)
  bool valid = false;  // given with a valid value (only those get "no effect" warnings)
  Where key;
  Where value;
};

struct Draft {
  Scenario s;
  std::vector<TaskSource> tasks;  // parallel to s.tasks
  std::vector<ChannelSource> channels;
  std::array<SettingSource, kSettingCount> settings;
  Where no_tasks;  // where "the scenario has no task" is reported, and its hint
  std::string no_tasks_hint =
      "add a root task: a \"task main\" line followed by indented operations";

  SettingSource& setting(Setting k) { return settings[static_cast<std::size_t>(k)]; }
};

std::string executor_phrase(ExecutorKind e) {
  return "executor " + std::string(to_string(e));
}

// An unknown task or channel: suggests a close name of the same kind, says when the
// name belongs to the other kind, or else how to define it.
void report_unknown(Diags& d, const Where& w, const std::string& name, bool is_task,
                    const std::vector<std::string_view>& same_kind, bool other_kind_has_it) {
  const std::string kind = is_task ? "task" : "channel", other = is_task ? "channel" : "task";
  std::string hint;
  if (auto c = closest(name, same_kind))
    hint = "did you mean \"" + *c + "\"?";
  else if (other_kind_has_it)
    hint = quote(name) + " is a " + other + ", not a " + kind;
  else if (w.line == 0)
    hint = "add a " + kind + " named " + quote(name);
  else if (is_task)
    hint = "define it with a \"task " + name + "\" line";
  else
    hint = "declare it at the top level with \"channel " + name + "\"";
  d.error(w, "unknown " + kind + " " + quote(name), std::move(hint));
}

// Calls must not form a cycle. Iterative depth-first search (no recursion, whatever the
// number of tasks); each back edge is one cycle, reported at its call.
void check_call_cycles(
    Diags& d, const Draft& dr,
    const std::vector<std::vector<std::pair<int, int>>>& calls /* (callee, op) */) {
  const std::size_t n = calls.size();
  std::vector<int> state(n, 0);  // 0 unvisited, 1 on the stack, 2 done
  struct Frame {
    int task;
    std::size_t next;
  };
  std::vector<Frame> stack;
  for (std::size_t start = 0; start < n && !d.full(); ++start) {
    if (state[start] != 0) continue;
    stack.push_back({static_cast<int>(start), 0});
    state[start] = 1;
    while (!stack.empty()) {
      Frame& f = stack.back();
      const auto& edges = calls[static_cast<std::size_t>(f.task)];
      if (f.next == edges.size()) {
        state[static_cast<std::size_t>(f.task)] = 2;
        stack.pop_back();
        continue;
      }
      const auto [callee, op] = edges[f.next++];
      const int caller = f.task;
      if (state[static_cast<std::size_t>(callee)] == 0) {
        state[static_cast<std::size_t>(callee)] = 1;
        stack.push_back({callee, 0});
      } else if (state[static_cast<std::size_t>(callee)] == 1) {
        std::size_t from = stack.size() - 1;
        while (stack[from].task != callee) --from;
        const std::size_t len = stack.size() - from;
        constexpr std::size_t shown_max = 16;
        std::string path;
        for (std::size_t k = from; k < stack.size(); ++k) {
          if (len > shown_max && k == from + shown_max - 1) {
            path += "... -> ";
            k = stack.size() - 1;
          }
          path += dr.s.tasks[static_cast<std::size_t>(stack[k].task)].name + " -> ";
        }
        path += dr.s.tasks[static_cast<std::size_t>(callee)].name;
        d.error(dr.tasks[static_cast<std::size_t>(caller)].ops[static_cast<std::size_t>(op)].arg,
                "call cycle: " + path,
                "a call runs the called task inline until it finishes, so a cycle never ends; "
                "remove one of these calls");
      }
    }
  }
}

// `threads real` with `thread_per_task` starts a real thread at every spawn it runs.
// The limit on spawned tasks (check) keeps the spawn sites to 15, but a spawn inside a
// task that is called several times (or that is started again, through others, by the
// tasks it starts) runs more than once. Counts the threads such a run starts and
// refuses it past limits::real_threads, at the spawn that repeats most. For a
// scenario without other errors (every target known, no call cycle).
void check_repeated_spawns(Diags& d, const Draft& dr) {
  const Scenario& sc = dr.s;
  constexpr std::uint64_t kEndless = std::uint64_t{1} << 40;  // saturates long before overflow
  const std::size_t n = sc.tasks.size();
  const auto starts = [](const Op& op) { return op.kind == OpKind::spawn || op.kind == OpKind::call; };

  // Tasks that run at all (from the root through spawn and call).
  std::vector<bool> runs_at_all(n, false);
  std::vector<int> todo{0};
  runs_at_all[0] = true;
  while (!todo.empty()) {
    const Task& task = sc.tasks[static_cast<std::size_t>(todo.back())];
    todo.pop_back();
    for (const Op& op : task.ops) {
      const int target = starts(op) ? sc.task_index(op.target) : -1;
      if (target < 0 || runs_at_all[static_cast<std::size_t>(target)]) continue;
      runs_at_all[static_cast<std::size_t>(target)] = true;
      todo.push_back(target);
    }
  }
  // How often each task's function runs: the sum over the spawns and calls of it in
  // tasks that run. A cycle among running tasks repeats without end.
  std::vector<std::uint64_t> runs(n, 0);
  std::vector<int> state(n, 0);  // 0 not counted, 1 counting, 2 counted
  const auto count = [&](const auto& self, std::size_t t) -> std::uint64_t {
    if (state[t] == 2) return runs[t];
    if (state[t] == 1) return kEndless;
    state[t] = 1;
    std::uint64_t total = t == 0 ? 1 : 0;
    for (std::size_t c = 0; c < n; ++c) {
      if (!runs_at_all[c]) continue;
      for (const Op& op : sc.tasks[c].ops) {
        if (starts(op) && sc.task_index(op.target) == static_cast<int>(t))
          total = std::min(kEndless, total + self(self, c));
      }
    }
    state[t] = 2;
    return runs[t] = total;
  };
  std::uint64_t threads = 1;  // the root's
  std::size_t worst_task = 0, worst_op = 0;
  bool repeats = false;
  for (std::size_t t = 0; t < n; ++t) {
    if (!runs_at_all[t]) continue;
    const std::uint64_t times = count(count, t);
    for (std::size_t j = 0; j < sc.tasks[t].ops.size(); ++j) {
      if (sc.tasks[t].ops[j].kind != OpKind::spawn) continue;
      threads = std::min(kEndless, threads + times);
      if (times > 1 && (!repeats || times > runs[worst_task])) {
        repeats = true;
        worst_task = t;
        worst_op = j;
      }
    }
  }
  const auto limit = static_cast<std::uint64_t>(limits::real_threads);
  if (threads <= limit || !repeats) return;
  const std::string& name = sc.tasks[worst_task].name;
  std::string message =
      "threads real with executor thread_per_task starts a real thread at every spawn: this one ";
  if (runs[worst_task] >= kEndless) {
    message += "repeats without end, as task " + quote(name) +
               " is started again by the tasks it starts; the limit is " + number(limit) + " threads";
  } else {
    message += "runs " + number(runs[worst_task]) + " times, as task " + quote(name) + " runs " +
               number(runs[worst_task]) + " times, so the run starts " + number(threads) +
               " threads; the limit is " + number(limit);
  }
  d.error(dr.tasks[worst_task].ops[worst_op].at, message,
          "the browser runs each real thread in a Web Worker of a fixed pool; spawn fewer tasks, use "
          "\"executor thread_pool\", or use \"threads simulated\"");
}

void check(Draft& dr, Diags& d) {
  Scenario& s = dr.s;
  const std::size_t task_count = s.tasks.size();

  // Presence and limits.
  if (s.tasks.empty()) d.error(dr.no_tasks, "the scenario has no task", dr.no_tasks_hint);
  if (task_count > static_cast<std::size_t>(limits::tasks))
    d.error(
        dr.tasks[limits::tasks].at,
        "too many tasks: " + number(task_count) + " defined, the limit is " + number(limits::tasks),
        "merge tasks or remove unused ones");
  for (std::size_t t = 0; t < task_count; ++t) {
    const auto ops = s.tasks[t].ops.size();
    if (ops > static_cast<std::size_t>(limits::ops_per_task))
      d.error(dr.tasks[t].ops[limits::ops_per_task].at,
              "too many operations in task " + quote(s.tasks[t].name) + ": " + number(ops) +
                  ", the limit is " + number(limits::ops_per_task),
              "move some of them into another task and call it");
  }
  if (s.channels.size() > static_cast<std::size_t>(limits::channels))
    d.error(dr.channels[limits::channels].at,
            "too many channels: " + number(s.channels.size()) + " declared, the limit is " +
                number(limits::channels),
            "remove unused channels");

  // Unique names; lookups go to the first definition.
  std::unordered_map<std::string_view, int> task_by_name, channel_by_name;
  std::vector<bool> first_of_name(task_count, false);
  for (std::size_t t = 0; t < task_count; ++t) {
    auto [it, fresh] = task_by_name.emplace(s.tasks[t].name, static_cast<int>(t));
    first_of_name[t] = fresh;
    if (!fresh)
      d.error(dr.tasks[t].name,
              "task " + quote(s.tasks[t].name) + " is already defined " +
                  place(dr.tasks[static_cast<std::size_t>(it->second)].at),
              "task names must be unique");
  }
  std::vector<bool> channel_first(s.channels.size(), false);
  for (std::size_t c = 0; c < s.channels.size(); ++c) {
    auto [it, fresh] = channel_by_name.emplace(s.channels[c].name, static_cast<int>(c));
    channel_first[c] = fresh;
    if (!fresh)
      d.error(dr.channels[c].name,
              "channel " + quote(s.channels[c].name) + " is already declared " +
                  place(dr.channels[static_cast<std::size_t>(it->second)].at),
              "channel names must be unique");
  }

  const ExecutorKind ex = s.settings.executor;
  const bool no_queue = ex == ExecutorKind::block_on_busy || ex == ExecutorKind::block_on;
  const auto find_task = [&](const std::string& name) {
    auto it = task_by_name.find(name);
    return it == task_by_name.end() ? -1 : it->second;
  };

  std::vector<std::string_view> task_names, channel_names;  // for "did you mean"
  for (const Task& t : s.tasks) task_names.push_back(t.name);
  for (const Channel& c : s.channels) channel_names.push_back(c.name);

  // Pass 1: spawns and channel uses.
  struct Site {
    int task = -1, op = -1;
  };
  std::vector<Site> spawned_at(task_count);
  std::vector<bool> channel_used(s.channels.size(), false);
  std::vector<std::vector<int>> starts(task_count);  // tasks each task spawns or calls
  for (std::size_t t = 0; t < task_count && !d.full(); ++t) {
    for (std::size_t j = 0; j < s.tasks[t].ops.size() && !d.full(); ++j) {
      const Op& op = s.tasks[t].ops[j];
      const OpSource& src = dr.tasks[t].ops[j];
      if (op.kind == OpKind::send || op.kind == OpKind::recv) {
        auto it = channel_by_name.find(op.target);
        if (it == channel_by_name.end())
          report_unknown(d, src.arg, op.target, false, channel_names,
                         task_by_name.count(op.target) > 0);
        else
          channel_used[static_cast<std::size_t>(it->second)] = true;
        continue;
      }
      if (op.kind != OpKind::spawn && op.kind != OpKind::join && op.kind != OpKind::call) continue;
      if (no_queue && op.kind != OpKind::call)
        d.error(src.at,
                std::string(op_name(op.kind)) + " needs a run queue, but " + executor_phrase(ex) +
                    " has none",
                std::string(to_string(ex)) +
                    " runs only the root future; use \"call TASK\" to await a task inline, or "
                    "\"executor local\"");
      const int target = find_task(op.target);
      if (target < 0) {
        report_unknown(d, src.arg, op.target, true, task_names,
                       channel_by_name.count(op.target) > 0);
        continue;
      }
      if (op.kind == OpKind::join) continue;
      starts[t].push_back(target);
      if (op.kind != OpKind::spawn) continue;
      if (target == 0) {
        d.error(src.arg, "the root task " + quote(op.target) + " cannot be spawned",
                "the first task is the root future, which the executor runs; spawn another task");
        continue;
      }
      Site& first = spawned_at[static_cast<std::size_t>(target)];
      if (first.task >= 0) {
        d.error(src.arg,
                "task " + quote(op.target) + " is already spawned " +
                    place(dr.tasks[static_cast<std::size_t>(first.task)]
                              .ops[static_cast<std::size_t>(first.op)]
                              .at),
                "a task runs once; define another task to run the same steps again");
      } else {
        first = {static_cast<int>(t), static_cast<int>(j)};
      }
    }
  }

  // Pass 2: joins and calls, which depend on every spawn.
  std::vector<std::vector<std::pair<int, int>>> calls(task_count);
  std::vector<bool> called(task_count, false);
  for (std::size_t t = 0; t < task_count && !d.full(); ++t) {
    for (std::size_t j = 0; j < s.tasks[t].ops.size() && !d.full(); ++j) {
      const Op& op = s.tasks[t].ops[j];
      if (op.kind != OpKind::join && op.kind != OpKind::call) continue;
      const int target = find_task(op.target);
      if (target < 0) continue;
      const OpSource& src = dr.tasks[t].ops[j];
      const Site& spawn = spawned_at[static_cast<std::size_t>(target)];
      if (op.kind == OpKind::call) called[static_cast<std::size_t>(target)] = true;
      if (target == 0) {
        if (op.kind == OpKind::join)
          d.error(src.arg, "the root task " + quote(op.target) + " cannot be joined",
                  "only spawned tasks can be joined");
        else
          d.error(src.arg, "the root task " + quote(op.target) + " cannot be called",
                  "the first task is the root future, which the executor runs; call another task");
      } else if (op.kind == OpKind::join) {
        if (spawn.task < 0) {
          bool is_called = false;
          for (const auto& other : s.tasks)
            for (const auto& o : other.ops)
              if (o.kind == OpKind::call && o.target == op.target) is_called = true;
          d.error(src.arg, "task " + quote(op.target) + " is joined but never spawned",
                  is_called
                      ? quote(op.target) + " is called, not spawned: the call already waits for it"
                      : "add \"spawn " + op.target + "\" before joining it");
        }
      } else if (spawn.task >= 0) {
        d.error(
            src.arg,
            "task " + quote(op.target) + " is spawned " +
                place(dr.tasks[static_cast<std::size_t>(spawn.task)]
                          .ops[static_cast<std::size_t>(spawn.op)]
                          .at) +
                ", so it cannot also be called",
            "a task is either spawned (it runs on its own) or called (it runs inline as an async "
            "function); define a second task for the other use");
      } else {
        auto& edges = calls[t];
        const bool known = std::any_of(edges.begin(), edges.end(),
                                       [&](const auto& e) { return e.first == target; });
        if (!known) edges.emplace_back(target, static_cast<int>(j));
      }
    }
  }
  check_call_cycles(d, dr, calls);

  // Settings that do not apply, and the real-thread rules.
  const Settings& st = s.settings;
  const bool threaded = ex == ExecutorKind::thread_per_task || ex == ExecutorKind::thread_pool;
  const SettingSource& workers = dr.setting(Setting::workers);
  const SettingSource& threads = dr.setting(Setting::threads);
  const SettingSource& seed = dr.setting(Setting::seed);
  const SettingSource& clock = dr.setting(Setting::clock);
  if (workers.valid && ex != ExecutorKind::thread_pool)
    d.warning(workers.key, "workers has no effect with " + executor_phrase(ex),
              "workers only applies to executor thread_pool");
  if (threads.valid && !threaded)
    d.warning(threads.key, "threads has no effect with " + executor_phrase(ex),
              "threads only applies to executor thread_per_task and thread_pool");
  if (seed.valid && !threaded)
    d.warning(
        seed.key, "seed has no effect with " + executor_phrase(ex),
        "seed orders simulated threads, which only executor thread_per_task and thread_pool use");
  else if (seed.valid && st.threads == ThreadsKind::real)
    d.warning(
        seed.key, "seed has no effect with threads real",
        "the operating system interleaves real threads; seed only applies to threads simulated");
  if (threaded && st.threads == ThreadsKind::real) {
    const bool bad_clock = clock.given && !clock.valid;  // already reported
    if (st.clock == ClockKind::virtual_time && !bad_clock) {
      if (clock.valid)
        d.error(threads.value,
                "real threads run on the real clock, but the clock is set to virtual " +
                    place(clock.key),
                "change it to \"clock real\", or use \"threads simulated\"");
      else
        d.error(threads.value,
                "real threads run on the real clock, but the clock is virtual by default",
                "add \"clock real\", or use \"threads simulated\"");
    }
    if (ex == ExecutorKind::thread_per_task) {
      int spawned = 0;
      for (const Site& site : spawned_at) spawned += site.task >= 0 ? 1 : 0;
      if (1 + spawned > limits::real_threads)
        d.error(threads.value,
                "threads real with executor thread_per_task needs one real thread per task: this "
                "scenario "
                "runs " +
                    number(1 + spawned) + " tasks (the root and " + number(spawned) +
                    " spawned), the limit is " + number(limits::real_threads),
                "the browser starts a Web Worker for each real thread; spawn fewer tasks, use "
                "\"executor thread_pool\", or use \"threads simulated\"");
      else if (d.errors() == 0)
        check_repeated_spawns(d, dr);
    }
  }

  // Tasks that never run: not reachable from the root through spawn or call.
  if (task_count > 0) {
    std::vector<bool> runs(task_count, false), started(task_count, false);
    std::vector<int> todo{0};
    runs[0] = true;
    while (!todo.empty()) {
      const auto t = static_cast<std::size_t>(todo.back());
      todo.pop_back();
      for (int next : starts[t]) {
        if (runs[static_cast<std::size_t>(next)]) continue;
        runs[static_cast<std::size_t>(next)] = true;
        todo.push_back(next);
      }
    }
    for (const auto& list : starts)
      for (int next : list) started[static_cast<std::size_t>(next)] = true;
    for (std::size_t t = 1; t < task_count; ++t) {
      if (runs[t] || !first_of_name[t]) continue;
      d.warning(dr.tasks[t].name, "task " + quote(s.tasks[t].name) + " never runs",
                started[t] ? "it is only spawned or called by tasks that never run"
                           : "spawn it or call it from a task that runs");
    }
  }
  for (std::size_t c = 0; c < s.channels.size(); ++c) {
    if (channel_used[c] || !channel_first[c]) continue;
    const std::string& name = s.channels[c].name;
    d.warning(dr.channels[c].name, "channel " + quote(name) + " is never used",
              "use it with \"send " + name + " VALUE\" and \"recv " + name + "\", or remove it");
  }
}

ParseResult finish(Draft& dr, Diags& d, bool sort_by_position) {
  ParseResult r;
  if (d.errors() == 0) r.scenario = std::move(dr.s);
  r.diagnostics = d.take(sort_by_position);
  return r;
}

// ================================================================================
// The text parser

// Encoding: the first invalid UTF-8 sequence or forbidden control character of each
// line. Returns false if there was any (the lines are then not parsed: guessing at
// the structure of mis-encoded text would only add noise).
bool check_encoding(std::string_view text, Diags& d) {
  int line = 1, column = 1;
  bool line_reported = false, ok = true;
  std::size_t i = 0;
  while (i < text.size() && !d.full()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line, column = 1, line_reported = false, ++i;
      continue;
    }
    char32_t cp = 0;
    const int len = utf8_length(text, i, &cp);
    std::string problem, hint;
    if (len == 0) {
      problem = "invalid UTF-8 byte sequence starting with byte 0x";
      problem += hex_digit(c >> 4);
      problem += hex_digit(c);
      hint = "the scenario must be UTF-8 text; save it as UTF-8";
    } else if (cp == '\r') {
      if (i + 1 < text.size() && text[i + 1] != '\n') {
        problem = "carriage return without a line feed";
        hint = "end lines with LF or CRLF";
      }
    } else if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F)) {
      problem = "control character U+00";
      problem += hex_digit(static_cast<unsigned>(cp) >> 4);
      problem += hex_digit(static_cast<unsigned>(cp));
      problem += " is not allowed";
      hint = "only tab, line feed and carriage return may appear; remove it";
    }
    if (!problem.empty()) {
      ok = false;
      if (!line_reported) d.error(Where::text(line, column), std::move(problem), std::move(hint));
      line_reported = true;
    }
    i += len == 0 ? 1 : static_cast<std::size_t>(len);
    ++column;
  }
  return ok;
}

struct Token {
  std::string_view text;
  int column;
};

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

class TextParser {
 public:
  TextParser(Draft& dr, Diags& d) : dr_(dr), d_(d) {}

  void run(std::string_view text) {
    int line = 0;
    std::size_t pos = 0;
    while (pos <= text.size() && !d_.full()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view content = text.substr(pos, end - pos);
      ++line;
      if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
      if (auto hash = content.find('#'); hash != std::string_view::npos)
        content = content.substr(0, hash);
      tokenize(content);
      if (!tokens_.empty()) statement(line, is_space(content.front()));
      if (end == text.size()) break;
      pos = end + 1;
    }
  }

 private:
  enum class Block { none_yet, task, discarded, other };

  void tokenize(std::string_view content) {
    tokens_.clear();
    int column = 1;
    std::size_t i = 0;
    while (i < content.size()) {
      if (is_space(content[i])) {
        ++i, ++column;
        continue;
      }
      const std::size_t start = i;
      const int start_column = column;
      while (i < content.size() && !is_space(content[i])) {
        if (!is_continuation(static_cast<unsigned char>(content[i]))) ++column;
        ++i;
      }
      tokens_.push_back({content.substr(start, i - start), start_column});
    }
  }

  Where at(const Token& t) const { return Where::text(line_, t.column); }
  // Just after a token: where a missing argument should have been.
  Where after(const Token& t) const { return Where::text(line_, t.column + code_points(t.text)); }

  void too_many(std::size_t first_extra, std::string_view what, std::string hint) {
    if (tokens_.size() > first_extra)
      d_.error(at(tokens_[first_extra]), "too many arguments for " + std::string(what),
               std::move(hint));
  }

  void statement(int line, bool indented) {
    line_ = line;
    const std::string_view word = tokens_[0].text;
    if (word == "task") {
      if (indented)
        d_.error(at(tokens_[0]), "a task line must not be indented",
                 "remove the spaces or tabs before \"task\"");
      task_line();
      return;
    }
    const auto setting = find_name(kSettingNames, word);
    if (setting || word == "channel") {
      if (indented)
        d_.error(at(tokens_[0]),
                 setting ? "a setting must not be indented"
                         : "a channel declaration must not be indented",
                 "remove the spaces or tabs before " + quote(word) +
                     "; only operations are indented under their task");
      else
        block_ = block_ == Block::none_yet ? Block::none_yet : Block::other;
      if (setting)
        setting_line(static_cast<Setting>(*setting));
      else
        channel_line();
      return;
    }
    const auto op = find_name(kOpNames, word);
    if (!indented) {
      if (!op) {
        std::vector<std::string_view> words{"task", "channel"};
        words.insert(words.end(), kSettingNames.begin(), kSettingNames.end());
        d_.error(at(tokens_[0]), "unknown statement " + quote(word),
                 did_you_mean(word, words) + "top-level lines are task, channel and the settings " +
                     join_names(kSettingNames));
        return;
      }
      d_.error(
          at(tokens_[0]), "operation " + quote(word) + " must be indented under a task",
          block_ == Block::task
              ? "indent it with spaces or a tab to add it to task " + quote(dr_.s.tasks.back().name)
              : std::string("indent it with spaces or a tab under a \"task NAME\" line"));
      if (block_ == Block::task || block_ == Block::discarded) op_line(static_cast<OpKind>(*op));
      return;
    }
    switch (block_) {
      case Block::none_yet:
        d_.error(at(tokens_[0]), "indented line before any task",
                 "indented lines are operations of the \"task NAME\" line above them; start with a "
                 "task line");
        return;
      case Block::other:
        d_.error(at(tokens_[0]), "indented line does not belong to a task",
                 "operations must follow their \"task NAME\" line, without settings or channel "
                 "declarations in between");
        return;
      case Block::task:
      case Block::discarded:
        break;
    }
    if (!op) {
      d_.error(at(tokens_[0]), "unknown operation " + quote(word),
               did_you_mean(word, kOpNames) + "operations are " + join_names(kOpNames));
      return;
    }
    op_line(static_cast<OpKind>(*op));
  }

  void task_line() {
    block_ = Block::discarded;
    if (tokens_.size() < 2) {
      d_.error(after(tokens_[0]), "task needs a name", "usage: task NAME, e.g. \"task main\"");
      return;
    }
    too_many(2, "task", "usage: task NAME; its operations go on the indented lines below");
    if (!check_name(d_, at(tokens_[1]), "task", tokens_[1].text)) return;
    dr_.s.tasks.push_back(Task{std::string(tokens_[1].text), line_, {}});
    dr_.tasks.push_back(TaskSource{at(tokens_[0]), at(tokens_[1]), {}});
    block_ = Block::task;
  }

  void channel_line() {
    const std::string usage = "usage: channel NAME [CAPACITY], e.g. \"channel jobs 4\"";
    if (tokens_.size() < 2) {
      d_.error(after(tokens_[0]), "channel needs a name", usage);
      return;
    }
    too_many(3, "channel", usage);
    if (!check_name(d_, at(tokens_[1]), "channel", tokens_[1].text)) return;
    Channel c{std::string(tokens_[1].text), 1, line_};
    if (tokens_.size() > 2) {
      // On a bad capacity the channel is still declared, so its uses resolve.
      if (auto cap = unsigned_token(d_, at(tokens_[2]), "channel capacity", tokens_[2].text, 1,
                                    limits::capacity, usage))
        c.capacity = *cap;
    }
    dr_.s.channels.push_back(std::move(c));
    dr_.channels.push_back(ChannelSource{at(tokens_[0]), at(tokens_[1])});
  }

  void setting_line(Setting k) {
    const std::string kw(kSettingNames[static_cast<std::size_t>(k)]);
    SettingSource& src = dr_.setting(k);
    if (src.given) {
      d_.error(at(tokens_[0]), kw + " is already set " + place(src.key),
               "each setting may appear once; remove one of them");
      return;
    }
    src.given = true;
    src.key = at(tokens_[0]);
    if (tokens_.size() < 2) {
      d_.error(after(tokens_[0]), kw + " needs a value", setting_hint(k));
      return;
    }
    src.value = at(tokens_[1]);
    too_many(2, kw, setting_hint(k));
    src.valid = apply_setting(dr_.s.settings, k, tokens_[1].text, src.value, d_);
  }

  void op_line(OpKind kind) {
    const Token kw = tokens_[0];
    const OpUsage& u = usage_of(kind);
    const std::string name(op_name(kind));
    const std::string usage =
        "usage: " + std::string(u.usage) + ", e.g. \"" + std::string(u.example) + "\"";
    Op op;
    op.kind = kind;
    op.line = line_;
    op.column = kw.column;
    OpSource src{at(kw), {}};
    std::size_t used = 1;  // tokens consumed
    // The operation is recorded unless its target is missing or invalid: with a bad
    // number the scenario is rejected anyway, and recording it avoids follow-up
    // errors such as a "never used" channel.
    bool keep = true;
    const auto need = [&](std::string_view what) {
      if (tokens_.size() > used) return true;
      d_.error(after(tokens_[used - 1]), name + " needs " + std::string(what), usage);
      return false;
    };
    const auto target = [&](std::string_view what, std::string_view kind) {
      keep = need(what);
      if (!keep) return;
      src.arg = at(tokens_[1]);
      keep = check_name(d_, src.arg, kind, tokens_[1].text);
      op.target = std::string(tokens_[1].text);
      used = 2;
    };
    switch (kind) {
      case OpKind::count:
        if (need("a number")) {
          op.amount =
              unsigned_token(d_, at(tokens_[1]), "count", tokens_[1].text, 0, limits::count, usage)
                  .value_or(0);
          used = 2;
        }
        break;
      case OpKind::yield:
        op.amount = 1;
        if (tokens_.size() > 1) {
          op.amount =
              unsigned_token(d_, at(tokens_[1]), "yield", tokens_[1].text, 1, limits::yield, usage)
                  .value_or(1);
          used = 2;
        }
        break;
      case OpKind::sleep:
      case OpKind::block:
        if (need("a duration")) {
          bool used_next = false;
          const std::string_view next = tokens_.size() > 2 ? tokens_[2].text : std::string_view{};
          op.duration = duration_token(d_, at(tokens_[1]), kind, tokens_[1].text, next, &used_next)
                            .value_or(nanoseconds{0});
          used = used_next ? 3 : 2;
        }
        break;
      case OpKind::spawn:
      case OpKind::join:
      case OpKind::call:
        target("a task name", "task");
        break;
      case OpKind::send:
        target("a channel name and a value", "channel");
        if (used == 2 && need("a value")) {
          op.value =
              signed_token(d_, at(tokens_[2]), "send value", tokens_[2].text, usage).value_or(0);
          used = 3;
        }
        break;
      case OpKind::recv:
        target("a channel name", "channel");
        break;
      case OpKind::lose_waker:
        break;
    }
    if (tokens_.size() > used)
      too_many(used, name, kind == OpKind::lose_waker ? "lose_waker takes no arguments" : usage);
    if (!keep || block_ != Block::task) return;
    dr_.s.tasks.back().ops.push_back(std::move(op));
    dr_.tasks.back().ops.push_back(std::move(src));
  }

  Draft& dr_;
  Diags& d_;
  std::vector<Token> tokens_;
  int line_ = 0;
  Block block_ = Block::none_yet;  // what indented lines belong to
};

// ================================================================================
// JSON

using nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::uint64_t kJsSafe = (std::uint64_t{1} << 53) - 1;

ojson integer_json(std::uint64_t v) {
  if (v <= kJsSafe) return ojson(v);
  return ojson(number(v));
}
ojson integer_json(std::int64_t v) {
  const std::uint64_t magnitude =
      v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  if (magnitude <= kJsSafe) return ojson(v);
  return ojson(number(v));
}

const char* json_type(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::binary:
      return "binary data";
    case json::value_t::discarded:
      return "nothing";
    default:
      return "a number";
  }
}

class JsonReader {
 public:
  JsonReader(Draft& dr, Diags& d) : dr_(dr), d_(d) {}

  // False when the JSON is not a scenario object at all (nothing to check further).
  bool run(const json& root) {
    dr_.no_tasks = Where{}.key("tasks");
    dr_.no_tasks_hint = "add a task object; the first one is the root";
    if (!root.is_object()) {
      d_.error(
          Where{},
          std::string(
              "the JSON must be an object with \"settings\", \"channels\" and \"tasks\", got ") +
              json_type(root));
      return false;
    }
    keys(root, Where{}, {"settings", "channels", "tasks"}, "a scenario");
    if (auto it = root.find("settings"); it != root.end()) settings(*it, Where{}.key("settings"));
    if (auto it = root.find("channels");
        it != root.end() && expect_array(*it, Where{}.key("channels")))
      for (std::size_t i = 0; i < it->size() && !d_.full(); ++i)
        channel((*it)[i], Where{}.key("channels").index(i));
    auto it = root.find("tasks");
    if (it == root.end()) {
      dr_.no_tasks = Where{};
      dr_.no_tasks_hint = "add \"tasks\": an array of tasks whose first one is the root";
      return true;
    }
    if (!expect_array(*it, Where{}.key("tasks"))) return false;
    for (std::size_t i = 0; i < it->size() && !d_.full(); ++i)
      task((*it)[i], Where{}.key("tasks").index(i));
    return true;
  }

 private:
  bool expect(bool ok, const json& j, const Where& w, std::string_view what) {
    if (!ok) d_.error(w, "expected " + std::string(what) + ", got " + json_type(j));
    return ok;
  }
  bool expect_object(const json& j, const Where& w) {
    return expect(j.is_object(), j, w, "an object");
  }
  bool expect_array(const json& j, const Where& w) {
    return expect(j.is_array(), j, w, "an array");
  }

  // Reports keys that are not in `allowed`.
  void keys(const json& obj, const Where& w, const std::vector<std::string_view>& allowed,
            std::string_view what, const std::vector<std::string_view>& other_known = {}) {
    for (auto it = obj.begin(); it != obj.end() && !d_.full(); ++it) {
      const std::string& k = it.key();
      if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      if (std::find(other_known.begin(), other_known.end(), k) != other_known.end())
        d_.error(w.key(k), quote(k) + " does not apply to " + std::string(what),
                 std::string(what) + " has: " + list);
      else
        d_.error(w.key(k), "unknown key " + quote(k),
                 did_you_mean(k, allowed) + std::string(what) + " has: " + list);
    }
  }

  // A whole number (or, when strings_ok, a decimal string) as a Number; the shown text in *got.
  std::optional<Number> number_of(const json& j, const Where& w, std::string_view what,
                                  bool strings_ok, std::string* got) {
    if (j.is_number_unsigned()) {
      *got = j.dump();
      return Number{false, false, j.get<std::uint64_t>()};
    }
    if (j.is_number_integer()) {
      *got = j.dump();
      const auto v = j.get<std::int64_t>();
      return Number{v < 0, false,
                    v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v)};
    }
    if (j.is_number_float()) {
      const double v = j.get<double>();
      *got = j.dump();
      if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) >= 0x1p63)
        return Number{v < 0, true, 0};
    }
    if (strings_ok && j.is_string()) {
      const auto& s = j.get_ref<const std::string&>();
      *got = shown(s);
      if (auto n = parse_number(s)) return n;
    }
    d_.error(w, std::string(what) + " must be a whole number" +
                    (strings_ok ? " or a string of digits" : "") + ", got " +
                    (j.is_string() ? quote(j.get_ref<const std::string&>()) : j.dump()));
    return std::nullopt;
  }

  std::optional<std::uint64_t> unsigned_of(const json& j, const Where& w, std::string_view what,
                                           std::uint64_t lo, std::uint64_t hi,
                                           bool strings_ok = false) {
    std::string got;
    auto n = number_of(j, w, what, strings_ok, &got);
    if (!n) return std::nullopt;
    return in_range(d_, w, what, *n, got, lo, hi);
  }

  const std::string* string_of(const json& j, const Where& w) {
    if (!expect(j.is_string(), j, w, "a string")) return nullptr;
    return &j.get_ref<const std::string&>();
  }

  int position(const json& obj, const char* key, const Where& w) {
    auto it = obj.find(key);
    if (it == obj.end()) return 0;
    auto v = unsigned_of(*it, w.key(key), key, 0,
                         static_cast<std::uint64_t>(std::numeric_limits<int>::max()));
    return static_cast<int>(v.value_or(0));
  }

  void settings(const json& j, const Where& w) {
    if (!expect_object(j, w)) return;
    keys(j, w, {kSettingNames.begin(), kSettingNames.end()}, "settings");
    for (std::size_t i = 0; i < kSettingCount; ++i) {
      auto it = j.find(std::string(kSettingNames[i]));
      if (it == j.end()) continue;
      const auto k = static_cast<Setting>(i);
      const Where at = w.key(kSettingNames[i]);
      Settings& st = dr_.s.settings;
      bool valid = false;
      switch (k) {
        case Setting::executor:
        case Setting::clock:
        case Setting::threads:
          if (const std::string* s = string_of(*it, at)) valid = apply_setting(st, k, *s, at, d_);
          break;
        case Setting::workers:
          if (auto v =
                  unsigned_of(*it, at, "workers", 1, static_cast<std::uint64_t>(limits::workers)))
            st.workers = static_cast<int>(*v), valid = true;
          break;
        case Setting::seed:
          if (auto v =
                  unsigned_of(*it, at, "seed", 0, std::numeric_limits<std::uint64_t>::max(), true))
            st.seed = *v, valid = true;
          break;
        case Setting::max_events:
          if (auto v = unsigned_of(*it, at, "max_events", 1, limits::max_events))
            st.max_events = *v, valid = true;
          break;
      }
      dr_.settings[i] = SettingSource{true, valid, at, at};
    }
  }

  void channel(const json& j, const Where& w) {
    if (!expect_object(j, w)) return;
    keys(j, w, {"name", "capacity", "line"}, "a channel");
    auto name = j.find("name");
    if (name == j.end()) {
      d_.error(w, "missing \"name\"",
               "a channel has a \"name\" and optionally a \"capacity\" (default 1)");
      return;
    }
    const std::string* s = string_of(*name, w.key("name"));
    if (!s || !check_name(d_, w.key("name"), "channel", *s)) return;
    Channel c{*s, 1, position(j, "line", w)};
    if (auto cap = j.find("capacity"); cap != j.end())
      if (auto v = unsigned_of(*cap, w.key("capacity"), "channel capacity", 1, limits::capacity))
        c.capacity = *v;
    dr_.s.channels.push_back(std::move(c));
    dr_.channels.push_back(ChannelSource{w, w.key("name")});
  }

  void task(const json& j, const Where& w) {
    if (!expect_object(j, w)) return;
    keys(j, w, {"name", "ops", "line"}, "a task");
    auto name = j.find("name");
    if (name == j.end()) {
      d_.error(w, "missing \"name\"", "a task has a \"name\" and \"ops\", an array of operations");
      return;
    }
    const std::string* s = string_of(*name, w.key("name"));
    const bool named = s && check_name(d_, w.key("name"), "task", *s);
    Task t{named ? *s : std::string(), position(j, "line", w), {}};
    TaskSource src{w, w.key("name"), {}};
    if (auto ops = j.find("ops"); ops != j.end() && expect_array(*ops, w.key("ops"))) {
      for (std::size_t i = 0; i < ops->size() && !d_.full(); ++i) {
        const Where ow = w.key("ops").index(i);
        OpSource os{ow, {}};
        if (auto op = read_op((*ops)[i], ow, os)) {
          t.ops.push_back(std::move(*op));
          src.ops.push_back(std::move(os));
        }
      }
    }
    if (!named) return;
    dr_.s.tasks.push_back(std::move(t));
    dr_.tasks.push_back(std::move(src));
  }

  std::optional<Op> read_op(const json& j, const Where& w, OpSource& src) {
    if (!expect_object(j, w)) return std::nullopt;
    auto kind_it = j.find("kind");
    if (kind_it == j.end()) {
      d_.error(w, "missing \"kind\"", "an operation has a \"kind\": " + join_names(kOpNames));
      return std::nullopt;
    }
    const std::string* kind_name = string_of(*kind_it, w.key("kind"));
    if (!kind_name) return std::nullopt;
    const auto kind_index = find_name(kOpNames, *kind_name);
    if (!kind_index) {
      d_.error(w.key("kind"), "unknown operation " + quote(*kind_name),
               did_you_mean(*kind_name, kOpNames) + "operations are " + join_names(kOpNames));
      return std::nullopt;
    }
    Op op;
    op.kind = static_cast<OpKind>(*kind_index);
    const std::string what = "a " + *kind_name + " operation";
    std::vector<std::string_view> allowed{"kind"};
    switch (op.kind) {
      case OpKind::count:
      case OpKind::yield:
        allowed.push_back("amount");
        break;
      case OpKind::sleep:
      case OpKind::block:
        allowed.push_back("duration");
        break;
      case OpKind::spawn:
      case OpKind::join:
      case OpKind::call:
        allowed.push_back("task");
        break;
      case OpKind::send:
        allowed.insert(allowed.end(), {"channel", "value"});
        break;
      case OpKind::recv:
        allowed.push_back("channel");
        break;
      case OpKind::lose_waker:
        break;
    }
    allowed.insert(allowed.end(), {"line", "column"});
    keys(j, w, allowed, what, {"amount", "duration", "task", "channel", "value"});
    op.line = position(j, "line", w);
    op.column = position(j, "column", w);

    // Kept unless the target is missing or invalid, as in the text.
    bool keep = true;
    const auto field = [&](const char* key) -> const json* {
      auto it = j.find(key);
      if (it != j.end()) return &*it;
      std::string example = "{\"kind\": \"" + *kind_name + "\"";
      for (std::size_t i = 1; i + 2 < allowed.size(); ++i)
        example += ", \"" + std::string(allowed[i]) + "\": ...";
      d_.error(w, "missing " + quote(key), std::string(what) + " looks like " + example + "}");
      return nullptr;
    };
    const auto name_field = [&](const char* key, std::string_view kind) {
      const json* v = field(key);
      keep = v != nullptr;
      if (!v) return;
      src.arg = w.key(key);
      const std::string* s = string_of(*v, src.arg);
      keep = s && check_name(d_, src.arg, kind, *s);
      if (keep) op.target = *s;
    };
    switch (op.kind) {
      case OpKind::count:
        if (const json* v = field("amount"))
          op.amount = unsigned_of(*v, w.key("amount"), "count", 0, limits::count).value_or(0);
        break;
      case OpKind::yield:
        op.amount = 1;
        if (auto it = j.find("amount"); it != j.end())
          op.amount = unsigned_of(*it, w.key("amount"), "yield", 1, limits::yield).value_or(1);
        break;
      case OpKind::sleep:
      case OpKind::block:
        if (const json* v = field("duration")) {
          if (v->is_string())
            op.duration =
                duration_token(d_, w.key("duration"), op.kind, v->get_ref<const std::string&>())
                    .value_or(nanoseconds{0});
          else
            d_.error(
                w.key("duration"),
                "expected a duration string such as \"5ms\", got " + std::string(json_type(*v)),
                "units are " + std::string(kUnitList));
        }
        break;
      case OpKind::spawn:
      case OpKind::join:
      case OpKind::call:
        name_field("task", "task");
        break;
      case OpKind::send:
        name_field("channel", "channel");
        if (const json* v = field("value")) {
          std::string got;
          if (auto n = number_of(*v, w.key("value"), "send value", true, &got))
            op.value = in_signed_range(d_, w.key("value"), "send value", *n, got).value_or(0);
        }
        break;
      case OpKind::recv:
        name_field("channel", "channel");
        break;
      case OpKind::lose_waker:
        break;
    }
    if (!keep) return std::nullopt;
    return op;
  }

  Draft& dr_;
  Diags& d_;
};

// A SAX handler that only records the first syntax error (its position and text).
struct JsonSyntaxError final : nlohmann::json_sax<json> {
  std::size_t offset = 0;
  std::string detail = "syntax error";

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const json::exception& e) override {
    // position: 1-based byte after the last one read. e.what():
    // "[json.exception.parse_error.101] parse error at line 1, column 2: <detail>"
    offset = position > 0 ? position - 1 : 0;
    const std::string_view what = e.what();
    const auto colon = what.find(": ", what.find("column"));
    detail = std::string(colon == std::string_view::npos ? what : what.substr(colon + 2));
    return false;
  }
};

// Line and column (code points) of a byte offset in the JSON text.
Where json_position(std::string_view text, std::size_t offset) {
  int line = 1, column = 1;
  offset = std::min(offset, text.size());
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n')
      line++, column = 1;
    else if (!is_continuation(static_cast<unsigned char>(text[i])))
      ++column;
  }
  return Where::text(line, column);
}

}  // namespace

// ================================================================================
// Public API

std::string_view to_string(ExecutorKind kind) noexcept {
  return name_of(kExecutorNames, kind);
}
std::string_view to_string(ClockKind kind) noexcept {
  return name_of(kClockNames, kind);
}
std::string_view to_string(ThreadsKind kind) noexcept {
  return name_of(kThreadsNames, kind);
}
std::string_view to_string(OpKind kind) noexcept {
  return name_of(kOpNames, kind);
}
std::string_view to_string(Severity severity) noexcept {
  return name_of(kSeverityNames, severity);
}

int Scenario::task_index(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < tasks.size(); ++i)
    if (tasks[i].name == name) return static_cast<int>(i);
  return -1;
}

int Scenario::channel_index(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < channels.size(); ++i)
    if (channels[i].name == name) return static_cast<int>(i);
  return -1;
}

bool same_content(const Scenario& a, const Scenario& b) {
  const auto strip = [](Scenario s) {
    for (auto& t : s.tasks) {
      t.line = 0;
      for (auto& op : t.ops) op.line = op.column = 0;
    }
    for (auto& c : s.channels) c.line = 0;
    return s;
  };
  return strip(a) == strip(b);
}

std::string format_diagnostic(const Diagnostic& diagnostic, std::string_view source_name) {
  std::string out(source_name);
  if (diagnostic.line > 0) {
    out += ":" + number(diagnostic.line);
    if (diagnostic.column > 0) out += ":" + number(diagnostic.column);
  }
  out += ": ";
  out += to_string(diagnostic.severity);
  out += ": " + diagnostic.message + "\n";
  if (!diagnostic.hint.empty()) out += "hint: " + diagnostic.hint + "\n";
  return out;
}

std::string format_duration(nanoseconds duration) {
  constexpr std::array<Unit, 3> larger{{{"s", 1'000'000'000}, {"ms", 1'000'000}, {"us", 1'000}}};
  const std::int64_t ns = duration.count();
  if (ns == 0) return "0s";
  for (const Unit& u : larger)
    if (ns % u.ns == 0) return number(ns / u.ns) + std::string(u.name);
  return number(ns) + "ns";
}

ParseResult parse(std::string_view text) {
  Diags d;
  Draft dr;
  dr.no_tasks = Where::text(1, 1);
  if (text.size() > limits::text_bytes) {
    d.error(Where::text(1, 1),
            "the scenario is " + number(static_cast<std::uint64_t>(text.size())) +
                " bytes; the limit is " + number(static_cast<std::uint64_t>(limits::text_bytes)) +
                " bytes (16 KiB)",
            "shorten it, e.g. remove comments or unused tasks");
    return finish(dr, d, true);
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
  if (check_encoding(text, d)) {
    TextParser(dr, d).run(text);
    if (!d.full()) check(dr, d);
  }
  return finish(dr, d, true);
}

std::string to_text(const Scenario& s) {
  const Settings& st = s.settings;
  const Settings defaults;
  std::string out = "executor " + std::string(to_string(st.executor)) + "\n";
  if (st.clock != defaults.clock) out += "clock " + std::string(to_string(st.clock)) + "\n";
  if (st.threads != defaults.threads) out += "threads " + std::string(to_string(st.threads)) + "\n";
  if (st.workers != defaults.workers) out += "workers " + number(st.workers) + "\n";
  if (st.seed != defaults.seed) out += "seed " + number(st.seed) + "\n";
  if (st.max_events != defaults.max_events) out += "max_events " + number(st.max_events) + "\n";
  if (!s.channels.empty()) out += "\n";
  for (const Channel& c : s.channels) {
    out += "channel " + c.name;
    if (c.capacity != 1) out += " " + number(c.capacity);
    out += "\n";
  }
  for (const Task& t : s.tasks) {
    out += "\ntask " + t.name + "\n";
    for (const Op& op : t.ops) {
      out += "  ";
      out += to_string(op.kind);
      switch (op.kind) {
        case OpKind::count:
          out += " " + number(op.amount);
          break;
        case OpKind::yield:
          if (op.amount != 1) out += " " + number(op.amount);
          break;
        case OpKind::sleep:
        case OpKind::block:
          out += " " + format_duration(op.duration);
          break;
        case OpKind::spawn:
        case OpKind::join:
        case OpKind::call:
        case OpKind::recv:
          out += " " + op.target;
          break;
        case OpKind::send:
          out += " " + op.target + " " + number(op.value);
          break;
        case OpKind::lose_waker:
          break;
      }
      out += "\n";
    }
  }
  return out;
}

namespace detail {

nlohmann::ordered_json to_json_value(const Scenario& s) {
  const Settings& st = s.settings;
  const Settings defaults;
  ojson settings = ojson::object();
  settings["executor"] = to_string(st.executor);
  if (st.clock != defaults.clock) settings["clock"] = to_string(st.clock);
  if (st.threads != defaults.threads) settings["threads"] = to_string(st.threads);
  if (st.workers != defaults.workers) settings["workers"] = st.workers;
  if (st.seed != defaults.seed) settings["seed"] = integer_json(st.seed);
  if (st.max_events != defaults.max_events) settings["max_events"] = st.max_events;

  ojson channels = ojson::array();
  for (const Channel& c : s.channels) {
    ojson j = {{"name", c.name}, {"capacity", c.capacity}};
    if (c.line > 0) j["line"] = c.line;
    channels.push_back(std::move(j));
  }
  ojson tasks = ojson::array();
  for (const Task& t : s.tasks) {
    ojson ops = ojson::array();
    for (const Op& op : t.ops) {
      ojson j = {{"kind", to_string(op.kind)}};
      switch (op.kind) {
        case OpKind::count:
        case OpKind::yield:
          j["amount"] = op.amount;
          break;
        case OpKind::sleep:
        case OpKind::block:
          j["duration"] = format_duration(op.duration);
          break;
        case OpKind::spawn:
        case OpKind::join:
        case OpKind::call:
          j["task"] = op.target;
          break;
        case OpKind::send:
          j["channel"] = op.target;
          j["value"] = integer_json(op.value);
          break;
        case OpKind::recv:
          j["channel"] = op.target;
          break;
        case OpKind::lose_waker:
          break;
      }
      if (op.line > 0) j["line"] = op.line;
      if (op.column > 0) j["column"] = op.column;
      ops.push_back(std::move(j));
    }
    ojson j = {{"name", t.name}};
    if (t.line > 0) j["line"] = t.line;
    j["ops"] = std::move(ops);
    tasks.push_back(std::move(j));
  }
  ojson root = ojson::object();
  root["settings"] = std::move(settings);
  root["channels"] = std::move(channels);
  root["tasks"] = std::move(tasks);
  return root;
}

}  // namespace detail

std::string to_json(const Scenario& s) { return detail::to_json_value(s).dump(2) + "\n"; }

ParseResult from_json(std::string_view text) {
  Diags d;
  Draft dr;
  if (text.size() > limits::json_bytes) {
    d.error(Where::text(1, 1), "the JSON is " + number(static_cast<std::uint64_t>(text.size())) +
                                   " bytes; the limit is " +
                                   number(static_cast<std::uint64_t>(limits::json_bytes)) +
                                   " bytes (1 MiB)");
    return finish(dr, d, false);
  }
  // No exceptions here: typed catch clauses do not work in every wasm configuration.
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    JsonSyntaxError where;
    json::sax_parse(text.begin(), text.end(), &where);
    d.error(json_position(text, where.offset), "invalid JSON: " + escaped(where.detail, 200));
    return finish(dr, d, false);
  }
  if (JsonReader(dr, d).run(root) && !d.full()) check(dr, d);
  if (d.errors() == 0) {
    const std::size_t size = to_text(dr.s).size();
    if (size > limits::text_bytes)
      d.error(Where{},
              "the scenario is too large: its text is " + number(static_cast<std::uint64_t>(size)) +
                  " bytes; the limit is " + number(static_cast<std::uint64_t>(limits::text_bytes)) +
                  " bytes (16 KiB)",
              "remove tasks or operations");
  }
  return finish(dr, d, false);
}

}  // namespace pollscope::scenario

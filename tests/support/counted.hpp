#pragma once
/// Test helpers that count or log (header-only, shared by every test file):
///  - LifeCounts / Tracked: a value type that reports its constructions, copies and
///    drops, to see exactly when a value (or the future or frame holding it) dies;
///  - PollCounted: wraps a future and counts its polls;
///  - PollLogged / DropLogged: wrap a future and append to a log on every poll / when
///    it is destroyed, to check the order of things across futures;
///  - PendingForever: Pending at every poll and never wakes (may carry a Tracked);
///  - Fails: throws std::runtime_error from poll (after some self-waking Pendings).
/// Only add to this file (other test files use what is here).
#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <pollscope/context.hpp>
#include <pollscope/future.hpp>
#include <pollscope/poll.hpp>

namespace pollscope_test {

// --- Tracked -------------------------------------------------------------------

/// What happened to the Tracked values made with it. Atomic counters: Tracked
/// values may die on any thread.
class LifeCounts {
 public:
  int made() const noexcept { return made_.load(); }
  int copies() const noexcept { return copies_.load(); }
  /// Destructions of objects that held a value (moved-from objects hold none).
  int drops() const noexcept { return drops_.load(); }
  /// Values alive now.
  int live() const noexcept { return made() + copies() - drops(); }

 private:
  friend class Tracked;
  std::atomic<int> made_{0};
  std::atomic<int> copies_{0};
  std::atomic<int> drops_{0};
};

/// An int that reports to a LifeCounts. Moving transfers the value: the moved-from
/// object holds none (holds_value() is false) and its destruction counts nothing,
/// so `drops()` counts the values that really died.
class Tracked {
 public:
  explicit Tracked(LifeCounts& counts, int value = 0) noexcept : counts_(&counts), value_(value) {
    counts.made_.fetch_add(1);
  }
  Tracked(const Tracked& other) noexcept : counts_(other.counts_), value_(other.value_) {
    if (counts_) counts_->copies_.fetch_add(1);
  }
  Tracked(Tracked&& other) noexcept
      : counts_(std::exchange(other.counts_, nullptr)), value_(other.value_) {}
  Tracked& operator=(const Tracked& other) noexcept {
    if (this != &other) *this = Tracked(other);
    return *this;
  }
  Tracked& operator=(Tracked&& other) noexcept {
    if (this != &other) {
      reset();
      counts_ = std::exchange(other.counts_, nullptr);
      value_ = other.value_;
    }
    return *this;
  }
  ~Tracked() { reset(); }

  int value() const noexcept { return value_; }
  bool holds_value() const noexcept { return counts_ != nullptr; }

 private:
  void reset() noexcept {
    if (LifeCounts* c = std::exchange(counts_, nullptr)) c->drops_.fetch_add(1);
  }
  LifeCounts* counts_;
  int value_;
};

// --- futures -------------------------------------------------------------------

/// Forwards to `F`, counting its polls in `polls` (which must outlive it).
template <class F>
class PollCounted {
 public:
  using Output = pollscope::output_t<F>;
  PollCounted(F future, int& polls) : future_(std::move(future)), polls_(&polls) {}
  pollscope::Poll<Output> poll(pollscope::Context& cx) {
    ++*polls_;
    return future_.poll(cx);
  }
  F& inner() noexcept { return future_; }

 private:
  F future_;
  int* polls_;
};

template <class F>
PollCounted<F> poll_counted(F future, int& polls) {
  return PollCounted<F>(std::move(future), polls);
}

/// Forwards to `F`, appending `name` to `log` (which must outlive it) before each poll.
template <class F>
class PollLogged {
 public:
  using Output = pollscope::output_t<F>;
  PollLogged(F future, std::vector<std::string>& log, std::string name)
      : future_(std::move(future)), log_(&log), name_(std::move(name)) {}
  pollscope::Poll<Output> poll(pollscope::Context& cx) {
    log_->push_back(name_);
    return future_.poll(cx);
  }

 private:
  F future_;
  std::vector<std::string>* log_;
  std::string name_;
};

template <class F>
PollLogged<F> poll_logged(F future, std::vector<std::string>& log, std::string name) {
  return PollLogged<F>(std::move(future), log, std::move(name));
}

/// Forwards to `F`; appends "<name> dropped" to `log` (which must outlive it) when
/// destroyed, unless it was moved from.
template <class F>
class DropLogged {
 public:
  using Output = pollscope::output_t<F>;
  DropLogged(F future, std::vector<std::string>& log, std::string name)
      : future_(std::move(future)), log_(&log), name_(std::move(name)) {}
  DropLogged(DropLogged&& other) noexcept(std::is_nothrow_move_constructible_v<F>)
      : future_(std::move(other.future_)),
        log_(std::exchange(other.log_, nullptr)),
        name_(std::move(other.name_)) {}
  DropLogged& operator=(DropLogged&&) = delete;
  ~DropLogged() {
    if (log_) log_->push_back(name_ + " dropped");
  }
  pollscope::Poll<Output> poll(pollscope::Context& cx) { return future_.poll(cx); }

 private:
  F future_;
  std::vector<std::string>* log_;
  std::string name_;
};

template <class F>
DropLogged<F> drop_logged(F future, std::vector<std::string>& log, std::string name) {
  return DropLogged<F>(std::move(future), log, std::move(name));
}

/// Pending at every poll and never wakes anyone: a future waiting for something
/// that never happens. With a LifeCounts it carries a Tracked, so its destruction
/// shows in `counts.drops()`.
template <class T = void>
class PendingForever {
 public:
  using Output = T;
  PendingForever() = default;
  explicit PendingForever(LifeCounts& counts) : token_(std::in_place, counts) {}
  pollscope::Poll<T> poll(pollscope::Context&) {
    ++polls_;
    return pollscope::pending;
  }
  int polls() const noexcept { return polls_; }

 private:
  std::optional<Tracked> token_;
  int polls_ = 0;
};

/// Pending (waking itself by reference) for `pending_polls` polls, then throws
/// std::runtime_error(message) from every poll.
template <class T = void>
class Fails {
 public:
  using Output = T;
  explicit Fails(std::string message, int pending_polls = 0)
      : message_(std::move(message)), pending_left_(pending_polls) {}
  pollscope::Poll<T> poll(pollscope::Context& cx) {
    if (pending_left_ > 0) {
      --pending_left_;
      cx.waker().wake_by_ref();
      return pollscope::pending;
    }
    throw std::runtime_error(message_);
  }

 private:
  std::string message_;
  int pending_left_;
};

}  // namespace pollscope_test

#pragma once
/// Async<T>: the coroutine type of async functions.
///
///   Async<int> answer() { co_return 42; }
///   Async<> hello() { int v = co_await answer(); co_await sleep(5ms); }
///
/// An Async is a Future. Calling an async function only creates its frame (like
/// Rust, nothing runs until the first poll). Each poll resumes the body until it
/// awaits a future that returns Pending. `co_await f` polls `f` inline, in the
/// caller's poll, with the caller's Context: nested awaits that are ready complete
/// within one executor poll. When an awaited future was Pending, the next poll of
/// the Async polls that future first and resumes the body only once it is Ready.
/// The frame (parameters and locals) is destroyed as soon as the body completes.
/// An exception escaping the body is rethrown to whoever polls (awaits, joins).
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "pollscope/context.hpp"
#include "pollscope/detail/block_cache.hpp"
#include "pollscope/detail/coroutine.hpp"
#include "pollscope/future.hpp"
#include "pollscope/poll.hpp"

namespace pollscope {

template <class T = void>
class Async;

namespace detail {

struct AsyncPromiseBase {
  /// The Context of the poll that is resuming the body.
  Context* cx = nullptr;
  /// The await that returned Pending, polled first by the next poll.
  void* pending_awaiter = nullptr;
  bool (*poll_pending)(void* awaiter, Context& cx) = nullptr;
  /// Optional for the reason given at FutureAwaiter::error_: every frame destroys it.
  std::optional<std::exception_ptr> error;

  /// Frames come from the thread's block cache: calling async functions in a loop
  /// (every spawned task, every nested call) then costs no malloc/free.
  static void* operator new(std::size_t size) { return block_alloc(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { block_free(frame, size); }

  coro::suspend_always initial_suspend() noexcept { return {}; }
  coro::suspend_always final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error.emplace(std::current_exception()); }

  template <class F>
  auto await_transform(F&& future);
};

/// The awaiter of `co_await future`: holds the future (by reference for an lvalue,
/// by value for a temporary, which then lives in the coroutine frame and never moves
/// again) and the result of its Ready poll.
template <class Held>
class FutureAwaiter {
  using F = std::remove_reference_t<Held>;
  using Out = output_t<F>;

 public:
  FutureAwaiter(Held future, AsyncPromiseBase& promise)
      : future_(std::forward<Held>(future)), promise_(promise) {}

  bool await_ready() { return try_poll(*promise_.cx); }
  template <class Handle>
  void await_suspend(Handle) noexcept {
    if constexpr (ReadyOnRepoll<F>) return;  // the next poll resumes the body at once
    promise_.pending_awaiter = this;
    promise_.poll_pending = &poll_thunk;
  }
  Out await_resume() {
    if (error_) std::rethrow_exception(*error_);
    if constexpr (!std::is_void_v<Out>) return std::move(*result_);
  }

 private:
  /// Polls the future; true when it is Ready (or threw: the exception surfaces at
  /// the co_await, where the body can catch it). A noexcept poll needs no handler,
  /// which in wasm saves a stack frame and an exception-handling block per await.
  bool try_poll(Context& cx) {
    if constexpr (noexcept(std::declval<F&>().poll(cx))) {
      return take(future_.poll(cx));
    } else {
      try {
        return take(future_.poll(cx));
      } catch (...) {
        error_.emplace(std::current_exception());
      }
      return true;
    }
  }
  bool take(Poll<Out>&& p) {
    if (p.is_pending()) return false;
    if constexpr (!std::is_void_v<Out>) result_.emplace(std::move(p).value());
    return true;
  }
  static bool poll_thunk(void* self, Context& cx) { return static_cast<FutureAwaiter*>(self)->try_poll(cx); }

  Held future_;
  AsyncPromiseBase& promise_;
  std::optional<value_or_monostate_t<Out>> result_;
  // Optional: destroying an empty std::exception_ptr is an out-of-line call in libc++
  // (the wasm builds), and every co_await destroys its awaiter.
  std::optional<std::exception_ptr> error_;
};

template <class F>
auto AsyncPromiseBase::await_transform(F&& future) {
  static_assert(Future<std::remove_cvref_t<F>>, "co_await in an Async needs a pollscope::Future");
  if constexpr (std::is_lvalue_reference_v<F>) {
    return FutureAwaiter<F>(future, *this);
  } else {
    return FutureAwaiter<std::remove_cvref_t<F>>(std::move(future), *this);
  }
}

template <class T>
struct AsyncPromise : AsyncPromiseBase {
  std::optional<T> value;
  template <class U>
    requires std::convertible_to<U, T>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct AsyncPromise<void> : AsyncPromiseBase {
  void return_void() noexcept {}
};

}  // namespace detail

template <class T>
class Async {
 public:
  using Output = T;
  struct promise_type : detail::AsyncPromise<T> {
    Async get_return_object() noexcept { return Async(Handle::from_promise(*this)); }
  };

  Async(Async&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  Async& operator=(Async&& other) noexcept {
    if (this != &other) {
      if (frame_) frame_.destroy();
      frame_ = std::exchange(other.frame_, nullptr);
    }
    return *this;
  }
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  /// Dropping an unfinished Async cancels it: its frame (and every future it was
  /// awaiting) is destroyed.
  ~Async() {
    if (frame_) frame_.destroy();
  }

  /// Throws std::logic_error when polled after it completed (or after a move).
  /// (Small enough to inline into its poller, a task or an enclosing await: the rare
  /// paths are out of line.)
  Poll<T> poll(Context& cx) {
    if (!frame_) polled_after_completion();
    auto& promise = frame_.promise();
    if (promise.poll_pending) {
      if (!promise.poll_pending(promise.pending_awaiter, cx)) return pending;
      promise.poll_pending = nullptr;
      promise.pending_awaiter = nullptr;
    }
    promise.cx = &cx;
    frame_.resume();
    if (!frame_.done()) return pending;
    return finish();
  }

  /// True once the body has completed (its frame is gone).
  bool is_done() const noexcept { return !frame_; }

 private:
  using Handle = detail::coro::coroutine_handle<promise_type>;
  explicit Async(Handle frame) noexcept : frame_(frame) {}

  [[noreturn, gnu::noinline, gnu::cold]] static void polled_after_completion() {
    throw std::logic_error("pollscope::Async polled after it completed");
  }
  /// The body completed: its result (or exception) out, its frame destroyed.
  [[gnu::noinline]] Poll<T> finish() {
    auto& promise = frame_.promise();
    Handle done = std::exchange(frame_, nullptr);
    if (promise.error) {
      std::exception_ptr error = *promise.error;
      done.destroy();
      std::rethrow_exception(error);
    }
    if constexpr (std::is_void_v<T>) {
      done.destroy();
      return ready();
    } else {
      Poll<T> result(std::in_place, std::move(*promise.value));
      done.destroy();
      return result;
    }
  }

  Handle frame_;
};

}  // namespace pollscope

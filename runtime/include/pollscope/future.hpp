#pragma once
/// The Future concept: something that can be polled until it is Ready.
///
/// pollscope's answer to Rust's Pin: nothing in pollscope moves a future after its
/// first poll. Tasks keep their future in place on the heap, combinators keep their
/// children as members, `co_await` keeps the awaited future in the coroutine frame,
/// and `Async` is a movable handle to a heap frame. Code that polls futures by hand
/// must follow the same rule: once polled, a future stays where it is until it is
/// destroyed (leaf futures such as `sleep` register their own address with a timer).
#include <concepts>
#include <type_traits>
#include <variant>

#include "pollscope/context.hpp"
#include "pollscope/poll.hpp"

namespace pollscope {

template <class F>
concept Future = requires(F& f, Context& cx) {
  typename F::Output;
  { f.poll(cx) } -> std::same_as<Poll<typename F::Output>>;
};

/// A future, or a reference to one (for functions that poll in place).
template <class F>
concept FutureOrRef = Future<std::remove_cvref_t<F>>;

/// A future of void that declares `static constexpr bool ready_on_repoll = true`:
/// once it has returned Pending, its next poll returns Ready and does nothing else
/// (yield_now). `co_await` then resumes the body without making that poll, which
/// saves an indirect call per await, the largest cost of a yield in wasm.
template <class F>
concept ReadyOnRepoll = std::is_void_v<typename F::Output> && F::ready_on_repoll;

/// The output type of a future (`F` may be a reference).
template <class F>
using output_t = typename std::remove_cvref_t<F>::Output;

/// A future's output as a value: `void` becomes std::monostate (used by join, select).
template <class T>
using value_or_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

}  // namespace pollscope

#pragma once
// The one compatibility shim of the project.
//
// Why: g++ 12 ships the C++20 <coroutine> header, but the libc++ 13 in Debian's
// Emscripten 3.1.6 only has <experimental/coroutine> (clang 14 looks the traits up
// there). Everything else in pollscope names coroutine types through
// pollscope::detail::coro, so this is the only place that knows.
// Delete when: the wasm toolchain moves to libc++ 14 or later (Emscripten >= 3.1.9),
// which has <coroutine>; then alias std directly or drop the namespace.
#if __has_include(<coroutine>)
#include <coroutine>
namespace pollscope::detail::coro {
using std::coroutine_handle;
using std::suspend_always;
using std::suspend_never;
}  // namespace pollscope::detail::coro
#elif __has_include(<experimental/coroutine>)
#include <experimental/coroutine>
namespace pollscope::detail::coro {
using std::experimental::coroutine_handle;
using std::experimental::suspend_always;
using std::experimental::suspend_never;
}  // namespace pollscope::detail::coro
#else
#error "pollscope needs <coroutine> or <experimental/coroutine>"
#endif

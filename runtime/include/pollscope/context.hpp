#pragma once
/// Context: what a poll is given. Today only the waker of the task being polled.
#include "pollscope/waker.hpp"

namespace pollscope {

/// Passed to every `poll`. Borrows the waker: it must outlive the Context, and a
/// future that needs to be woken later keeps a copy (`cx.waker()` copied), never a
/// pointer to this one.
class Context {
 public:
  explicit Context(const Waker& waker) noexcept : waker_(&waker) {}
  const Waker& waker() const noexcept { return *waker_; }

 private:
  const Waker* waker_;
};

}  // namespace pollscope

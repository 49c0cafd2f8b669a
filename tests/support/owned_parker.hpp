#pragma once
/// OwnedParker: a detail::Parker held for one test the way a block_on call holds
/// it: its own reference, plus the waker it lends to polls (backed by that
/// reference, not counted). Shared by parker_tests.cpp and parker_threads_tests.cpp.
#include <pollscope/detail/parker.hpp>
#include <pollscope/waker.hpp>

namespace pollscope_test {

struct OwnedParker {
  pollscope::detail::Parker* parker = pollscope::detail::Parker::acquire();
  pollscope::Waker lent = pollscope::detail::WakerAccess::borrow(parker->raw_waker());
  OwnedParker() = default;
  OwnedParker(const OwnedParker&) = delete;
  OwnedParker& operator=(const OwnedParker&) = delete;
  ~OwnedParker() {
    pollscope::detail::WakerAccess::forget(lent);
    pollscope::detail::Parker::recycle(parker);
  }
  /// A counted waker, cloned from the lent one (as a future keeps one).
  pollscope::Waker clone() const { return lent; }
};

}  // namespace pollscope_test

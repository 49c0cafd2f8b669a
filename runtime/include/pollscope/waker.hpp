#pragma once
/// Waker: the handle a future keeps to say "poll me again". A value type over a
/// RawWaker (a data pointer and a table of four functions), as in Rust.
///
/// Threading: a Waker may be cloned, woken and dropped from any thread, as long as
/// its vtable's functions are thread-safe (every waker pollscope makes is). One Waker
/// object must not be used by two threads at once without synchronisation, like any
/// value.
#include <utility>

namespace pollscope {

struct RawWakerVTable;

/// The untyped guts of a Waker: whatever `data` means is up to `vtable`.
struct RawWaker {
  const void* data;
  const RawWakerVTable* vtable;
};

/// The four operations of a waker. `clone` returns a new RawWaker for the same task
/// (typically bumping a reference count); `wake` wakes and releases `data`; `wake_by_ref`
/// wakes without releasing; `drop` releases without waking.
///
/// None of them may throw: a wake cannot fail (as in Rust), and futures wake from
/// places that have no way to report an error, such as destructors and noexcept
/// polls. Something that does fail inside one (an allocation, a tracer) terminates
/// the program.
struct RawWakerVTable {
  RawWaker (*clone)(const void* data) noexcept;
  void (*wake)(const void* data) noexcept;
  void (*wake_by_ref)(const void* data) noexcept;
  void (*drop)(const void* data) noexcept;
};

namespace detail {
struct WakerAccess;
}

class Waker {
 public:
  /// Adopts `raw`: the Waker now owns whatever reference `raw` stands for.
  static Waker from_raw(RawWaker raw) noexcept { return Waker(raw); }

  /// A waker whose every operation does nothing (the article's DumbRuntime uses one).
  static Waker noop() noexcept;

  Waker(const Waker& other) noexcept : raw_(other.raw_.vtable ? other.raw_.vtable->clone(other.raw_.data) : other.raw_) {}
  Waker(Waker&& other) noexcept : raw_(std::exchange(other.raw_, RawWaker{nullptr, nullptr})) {}
  Waker& operator=(const Waker& other) noexcept {
    if (this != &other) *this = Waker(other);
    return *this;
  }
  Waker& operator=(Waker&& other) noexcept {
    if (this != &other) {
      release();
      raw_ = std::exchange(other.raw_, RawWaker{nullptr, nullptr});
    }
    return *this;
  }
  ~Waker() { release(); }

  /// Wakes the task and consumes this waker: the vtable's `wake` releases the data,
  /// and this (moved-from) object calls nothing afterwards.
  void wake() && noexcept {
    RawWaker raw = std::exchange(raw_, RawWaker{nullptr, nullptr});
    if (raw.vtable) raw.vtable->wake(raw.data);
  }

  /// Wakes the task and keeps this waker.
  void wake_by_ref() const noexcept {
    if (raw_.vtable) raw_.vtable->wake_by_ref(raw_.data);
  }

  /// True when both wakers would wake the same task (same data, same vtable), so a
  /// future can skip replacing a stored waker.
  bool will_wake(const Waker& other) const noexcept {
    return raw_.data == other.raw_.data && raw_.vtable == other.raw_.vtable;
  }

  const RawWaker& as_raw() const noexcept { return raw_; }

 private:
  friend struct detail::WakerAccess;
  explicit Waker(RawWaker raw) noexcept : raw_(raw) {}
  void release() noexcept {
    RawWaker raw = std::exchange(raw_, RawWaker{nullptr, nullptr});
    if (raw.vtable) raw.vtable->drop(raw.data);
  }
  RawWaker raw_;
};

namespace detail {
/// For executors only: lend a task's waker to one poll without touching reference
/// counts (the executor's own reference backs it), then forget it.
struct WakerAccess {
  static Waker borrow(RawWaker raw) noexcept { return Waker(raw); }
  static void forget(Waker& w) noexcept { w.raw_ = RawWaker{nullptr, nullptr}; }
  /// Makes a lent waker stand for `raw`, releasing nothing (it owns nothing).
  static void lend(Waker& w, RawWaker raw) noexcept { w.raw_ = raw; }
};

inline void noop_fn(const void*) noexcept {}
inline constexpr RawWakerVTable noop_vtable{
    [](const void*) noexcept { return RawWaker{nullptr, &noop_vtable}; }, noop_fn, noop_fn, noop_fn};
}  // namespace detail

inline Waker Waker::noop() noexcept { return Waker(RawWaker{nullptr, &detail::noop_vtable}); }

}  // namespace pollscope

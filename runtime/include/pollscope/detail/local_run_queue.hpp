#pragma once
/// LocalRunQueue: a worker's bounded run queue, lock-free, after Tokio's
/// (tokio/src/runtime/scheduler/multi_thread/queue.rs): one owner thread pushes at
/// the back and pops at the front; any other thread (a thief) moves the oldest half
/// to the back of its own queue. The owner's push is a store (no read-modify-write);
/// its pop and a steal are one compare-exchange each on the head (plus one to end
/// the steal).
///
/// Layout: a ring of `Capacity` slots; `tail_` (written by the owner only) is where
/// the next push goes; `head_` packs two 32-bit indexes: `real` (the first task a pop
/// would take) and `steal` (the first task a thief is still copying out; equal to
/// `real` when no steal is in progress). Slots in [steal, tail) are owned by the
/// queue; the owner never writes a slot a thief may still read, because it pushes
/// only while tail - steal < Capacity. Indexes wrap around 2^32 (unsigned arithmetic).
/// At most one thief steals from a queue at a time (another one finds `steal !=
/// real` and gives up on that queue).
///
/// T is a pointer (or another trivially copyable type the caller keeps valid).
#include <atomic>
#include <cstdint>
#include <type_traits>

namespace pollscope::detail {

template <class T, std::uint32_t Capacity = 256>
class LocalRunQueue {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0, "a power of two");

 public:
  static constexpr std::uint32_t kCapacity = Capacity;

  LocalRunQueue() = default;
  LocalRunQueue(const LocalRunQueue&) = delete;
  LocalRunQueue& operator=(const LocalRunQueue&) = delete;

  // ---------------------------------------------------------------- owner side

  /// Appends `v` unless the queue is full (or a thief still copies out of it and
  /// the slot `v` would need is one it reads). Owner only.
  ///
  /// The tail store is seq_cst, not just release (release is what makes the slot's
  /// contents visible to a thief or to has_tasks() readers that acquire the tail): a
  /// pusher reads the pool's idle state after pushing, and a worker about to park
  /// changes that state (a seq_cst read-modify-write) before it reads every queue
  /// (seq_cst loads, has_tasks). With all four in the single total order of seq_cst
  /// operations, either the pusher's read sees the parking worker, or the parking
  /// worker's read of the tail comes after this store and sees the task: no lost
  /// wakeup. (On x86 a seq_cst store is one xchg on this queue's own cache line.)
  bool try_push(T v) noexcept {
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);  // only we write it
    if (tail - cached_steal_ >= Capacity && tail - reload_steal() >= Capacity) return false;
    slots_[tail & kMask] = v;
    tail_.store(tail + 1, std::memory_order_seq_cst);
    return true;
  }

  /// Appends as many of `items[0..n)` as fit, in order, with one tail store (seq_cst,
  /// as in try_push). Returns how many were appended. Owner only.
  std::uint32_t push_batch(const T* items, std::uint32_t n) noexcept {
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);  // only we write it
    const std::uint32_t room = Capacity - (tail - reload_steal());
    if (n > room) n = room;
    if (n == 0) return 0;
    for (std::uint32_t i = 0; i < n; ++i) slots_[(tail + i) & kMask] = items[i];
    tail_.store(tail + n, std::memory_order_seq_cst);
    return n;
  }

  /// The queue is full: claims its oldest `Capacity / 2` tasks for the caller to move
  /// elsewhere (e.g. the shared injection queue), copying them to `out` in order.
  /// Returns their count: 0 when a thief is stealing right now (it frees room soon;
  /// the caller puts its task elsewhere). Owner only, after try_push() failed.
  std::uint32_t take_half_for_overflow(T* out) noexcept {
    constexpr std::uint32_t n = Capacity / 2;
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    std::uint64_t head = head_.load(std::memory_order_acquire);
    const std::uint32_t real = real_of(head);
    if (steal_of(head) != real || tail - real < n) return 0;
    // Acquire: see above (a thief's reads before ours overwrite); the claim itself
    // needs no release, the slots are ours (we wrote them).
    if (!head_.compare_exchange_strong(head, pack(real + n, real + n), std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
      return 0;  // a thief got in first: it will free room
    }
    cached_steal_ = real + n;
    for (std::uint32_t i = 0; i < n; ++i) out[i] = slots_[(real + i) & kMask];
    return n;
  }

  /// Takes the oldest task into `out`; false when empty. Owner only.
  bool pop(T& out) noexcept {
    std::uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t real = real_of(head);
      if (real == tail_.load(std::memory_order_relaxed)) return false;  // only we write tail_
      const std::uint32_t steal = steal_of(head);
      // Moving `steal` along with `real` when no steal is in progress keeps them equal.
      const std::uint64_t next = steal == real ? pack(real + 1, real + 1) : pack(steal, real + 1);
      // Acquire on success: nothing to acquire from thieves for this slot (we wrote
      // it), but a finished steal's release is then visible to our next push too.
      if (head_.compare_exchange_weak(head, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
        out = slots_[real & kMask];
        return true;
      }
    }
  }

  /// Number of queued tasks as the owner sees it (exact when no thief is active).
  std::uint32_t owner_length() const noexcept {
    return tail_.load(std::memory_order_relaxed) - real_of(head_.load(std::memory_order_acquire));
  }

  // ---------------------------------------------------------------- thief side

  /// Moves the oldest half (rounded up) of this queue, in order, to the back of
  /// `dst`, which must be the calling thread's own queue and empty enough to take
  /// them (an empty queue always is). Returns how many moved: 0 when this queue is
  /// empty or another thief is stealing from it.
  std::uint32_t steal_into(LocalRunQueue& dst) noexcept {
    const std::uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);  // dst is ours
    const std::uint32_t dst_steal = steal_of(dst.head_.load(std::memory_order_acquire));
    const std::uint32_t room = Capacity - (dst_tail - dst_steal);

    std::uint64_t head = head_.load(std::memory_order_acquire);
    std::uint32_t n = 0;
    std::uint32_t first = 0;
    for (;;) {
      const std::uint32_t steal = steal_of(head);
      const std::uint32_t real = real_of(head);
      if (steal != real) return 0;  // another thief is at work here
      // Acquire: the owner's (release or stronger) tail store published the slots
      // up to it.
      const std::uint32_t tail = tail_.load(std::memory_order_acquire);
      n = tail - real;
      n -= n / 2;
      if (n > room) n = room;
      if (n == 0) return 0;
      // Claim [real, real + n): the owner's pops now start after it (real moves),
      // and its pushes stay clear of it (steal stays). Acq_rel: acquire pairs with
      // the owner's and other thieves' earlier head updates; release is not needed
      // for the claim itself but costs nothing more on a read-modify-write.
      if (head_.compare_exchange_weak(head, pack(steal, real + n), std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        first = real;
        break;
      }
    }
    for (std::uint32_t i = 0; i < n; ++i) dst.slots_[(dst_tail + i) & kMask] = slots_[(first + i) & kMask];
    // End the steal: steal catches up with real (the owner may have popped since).
    // Release: our reads of the slots above happen before the owner's later
    // overwrite of them (its push acquires head_ before writing a slot).
    head = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t real = real_of(head);
      if (head_.compare_exchange_weak(head, pack(real, real), std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        break;
      }
    }
    // Release (seq_cst, like try_push): publishes the copied slots to dst's thieves
    // and orders the tasks before the caller's later reads of the idle state.
    dst.tail_.store(dst_tail + n, std::memory_order_seq_cst);
    return n;
  }

  // ---------------------------------------------------------------- any thread

  /// True when the queue holds a task (or a thief is moving some out). Any thread;
  /// seq_cst: the re-check of a worker about to park (see try_push).
  bool has_tasks() const noexcept {
    const std::uint64_t head = head_.load(std::memory_order_seq_cst);
    return tail_.load(std::memory_order_seq_cst) != steal_of(head);
  }

  /// Approximate length, for statistics and tests (exact when nobody else is at work).
  std::uint32_t length() const noexcept {
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    return tail_.load(std::memory_order_acquire) - real_of(head);
  }

  /// Takes every task, oldest first, into `fn`. Only once no other thread uses the
  /// queue (shutdown).
  template <class Fn>
  void drain(Fn&& fn) {
    T v;
    while (pop(v)) fn(v);
  }

 private:
  static constexpr std::uint32_t kMask = Capacity - 1;
  static constexpr std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
    return (static_cast<std::uint64_t>(steal) << 32) | real;
  }
  static constexpr std::uint32_t steal_of(std::uint64_t head) noexcept { return static_cast<std::uint32_t>(head >> 32); }
  static constexpr std::uint32_t real_of(std::uint64_t head) noexcept { return static_cast<std::uint32_t>(head); }

  /// The owner's view of `steal`, refreshed from head_ only when the queue looks full.
  /// `steal` only grows, so a stale value only underestimates the room: the owner
  /// still never writes a slot a thief may read. The happens-before that makes the
  /// overwrite of a slot a finished thief read safe comes from the acquire load that
  /// produced the cached value (the thief's release ended the steal before it).
  std::uint32_t reload_steal() noexcept {
    cached_steal_ = steal_of(head_.load(std::memory_order_acquire));
    return cached_steal_;
  }

  /// Thieves and the owner update head_; only the owner writes tail_ (and
  /// cached_steal_, owner-only, on the same line): different cache lines, so a thief's
  /// claim does not disturb the owner's pushes, which do not read head_ at all while
  /// the queue has room.
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  std::uint32_t cached_steal_ = 0;
  T slots_[Capacity];
};

}  // namespace pollscope::detail

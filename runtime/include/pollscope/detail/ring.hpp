#pragma once
/// Ring<T>: a FIFO queue in one circular buffer that doubles when full. A push and
/// a pop are an index update each, never an allocation once the buffer is large
/// enough (std::deque allocates and frees a block every few hundred bytes of
/// traffic). Used by LocalExecutor's run queue and by channel buffers.
/// Not thread-safe.
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace pollscope::detail {

template <class T>
class Ring {
 public:
  Ring() noexcept = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    clear();
    if (buf_) std::allocator<T>().deallocate(buf_, capacity());
  }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  T& front() noexcept { return buf_[head_]; }

  void push_back(T value) {
    if (size_ == capacity()) grow();
    ::new (static_cast<void*>(buf_ + ((head_ + size_) & mask_))) T(std::move(value));
    ++size_;
  }

  T pop_front() {
    T value(std::move(buf_[head_]));
    buf_[head_].~T();
    head_ = (head_ + 1) & mask_;
    --size_;
    return value;
  }

  /// Calls `fn(element)` front to back.
  template <class Fn>
  void for_each(Fn&& fn) {
    for (std::size_t i = 0; i < size_; ++i) fn(buf_[(head_ + i) & mask_]);
  }

  /// Destroys every element (front to back); keeps the buffer.
  void clear() noexcept {
    while (size_ != 0) {
      buf_[head_].~T();
      head_ = (head_ + 1) & mask_;
      --size_;
    }
    head_ = 0;
  }

  void swap(Ring& other) noexcept {
    std::swap(buf_, other.buf_);
    std::swap(mask_, other.mask_);
    std::swap(head_, other.head_);
    std::swap(size_, other.size_);
  }

 private:
  std::size_t capacity() const noexcept { return buf_ ? mask_ + 1 : 0; }

  /// Doubles the buffer (at least 8 slots), moving the elements to its start in order.
  /// Strong guarantee: if moving or copying an element throws, nothing changed.
  /// Out of line: inlined, it would cost every push a large prologue.
  [[gnu::noinline, gnu::cold]] void grow() {
    const std::size_t cap = capacity() ? capacity() * 2 : 8;
    T* fresh = std::allocator<T>().allocate(cap);
    std::size_t moved = 0;
    try {
      for (; moved < size_; ++moved) {
        ::new (static_cast<void*>(fresh + moved)) T(std::move_if_noexcept(buf_[(head_ + moved) & mask_]));
      }
    } catch (...) {
      for (std::size_t i = 0; i < moved; ++i) fresh[i].~T();
      std::allocator<T>().deallocate(fresh, cap);
      throw;
    }
    const std::size_t size = size_;
    clear();
    if (buf_) std::allocator<T>().deallocate(buf_, capacity());
    buf_ = fresh;
    mask_ = cap - 1;
    head_ = 0;
    size_ = size;
  }

  T* buf_ = nullptr;
  std::size_t mask_ = 0;  // capacity - 1 (a power of two) while buf_ is set
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace pollscope::detail

#pragma once
/// A per-thread cache of freed small blocks, by size class, for the two
/// allocations every task makes: its cell (detail/task.hpp) and the frame of its
/// async function (async.hpp). Spawning and finishing tasks in a loop then costs a
/// few instructions per block instead of a trip through malloc and free.
///
/// Blocks come from ::operator new, rounded up to their class size, so a block
/// freed on another thread (a pool task finishing elsewhere) simply joins that
/// thread's cache. A thread keeps at most kBlockCacheBudget bytes (enough for a
/// burst of about 100,000 small tasks). Blocks it frees beyond that go, in batches
/// of kBlockDepotBatch, to a process-wide depot, from which a thread whose cache of
/// that class is empty takes a batch before it asks ::operator new: in a pool where
/// one worker spawns and another finishes, blocks then go round instead of piling up
/// on one side while the other mallocs. The depot keeps at most kBlockDepotBudget
/// bytes; beyond that, and for blocks above kBlockCacheMaxSize, blocks go back to
/// ::operator delete. A thread's cached blocks are freed when it exits.
#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define POLLSCOPE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POLLSCOPE_ASAN 1
#endif
#endif
#ifdef POLLSCOPE_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace pollscope::detail {

inline constexpr std::size_t kBlockCacheGranule = 32;
inline constexpr std::size_t kBlockCacheClasses = 16;  // 32, 64, ... 512 bytes
inline constexpr std::size_t kBlockCacheMaxSize = kBlockCacheGranule * kBlockCacheClasses;
inline constexpr std::size_t kBlockCacheBudget = std::size_t{32} << 20;
inline constexpr std::size_t kBlockDepotBatch = 64;
inline constexpr std::size_t kBlockDepotBudget = std::size_t{64} << 20;

struct BlockCache {
  enum State : std::uint8_t { unused, open, closed };
  void* head[kBlockCacheClasses];  // singly linked through each block's first word
  // Blocks freed while the cache was full: the depot's next batch, per class (linked
  // like head); `spilled` counts them. Taken back first when head runs dry.
  void* spill[kBlockCacheClasses];
  std::uint32_t spilled[kBlockCacheClasses];
  std::size_t bytes;  // in head, all classes together (spill not counted)
  State state;        // open once the thread-exit flush is registered; closed after it ran
};
/// Trivially constructible and destructible, so an access is a plain TLS load
/// (no guard, no wrapper call); the thread-exit flush lives in block_cache.cpp.
inline thread_local BlockCache tls_block_cache{};

/// Slow paths: the first free on a thread opens its cache; a full cache spills the
/// block towards the depot; a closed one hands it to ::operator delete. An empty
/// class takes back its spill, or a batch from the depot, or asks ::operator new.
void block_cache_free_slow(void* block, std::size_t cls) noexcept;
void* block_alloc_slow(std::size_t cls);
/// Bytes in the depot now (for tests and statistics).
std::size_t block_depot_bytes() noexcept;

inline constexpr std::size_t block_class(std::size_t size) noexcept { return (size - 1) / kBlockCacheGranule; }
inline constexpr std::size_t block_class_size(std::size_t cls) noexcept { return (cls + 1) * kBlockCacheGranule; }

inline void poison_cached_block([[maybe_unused]] void* block, [[maybe_unused]] std::size_t cls) noexcept {
#ifdef POLLSCOPE_ASAN
  // A use after free of a cached block is still reported (as use-after-poison).
  ASAN_POISON_MEMORY_REGION(block, block_class_size(cls));
#endif
}
inline void unpoison_cached_block([[maybe_unused]] void* block, [[maybe_unused]] std::size_t cls) noexcept {
#ifdef POLLSCOPE_ASAN
  ASAN_UNPOISON_MEMORY_REGION(block, block_class_size(cls));
#endif
}

/// `size` bytes, aligned like ::operator new(size). Throws std::bad_alloc.
inline void* block_alloc(std::size_t size) {
  if (size == 0 || size > kBlockCacheMaxSize) return ::operator new(size);
  const std::size_t cls = block_class(size);
  BlockCache& c = tls_block_cache;
  if (void* block = c.head[cls]) {
    unpoison_cached_block(block, cls);
    c.head[cls] = *static_cast<void**>(block);
    c.bytes -= block_class_size(cls);
    return block;
  }
  return block_alloc_slow(cls);
}

/// Frees a block of block_alloc(size), on any thread.
inline void block_free(void* block, std::size_t size) noexcept {
  if (size == 0 || size > kBlockCacheMaxSize) {
    ::operator delete(block);
    return;
  }
  const std::size_t cls = block_class(size);
  BlockCache& c = tls_block_cache;
  if (c.state == BlockCache::open && c.bytes + block_class_size(cls) <= kBlockCacheBudget) {
    *static_cast<void**>(block) = c.head[cls];
    c.head[cls] = block;
    c.bytes += block_class_size(cls);
    poison_cached_block(block, cls);
    return;
  }
  block_cache_free_slow(block, cls);
}

}  // namespace pollscope::detail

// Tests for pollscope/detail/block_cache.hpp across threads, each on a fresh thread
// so the cache's state is exact from the start: UNUSED until the first free opens it
// (that block is cached), a block freed on another thread joins that thread's cache,
// the byte budget, and the thread-exit flush that frees every cached block and
// CLOSES the cache (frees after it go to operator delete). Values are collected on the
// worker thread and checked on the test's thread (Catch2 assertions are not
// thread-safe).
//
// The single-threaded wasm build (Emscripten without -pthread) has no threads, so
// this whole file compiles to nothing there.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
// No threads: nothing to test here.
#else

#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/detail/block_cache.hpp>

using pollscope::detail::block_alloc;
using pollscope::detail::block_class;
using pollscope::detail::block_free;
using pollscope::detail::BlockCache;
using pollscope::detail::kBlockCacheBudget;
using pollscope::detail::kBlockCacheClasses;
using pollscope::detail::tls_block_cache;

namespace {

/// Runs `fn` on a new thread and waits for it.
template <class Fn>
void on_new_thread(Fn fn) {
  std::thread t(fn);
  t.join();
}

/// What a thread-local probe saw while its thread exited, after the cache's flush.
struct ExitView {
  int state_after_flush = -1;
  std::size_t bytes_after_flush = 1;
  bool heads_empty_after_flush = false;
  int state_after_late_free = -1;
  std::size_t bytes_after_late_free = 1;
  bool head_empty_after_late_free = false;
};

/// Constructed before the thread's first free, so destroyed after the cache's flush
/// (thread_local objects die in reverse order of construction).
struct ExitProbe {
  ExitView* view = nullptr;
  void* late_block = nullptr;
  ~ExitProbe() {
    if (view == nullptr) return;
    BlockCache& c = tls_block_cache;
    view->state_after_flush = c.state;
    view->bytes_after_flush = c.bytes;
    view->heads_empty_after_flush = true;
    for (std::size_t cls = 0; cls < kBlockCacheClasses; ++cls) {
      if (c.head[cls] != nullptr) view->heads_empty_after_flush = false;
    }
    block_free(late_block, 64);  // the cache is closed: to operator delete
    view->state_after_late_free = c.state;
    view->bytes_after_late_free = c.bytes;
    view->head_empty_after_late_free = c.head[block_class(64)] == nullptr;
  }
};

ExitProbe& exit_probe() {
  static thread_local ExitProbe probe;
  return probe;
}

}  // namespace

TEST_CASE("A thread's block cache is unused until its first free, which opens it and caches that block",
          "[block_cache][threads]") {
  int state_at_start = -1;
  std::size_t bytes_at_start = 1;
  int state_after_alloc = -1;
  int state_after_free = -1;
  std::size_t bytes_after_free = 0;
  bool reused = false;
  on_new_thread([&] {
    state_at_start = tls_block_cache.state;
    bytes_at_start = tls_block_cache.bytes;
    void* block = block_alloc(48);
    state_after_alloc = tls_block_cache.state;  // allocating does not open it
    block_free(block, 48);
    state_after_free = tls_block_cache.state;
    bytes_after_free = tls_block_cache.bytes;
    void* again = block_alloc(40);
    reused = again == block;
    block_free(again, 40);
  });
  REQUIRE(state_at_start == BlockCache::unused);
  REQUIRE(bytes_at_start == 0);
  REQUIRE(state_after_alloc == BlockCache::unused);
  REQUIRE(state_after_free == BlockCache::open);
  REQUIRE(bytes_after_free == 64);
  REQUIRE(reused);
}

TEST_CASE("A block allocated on one thread and freed on another joins the freeing thread's cache",
          "[block_cache][threads]") {
  void* block = nullptr;
  on_new_thread([&] { block = block_alloc(200); });  // allocated there (fresh from operator new)
  std::size_t bytes_after_free = 0;
  bool reused_there = false;
  bool head_is_block = false;
  on_new_thread([&] {
    block_free(block, 200);
    bytes_after_free = tls_block_cache.bytes;
    head_is_block = tls_block_cache.head[block_class(200)] == block;
    void* again = block_alloc(200);
    reused_there = again == block;
    block_free(again, 200);  // cached again; freed at this thread's exit
  });
  REQUIRE(bytes_after_free == 224);
  REQUIRE(head_is_block);
  REQUIRE(reused_there);
}

TEST_CASE("A thread's cache keeps at most kBlockCacheBudget bytes; further frees go to operator delete",
          "[block_cache][threads]") {
  constexpr std::size_t kBlocks = kBlockCacheBudget / 512;
  std::size_t bytes_full = 0;
  bool head_is_last = false;
  std::size_t bytes_after_extra = 0;
  bool head_unchanged = false;
  bool reuses_last_cached = false;
  on_new_thread([&] {
    std::vector<void*> blocks(kBlocks + 1);
    for (void*& b : blocks) b = block_alloc(512);
    for (std::size_t i = 0; i < kBlocks; ++i) block_free(blocks[i], 512);
    bytes_full = tls_block_cache.bytes;
    head_is_last = tls_block_cache.head[15] == blocks[kBlocks - 1];
    block_free(blocks[kBlocks], 512);  // over the budget
    bytes_after_extra = tls_block_cache.bytes;
    head_unchanged = tls_block_cache.head[15] == blocks[kBlocks - 1];
    void* again = block_alloc(512);
    reuses_last_cached = again == blocks[kBlocks - 1];
    block_free(again, 512);
  });
  REQUIRE(bytes_full == kBlockCacheBudget);
  REQUIRE(head_is_last);
  REQUIRE(bytes_after_extra == kBlockCacheBudget);
  REQUIRE(head_unchanged);
  REQUIRE(reuses_last_cached);
}

TEST_CASE("At thread exit the cache frees its blocks and closes; a block freed after that goes to operator delete",
          "[block_cache][threads]") {
  ExitView view;
  on_new_thread([&] {
    ExitProbe& probe = exit_probe();  // constructed before the cache's flush is registered
    probe.view = &view;
    probe.late_block = block_alloc(64);
    for (int i = 0; i < 10; ++i) block_free(block_alloc(32 * (i % 4 + 1)), 32 * (i % 4 + 1));
  });
  REQUIRE(view.state_after_flush == BlockCache::closed);
  REQUIRE(view.bytes_after_flush == 0);
  REQUIRE(view.heads_empty_after_flush);
  REQUIRE(view.state_after_late_free == BlockCache::closed);
  REQUIRE(view.bytes_after_late_free == 0);
  REQUIRE(view.head_empty_after_late_free);
}

#endif  // threads available

// Tests for pollscope/detail/block_cache.hpp across threads, each on a fresh thread
// so the cache's state is exact from the start: UNUSED until the first free opens it
// (that block is cached), a block freed on another thread joins that thread's cache,
// the byte budget, the spill beyond it into the depot's batches and back, and the
// thread-exit flush that frees every cached block and CLOSES the cache (frees after
// it go to operator delete). Values are collected on the
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
using pollscope::detail::block_depot_bytes;
using pollscope::detail::kBlockCacheBudget;
using pollscope::detail::kBlockCacheClasses;
using pollscope::detail::kBlockDepotBatch;
using pollscope::detail::kBlockDepotBudget;
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
      if (c.head[cls] != nullptr || c.spill[cls] != nullptr || c.spilled[cls] != 0) {
        view->heads_empty_after_flush = false;
      }
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

TEST_CASE("A thread's cache keeps at most kBlockCacheBudget bytes; a block freed beyond it is spilled",
          "[block_cache][threads]") {
  constexpr std::size_t kBlocks = kBlockCacheBudget / 512;
  std::size_t bytes_full = 0;
  bool head_is_last = false;
  std::size_t bytes_after_extra = 0;
  bool head_unchanged = false;
  bool spill_is_extra = false;
  std::uint32_t spilled = 0;
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
    spill_is_extra = tls_block_cache.spill[15] == blocks[kBlocks];
    spilled = tls_block_cache.spilled[15];
    void* again = block_alloc(512);
    reuses_last_cached = again == blocks[kBlocks - 1];
    block_free(again, 512);
  });
  REQUIRE(bytes_full == kBlockCacheBudget);
  REQUIRE(head_is_last);
  REQUIRE(bytes_after_extra == kBlockCacheBudget);
  REQUIRE(head_unchanged);
  REQUIRE(spill_is_extra);
  REQUIRE(spilled == 1);
  REQUIRE(reuses_last_cached);
}

TEST_CASE("A class whose cache ran dry takes its own spilled blocks back before anything else",
          "[block_cache][threads]") {
  constexpr std::size_t kBlocks = kBlockCacheBudget / 512;
  std::size_t bytes_after_refill = 0;
  bool got_last_spilled = false;
  bool spill_empty = false;
  on_new_thread([&] {
    std::vector<void*> blocks(kBlocks + 3);
    for (void*& b : blocks) b = block_alloc(512);
    for (void* b : blocks) block_free(b, 512);                          // the last 3 are spilled
    for (std::size_t i = 0; i < kBlocks; ++i) (void)block_alloc(512);  // empties the class (blocks[0..kBlocks))
    void* next = block_alloc(512);
    got_last_spilled = next == blocks[kBlocks + 2];
    bytes_after_refill = tls_block_cache.bytes;
    spill_empty = tls_block_cache.spill[15] == nullptr && tls_block_cache.spilled[15] == 0;
    block_free(next, 512);
    for (std::size_t i = 0; i < kBlocks; ++i) block_free(blocks[i], 512);  // freed at thread exit
  });
  REQUIRE(got_last_spilled);
  REQUIRE(bytes_after_refill == 2 * 512);
  REQUIRE(spill_empty);
}

TEST_CASE("Blocks spilled on one thread reach another thread's empty class through the depot, a batch at a time",
          "[block_cache][threads]") {
  constexpr std::size_t kBlocks = kBlockCacheBudget / 512;
  const std::size_t depot_before = block_depot_bytes();
  std::vector<void*> extra(kBlockDepotBatch);
  std::uint32_t spilled_before_batch = 0;
  std::uint32_t spilled_after_batch = 1;
  std::size_t depot_with_batch = 0;
  on_new_thread([&] {
    std::vector<void*> blocks(kBlocks);
    for (void*& b : blocks) b = block_alloc(512);
    for (void*& b : extra) b = block_alloc(512);
    for (void* b : blocks) block_free(b, 512);  // full
    for (std::size_t i = 0; i + 1 < extra.size(); ++i) block_free(extra[i], 512);
    spilled_before_batch = tls_block_cache.spilled[15];
    block_free(extra.back(), 512);  // completes a batch: to the depot
    spilled_after_batch = tls_block_cache.spilled[15];
    depot_with_batch = block_depot_bytes();
  });
  REQUIRE(spilled_before_batch == kBlockDepotBatch - 1);
  REQUIRE(spilled_after_batch == 0);
  REQUIRE(depot_with_batch == depot_before + kBlockDepotBatch * 512);

  bool got_batch_head = false;
  std::size_t bytes_after_take = 0;
  int state_after_take = -1;
  on_new_thread([&] {
    void* block = block_alloc(512);  // an unused, empty cache: takes the batch given last
    got_batch_head = block == extra.back();
    bytes_after_take = tls_block_cache.bytes;
    state_after_take = tls_block_cache.state;  // opened: its exit flush frees the batch
    block_free(block, 512);
  });
  REQUIRE(got_batch_head);
  REQUIRE(bytes_after_take == (kBlockDepotBatch - 1) * 512);
  REQUIRE(state_after_take == BlockCache::open);
  REQUIRE(block_depot_bytes() == depot_before);
}

TEST_CASE("The depot keeps at most kBlockDepotBudget bytes; a batch beyond it goes to operator delete",
          "[block_cache][threads]") {
  constexpr std::size_t kBatchBytes = kBlockDepotBatch * 512;
  const std::size_t depot_before = block_depot_bytes();
  const std::size_t room = (kBlockDepotBudget - depot_before) / kBatchBytes;
  std::size_t depot_full = 0;
  std::size_t depot_after_extra = 0;
  std::uint32_t spilled_after_extra = 1;
  on_new_thread([&] {
    constexpr std::size_t kBlocks = kBlockCacheBudget / 512;
    std::vector<void*> blocks(kBlocks + (room + 1) * kBlockDepotBatch);
    for (void*& b : blocks) b = block_alloc(512);
    const std::size_t last_batch = blocks.size() - kBlockDepotBatch;
    for (std::size_t i = 0; i < last_batch; ++i) block_free(blocks[i], 512);
    depot_full = block_depot_bytes();
    for (std::size_t i = last_batch; i < blocks.size(); ++i) block_free(blocks[i], 512);
    depot_after_extra = block_depot_bytes();
    spilled_after_extra = tls_block_cache.spilled[15];
  });
  REQUIRE(depot_full == depot_before + room * kBatchBytes);
  REQUIRE(depot_full + kBatchBytes > kBlockDepotBudget);
  REQUIRE(depot_after_extra == depot_full);  // that batch was freed instead
  REQUIRE(spilled_after_extra == 0);
  // Take this test's batches back out (and free them) for the tests after it.
  on_new_thread([&] {
    std::vector<void*> taken;
    while (block_depot_bytes() > depot_before) taken.push_back(block_alloc(512));  // a batch per empty head
    while (tls_block_cache.head[15] != nullptr) taken.push_back(block_alloc(512));  // the last one's rest
    for (void* b : taken) ::operator delete(b);
  });
  REQUIRE(block_depot_bytes() == depot_before);
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

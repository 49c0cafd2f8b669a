#include "pollscope/detail/block_cache.hpp"

#include <mutex>
#include <vector>

namespace pollscope::detail {

namespace {

/// Frees a list of cached (poisoned) blocks linked through their first word.
void delete_list(void* block, std::size_t cls) noexcept {
  while (block != nullptr) {
    unpoison_cached_block(block, cls);
    void* next = *static_cast<void**>(block);
    ::operator delete(block);
    block = next;
  }
}

/// Frees the thread's cached blocks when it exits, and closes the cache: blocks
/// freed afterwards (by later thread-exit destructors) go to ::operator delete.
struct BlockCacheFlush {
  ~BlockCacheFlush() {
    BlockCache& c = tls_block_cache;
    c.state = BlockCache::closed;
    for (std::size_t cls = 0; cls < kBlockCacheClasses; ++cls) {
      delete_list(c.head[cls], cls);
      delete_list(c.spill[cls], cls);
      c.head[cls] = c.spill[cls] = nullptr;
      c.spilled[cls] = 0;
    }
    c.bytes = 0;
  }
};

/// Opens the thread's cache: registers the flush that frees its blocks at exit.
void open_cache(BlockCache& c) {
  // Constructing the thread_local registers its destructor for this thread.
  static thread_local BlockCacheFlush flush;
  (void)flush;
  c.state = BlockCache::open;
}

/// Batches of blocks that threads could not keep, per class, for threads that run
/// out. A mutex per handover of kBlockDepotBatch blocks: it also orders the blocks'
/// earlier use on the giving thread before their reuse on the taking one.
class BlockDepot {
 public:
  struct Batch {
    void* head;  // kBlockDepotBatch blocks, linked like a cache's lists
  };

  /// Keeps `batch` unless the depot is full; false then (the caller frees it).
  bool give(std::size_t cls, Batch batch) {
    const std::size_t size = kBlockDepotBatch * block_class_size(cls);
    std::lock_guard<std::mutex> lock(mutex_);
    if (bytes_ + size > kBlockDepotBudget) return false;
    batches_[cls].push_back(batch);
    bytes_ += size;
    return true;
  }
  /// The batch given last for `cls`, if any.
  bool take(std::size_t cls, Batch& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (batches_[cls].empty()) return false;
    out = batches_[cls].back();
    batches_[cls].pop_back();
    bytes_ -= kBlockDepotBatch * block_class_size(cls);
    return true;
  }
  std::size_t bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
  }

 private:
  std::mutex mutex_;
  std::vector<Batch> batches_[kBlockCacheClasses];
  std::size_t bytes_ = 0;
};

/// Never destroyed: threads may still free blocks while static objects are torn
/// down at exit. Its blocks stay reachable (not leaks) until the process ends.
BlockDepot& depot() {
  static BlockDepot* const instance = new BlockDepot;
  return *instance;
}

}  // namespace

void block_cache_free_slow(void* block, std::size_t cls) noexcept {
  BlockCache& c = tls_block_cache;
  if (c.state == BlockCache::unused) {
    open_cache(c);
    block_free(block, block_class_size(cls));
    return;
  }
  if (c.state == BlockCache::closed) {
    ::operator delete(block);
    return;
  }
  // Open and full: the block joins the depot's next batch.
  *static_cast<void**>(block) = c.spill[cls];
  c.spill[cls] = block;
  poison_cached_block(block, cls);
  if (++c.spilled[cls] < kBlockDepotBatch) return;
  void* batch = c.spill[cls];
  c.spill[cls] = nullptr;
  c.spilled[cls] = 0;
  bool kept = false;
  try {
    kept = depot().give(cls, BlockDepot::Batch{batch});
  } catch (...) {  // no memory for the depot's bookkeeping: free the blocks instead
  }
  if (!kept) delete_list(batch, cls);
}

void* block_alloc_slow(std::size_t cls) {
  BlockCache& c = tls_block_cache;
  if (c.state != BlockCache::closed) {
    std::size_t count = 0;
    if (c.spill[cls] != nullptr) {
      c.head[cls] = c.spill[cls];
      count = c.spilled[cls];
      c.spill[cls] = nullptr;
      c.spilled[cls] = 0;
    } else {
      BlockDepot::Batch batch;
      if (depot().take(cls, batch)) {
        if (c.state == BlockCache::unused) open_cache(c);  // its exit flush frees the batch
        c.head[cls] = batch.head;
        count = kBlockDepotBatch;
      }
    }
    if (count != 0) {
      c.bytes += count * block_class_size(cls);
      return block_alloc(block_class_size(cls));
    }
  }
  return ::operator new(block_class_size(cls));
}

std::size_t block_depot_bytes() noexcept {
  try {
    return depot().bytes();
  } catch (...) {
    return 0;
  }
}

}  // namespace pollscope::detail

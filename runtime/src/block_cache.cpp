#include "pollscope/detail/block_cache.hpp"

namespace pollscope::detail {

namespace {
/// Frees the thread's cached blocks when it exits, and closes the cache: blocks
/// freed afterwards (by later thread-exit destructors) go to ::operator delete.
struct BlockCacheFlush {
  ~BlockCacheFlush() {
    BlockCache& c = tls_block_cache;
    c.state = BlockCache::closed;
    for (std::size_t cls = 0; cls < kBlockCacheClasses; ++cls) {
      while (void* block = c.head[cls]) {
        unpoison_cached_block(block, cls);
        c.head[cls] = *static_cast<void**>(block);
        ::operator delete(block);
      }
    }
    c.bytes = 0;
  }
};
}  // namespace

void block_cache_free_slow(void* block, std::size_t cls) noexcept {
  BlockCache& c = tls_block_cache;
  if (c.state == BlockCache::unused) {
    // Constructing the thread_local registers its destructor for this thread.
    static thread_local BlockCacheFlush flush;
    (void)flush;
    c.state = BlockCache::open;
    block_free(block, block_class_size(cls));
    return;
  }
  ::operator delete(block);
}

}  // namespace pollscope::detail

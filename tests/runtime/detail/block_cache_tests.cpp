// Tests for pollscope/detail/block_cache.hpp on the calling thread: size classes,
// LIFO reuse of a freed block by the next allocation of its class, the byte count,
// and the sizes that bypass the cache. The cache's life on a thread (opened by the
// first free, closed at thread exit), blocks freed on another thread and the byte
// budget are in block_cache_threads_tests.cpp (fresh threads, exact from the start).
// Cached blocks are poisoned under ASan: these tests never read a freed block.
#include <cstddef>

#include <catch2/catch.hpp>

#include <pollscope/detail/block_cache.hpp>

using pollscope::detail::block_alloc;
using pollscope::detail::block_class;
using pollscope::detail::block_class_size;
using pollscope::detail::block_free;
using pollscope::detail::kBlockCacheBudget;
using pollscope::detail::kBlockCacheClasses;
using pollscope::detail::kBlockCacheMaxSize;
using pollscope::detail::tls_block_cache;

namespace {
/// Other tests on this thread may have cached blocks: these tests need room for a few.
void require_room() { REQUIRE(tls_block_cache.bytes + 64 * 1024 <= kBlockCacheBudget); }
}  // namespace

TEST_CASE("Block sizes map to 16 classes of 32-byte steps, up to 512 bytes", "[block_cache]") {
  STATIC_REQUIRE(kBlockCacheClasses == 16);
  STATIC_REQUIRE(kBlockCacheMaxSize == 512);
  STATIC_REQUIRE(kBlockCacheBudget == 32u * 1024 * 1024);
  REQUIRE(block_class(1) == 0);
  REQUIRE(block_class(32) == 0);
  REQUIRE(block_class(33) == 1);
  REQUIRE(block_class(64) == 1);
  REQUIRE(block_class(65) == 2);
  REQUIRE(block_class(511) == 15);
  REQUIRE(block_class(512) == 15);
  REQUIRE(block_class_size(0) == 32);
  REQUIRE(block_class_size(1) == 64);
  REQUIRE(block_class_size(15) == 512);
}

TEST_CASE("A freed block joins its thread's cache and is the next one handed out for its class (LIFO)",
          "[block_cache]") {
  require_room();
  void* a = block_alloc(100);
  void* b = block_alloc(100);
  REQUIRE(a != b);
  const std::size_t bytes = tls_block_cache.bytes;
  block_free(a, 100);
  REQUIRE(tls_block_cache.state == pollscope::detail::BlockCache::open);  // the first free opens it
  REQUIRE(tls_block_cache.bytes == bytes + 128);
  REQUIRE(tls_block_cache.head[block_class(100)] == a);
  block_free(b, 100);
  REQUIRE(tls_block_cache.bytes == bytes + 256);
  REQUIRE(tls_block_cache.head[block_class(100)] == b);

  void* c = block_alloc(100);
  REQUIRE(c == b);  // last freed, first reused
  REQUIRE(tls_block_cache.bytes == bytes + 128);
  void* d = block_alloc(100);
  REQUIRE(d == a);
  REQUIRE(tls_block_cache.bytes == bytes);
  block_free(c, 100);
  block_free(d, 100);
}

TEST_CASE("Blocks of different sizes within one class share its cache", "[block_cache]") {
  require_room();
  void* small = block_alloc(33);  // class 1: 64 bytes
  const std::size_t bytes = tls_block_cache.bytes;
  block_free(small, 33);
  REQUIRE(tls_block_cache.bytes == bytes + 64);
  void* big = block_alloc(64);
  REQUIRE(big == small);
  REQUIRE(tls_block_cache.bytes == bytes);
  void* other_class = block_alloc(65);  // class 2: not that block
  REQUIRE(other_class != small);
  block_free(big, 64);
  block_free(other_class, 65);
}

TEST_CASE("Blocks above 512 bytes and zero-size blocks bypass the cache", "[block_cache]") {
  require_room();
  const std::size_t bytes = tls_block_cache.bytes;
  void* large = block_alloc(513);
  void* zero = block_alloc(0);
  REQUIRE(large != nullptr);
  REQUIRE(zero != nullptr);
  REQUIRE(tls_block_cache.bytes == bytes);
  block_free(large, 513);
  block_free(zero, 0);
  REQUIRE(tls_block_cache.bytes == bytes);  // straight to operator delete
  void* largest = block_alloc(512);         // the largest cached size
  block_free(largest, 512);
  REQUIRE(tls_block_cache.bytes == bytes + 512);
  REQUIRE(block_alloc(512) == largest);
  block_free(largest, 512);
}

// Tests for pollscope/detail/ring.hpp: Ring<T>, the circular FIFO of LocalExecutor's
// run queue and of channel buffers. Exact behaviour: FIFO order, wrap-around of the
// head, growth (8 slots first, then doubling, elements moved to the new buffer in
// order, nothing moved otherwise), element lifetimes (pop, clear, destructor), swap,
// and the strong guarantee of a growth that throws.
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/detail/ring.hpp>

#include "../../support/counted.hpp"

using pollscope::detail::Ring;
using pollscope_test::LifeCounts;
using pollscope_test::Tracked;

namespace {

/// An int that counts its move constructions (the relocations done by a growth)
/// and logs its destruction.
struct Counters {
  int moves = 0;
  std::vector<int> destroyed;
};
class Item {
 public:
  Item(Counters& c, int v) : c_(&c), v_(v) {}
  Item(Item&& o) noexcept : c_(o.c_), v_(o.v_) {
    o.v_ = -1;
    ++c_->moves;
  }
  Item(const Item&) = delete;
  ~Item() {
    if (v_ != -1) c_->destroyed.push_back(v_);
  }
  int value() const { return v_; }

 private:
  Counters* c_;
  int v_;
};

/// A copyable type whose move may throw, so a growth copies it (move_if_noexcept);
/// the copy throws once `budget` copies were made.
struct Fragile {
  static inline int copies_left = 1000;
  int v;
  explicit Fragile(int value) : v(value) {}
  Fragile(const Fragile& o) : v(o.v) {
    if (copies_left-- <= 0) throw std::runtime_error("copy failed");
  }
  Fragile(Fragile&& o) : v(o.v) {}  // NOLINT: deliberately not noexcept
  Fragile& operator=(const Fragile&) = default;
};

std::vector<int> values(Ring<Item>& ring) {
  std::vector<int> out;
  ring.for_each([&](Item& i) { out.push_back(i.value()); });
  return out;
}

}  // namespace

TEST_CASE("An empty Ring has size 0; pushes and pops keep FIFO order", "[ring]") {
  Counters c;
  Ring<Item> ring;
  REQUIRE(ring.empty());
  REQUIRE(ring.size() == 0);
  for (int i = 1; i <= 5; ++i) ring.push_back(Item(c, i));
  REQUIRE(ring.size() == 5);
  REQUIRE_FALSE(ring.empty());
  REQUIRE(ring.front().value() == 1);
  REQUIRE(ring.pop_front().value() == 1);
  REQUIRE(ring.pop_front().value() == 2);
  REQUIRE(ring.front().value() == 3);
  REQUIRE(ring.size() == 3);
  REQUIRE(values(ring) == std::vector<int>{3, 4, 5});
}

TEST_CASE("A Ring grows to 8 slots at the first push, then doubles when full, relocating every element once",
          "[ring]") {
  Counters c;
  Ring<Item> ring;
  // Each push_back moves its argument in once; a growth moves each element once more.
  for (int i = 0; i < 8; ++i) ring.push_back(Item(c, i));
  REQUIRE(c.moves == 8);  // the first buffer (8 slots) held them all: no relocation
  ring.push_back(Item(c, 8));
  REQUIRE(c.moves == 8 + 8 + 1);  // full at 8: grew to 16, moving the 8
  for (int i = 9; i < 16; ++i) ring.push_back(Item(c, i));
  REQUIRE(c.moves == 17 + 7);  // room for 16: no relocation
  ring.push_back(Item(c, 16));
  REQUIRE(c.moves == 24 + 16 + 1);  // full at 16: grew to 32
  std::vector<int> expected;
  for (int i = 0; i <= 16; ++i) expected.push_back(i);
  REQUIRE(values(ring) == expected);
  REQUIRE(c.destroyed.empty());
}

TEST_CASE("A Ring wraps its head around the buffer without growing, in FIFO order", "[ring]") {
  Counters c;
  Ring<Item> ring;
  for (int i = 0; i < 8; ++i) ring.push_back(Item(c, i));
  for (int i = 0; i < 5; ++i) REQUIRE(ring.pop_front().value() == i);
  const int moves = c.moves;
  for (int i = 8; i < 13; ++i) ring.push_back(Item(c, i));  // slots 0..4 again
  REQUIRE(ring.size() == 8);
  REQUIRE(c.moves == moves + 5);  // only the pushes: no growth
  REQUIRE(ring.front().value() == 5);
  REQUIRE(values(ring) == std::vector<int>{5, 6, 7, 8, 9, 10, 11, 12});
  for (int i = 5; i < 13; ++i) REQUIRE(ring.pop_front().value() == i);
  REQUIRE(ring.empty());
}

TEST_CASE("A Ring that grows while wrapped moves its elements to the new buffer in FIFO order", "[ring]") {
  Counters c;
  Ring<Item> ring;
  for (int i = 0; i < 8; ++i) ring.push_back(Item(c, i));
  for (int i = 0; i < 6; ++i) (void)ring.pop_front();
  for (int i = 8; i < 14; ++i) ring.push_back(Item(c, i));  // full again, head at slot 6
  const int moves = c.moves;
  ring.push_back(Item(c, 14));
  REQUIRE(c.moves == moves + 8 + 1);
  REQUIRE(values(ring) == std::vector<int>{6, 7, 8, 9, 10, 11, 12, 13, 14});
  // The new buffer starts at its slot 0: 16 slots, 9 used, 7 more without growth.
  const int after = c.moves;
  for (int i = 15; i < 22; ++i) ring.push_back(Item(c, i));
  REQUIRE(c.moves == after + 7);
  for (int i = 6; i < 22; ++i) REQUIRE(ring.pop_front().value() == i);
  REQUIRE(ring.empty());
}

TEST_CASE("pop_front moves the front element out and destroys its slot", "[ring]") {
  LifeCounts counts;
  Ring<Tracked> ring;
  ring.push_back(Tracked(counts, 1));
  ring.push_back(Tracked(counts, 2));
  REQUIRE(counts.live() == 2);
  {
    Tracked first = ring.pop_front();
    REQUIRE(first.value() == 1);
    REQUIRE(counts.live() == 2);  // moved out, not copied, not destroyed
    REQUIRE(counts.copies() == 0);
  }
  REQUIRE(counts.live() == 1);
  REQUIRE(ring.size() == 1);
}

TEST_CASE("clear destroys the elements front to back and keeps the buffer for later pushes", "[ring]") {
  Counters c;
  Ring<Item> ring;
  for (int i = 0; i < 8; ++i) ring.push_back(Item(c, i));
  for (int i = 0; i < 3; ++i) (void)ring.pop_front();
  ring.push_back(Item(c, 8));  // wrapped
  c.destroyed.clear();
  ring.clear();
  REQUIRE(c.destroyed == std::vector<int>{3, 4, 5, 6, 7, 8});
  REQUIRE(ring.empty());
  const int moves = c.moves;
  for (int i = 0; i < 8; ++i) ring.push_back(Item(c, 20 + i));
  REQUIRE(c.moves == moves + 8);  // the 8-slot buffer stayed: no growth
  REQUIRE(values(ring) == std::vector<int>{20, 21, 22, 23, 24, 25, 26, 27});
}

TEST_CASE("Destroying a Ring destroys the elements still in it, front to back", "[ring]") {
  Counters c;
  {
    Ring<Item> ring;
    for (int i = 0; i < 10; ++i) ring.push_back(Item(c, i));
    for (int i = 0; i < 4; ++i) (void)ring.pop_front();
    c.destroyed.clear();
  }
  REQUIRE(c.destroyed == std::vector<int>{4, 5, 6, 7, 8, 9});
}

TEST_CASE("swap exchanges the contents of two Rings, wrapped or not", "[ring]") {
  Counters c;
  Ring<Item> a;
  Ring<Item> b;
  for (int i = 0; i < 8; ++i) a.push_back(Item(c, i));
  for (int i = 0; i < 6; ++i) (void)a.pop_front();
  a.push_back(Item(c, 8));  // wrapped: 6, 7, 8
  b.push_back(Item(c, 100));
  const int moves = c.moves;
  a.swap(b);
  REQUIRE(c.moves == moves);  // buffers exchanged, no element moved
  REQUIRE(values(a) == std::vector<int>{100});
  REQUIRE(values(b) == std::vector<int>{6, 7, 8});
  b.push_back(Item(c, 9));
  REQUIRE(values(b) == std::vector<int>{6, 7, 8, 9});
  Ring<Item> empty;
  empty.swap(a);
  REQUIRE(a.empty());
  REQUIRE(values(empty) == std::vector<int>{100});
}

TEST_CASE("A growth that throws while copying leaves the Ring unchanged and usable", "[ring]") {
  Ring<Fragile> ring;
  Fragile::copies_left = 1000;
  for (int i = 0; i < 8; ++i) ring.push_back(Fragile(i));
  for (int i = 0; i < 3; ++i) (void)ring.pop_front();
  for (int i = 8; i < 11; ++i) ring.push_back(Fragile(i));  // full and wrapped: 3..10
  Fragile::copies_left = 4;  // the 5th copy of the growth throws
  REQUIRE_THROWS_WITH(ring.push_back(Fragile(11)), "copy failed");
  Fragile::copies_left = 1000;
  REQUIRE(ring.size() == 8);
  std::vector<int> seen;
  ring.for_each([&](Fragile& f) { seen.push_back(f.v); });
  REQUIRE(seen == std::vector<int>{3, 4, 5, 6, 7, 8, 9, 10});
  ring.push_back(Fragile(11));  // now the growth succeeds
  seen.clear();
  while (!ring.empty()) seen.push_back(ring.pop_front().v);
  REQUIRE(seen == std::vector<int>{3, 4, 5, 6, 7, 8, 9, 10, 11});
}

TEST_CASE("A Ring holds move-only values", "[ring]") {
  Ring<std::unique_ptr<std::string>> ring;
  for (int i = 0; i < 20; ++i) ring.push_back(std::make_unique<std::string>(std::to_string(i)));
  for (int i = 0; i < 20; ++i) REQUIRE(*ring.pop_front() == std::to_string(i));
  REQUIRE(ring.empty());
}

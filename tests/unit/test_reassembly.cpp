// IPv4 reassembly (lib/ip/reassembly.hpp), driven sans-I/O: time is a plain
// integer and fragments are int handles (1, 2, 3, ...; 0 is "none"). Tests
// are named <state>_<event>_<outcome>.
//
// Leak check: the fixture follows every handle. A handle is the table's from
// an add() that returns kHeld until it comes back through on_drop or in the
// `out` of a kComplete; a handle add() does not take is back at once. At
// teardown, after clear(), every handle ever offered must be back exactly
// once, and nothing may come back twice or while the table did not hold it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "core/types.hpp"
#include "ip/reassembly.hpp"
#include "test_util.hpp"

namespace dpdkstack {

void PrintTo(FragResult r, std::ostream* os) { *os << frag_result_name(r); }
void PrintTo(const FragKey& k, std::ostream* os) {
  *os << "{" << k.src.to_string() << " > " << k.dst.to_string() << " id " << k.id << " proto "
      << static_cast<int>(k.protocol) << "}";
}

namespace {

constexpr uint64_t kTimeout = 1000;

constexpr FragKey kKey{Ipv4Addr::from_octets(10, 0, 0, 1), Ipv4Addr::from_octets(10, 0, 0, 2), 0x1234, 1};

FragKey key_n(uint32_t n) {
  FragKey k = kKey;
  k.id = static_cast<uint16_t>(n);
  k.src = Ipv4Addr::from_octets(10, 1, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8));
  return k;
}

// Splits `payload` bytes into fragments of `size` bytes (a multiple of 8),
// in offset order; the last may be shorter and has MF clear.
std::vector<FragInfo> split(uint32_t payload, uint32_t size) {
  std::vector<FragInfo> v;
  for (uint32_t off = 0; off < payload; off += size) {
    uint32_t len = std::min(size, payload - off);
    v.push_back(FragInfo{off, len, off + len < payload});
  }
  return v;
}

struct Event {
  enum Kind : uint8_t { kExpire, kDrop } kind;
  int handle;
  bool first_seen = false;
  FragKey key{};
};

class Reassembly : public ::testing::Test {
 protected:
  using Table = Reassembler<int>;
  using Piece = Table::Piece;

  Reassembly() { reset(config()); }

  static ReassemblyConfig config() {
    ReassemblyConfig c;
    c.max_flows = 4;
    c.max_fragments = 128;
    c.max_total_fragments = 1024;
    c.timeout = kTimeout;
    return c;
  }

  // A fresh table with `c`; whatever the old one held is released first.
  void reset(const ReassemblyConfig& c) {
    if (table_) clear();
    table_.emplace(c);
  }

  Table& table() { return *table_; }

  void came_back(int h) {
    if (++returned_[h] > 1) ADD_FAILURE() << "handle " << h << " came back twice";
  }

  void dropped(int h) {
    events_.push_back({Event::kDrop, h});
    if (held_.erase(h) == 0) ADD_FAILURE() << "handle " << h << " dropped while not held";
    came_back(h);
  }

  // Offers a new fragment (a new handle) and accounts for its ownership.
  FragResult add(const FragKey& k, uint32_t offset, uint32_t len, bool more, uint64_t now = 0) {
    return add(k, FragInfo{offset, len, more}, now);
  }
  FragResult add(const FragKey& k, const FragInfo& info, uint64_t now = 0) {
    int h = next_handle_++;
    last_ = h;
    offered_.push_back(h);
    std::vector<Piece> out;
    FragResult r = table().add(k, info, h, now, out, [this](int d) { dropped(d); });
    switch (r) {
      case FragResult::kHeld:
        EXPECT_TRUE(out.empty());
        held_.insert(h);
        break;
      case FragResult::kComplete: {
        completed_ = out;
        size_t self = 0;
        for (const Piece& p : out) {
          if (p.handle == h) {
            ++self;
          } else if (held_.erase(p.handle) == 0) {
            ADD_FAILURE() << "handle " << p.handle << " completed while not held";
          }
          came_back(p.handle);
        }
        EXPECT_EQ(self, 1u) << "the completing fragment must be in out exactly once";
        break;
      }
      default:
        EXPECT_TRUE(out.empty());
        came_back(h);
        break;
    }
    return r;
  }

  void tick(uint64_t now) {
    table().tick(
        now,
        [this](const FragKey& k, int first, bool first_seen) {
          events_.push_back({Event::kExpire, first, first_seen, k});
          if (first != 0 && held_.count(first) == 0) ADD_FAILURE() << "expired with handle " << first << " not held";
        },
        [this](int d) { dropped(d); });
  }

  void clear() {
    table().clear([this](int d) { dropped(d); });
  }

  // Offers every fragment of `frags` in the order given; all but the last
  // must be held and the last must complete.
  void offer_all_expect_complete(const FragKey& k, const std::vector<FragInfo>& frags, uint64_t now = 0) {
    for (size_t i = 0; i < frags.size(); ++i) {
      FragResult r = add(k, frags[i], now);
      FragResult want = i + 1 == frags.size() ? FragResult::kComplete : FragResult::kHeld;
      ASSERT_EQ(r, want) << "fragment " << i << " of " << frags.size() << " (offset " << frags[i].offset
                         << ", len " << frags[i].len << ")";
    }
  }

  // The last completion holds pieces in offset order covering [0, payload).
  void expect_completed_covers(uint32_t payload) {
    ASSERT_FALSE(completed_.empty());
    uint32_t at = 0;
    for (size_t i = 0; i < completed_.size(); ++i) {
      const FragInfo& f = completed_[i].info;
      EXPECT_EQ(f.offset, at) << "piece " << i;
      EXPECT_EQ(f.more, i + 1 != completed_.size()) << "piece " << i;
      at = f.offset + f.len;
    }
    EXPECT_EQ(at, payload);
  }

  std::vector<int> completed_handles() const {
    std::vector<int> v;
    for (const Piece& p : completed_) v.push_back(p.handle);
    return v;
  }

  std::multiset<int> dropped_set() const {
    std::multiset<int> s;
    for (const Event& e : events_)
      if (e.kind == Event::kDrop) s.insert(e.handle);
    return s;
  }

  void TearDown() override {
    clear();
    EXPECT_EQ(table().flows(), 0u);
    EXPECT_EQ(table().fragments(), 0u);
    EXPECT_TRUE(held_.empty()) << held_.size() << " handles still held after clear";
    for (int h : offered_) {
      auto it = returned_.find(h);
      EXPECT_TRUE(it != returned_.end() && it->second == 1)
          << "handle " << h << " came back " << (it == returned_.end() ? 0 : it->second) << " times";
    }
    EXPECT_EQ(returned_.size(), offered_.size());
  }

  std::optional<Table> table_;
  int next_handle_ = 1;
  int last_ = 0;  // the handle of the latest add()
  std::vector<int> offered_;
  std::set<int> held_;
  std::map<int, int> returned_;
  std::vector<Event> events_;
  std::vector<Piece> completed_;  // `out` of the latest kComplete
};

// ------------------------------------------------------------ arrival order

TEST_F(Reassembly, Empty_FirstFragment_Held) {
  EXPECT_EQ(add(kKey, 0, 1480, true), FragResult::kHeld);
  EXPECT_EQ(table().flows(), 1u);
  EXPECT_EQ(table().fragments(), 1u);
}

TEST_F(Reassembly, InOrder_LastArrives_Completes) {
  offer_all_expect_complete(kKey, split(4000, 1480));
  expect_completed_covers(4000);
  EXPECT_EQ(completed_handles(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(table().flows(), 0u);
  EXPECT_EQ(table().fragments(), 0u);
}

TEST_F(Reassembly, InOrder_NoLastYet_Held) {
  auto frags = split(4000, 1480);
  EXPECT_EQ(add(kKey, frags[0]), FragResult::kHeld);
  EXPECT_EQ(add(kKey, frags[1]), FragResult::kHeld);
  EXPECT_EQ(table().fragments(), 2u);
}

TEST_F(Reassembly, ReverseOrder_FirstArrives_Completes) {
  auto frags = split(4000, 1480);
  std::reverse(frags.begin(), frags.end());
  offer_all_expect_complete(kKey, frags);
  expect_completed_covers(4000);
  EXPECT_EQ(completed_handles(), (std::vector<int>{3, 2, 1})) << "out is in offset order, not arrival order";
}

TEST_F(Reassembly, LastThenFirst_MiddleArrives_Completes) {
  EXPECT_EQ(add(kKey, 2960, 40, false), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 0, 1480, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 1480, 1480, true), FragResult::kComplete);
  expect_completed_covers(3000);
  EXPECT_EQ(completed_handles(), (std::vector<int>{2, 3, 1}));
}

TEST_F(Reassembly, Gap_AllOthersArrive_StaysHeld) {
  auto frags = split(8000, 1480);  // 6 fragments
  for (size_t i = 0; i < frags.size(); ++i) {
    if (i != 3) {
      EXPECT_EQ(add(kKey, frags[i]), FragResult::kHeld) << i;
    }
  }
  EXPECT_EQ(table().fragments(), 5u);
  EXPECT_EQ(add(kKey, frags[3]), FragResult::kComplete);
  expect_completed_covers(8000);
}

TEST_F(Reassembly, Shuffled_ManySizes_CompleteInOffsetOrder) {
  ReassemblyConfig c = config();
  c.max_fragments = 1024;
  c.max_total_fragments = 1024;
  reset(c);
  const uint32_t payloads[] = {9, 15, 16, 17, 100, 576, 1472, 1480, 1481, 2960, 2961, 9000, 65507, 65515};
  const uint32_t sizes[] = {8, 16, 24, 512, 1480, 8192};
  std::mt19937 rng(12345);
  int datagrams = 0;
  for (uint32_t payload : payloads) {
    for (uint32_t size : sizes) {
      auto frags = split(payload, size);
      if (frags.size() < 2 || frags.size() > 1024) continue;
      for (int round = 0; round < 5; ++round) {
        std::shuffle(frags.begin(), frags.end(), rng);
        SCOPED_TRACE(testing::Message() << "payload " << payload << " size " << size << " round " << round);
        offer_all_expect_complete(kKey, frags);
        expect_completed_covers(payload);
        ASSERT_EQ(table().fragments(), 0u);
        ++datagrams;
      }
    }
  }
  EXPECT_GE(datagrams, 200);
}

TEST_F(Reassembly, Shuffled_PingMaxPayload45Fragments_Completes) {
  // ping -s 65507 at MTU 1500: 65515 bytes of IP payload (65507 + the 8-byte
  // ICMP header) in 1480-byte fragments is 45 fragments, far past
  // rte_ip_frag's 8; so is a 65507-byte UDP/IP payload.
  std::mt19937 rng(7);
  for (uint32_t payload : {65507u, 65515u}) {
    auto frags = split(payload, 1480);
    ASSERT_EQ(frags.size(), 45u);
    for (int round = 0; round < 20; ++round) {
      std::shuffle(frags.begin(), frags.end(), rng);
      SCOPED_TRACE(testing::Message() << "payload " << payload << " round " << round);
      offer_all_expect_complete(kKey, frags);
      expect_completed_covers(payload);
      EXPECT_EQ(completed_.size(), 45u);
    }
  }
}

TEST_F(Reassembly, Shuffled_EightByteFragments_Completes) {
  auto frags = split(1000, 8);  // 125 fragments, within the default 128
  std::mt19937 rng(99);
  for (int round = 0; round < 10; ++round) {
    std::shuffle(frags.begin(), frags.end(), rng);
    offer_all_expect_complete(kKey, frags);
    expect_completed_covers(1000);
  }
}

TEST_F(Reassembly, Shuffled_EightByteFragmentsOfMaxPayload_CompletesWhenLimitsAllow) {
  ReassemblyConfig c = config();
  c.max_fragments = 8192;
  c.max_total_fragments = 8192;
  reset(c);
  auto frags = split(kMaxDatagramPayload, 8);
  ASSERT_EQ(frags.size(), 8190u);
  std::mt19937 rng(2024);
  std::shuffle(frags.begin(), frags.end(), rng);
  offer_all_expect_complete(kKey, frags);
  expect_completed_covers(kMaxDatagramPayload);
}

// ---------------------------------------------------------------- duplicates

TEST_F(Reassembly, Held_ExactDuplicate_IgnoredThenCompletes) {
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 8, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 8, 8, true), FragResult::kDuplicate);
  EXPECT_EQ(table().fragments(), 2u);
  EXPECT_EQ(add(kKey, 16, 5, false), FragResult::kComplete);
  expect_completed_covers(21);
  EXPECT_EQ(completed_handles(), (std::vector<int>{1, 2, 4})) << "the held copy is kept, not the duplicate";
}

TEST_F(Reassembly, Held_DuplicateOfFirstFragment_Ignored) {
  ASSERT_EQ(add(kKey, 0, 16, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 0, 16, true), FragResult::kDuplicate);
  EXPECT_EQ(add(kKey, 16, 16, false), FragResult::kComplete);
  EXPECT_EQ(completed_handles(), (std::vector<int>{1, 3}));
}

TEST_F(Reassembly, Held_DuplicateOfLastFragment_Ignored) {
  ASSERT_EQ(add(kKey, 16, 3, false), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 16, 3, false), FragResult::kDuplicate);
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 16, 3, false), FragResult::kDuplicate);
  EXPECT_EQ(table().fragments(), 2u);
  EXPECT_EQ(add(kKey, 8, 8, true), FragResult::kComplete);
  expect_completed_covers(19);
  EXPECT_EQ(completed_handles(), (std::vector<int>{3, 5, 1}));
}

TEST_F(Reassembly, Held_SameRangeLastButHeldHasMf_DropsDatagram) {
  // Same bytes, one copy says more follow and the other says it is the end.
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 8, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 8, 8, false), FragResult::kInconsistent);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2}));
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, LastHeld_SameRangeWithMf_DropsDatagram) {
  ASSERT_EQ(add(kKey, 8, 8, false), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 8, 8, true), FragResult::kInconsistent);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1}));
  EXPECT_EQ(table().flows(), 0u);
}

// ------------------------------------------------------------------ overlaps
// Held: [0,8) and [16,48), both with MF.

class ReassemblyOverlap : public Reassembly {
 protected:
  void SetUp() override {
    ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
    ASSERT_EQ(add(kKey, 16, 32, true), FragResult::kHeld);
  }
  void expect_dropped_all() {
    EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2}));
    EXPECT_EQ(table().flows(), 0u);
    EXPECT_EQ(table().fragments(), 0u);
  }
};

TEST_F(ReassemblyOverlap, Held_PartialOverlapFront_DropsDatagram) {
  EXPECT_EQ(add(kKey, 8, 16, true), FragResult::kOverlap);  // [8,24) over the front of [16,48)
  expect_dropped_all();
}

TEST_F(ReassemblyOverlap, Held_PartialOverlapBack_DropsDatagram) {
  EXPECT_EQ(add(kKey, 40, 16, true), FragResult::kOverlap);  // [40,56) over the back of [16,48)
  expect_dropped_all();
}

TEST_F(ReassemblyOverlap, Held_ContainedInHeld_DropsDatagram) {
  EXPECT_EQ(add(kKey, 24, 16, true), FragResult::kOverlap);  // [24,40) inside [16,48)
  expect_dropped_all();
}

TEST_F(ReassemblyOverlap, Held_ContainingHeld_DropsDatagram) {
  EXPECT_EQ(add(kKey, 8, 48, true), FragResult::kOverlap);  // [8,56) around [16,48)
  expect_dropped_all();
}

TEST_F(ReassemblyOverlap, Held_SameOffsetShorter_DropsDatagram) {
  EXPECT_EQ(add(kKey, 16, 8, true), FragResult::kOverlap);
  expect_dropped_all();
}

TEST_F(ReassemblyOverlap, Held_SameOffsetLonger_DropsDatagram) {
  EXPECT_EQ(add(kKey, 16, 40, true), FragResult::kOverlap);
  expect_dropped_all();
}

TEST_F(ReassemblyOverlap, Held_SpanningTwoHeld_DropsDatagram) {
  EXPECT_EQ(add(kKey, 0, 24, true), FragResult::kOverlap);  // [0,24) over [0,8) and [16,48)
  expect_dropped_all();
}

TEST_F(ReassemblyOverlap, Held_LastEndingInsideHeld_Overlap) {
  EXPECT_EQ(add(kKey, 24, 4, false), FragResult::kOverlap);  // teardrop's second fragment
  expect_dropped_all();
}

TEST_F(ReassemblyOverlap, Held_AdjacentInGap_Held) {
  EXPECT_EQ(add(kKey, 8, 8, true), FragResult::kHeld);  // [8,16) touches both, overlaps none
  EXPECT_EQ(add(kKey, 48, 1, false), FragResult::kComplete);
  expect_completed_covers(49);
}

TEST_F(Reassembly, Teardrop_SecondInsideFirst_DropsDatagram) {
  // The teardrop attack: the second (last) fragment starts inside the first
  // and ends inside it, so a naive copy length goes negative.
  ASSERT_EQ(add(kKey, 0, 32, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 24, 4, false), FragResult::kOverlap);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1}));
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Teardrop_ReverseArrival_DropsDatagram) {
  ASSERT_EQ(add(kKey, 24, 4, false), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 0, 32, true), FragResult::kOverlap);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1}));
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Dropped_SameKeyAgain_StartsAfresh) {
  ASSERT_EQ(add(kKey, 0, 32, true), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 24, 4, false), FragResult::kOverlap);
  offer_all_expect_complete(kKey, split(100, 32));
  expect_completed_covers(100);
}

// ----------------------------------------------------------------- too big

TEST_F(Reassembly, Empty_PingOfDeath_TooBigNoFlow) {
  EXPECT_EQ(add(kKey, 65528, 16, false), FragResult::kTooBig);
  EXPECT_EQ(table().flows(), 0u);
  EXPECT_EQ(table().fragments(), 0u);
}

TEST_F(Reassembly, Held_PingOfDeath_DropsDatagram) {
  auto frags = split(65507, 1480);
  for (size_t i = 0; i + 1 < frags.size(); ++i) ASSERT_EQ(add(kKey, frags[i]), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 65528, 16, false), FragResult::kTooBig);
  EXPECT_EQ(dropped_set().size(), frags.size() - 1);
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Held_EndOneByteOverMaximum_TooBig) {
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 65512, 4, false), FragResult::kTooBig);  // ends at 65516
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1}));
}

TEST_F(Reassembly, Empty_MoreFragmentsPastMaximum_TooBig) {
  EXPECT_EQ(add(kKey, 65512, 8, true), FragResult::kTooBig);  // ends at 65520
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, InOrder_MaximumPayload65515_Completes) {
  auto frags = split(kMaxDatagramPayload, 1480);
  ASSERT_EQ(frags.back().offset + frags.back().len, 65515u);
  offer_all_expect_complete(kKey, frags);
  expect_completed_covers(65515);
}

TEST_F(Reassembly, Held_LastEndsExactlyAtMaximum_Completes) {
  ASSERT_EQ(add(kKey, 0, 65512, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 65512, 3, false), FragResult::kComplete);
  expect_completed_covers(65515);
}

// -------------------------------------------------------------- inconsistent

TEST_F(Reassembly, Empty_MoreFragmentsLenNotMultipleOf8_InconsistentNoFlow) {
  EXPECT_EQ(add(kKey, 0, 1477, true), FragResult::kInconsistent);
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Held_MoreFragmentsLenNotMultipleOf8_DropsDatagram) {
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 8, 12, true), FragResult::kInconsistent);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1}));
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Held_LastLenNotMultipleOf8_Completes) {
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 8, 13, false), FragResult::kComplete);
  expect_completed_covers(21);
}

TEST_F(Reassembly, Empty_ZeroLength_InconsistentNoFlow) {
  EXPECT_EQ(add(kKey, 8, 0, true), FragResult::kInconsistent);
  EXPECT_EQ(add(kKey, 8, 0, false), FragResult::kInconsistent);
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Held_ZeroLength_DropsDatagram) {
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 8, 0, false), FragResult::kInconsistent);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1}));
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Empty_OffsetZeroWithoutMf_NotAFragmentInconsistent) {
  EXPECT_EQ(add(kKey, 0, 100, false), FragResult::kInconsistent);
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Empty_OffsetNotMultipleOf8_Inconsistent) {
  EXPECT_EQ(add(kKey, 4, 8, true), FragResult::kInconsistent);
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, LastHeld_SecondLastWithDifferentEnd_DropsDatagram) {
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 16, 8, false), FragResult::kHeld);  // end 24
  EXPECT_EQ(add(kKey, 32, 8, false), FragResult::kInconsistent);  // end 40
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2}));
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, LastHeld_SecondLastWithShorterEnd_DropsDatagram) {
  ASSERT_EQ(add(kKey, 32, 8, false), FragResult::kHeld);  // end 40
  EXPECT_EQ(add(kKey, 16, 8, false), FragResult::kInconsistent);  // end 24
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1}));
}

TEST_F(Reassembly, LastHeld_DataBeyondEnd_DropsDatagram) {
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 16, 8, false), FragResult::kHeld);  // end 24
  EXPECT_EQ(add(kKey, 32, 8, true), FragResult::kInconsistent);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2}));
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, LastHeld_DataStartingAtEnd_DropsDatagram) {
  ASSERT_EQ(add(kKey, 16, 8, false), FragResult::kHeld);  // end 24
  EXPECT_EQ(add(kKey, 24, 8, true), FragResult::kInconsistent);  // starts at the end
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1}));
}

TEST_F(Reassembly, Held_LastEndingBeforeHeldData_DropsDatagram) {
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 32, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 8, 8, false), FragResult::kInconsistent);  // ends at 16, data held up to 40
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2}));
  EXPECT_EQ(table().flows(), 0u);
}

// ------------------------------------------------------------------- limits

TEST_F(Reassembly, AtMaxFragments_NextFragment_DropsDatagram) {
  ReassemblyConfig c = config();
  c.max_fragments = 4;
  reset(c);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(add(kKey, i * 8, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 32, 8, true), FragResult::kTooManyFragments);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2, 3, 4}));
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, BelowMaxFragments_LastOneCompletes) {
  ReassemblyConfig c = config();
  c.max_fragments = 4;
  reset(c);
  offer_all_expect_complete(kKey, split(32, 8));  // exactly 4 fragments
  expect_completed_covers(32);
}

TEST_F(Reassembly, AtMaxFragments_Duplicate_StillIgnored) {
  ReassemblyConfig c = config();
  c.max_fragments = 2;
  reset(c);
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 8, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(kKey, 8, 8, true), FragResult::kDuplicate);
  EXPECT_EQ(table().fragments(), 2u);
}

TEST_F(Reassembly, MaxFlows_NewDatagram_TableFullNothingChanges) {
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(add(key_n(i), 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(key_n(4), 0, 8, true), FragResult::kTableFull);
  EXPECT_EQ(table().flows(), 4u);
  EXPECT_EQ(table().fragments(), 4u);
  EXPECT_TRUE(events_.empty());
}

TEST_F(Reassembly, MaxFlows_ExistingDatagram_StillAccepted) {
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(add(key_n(i), 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(key_n(2), 8, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(key_n(2), 16, 8, false), FragResult::kComplete);
}

TEST_F(Reassembly, MaxFlows_AfterCompletion_RoomAgain) {
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(add(key_n(i), 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(4), 0, 8, true), FragResult::kTableFull);
  ASSERT_EQ(add(key_n(1), 8, 8, false), FragResult::kComplete);
  EXPECT_EQ(table().flows(), 3u);
  EXPECT_EQ(add(key_n(4), 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(table().flows(), 4u);
}

TEST_F(Reassembly, MaxTotalFragments_AnyNewFragment_TableFullNothingChanges) {
  ReassemblyConfig c = config();
  c.max_total_fragments = 4;
  reset(c);
  ASSERT_EQ(add(key_n(0), 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(0), 8, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(0), 16, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(1), 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(key_n(0), 24, 8, true), FragResult::kTableFull) << "existing datagram";
  EXPECT_EQ(add(key_n(2), 0, 8, true), FragResult::kTableFull) << "new datagram";
  EXPECT_EQ(table().flows(), 2u);
  EXPECT_EQ(table().fragments(), 4u);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(add(key_n(0), 8, 8, true), FragResult::kDuplicate) << "duplicates are still recognised";
}

TEST_F(Reassembly, MaxTotalFragments_AfterDrop_RoomAgain) {
  ReassemblyConfig c = config();
  c.max_total_fragments = 2;
  reset(c);
  ASSERT_EQ(add(key_n(0), 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(1), 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(0), 8, 8, false), FragResult::kTableFull);
  ASSERT_EQ(add(key_n(1), 4, 8, true), FragResult::kInconsistent);  // drops key 1
  EXPECT_EQ(table().fragments(), 1u);
  EXPECT_EQ(add(key_n(0), 8, 8, false), FragResult::kComplete);
}

// ------------------------------------------------------------------- expiry

TEST_F(Reassembly, Held_TickBeforeTimeout_NothingHappens) {
  ASSERT_EQ(add(kKey, 0, 8, true, 100), FragResult::kHeld);
  tick(100);
  tick(100 + kTimeout - 1);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(table().flows(), 1u);
}

TEST_F(Reassembly, Empty_Tick_NothingHappens) {
  tick(0);
  tick(10 * kTimeout);
  EXPECT_TRUE(events_.empty());
}

TEST_F(Reassembly, HeldWithFirst_TickAtTimeout_ReportsFirstThenDropsAll) {
  ASSERT_EQ(add(kKey, 16, 8, true, 100), FragResult::kHeld);  // 1
  ASSERT_EQ(add(kKey, 0, 8, true, 150), FragResult::kHeld);   // 2: offset 0
  ASSERT_EQ(add(kKey, 32, 8, false, 200), FragResult::kHeld);  // 3
  tick(100 + kTimeout);
  ASSERT_EQ(events_.size(), 4u);
  EXPECT_EQ(events_[0].kind, Event::kExpire) << "on_expire comes before any on_drop";
  EXPECT_EQ(events_[0].handle, 2) << "the offset-0 fragment, to quote in the ICMP error";
  EXPECT_TRUE(events_[0].first_seen);
  EXPECT_EQ(events_[0].key, kKey);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2, 3}));
  EXPECT_EQ(table().flows(), 0u);
  EXPECT_EQ(table().fragments(), 0u);
}

TEST_F(Reassembly, HeldWithoutFirst_TickAtTimeout_ReportsNoneNotSeen) {
  ASSERT_EQ(add(kKey, 8, 8, true, 0), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 24, 8, false, 0), FragResult::kHeld);
  tick(kTimeout);
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[0].kind, Event::kExpire);
  EXPECT_EQ(events_[0].handle, 0) << "Handle{} when no offset-0 fragment is held";
  EXPECT_FALSE(events_[0].first_seen);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2}));
}

TEST_F(Reassembly, Held_LaterFragments_DoNotExtendLifetime) {
  ASSERT_EQ(add(kKey, 0, 8, true, 0), FragResult::kHeld);
  ASSERT_EQ(add(kKey, 8, 8, true, kTimeout - 1), FragResult::kHeld);
  tick(kTimeout);
  EXPECT_EQ(table().flows(), 0u);
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2}));
}

TEST_F(Reassembly, SeveralHeld_Tick_ExpiresOnlyDueOnesOldestFirst) {
  ASSERT_EQ(add(key_n(0), 8, 8, true, 0), FragResult::kHeld);
  ASSERT_EQ(add(key_n(1), 8, 8, true, 10), FragResult::kHeld);
  ASSERT_EQ(add(key_n(2), 8, 8, true, 20), FragResult::kHeld);
  tick(kTimeout + 10);
  std::vector<FragKey> expired;
  for (const Event& e : events_)
    if (e.kind == Event::kExpire) expired.push_back(e.key);
  EXPECT_EQ(expired, (std::vector<FragKey>{key_n(0), key_n(1)}));
  EXPECT_EQ(table().flows(), 1u);
  tick(kTimeout + 20);
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, OldestCompletedMiddleDropped_Tick_ExpiryOrderIntact) {
  // Flows leaving early (head completed, middle dropped) leave the age list
  // consistent for the rest.
  ASSERT_EQ(add(key_n(0), 0, 8, true, 0), FragResult::kHeld);
  ASSERT_EQ(add(key_n(1), 8, 8, true, 10), FragResult::kHeld);
  ASSERT_EQ(add(key_n(2), 8, 8, true, 20), FragResult::kHeld);
  ASSERT_EQ(add(key_n(3), 8, 8, true, 30), FragResult::kHeld);
  ASSERT_EQ(add(key_n(0), 8, 8, false, 40), FragResult::kComplete);
  ASSERT_EQ(add(key_n(2), 8, 16, true, 40), FragResult::kOverlap);
  tick(kTimeout + 9);
  EXPECT_TRUE(std::none_of(events_.begin(), events_.end(), [](const Event& e) { return e.kind == Event::kExpire; }));
  tick(kTimeout + 10);
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_[events_.size() - 2].key, key_n(1));
  EXPECT_EQ(table().flows(), 1u);
  ASSERT_EQ(add(key_n(4), 8, 8, true, kTimeout + 11), FragResult::kHeld);  // newest, after key 3
  tick(kTimeout + 30);
  EXPECT_EQ(events_[events_.size() - 2].key, key_n(3));
  EXPECT_EQ(table().flows(), 1u);
  tick(2 * kTimeout + 11);
  EXPECT_EQ(table().flows(), 0u);
}

TEST_F(Reassembly, Expired_SameKeyAgain_StartsAfresh) {
  ASSERT_EQ(add(kKey, 0, 8, true, 0), FragResult::kHeld);
  tick(kTimeout);
  ASSERT_EQ(table().flows(), 0u);
  ASSERT_EQ(add(kKey, 8, 8, false, kTimeout), FragResult::kHeld) << "the old offset-0 fragment is gone";
  ASSERT_EQ(add(kKey, 0, 8, true, kTimeout), FragResult::kComplete);
  expect_completed_covers(16);
}

// ---------------------------------------------------------------- keys

TEST_F(Reassembly, Interleaved_DifferentKeys_CompleteIndependently) {
  // Same identification, different source / destination / protocol: four
  // datagrams (RFC 791).
  FragKey keys[4] = {kKey, kKey, kKey, kKey};
  keys[1].src = Ipv4Addr::from_octets(10, 0, 0, 9);
  keys[2].protocol = 17;
  keys[3].dst = Ipv4Addr::from_octets(10, 0, 0, 9);
  const uint32_t payloads[4] = {3000, 5000, 1481, 65507};
  std::vector<std::pair<size_t, FragInfo>> all;
  for (size_t k = 0; k < 4; ++k)
    for (const FragInfo& f : split(payloads[k], 1480)) all.emplace_back(k, f);
  std::mt19937 rng(5);
  std::shuffle(all.begin(), all.end(), rng);
  std::map<int, size_t> key_of;
  std::set<size_t> done;
  for (const auto& [k, f] : all) {
    FragResult r = add(keys[k], f);
    key_of[last_] = k;
    if (r == FragResult::kComplete) {
      EXPECT_TRUE(done.insert(k).second);
      expect_completed_covers(payloads[k]);
      for (const Piece& p : completed_) EXPECT_EQ(key_of[p.handle], k) << "a piece of another datagram";
    } else {
      ASSERT_EQ(r, FragResult::kHeld);
    }
  }
  EXPECT_EQ(done.size(), 4u);
}

TEST_F(Reassembly, Held_SameIdOtherSource_SeparateFlow) {
  FragKey other = kKey;
  other.src = Ipv4Addr::from_octets(192, 168, 1, 1);
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(other, 0, 16, true), FragResult::kHeld) << "would overlap if it were the same datagram";
  EXPECT_EQ(table().flows(), 2u);
  EXPECT_EQ(add(kKey, 8, 8, false), FragResult::kComplete);
  EXPECT_EQ(completed_handles(), (std::vector<int>{1, 3}));
}

TEST_F(Reassembly, Held_SameIdOtherProtocol_SeparateFlow) {
  FragKey other = kKey;
  other.protocol = 6;
  ASSERT_EQ(add(kKey, 0, 8, true), FragResult::kHeld);
  EXPECT_EQ(add(other, 0, 16, true), FragResult::kHeld);
  EXPECT_EQ(table().flows(), 2u);
}

TEST_F(Reassembly, Completed_SameKeyAgain_StartsNewDatagram) {
  offer_all_expect_complete(kKey, split(100, 48));
  EXPECT_EQ(add(kKey, 48, 48, true), FragResult::kHeld) << "a late duplicate starts a new datagram, which will expire";
  EXPECT_EQ(table().flows(), 1u);
}

TEST_F(Reassembly, ManyFlows_RandomChurn_IndexStaysConsistent) {
  // Hash index insertions and deletions (backward shift) under load: a model
  // of which keys are live must agree with every result.
  ReassemblyConfig c = config();
  c.max_flows = 64;
  c.hash_seed = 0x5eed;
  reset(c);
  std::mt19937 rng(77);
  std::set<uint32_t> live;
  for (int step = 0; step < 20000; ++step) {
    uint32_t k = rng() % 200;
    if (live.count(k) == 0) {
      FragResult want = live.size() < 64 ? FragResult::kHeld : FragResult::kTableFull;
      ASSERT_EQ(add(key_n(k), 0, 8, true, static_cast<uint64_t>(step)), want) << "step " << step << " key " << k;
      if (want == FragResult::kHeld) live.insert(k);
    } else if (rng() % 2 == 0) {
      ASSERT_EQ(add(key_n(k), 8, 8, false, static_cast<uint64_t>(step)), FragResult::kComplete) << "step " << step;
      live.erase(k);
    } else {
      ASSERT_EQ(add(key_n(k), 0, 16, true, static_cast<uint64_t>(step)), FragResult::kOverlap) << "step " << step;
      live.erase(k);
    }
    ASSERT_EQ(table().flows(), live.size());
  }
}

TEST_F(Reassembly, RandomFragments_AgainstReferenceModel_SameResults) {
  // Random small fragments (aligned or not, any MF, overlapping or not) at one
  // key, checked against a plain model of the rules that tests coverage by
  // sorting, not by the table's byte count.
  ReassemblyConfig c = config();
  c.max_fragments = 12;
  reset(c);
  std::mt19937 rng(4242);
  std::vector<FragInfo> held;  // the model's datagram
  int completions = 0;
  std::map<FragResult, int> seen;
  for (int step = 0; step < 200000; ++step) {
    FragInfo f;
    f.offset = (rng() % 40) * 8 + (rng() % 50 == 0 ? 4 : 0);
    f.len = rng() % 4 == 0 ? static_cast<uint32_t>(rng() % 33) : static_cast<uint32_t>(8 * (1 + rng() % 4));
    f.more = rng() % 3 != 0;
    if (rng() % 500 == 0) f.offset = 65512;
    if (rng() % 2 == 0) {
      // Half the time, an 8-byte fragment into a free slot, so that datagrams
      // grow to many fragments and complete.
      std::vector<uint32_t> free_slots;
      for (uint32_t k = 0; k < 40; ++k)
        if (std::none_of(held.begin(), held.end(),
                         [&](const FragInfo& h) { return h.offset <= 8 * k && 8 * k < h.offset + h.len; }))
          free_slots.push_back(k);
      if (!free_slots.empty()) f = FragInfo{8 * free_slots[rng() % free_slots.size()], 8, rng() % 16 != 0};
    }

    FragResult want = FragResult::kHeld;
    uint32_t end = f.offset + f.len;
    bool has_last = false;
    uint32_t last_end = 0, held_end = 0;
    for (const FragInfo& h : held) {
      held_end = std::max(held_end, h.offset + h.len);
      if (!h.more) {
        has_last = true;
        last_end = h.offset + h.len;
      }
    }
    if (f.len == 0 || f.offset % 8 != 0 || (f.offset == 0 && !f.more) || (f.more && f.len % 8 != 0)) {
      want = FragResult::kInconsistent;
    } else if (end > kMaxDatagramPayload) {
      want = FragResult::kTooBig;
    } else {
      auto same = std::find_if(held.begin(), held.end(),
                               [&](const FragInfo& h) { return h.offset == f.offset && h.len == f.len; });
      bool overlap = std::any_of(held.begin(), held.end(),
                                 [&](const FragInfo& h) { return h.offset < end && f.offset < h.offset + h.len; });
      if (same != held.end()) {
        want = same->more == f.more ? FragResult::kDuplicate : FragResult::kInconsistent;
      } else if (overlap) {
        want = FragResult::kOverlap;
      } else if (f.more ? (has_last && end > last_end) : (has_last ? end != last_end : end < held_end)) {
        want = FragResult::kInconsistent;
      } else if (held.size() >= c.max_fragments) {
        want = FragResult::kTooManyFragments;
      } else {
        std::vector<FragInfo> after = held;
        after.push_back(f);
        std::sort(after.begin(), after.end(), [](const FragInfo& a, const FragInfo& b) { return a.offset < b.offset; });
        uint32_t at = 0;
        for (const FragInfo& h : after) at = h.offset == at ? at + h.len : ~0u;
        bool last = !f.more || has_last;
        want = last && at == (f.more ? last_end : end) ? FragResult::kComplete : FragResult::kHeld;
      }
    }
    FragResult got = add(kKey, f);
    ASSERT_EQ(got, want) << "step " << step << ": offset " << f.offset << " len " << f.len << " more " << f.more;
    ++seen[got];
    if (got == FragResult::kHeld) {
      held.push_back(f);
    } else if (got != FragResult::kDuplicate) {
      held.clear();  // completed, dropped, or never created
    }
    if (got == FragResult::kComplete) ++completions;
    ASSERT_EQ(table().fragments(), held.size());
  }
  EXPECT_GT(completions, 0);
  for (FragResult r : {FragResult::kHeld, FragResult::kComplete, FragResult::kDuplicate, FragResult::kOverlap,
                       FragResult::kTooBig, FragResult::kInconsistent, FragResult::kTooManyFragments})
    EXPECT_GT(seen[r], 0) << frag_result_name(r) << " never exercised";
}

// ------------------------------------------------------------ clear, counts

TEST_F(Reassembly, SeveralHeld_Clear_ReleasesEverything) {
  ASSERT_EQ(add(key_n(0), 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(0), 16, 8, false), FragResult::kHeld);
  ASSERT_EQ(add(key_n(1), 8, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(2), 0, 8, true), FragResult::kHeld);
  clear();
  EXPECT_EQ(dropped_set(), (std::multiset<int>{1, 2, 3, 4}));
  EXPECT_EQ(table().flows(), 0u);
  EXPECT_EQ(table().fragments(), 0u);
  EXPECT_TRUE(std::none_of(events_.begin(), events_.end(), [](const Event& e) { return e.kind == Event::kExpire; }));
  // Usable afterwards.
  offer_all_expect_complete(kKey, split(20, 8));
}

TEST_F(Reassembly, Counts_FollowAddsCompletionsAndDrops) {
  EXPECT_EQ(table().flows(), 0u);
  ASSERT_EQ(add(key_n(0), 0, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(0), 8, 8, true), FragResult::kHeld);
  ASSERT_EQ(add(key_n(1), 8, 8, true), FragResult::kHeld);
  EXPECT_EQ(table().flows(), 2u);
  EXPECT_EQ(table().fragments(), 3u);
  ASSERT_EQ(add(key_n(0), 8, 8, true), FragResult::kDuplicate);
  EXPECT_EQ(table().fragments(), 3u);
  ASSERT_EQ(add(key_n(0), 16, 1, false), FragResult::kComplete);
  EXPECT_EQ(table().flows(), 1u);
  EXPECT_EQ(table().fragments(), 1u);
  ASSERT_EQ(add(key_n(1), 8, 16, true), FragResult::kOverlap);
  EXPECT_EQ(table().flows(), 0u);
  EXPECT_EQ(table().fragments(), 0u);
}

TEST_F(Reassembly, SeveralHeld_ForEach_VisitsOldestFirst) {
  ASSERT_EQ(add(key_n(0), 0, 8, true, 5), FragResult::kHeld);
  ASSERT_EQ(add(key_n(0), 16, 16, true, 9), FragResult::kHeld);
  ASSERT_EQ(add(key_n(1), 8, 8, true, 7), FragResult::kHeld);
  struct Seen {
    FragKey key;
    size_t fragments, bytes;
    bool first_seen;
    uint64_t created;
  };
  std::vector<Seen> seen;
  table().for_each([&](const FragKey& k, size_t fragments, size_t bytes, bool first_seen, uint64_t created) {
    seen.push_back({k, fragments, bytes, first_seen, created});
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].key, key_n(0));
  EXPECT_EQ(seen[0].fragments, 2u);
  EXPECT_EQ(seen[0].bytes, 24u);
  EXPECT_TRUE(seen[0].first_seen);
  EXPECT_EQ(seen[0].created, 5u);
  EXPECT_EQ(seen[1].key, key_n(1));
  EXPECT_EQ(seen[1].fragments, 1u);
  EXPECT_EQ(seen[1].bytes, 8u);
  EXPECT_FALSE(seen[1].first_seen);
  EXPECT_EQ(seen[1].created, 7u);
}

// ------------------------------------------------------------- misc, handles

// Never defined: a table over pointers to it compiles only if it never
// dereferences a handle (as with rte_mbuf* in the engine).
struct OpaqueMbuf;

TEST(ReassemblyPointerHandle, WithoutFirst_Expire_PassesNullptr) {
  ReassemblyConfig c;
  c.timeout = 10;
  Reassembler<OpaqueMbuf*> table(c);
  std::array<int, 4> storage{};
  auto mbuf = [&](size_t i) { return reinterpret_cast<OpaqueMbuf*>(&storage[i]); };
  std::vector<Reassembler<OpaqueMbuf*>::Piece> out;
  std::vector<OpaqueMbuf*> dropped;
  auto on_drop = [&](OpaqueMbuf* m) { dropped.push_back(m); };
  ASSERT_EQ(table.add(kKey, FragInfo{8, 8, true}, mbuf(0), 0, out, on_drop), FragResult::kHeld);
  ASSERT_EQ(table.add(kKey, FragInfo{16, 8, false}, mbuf(1), 0, out, on_drop), FragResult::kHeld);
  int expired = 0;
  table.tick(
      10,
      [&](const FragKey&, OpaqueMbuf* first, bool first_seen) {
        ++expired;
        EXPECT_EQ(first, nullptr);
        EXPECT_FALSE(first_seen);
      },
      on_drop);
  EXPECT_EQ(expired, 1);
  EXPECT_EQ(dropped, (std::vector<OpaqueMbuf*>{mbuf(0), mbuf(1)}));
  ASSERT_EQ(table.add(kKey, FragInfo{8, 8, false}, mbuf(2), 20, out, on_drop), FragResult::kHeld);
  ASSERT_EQ(table.add(kKey, FragInfo{0, 8, true}, mbuf(3), 20, out, on_drop), FragResult::kComplete);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].handle, mbuf(3));
  EXPECT_EQ(out[1].handle, mbuf(2));
  table.clear(on_drop);
  EXPECT_EQ(dropped.size(), 2u);
}

TEST(ReassemblyNames, FragResultNames) {
  EXPECT_STREQ(frag_result_name(FragResult::kHeld), "held");
  EXPECT_STREQ(frag_result_name(FragResult::kComplete), "complete");
  EXPECT_STREQ(frag_result_name(FragResult::kDuplicate), "duplicate");
  EXPECT_STREQ(frag_result_name(FragResult::kOverlap), "overlap");
  EXPECT_STREQ(frag_result_name(FragResult::kTooBig), "too_big");
  EXPECT_STREQ(frag_result_name(FragResult::kInconsistent), "inconsistent");
  EXPECT_STREQ(frag_result_name(FragResult::kTooManyFragments), "too_many_fragments");
  EXPECT_STREQ(frag_result_name(FragResult::kTableFull), "table_full");
}

TEST(ReassemblyConfigDefaults, AsSpecified) {
  ReassemblyConfig c;
  EXPECT_EQ(c.max_flows, 1024u);
  EXPECT_EQ(c.max_fragments, 128u);
  EXPECT_EQ(c.max_total_fragments, 8192u);
  EXPECT_EQ(c.timeout, 0u);
  Reassembler<int> table(c);
  EXPECT_EQ(table.config().max_flows, 1024u);
  EXPECT_EQ(table.flows(), 0u);
  EXPECT_EQ(table.fragments(), 0u);
}

}  // namespace
}  // namespace dpdkstack

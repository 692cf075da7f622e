// The ARP cache (lib/l2/arp_cache.hpp), driven sans-I/O: time is a plain
// integer, packets are the addresses of ints. Tests are named
// <state>_<event>_<outcome>. Every packet the cache takes (resolve() ==
// kQueued) must come back out exactly once through on_ready or on_drop; the
// fixture checks that at teardown, after clear().
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/types.hpp"
#include "l2/arp_cache.hpp"
#include "test_util.hpp"

namespace dpdkstack {
namespace {

constexpr uint64_t kTimeout = 1000;  // entry_timeout
constexpr uint64_t kRetry = 100;     // retry_interval
constexpr uint32_t kMaxRequests = 3;
constexpr uint32_t kPendingMax = 4;
constexpr uint32_t kMaxEntries = 8;

constexpr uint16_t kPort = 0;
constexpr Ipv4Addr kIp = Ipv4Addr::from_octets(10, 0, 0, 1);
constexpr Ipv4Addr kIp2 = Ipv4Addr::from_octets(10, 0, 0, 3);
constexpr MacAddr kMac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
constexpr MacAddr kMac2{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}};
constexpr MacAddr kStaticMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}};

struct Request {
  uint16_t port;
  Ipv4Addr ip;
  friend bool operator==(const Request&, const Request&) = default;
};

void PrintTo(const Request& r, std::ostream* os) { *os << "{port " << r.port << ", " << r.ip.to_string() << "}"; }

class ArpCacheTest : public ::testing::Test {
 protected:
  ArpCacheTest() : cache_(config()) {}

  static ArpCacheConfig config() {
    ArpCacheConfig c;
    c.entry_timeout = kTimeout;
    c.retry_interval = kRetry;
    c.max_requests = kMaxRequests;
    c.pending_max = kPendingMax;
    c.max_entries = kMaxEntries;
    return c;
  }

  // Fake packets: distinct addresses, never dereferenced.
  void* pkt(size_t i) { return &pkts_.at(i); }

  ArpResolve resolve(uint16_t port, Ipv4Addr ip, void* p, uint64_t now, MacAddr* mac_out = nullptr) {
    MacAddr mac;
    auto r = cache_.resolve(port, ip, p, now, mac, [this](uint16_t rp, Ipv4Addr ra) {
      requests_.push_back({rp, ra});
    });
    if (r == ArpResolve::kQueued) ++handed_in_[p];
    if (mac_out != nullptr) *mac_out = mac;
    return r;
  }

  // True when replicas must hear of the update (new, changed, or a refresh
  // they have not heard of for a quarter of the lifetime).
  bool update(uint16_t port, Ipv4Addr ip, const MacAddr& mac, uint64_t now, bool create) {
    return update_kind(port, ip, mac, now, create) == ArpUpdate::kShare;
  }
  ArpUpdate update_kind(uint16_t port, Ipv4Addr ip, const MacAddr& mac, uint64_t now, bool create) {
    return cache_.update(port, ip, mac, now, create, [this](void* p, const MacAddr& m) {
      ready_.push_back({p, m});
      ++came_out_[p];
    });
  }

  void add_static(uint16_t port, Ipv4Addr ip, const MacAddr& mac) {
    cache_.add_static(port, ip, mac, [this](void* p, const MacAddr& m) {
      ready_.push_back({p, m});
      ++came_out_[p];
    });
  }

  void tick(uint64_t now) {
    cache_.tick(
        now, [this](uint16_t rp, Ipv4Addr ra) { requests_.push_back({rp, ra}); },
        [this](void* p) {
          dropped_.push_back(p);
          ++came_out_[p];
        });
  }

  void clear() {
    cache_.clear([this](void* p) {
      dropped_.push_back(p);
      ++came_out_[p];
    });
  }

  // Brings (port, ip) to Incomplete with packets pkt(first)..pkt(first+n-1).
  void make_incomplete(uint16_t port, Ipv4Addr ip, size_t first, size_t n, uint64_t now) {
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(resolve(port, ip, pkt(first + i), now), ArpResolve::kQueued);
  }

  // The entry for (port, ip), which the test expects to exist.
  const ArpEntry& entry(uint16_t port, Ipv4Addr ip) const {
    const ArpEntry* e = cache_.find(port, ip);
    if (e == nullptr) {
      ADD_FAILURE() << "no entry for port " << port << " " << ip.to_string();
      static const ArpEntry kMissing{};
      return kMissing;
    }
    return *e;
  }

  ArpState state(uint16_t port, Ipv4Addr ip) const {
    const ArpEntry* e = cache_.find(port, ip);
    EXPECT_NE(e, nullptr);
    return e == nullptr ? ArpState::kIncomplete : e->state;
  }

  std::vector<void*> ready_pkts() const {
    std::vector<void*> v;
    for (const auto& [p, m] : ready_) v.push_back(p);
    return v;
  }

  // Leak check: every packet handed in came out exactly once, and nothing
  // came out that was not handed in.
  void TearDown() override {
    clear();
    EXPECT_EQ(cache_.size(), 0u);
    for (const auto& [p, n] : handed_in_) {
      EXPECT_EQ(n, 1) << "packet " << p << " handed in " << n << " times while held";
      auto it = came_out_.find(p);
      EXPECT_TRUE(it != came_out_.end() && it->second == n)
          << "packet " << p << " handed in " << n << " times, came out "
          << (it == came_out_.end() ? 0 : it->second) << " times";
    }
    for (const auto& [p, n] : came_out_)
      EXPECT_TRUE(handed_in_.count(p) != 0) << "packet " << p << " came out " << n << " times, never handed in";
  }

  ArpCache cache_;
  std::array<int, 64> pkts_{};
  std::vector<Request> requests_;
  std::vector<std::pair<void*, MacAddr>> ready_;
  std::vector<void*> dropped_;
  std::map<void*, int> handed_in_;
  std::map<void*, int> came_out_;
};

// ------------------------------------------------------------------ Unknown

TEST_F(ArpCacheTest, Unknown_Resolve_QueuesAndSendsRequest) {
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), 5), ArpResolve::kQueued);
  EXPECT_EQ(requests_, (std::vector<Request>{{kPort, kIp}}));
  const ArpEntry* e = cache_.find(kPort, kIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, ArpState::kIncomplete);
  EXPECT_EQ(e->port, kPort);
  EXPECT_EQ(e->ip, kIp);
  EXPECT_EQ(e->requests, 1u);
  EXPECT_EQ(e->next_retry, 5 + kRetry);
  EXPECT_EQ(e->pending, (std::vector<void*>{pkt(0)}));
  EXPECT_EQ(cache_.size(), 1u);
  EXPECT_TRUE(ready_.empty());
  EXPECT_TRUE(dropped_.empty());
}

TEST_F(ArpCacheTest, Unknown_UpdateWithoutCreate_Ignored) {
  // RFC 826: a sender we have no entry for is only added when we are the
  // target; otherwise the "merge" step finds nothing to update.
  EXPECT_FALSE(update(kPort, kIp, kMac, 0, /*create=*/false));
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(ArpCacheTest, Unknown_UpdateWithCreate_AddsReachable) {
  EXPECT_TRUE(update(kPort, kIp, kMac, 10, /*create=*/true));
  const ArpEntry* e = cache_.find(kPort, kIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, ArpState::kReachable);
  EXPECT_EQ(e->mac, kMac);
  EXPECT_EQ(e->expires, 10 + kTimeout);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(ArpCacheTest, Unknown_Resolve_EntriesArePerPort) {
  EXPECT_EQ(resolve(0, kIp, pkt(0), 0), ArpResolve::kQueued);
  EXPECT_EQ(resolve(1, kIp, pkt(1), 0), ArpResolve::kQueued);
  EXPECT_EQ(requests_, (std::vector<Request>{{0, kIp}, {1, kIp}}));
  EXPECT_EQ(cache_.size(), 2u);
  // Learning on port 1 releases only port 1's packet.
  EXPECT_TRUE(update(1, kIp, kMac, 1, false));
  EXPECT_EQ(ready_pkts(), (std::vector<void*>{pkt(1)}));
  EXPECT_EQ(state(0, kIp), ArpState::kIncomplete);
  EXPECT_EQ(state(1, kIp), ArpState::kReachable);
}

TEST_F(ArpCacheTest, Unknown_Tick_DoesNothing) {
  tick(0);
  tick(std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(requests_.empty());
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(ArpCacheTest, Key_SeparatesPortAndAddress) {
  EXPECT_NE(ArpCache::key(0, kIp), ArpCache::key(1, kIp));
  EXPECT_NE(ArpCache::key(0, kIp), ArpCache::key(0, kIp2));
  EXPECT_NE(ArpCache::key(1, Ipv4Addr(0)), ArpCache::key(0, Ipv4Addr::broadcast()));
  EXPECT_EQ(ArpCache::key(7, kIp), ArpCache::key(7, kIp));
}

// --------------------------------------------------------------- Incomplete

TEST_F(ArpCacheTest, Incomplete_Resolve_QueuesWithoutNewRequest) {
  make_incomplete(kPort, kIp, 0, 1, 0);
  EXPECT_EQ(resolve(kPort, kIp, pkt(1), 10), ArpResolve::kQueued);
  EXPECT_EQ(requests_.size(), 1u);  // the first request only; retries are tick()'s job
  EXPECT_EQ(entry(kPort, kIp).next_retry, kRetry);
}

TEST_F(ArpCacheTest, Incomplete_Resolve_QueuesUntilPendingMax) {
  for (size_t i = 0; i < kPendingMax; ++i)
    EXPECT_EQ(resolve(kPort, kIp, pkt(i), i), ArpResolve::kQueued) << "packet " << i;
  const ArpEntry* e = cache_.find(kPort, kIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->pending.size(), kPendingMax);
  EXPECT_EQ(resolve(kPort, kIp, pkt(kPendingMax), 10), ArpResolve::kDroppedFull);
}

TEST_F(ArpCacheTest, Incomplete_PendingFull_DropsNewPacket) {
  make_incomplete(kPort, kIp, 0, kPendingMax, 0);
  // The refused packet stays the caller's: not queued, not passed to on_drop.
  EXPECT_EQ(resolve(kPort, kIp, pkt(10), 1), ArpResolve::kDroppedFull);
  EXPECT_EQ(resolve(kPort, kIp, pkt(11), 2), ArpResolve::kDroppedFull);
  EXPECT_TRUE(dropped_.empty());
  const ArpEntry* e = cache_.find(kPort, kIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->pending, (std::vector<void*>{pkt(0), pkt(1), pkt(2), pkt(3)}));
  EXPECT_EQ(requests_.size(), 1u);
  // The held ones still go out when the answer comes.
  update(kPort, kIp, kMac, 3, false);
  EXPECT_EQ(ready_pkts(), (std::vector<void*>{pkt(0), pkt(1), pkt(2), pkt(3)}));
}

TEST_F(ArpCacheTest, Incomplete_Update_ReleasesPendingInOrder) {
  make_incomplete(kPort, kIp, 0, 3, 0);
  EXPECT_TRUE(update(kPort, kIp, kMac, 50, /*create=*/true));
  ASSERT_EQ(ready_.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ready_[i].first, pkt(i)) << "position " << i;
    EXPECT_EQ(ready_[i].second, kMac) << "position " << i;
  }
  const ArpEntry* e = cache_.find(kPort, kIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, ArpState::kReachable);
  EXPECT_EQ(e->mac, kMac);
  EXPECT_EQ(e->expires, 50 + kTimeout);
  EXPECT_TRUE(e->pending.empty());
  EXPECT_EQ(e->requests, 0u);
  // Later packets go straight out.
  MacAddr mac;
  EXPECT_EQ(resolve(kPort, kIp, pkt(3), 51, &mac), ArpResolve::kResolved);
  EXPECT_EQ(mac, kMac);
}

TEST_F(ArpCacheTest, Incomplete_UpdateWithoutCreate_MergesAndReleases) {
  // RFC 826 merge: an existing entry is updated whether or not we are the
  // target, so a reply (or any ARP from that sender) completes it.
  make_incomplete(kPort, kIp, 0, 2, 0);
  EXPECT_TRUE(update(kPort, kIp, kMac, 5, /*create=*/false));
  EXPECT_EQ(ready_pkts(), (std::vector<void*>{pkt(0), pkt(1)}));
  EXPECT_EQ(state(kPort, kIp), ArpState::kReachable);
}

TEST_F(ArpCacheTest, Incomplete_OnReadyReentersResolve_Resolved) {
  // on_ready may send the packet through resolve() again (the engine's
  // send path does); by then the entry must already be Reachable.
  make_incomplete(kPort, kIp, 0, 2, 0);
  std::vector<ArpResolve> inner;
  cache_.update(kPort, kIp, kMac, 5, false, [&](void* p, const MacAddr& m) {
    ++came_out_[p];
    ready_.push_back({p, m});
    MacAddr mac;
    inner.push_back(cache_.resolve(kPort, kIp, p, 5, mac, [&](uint16_t rp, Ipv4Addr ra) {
      requests_.push_back({rp, ra});
    }));
    EXPECT_EQ(mac, kMac);
  });
  EXPECT_EQ(inner, (std::vector<ArpResolve>{ArpResolve::kResolved, ArpResolve::kResolved}));
  EXPECT_EQ(requests_.size(), 1u);
  EXPECT_EQ(ready_pkts(), (std::vector<void*>{pkt(0), pkt(1)}));
}

TEST_F(ArpCacheTest, Incomplete_TickBeforeRetryInterval_NoResend) {
  make_incomplete(kPort, kIp, 0, 1, 1000);
  tick(1000);
  tick(1000 + kRetry - 1);
  EXPECT_EQ(requests_.size(), 1u);
  EXPECT_EQ(entry(kPort, kIp).requests, 1u);
}

TEST_F(ArpCacheTest, Incomplete_TickAfterRetryInterval_Resends) {
  make_incomplete(kPort, kIp, 0, 1, 1000);
  tick(1000 + kRetry);
  EXPECT_EQ(requests_, (std::vector<Request>{{kPort, kIp}, {kPort, kIp}}));
  const ArpEntry* e = cache_.find(kPort, kIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->requests, 2u);
  EXPECT_EQ(e->next_retry, 1000 + 2 * kRetry);
  EXPECT_EQ(e->pending.size(), 1u);
  EXPECT_TRUE(dropped_.empty());
  // Late tick: the next retry is counted from when this one went out.
  tick(1000 + 2 * kRetry + 37);
  EXPECT_EQ(requests_.size(), 3u);
  EXPECT_EQ(entry(kPort, kIp).next_retry, 1000 + 3 * kRetry + 37);
}

// The engine answers a given-up packet with host unreachable, which may
// need the very next hop that failed: resolving from inside on_drop must
// start a fresh entry, not land in the one being removed (and be lost).
TEST_F(ArpCacheTest, Incomplete_GiveUpCallbackResolvesSameAddress_NewEntryHoldsPacket) {
  make_incomplete(kPort, kIp, 0, 2, 0);
  const uint64_t give_up = kMaxRequests * kRetry;
  for (uint64_t t = 1; t < give_up; ++t) tick(t);
  size_t next = 10;
  cache_.tick(
      give_up, [this](uint16_t rp, Ipv4Addr ra) { requests_.push_back({rp, ra}); },
      [&](void* p) {
        dropped_.push_back(p);
        ++came_out_[p];
        EXPECT_EQ(resolve(kPort, kIp, pkt(next++), give_up), ArpResolve::kQueued);
      });
  EXPECT_EQ(dropped_, (std::vector<void*>{pkt(0), pkt(1)}));
  ASSERT_NE(cache_.find(kPort, kIp), nullptr);
  EXPECT_EQ(entry(kPort, kIp).pending, (std::vector<void*>{pkt(10), pkt(11)}));
  EXPECT_EQ(cache_.pending_total(), 2u);  // the old entry's packets no longer counted
}

TEST_F(ArpCacheTest, Incomplete_MaxRequestsUnanswered_DropsAllPendingAndRemoves) {
  make_incomplete(kPort, kIp, 0, 3, 0);
  // max_requests = 3: at 0 (from resolve), kRetry and 2*kRetry.
  for (uint64_t t = 1; t < kMaxRequests * kRetry; ++t) tick(t);
  EXPECT_EQ(requests_.size(), kMaxRequests);
  EXPECT_TRUE(dropped_.empty());
  ASSERT_NE(cache_.find(kPort, kIp), nullptr);
  // One more interval with no answer: give up.
  tick(kMaxRequests * kRetry);
  EXPECT_EQ(requests_.size(), kMaxRequests);  // no further request
  EXPECT_EQ(dropped_, (std::vector<void*>{pkt(0), pkt(1), pkt(2)}));
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
  EXPECT_EQ(cache_.size(), 0u);
  // A late reply for an entry we gave up on is not a reason to create one.
  EXPECT_FALSE(update(kPort, kIp, kMac, kMaxRequests * kRetry + 1, false));
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
  // The next packet starts resolution afresh.
  EXPECT_EQ(resolve(kPort, kIp, pkt(3), kMaxRequests * kRetry + 2), ArpResolve::kQueued);
  EXPECT_EQ(requests_.size(), kMaxRequests + 1);
  EXPECT_EQ(entry(kPort, kIp).requests, 1u);
}

TEST_F(ArpCacheTest, Incomplete_TickGivingUp_LeavesOtherEntriesAlone) {
  make_incomplete(kPort, kIp, 0, 1, 0);
  make_incomplete(kPort, kIp2, 1, 1, kRetry / 2);
  EXPECT_TRUE(update(1, kIp, kMac, 0, true));
  for (uint64_t t = 1; t <= kMaxRequests * kRetry; ++t) tick(t);
  EXPECT_EQ(dropped_, (std::vector<void*>{pkt(0)}));
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
  ASSERT_NE(cache_.find(kPort, kIp2), nullptr);
  EXPECT_EQ(state(1, kIp), ArpState::kReachable);
}

TEST_F(ArpCacheTest, Incomplete_UpdateAfterRetries_ResetsRequestCount) {
  make_incomplete(kPort, kIp, 0, 1, 0);
  tick(kRetry);
  tick(2 * kRetry);
  EXPECT_EQ(entry(kPort, kIp).requests, 3u);
  update(kPort, kIp, kMac, 2 * kRetry + 1, false);
  EXPECT_EQ(entry(kPort, kIp).requests, 0u);
  // Reachable now: ticks send nothing and drop nothing until it ages out.
  tick(3 * kRetry);
  tick(10 * kRetry);
  EXPECT_EQ(requests_.size(), 3u);
  EXPECT_EQ(ready_pkts(), (std::vector<void*>{pkt(0)}));
  EXPECT_TRUE(dropped_.empty());
}

// ---------------------------------------------------------------- Reachable

TEST_F(ArpCacheTest, Reachable_Resolve_ReturnsMac) {
  ASSERT_TRUE(update(kPort, kIp, kMac, 0, true));
  MacAddr mac;
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), 1, &mac), ArpResolve::kResolved);
  EXPECT_EQ(mac, kMac);
  EXPECT_TRUE(requests_.empty());
  EXPECT_TRUE(entry(kPort, kIp).pending.empty());  // the packet stays the caller's
}

TEST_F(ArpCacheTest, Reachable_TickBeforeTimeout_Kept) {
  ASSERT_TRUE(update(kPort, kIp, kMac, 100, true));
  tick(100 + kTimeout - 1);
  EXPECT_EQ(state(kPort, kIp), ArpState::kReachable);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(ArpCacheTest, Reachable_TickAfterTimeout_AgesOut) {
  ASSERT_TRUE(update(kPort, kIp, kMac, 100, true));
  tick(100 + kTimeout);
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_TRUE(requests_.empty());  // ageing out sends nothing by itself
  // The next packet has to resolve again.
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), 100 + kTimeout + 1), ArpResolve::kQueued);
  EXPECT_EQ(requests_.size(), 1u);
}

TEST_F(ArpCacheTest, Reachable_UpdateRefreshes_ExtendsLifetime) {
  ASSERT_TRUE(update(kPort, kIp, kMac, 0, true));
  // Same MAC soon after: a plain refresh, nothing to tell replicas ...
  EXPECT_EQ(update_kind(kPort, kIp, kMac, kTimeout / 8, false), ArpUpdate::kRefreshed);
  // ... later, a refresh the replicas hear of, so that they do not age it out.
  EXPECT_TRUE(update(kPort, kIp, kMac, kTimeout / 2, false));
  // ... but the lifetime restarts from the confirmation.
  EXPECT_EQ(entry(kPort, kIp).expires, kTimeout / 2 + kTimeout);
  tick(kTimeout);
  EXPECT_EQ(state(kPort, kIp), ArpState::kReachable);
  tick(kTimeout / 2 + kTimeout - 1);
  EXPECT_EQ(state(kPort, kIp), ArpState::kReachable);
  tick(kTimeout / 2 + kTimeout);
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
}

TEST_F(ArpCacheTest, Reachable_UpdateNewMac_ReplacesAndReportsChange) {
  ASSERT_TRUE(update(kPort, kIp, kMac, 0, true));
  EXPECT_TRUE(update(kPort, kIp, kMac2, 10, false));
  EXPECT_EQ(entry(kPort, kIp).mac, kMac2);
  MacAddr mac;
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), 11, &mac), ArpResolve::kResolved);
  EXPECT_EQ(mac, kMac2);
}

TEST_F(ArpCacheTest, Reachable_AgedOutAmongOthers_OnlyExpiredRemoved) {
  ASSERT_TRUE(update(kPort, kIp, kMac, 0, true));
  ASSERT_TRUE(update(kPort, kIp2, kMac2, 500, true));
  add_static(kPort, Ipv4Addr::from_octets(10, 0, 0, 9), kStaticMac);
  tick(kTimeout);
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
  EXPECT_NE(cache_.find(kPort, kIp2), nullptr);
  EXPECT_EQ(cache_.size(), 2u);
}

// ------------------------------------------------------------------- Static

TEST_F(ArpCacheTest, Static_Resolve_ReturnsMac) {
  add_static(kPort, kIp, kStaticMac);
  EXPECT_EQ(state(kPort, kIp), ArpState::kStatic);
  MacAddr mac;
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), 0, &mac), ArpResolve::kResolved);
  EXPECT_EQ(mac, kStaticMac);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(ArpCacheTest, Static_Update_NotOverwritten) {
  add_static(kPort, kIp, kStaticMac);
  EXPECT_FALSE(update(kPort, kIp, kMac, 10, /*create=*/true));
  EXPECT_FALSE(update(kPort, kIp, kMac, 20, /*create=*/false));
  const ArpEntry* e = cache_.find(kPort, kIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, ArpState::kStatic);
  EXPECT_EQ(e->mac, kStaticMac);
}

TEST_F(ArpCacheTest, Static_Tick_NeverAges) {
  add_static(kPort, kIp, kStaticMac);
  tick(0);
  tick(kTimeout);
  tick(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(state(kPort, kIp), ArpState::kStatic);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(ArpCacheTest, Static_AddOverReachable_Replaces) {
  ASSERT_TRUE(update(kPort, kIp, kMac, 0, true));
  add_static(kPort, kIp, kStaticMac);
  EXPECT_EQ(cache_.size(), 1u);
  EXPECT_EQ(state(kPort, kIp), ArpState::kStatic);
  EXPECT_EQ(entry(kPort, kIp).mac, kStaticMac);
  tick(10 * kTimeout);
  EXPECT_EQ(state(kPort, kIp), ArpState::kStatic);
}

TEST_F(ArpCacheTest, Incomplete_AddStatic_PendingPacketsNotLost) {
  // A static entry replacing an Incomplete one releases the packets that
  // waited for it to the new MAC (TearDown's leak check sees them come out).
  make_incomplete(kPort, kIp, 0, 2, 0);
  add_static(kPort, kIp, kStaticMac);
  EXPECT_EQ(state(kPort, kIp), ArpState::kStatic);
  // TearDown's leak check: pkt(0) and pkt(1) must have come out.
}

// --------------------------------------------------------------- table full

TEST_F(ArpCacheTest, TableFullOfReachable_ResolveNewAddress_EvictsClosestToExpiry) {
  // Entry i was confirmed at time i: entry 0 expires first.
  for (uint32_t i = 0; i < kMaxEntries; ++i)
    ASSERT_TRUE(update(kPort, Ipv4Addr::from_octets(10, 0, 1, static_cast<uint8_t>(i)), kMac, i, true));
  ASSERT_EQ(cache_.size(), kMaxEntries);
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), kMaxEntries), ArpResolve::kQueued);
  EXPECT_EQ(requests_.size(), 1u);
  EXPECT_EQ(cache_.size(), kMaxEntries);
  EXPECT_EQ(cache_.find(kPort, Ipv4Addr::from_octets(10, 0, 1, 0)), nullptr) << "oldest evicted";
  for (uint32_t i = 1; i < kMaxEntries; ++i)
    EXPECT_NE(cache_.find(kPort, Ipv4Addr::from_octets(10, 0, 1, static_cast<uint8_t>(i))), nullptr) << i;
}

TEST_F(ArpCacheTest, TableFullOfIncomplete_ResolveNewAddress_DroppedNothingEvicted) {
  // Entries waiting for replies hold packets: they are never evicted.
  for (uint32_t i = 0; i < kMaxEntries; ++i)
    ASSERT_EQ(resolve(kPort, Ipv4Addr::from_octets(10, 0, 1, static_cast<uint8_t>(i)), pkt(1 + i), 0),
              ArpResolve::kQueued);
  size_t requests = requests_.size();
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), 1), ArpResolve::kDroppedFull);
  EXPECT_EQ(requests_.size(), requests) << "no request for a refused address";
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
  EXPECT_EQ(cache_.size(), kMaxEntries);
  clear();
}

TEST_F(ArpCacheTest, TableFullOfStatic_UpdateWithCreate_Ignored) {
  for (uint32_t i = 0; i < kMaxEntries; ++i) add_static(kPort, Ipv4Addr::from_octets(10, 0, 1, static_cast<uint8_t>(i)), kMac);
  EXPECT_FALSE(update(kPort, kIp, kMac, 1, true));
  EXPECT_EQ(cache_.find(kPort, kIp), nullptr);
  EXPECT_EQ(cache_.size(), kMaxEntries);
}

TEST_F(ArpCacheTest, TableFull_ExistingEntriesStillWork) {
  make_incomplete(kPort, kIp, 0, 1, 0);
  for (uint32_t i = 1; i < kMaxEntries; ++i)
    ASSERT_TRUE(update(kPort, Ipv4Addr::from_octets(10, 0, 1, static_cast<uint8_t>(i)), kMac, 0, true));
  ASSERT_EQ(cache_.size(), kMaxEntries);
  // An existing Incomplete entry still queues, and still completes.
  EXPECT_EQ(resolve(kPort, kIp, pkt(1), 1), ArpResolve::kQueued);
  EXPECT_TRUE(update(kPort, kIp, kMac2, 2, false));
  EXPECT_EQ(ready_pkts(), (std::vector<void*>{pkt(0), pkt(1)}));
  // An existing Reachable entry still refreshes.
  EXPECT_TRUE(update(kPort, Ipv4Addr::from_octets(10, 0, 1, 1), kMac2, 3, false));
  EXPECT_EQ(entry(kPort, Ipv4Addr::from_octets(10, 0, 1, 1)).mac, kMac2);
}

TEST_F(ArpCacheTest, TableFull_AfterAgeOut_RoomAgain) {
  for (uint32_t i = 0; i < kMaxEntries; ++i)
    ASSERT_EQ(resolve(kPort, Ipv4Addr::from_octets(10, 0, 1, static_cast<uint8_t>(i)), pkt(1 + i), 0),
              ArpResolve::kQueued);
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), 1), ArpResolve::kDroppedFull);
  // Every entry gives up after max_requests; the table empties.
  for (uint64_t t = 0; t <= 10 * kRetry; t += kRetry) tick(t);
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), 10 * kRetry + 1), ArpResolve::kQueued);
  clear();
}

// -------------------------------------------------------------------- clear

TEST_F(ArpCacheTest, Clear_HandsEveryPendingPacketToOnDrop) {
  make_incomplete(0, kIp, 0, 3, 0);
  make_incomplete(0, kIp2, 3, 2, 0);
  make_incomplete(1, kIp, 5, 1, 0);
  ASSERT_TRUE(update(0, Ipv4Addr::from_octets(10, 0, 0, 7), kMac, 0, true));
  add_static(1, Ipv4Addr::from_octets(10, 0, 0, 8), kStaticMac);
  ASSERT_EQ(cache_.size(), 5u);
  clear();
  EXPECT_EQ(cache_.size(), 0u);
  std::multiset<void*> got(dropped_.begin(), dropped_.end());
  std::multiset<void*> want;
  for (size_t i = 0; i < 6; ++i) want.insert(pkt(i));
  EXPECT_EQ(got, want);
  EXPECT_TRUE(ready_.empty());
  // Packets of one entry leave in their queue order.
  std::vector<void*> first_entry;
  for (void* p : dropped_)
    if (p == pkt(0) || p == pkt(1) || p == pkt(2)) first_entry.push_back(p);
  EXPECT_EQ(first_entry, (std::vector<void*>{pkt(0), pkt(1), pkt(2)}));
}

TEST_F(ArpCacheTest, Clear_EmptyTable_NoCallbacks) {
  clear();
  EXPECT_TRUE(dropped_.empty());
  EXPECT_EQ(cache_.size(), 0u);
}

// ------------------------------------------------------------------- misc

TEST_F(ArpCacheTest, ForEach_VisitsEveryEntry) {
  make_incomplete(kPort, kIp, 0, 1, 0);
  ASSERT_TRUE(update(kPort, kIp2, kMac, 0, true));
  add_static(1, kIp, kStaticMac);
  std::map<ArpState, int> seen;
  cache_.for_each([&](const ArpEntry& e) { ++seen[e.state]; });
  EXPECT_EQ(seen, (std::map<ArpState, int>{
                      {ArpState::kIncomplete, 1}, {ArpState::kReachable, 1}, {ArpState::kStatic, 1}}));
}

TEST(ArpStateName, Names) {
  EXPECT_STREQ(arp_state_name(ArpState::kIncomplete), "incomplete");
  EXPECT_STREQ(arp_state_name(ArpState::kReachable), "reachable");
  EXPECT_STREQ(arp_state_name(ArpState::kStatic), "static");
}

TEST(ArpCacheConfigTest, KeptAsGiven) {
  ArpCacheConfig c;
  c.entry_timeout = 7;
  c.retry_interval = 3;
  ArpCache cache(c);
  EXPECT_EQ(cache.config().entry_timeout, 7u);
  EXPECT_EQ(cache.config().retry_interval, 3u);
  EXPECT_EQ(cache.config().max_requests, 3u);
  EXPECT_EQ(cache.config().pending_max, 16u);
  EXPECT_EQ(cache.config().max_entries, 4096u);
}

TEST_F(ArpCacheTest, Reachable_ResolveAfterExpiryBeforeTick_ResolvesAfresh) {
  // An entry past its lifetime must not answer, even if no tick ran yet.
  ASSERT_TRUE(update(kPort, kIp, kMac, 0, true));
  EXPECT_EQ(resolve(kPort, kIp, pkt(0), kTimeout), ArpResolve::kQueued);
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(state(kPort, kIp), ArpState::kIncomplete);
  clear();
}

TEST_F(ArpCacheTest, Reachable_RefreshSameMac_SharedOnlyAfterQuarterLifetime) {
  ASSERT_EQ(update_kind(kPort, kIp, kMac, 0, true), ArpUpdate::kShare);
  EXPECT_EQ(update_kind(kPort, kIp, kMac, kTimeout / 8, false), ArpUpdate::kRefreshed);
  EXPECT_EQ(update_kind(kPort, kIp, kMac, kTimeout / 4, false), ArpUpdate::kShare);
  EXPECT_EQ(update_kind(kPort, kIp, kMac, kTimeout / 4 + 1, false), ArpUpdate::kRefreshed);
  EXPECT_EQ(entry(kPort, kIp).expires, kTimeout / 4 + 1 + kTimeout);
}

TEST_F(ArpCacheTest, Incomplete_TotalPendingBudget_DropsBeyondIt) {
  ArpCacheConfig c = cache_.config();
  c.pending_total_max = 3;
  ArpCache small(c);
  std::vector<int> pk(5);
  MacAddr mac;
  auto noop = [](uint16_t, Ipv4Addr) {};
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(small.resolve(kPort, Ipv4Addr::from_octets(10, 0, 0, static_cast<uint8_t>(20 + i)), &pk[static_cast<size_t>(i)], 0, mac, noop),
              ArpResolve::kQueued);
  EXPECT_EQ(small.pending_total(), 3u);
  EXPECT_EQ(small.resolve(kPort, Ipv4Addr::from_octets(10, 0, 0, 30), &pk[3], 0, mac, noop), ArpResolve::kDroppedFull);
  // An answer frees budget again.
  small.update(kPort, Ipv4Addr::from_octets(10, 0, 0, 20), kMac, 1, false, [](void*, const MacAddr&) {});
  EXPECT_EQ(small.pending_total(), 2u);
  EXPECT_EQ(small.resolve(kPort, Ipv4Addr::from_octets(10, 0, 0, 30), &pk[3], 1, mac, noop), ArpResolve::kQueued);
  size_t dropped = 0;
  small.clear([&](void*) { ++dropped; });
  EXPECT_EQ(dropped, 3u);
  EXPECT_EQ(small.pending_total(), 0u);
}

}  // namespace
}  // namespace dpdkstack

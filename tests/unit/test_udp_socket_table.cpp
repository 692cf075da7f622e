// UDP socket table (lib/udp/socket_table.hpp), driven sans-I/O: the user
// value is an int naming the socket, so a lookup is checked by the value it
// lands on. Tests are named <state>_<event>_<outcome>.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/types.hpp"
#include "test_util.hpp"
#include "udp/socket_table.hpp"

namespace dpdkstack {

void PrintTo(UdpSocketError e, std::ostream* os) { *os << udp_socket_error_name(e); }

namespace {

constexpr Ipv4Addr kAny{};
constexpr Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 1);  // ours
constexpr Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 2);  // ours too
constexpr Ipv4Addr kPeer = Ipv4Addr::from_octets(10, 0, 0, 100);
constexpr Ipv4Addr kOther = Ipv4Addr::from_octets(10, 0, 0, 101);
constexpr uint16_t kPort = 7;
constexpr uint16_t kPeerPort = 40000;

class UdpTable : public ::testing::Test {
 protected:
  using Table = UdpSocketTable<int>;

  UdpTable() { reset(config()); }

  static UdpTableConfig config() {
    UdpTableConfig c;
    c.max_sockets = 64;
    c.ephemeral_first = 50000;
    c.ephemeral_last = 50003;  // four ports: small enough to exhaust
    c.seed = 1;
    return c;
  }

  void reset(const UdpTableConfig& c) { table_.emplace(c); }
  Table& table() { return *table_; }

  // Binds and expects success; returns the handle.
  UdpHandle bound(Ipv4Addr addr, uint16_t port, int value, bool reuse_addr = false) {
    UdpBindOptions o;
    o.reuse_addr = reuse_addr;
    UdpBindResult r = table().bind(addr, port, value, o);
    EXPECT_EQ(r.error, UdpSocketError::kOk) << "bind " << addr.to_string() << ":" << port;
    return r.handle;
  }

  UdpSocketError bind_error(Ipv4Addr addr, uint16_t port, bool reuse_addr = false) {
    UdpBindOptions o;
    o.reuse_addr = reuse_addr;
    return table().bind(addr, port, -1, o).error;
  }

  // A copy of the socket's endpoints; a failure (and a blank info) when the
  // handle is refused.
  UdpSocketInfo info_of(UdpHandle h) {
    const UdpSocketInfo* i = table().info(h);
    EXPECT_NE(i, nullptr) << "handle " << h << " refused";
    return i == nullptr ? UdpSocketInfo{} : *i;
  }

  // The value of the socket a datagram dst:dst_port <- src:src_port reaches,
  // or nullopt when none does.
  std::optional<int> delivered(Ipv4Addr dst, uint16_t dst_port, Ipv4Addr src = kPeer,
                               uint16_t src_port = kPeerPort) {
    UdpHandle h = table().lookup(dst, dst_port, src, src_port);
    if (h == kNoUdpSocket) return std::nullopt;
    const int* v = table().get(h);
    EXPECT_NE(v, nullptr) << "lookup returned a handle get() refuses";
    return v == nullptr ? std::nullopt : std::optional<int>(*v);
  }

  uint16_t ephemeral(int value, UdpBindOptions o = {}) {
    UdpBindResult r = table().bind(kAny, 0, value, o);
    EXPECT_EQ(r.error, UdpSocketError::kOk);
    return r.port;
  }

  std::optional<Table> table_;
};

// --- bind ---

TEST_F(UdpTable, Empty_BindSpecific_ReceivesOnThatAddressOnly) {
  UdpHandle h = bound(kA, kPort, 1);
  ASSERT_NE(h, kNoUdpSocket);
  EXPECT_EQ(info_of(h).local, (UdpEndpoint{kA, kPort}));
  EXPECT_FALSE(info_of(h).connected());
  EXPECT_EQ(delivered(kA, kPort), 1);
  EXPECT_EQ(delivered(kB, kPort), std::nullopt);
  EXPECT_EQ(delivered(kA, kPort + 1), std::nullopt);
}

TEST_F(UdpTable, Empty_BindWildcard_ReceivesOnEveryAddress) {
  bound(kAny, kPort, 1);
  EXPECT_EQ(delivered(kA, kPort), 1);
  EXPECT_EQ(delivered(kB, kPort), 1);
  EXPECT_EQ(delivered(Ipv4Addr::broadcast(), kPort), 1);
}

TEST_F(UdpTable, BoundSpecific_BindSameSpecific_AddressInUse) {
  bound(kA, kPort, 1);
  EXPECT_EQ(bind_error(kA, kPort), UdpSocketError::kAddressInUse);
  EXPECT_EQ(bind_error(kA, kPort, true), UdpSocketError::kAddressInUse);  // reuse_addr never allows duplicates
  EXPECT_EQ(table().size(), 1u);
}

TEST_F(UdpTable, BoundWildcard_BindWildcard_AddressInUse) {
  bound(kAny, kPort, 1);
  EXPECT_EQ(bind_error(kAny, kPort), UdpSocketError::kAddressInUse);
}

TEST_F(UdpTable, BoundWildcard_BindSpecific_AddressInUse) {
  bound(kAny, kPort, 1);
  EXPECT_EQ(bind_error(kA, kPort), UdpSocketError::kAddressInUse);
}

TEST_F(UdpTable, BoundSpecific_BindWildcard_AddressInUse) {
  bound(kA, kPort, 1);
  EXPECT_EQ(bind_error(kAny, kPort), UdpSocketError::kAddressInUse);
}

TEST_F(UdpTable, BoundSpecific_BindOtherSpecificSamePort_BothReceiveTheirOwn) {
  bound(kA, kPort, 1);
  bound(kB, kPort, 2);
  EXPECT_EQ(delivered(kA, kPort), 1);
  EXPECT_EQ(delivered(kB, kPort), 2);
}

TEST_F(UdpTable, BoundSpecificOnOnePort_BindWildcardOtherPort_Allowed) {
  bound(kA, kPort, 1);
  bound(kAny, kPort + 1, 2);
  EXPECT_EQ(delivered(kA, kPort + 1), 2);
}

TEST_F(UdpTable, BoundWildcardReuse_BindSpecificWithoutReuse_AddressInUse) {
  bound(kAny, kPort, 1, true);
  EXPECT_EQ(bind_error(kA, kPort, false), UdpSocketError::kAddressInUse);  // both must ask
}

// --- lookup: most specific wins ---

TEST_F(UdpTable, WildcardAndSpecificWithReuse_Datagram_SpecificBeatsWildcard) {
  bound(kAny, kPort, 1, true);
  bound(kA, kPort, 2, true);
  EXPECT_EQ(delivered(kA, kPort), 2);
  EXPECT_EQ(delivered(kB, kPort), 1);
}

TEST_F(UdpTable, SpecificBoundBeforeWildcard_Datagram_SpecificStillWins) {
  bound(kA, kPort, 2, true);
  bound(kAny, kPort, 1, true);  // chain order must not matter
  EXPECT_EQ(delivered(kA, kPort), 2);
  EXPECT_EQ(delivered(kB, kPort), 1);
}

TEST_F(UdpTable, ConnectedWildcardAndUnconnectedSpecific_DatagramFromRemote_ConnectedWins) {
  UdpHandle c = bound(kAny, kPort, 1, true);
  ASSERT_EQ(table().connect(c, kPeer, kPeerPort), UdpSocketError::kOk);
  bound(kA, kPort, 2, true);
  EXPECT_EQ(delivered(kA, kPort, kPeer, kPeerPort), 1);
  EXPECT_EQ(delivered(kA, kPort, kOther, kPeerPort), 2);
}

// --- connect ---

TEST_F(UdpTable, Connected_DatagramFromRemote_Delivered) {
  UdpHandle h = bound(kA, kPort, 1);
  ASSERT_EQ(table().connect(h, kPeer, kPeerPort), UdpSocketError::kOk);
  EXPECT_EQ(delivered(kA, kPort, kPeer, kPeerPort), 1);
  EXPECT_EQ(info_of(h).remote, (UdpEndpoint{kPeer, kPeerPort}));
  EXPECT_EQ(info_of(h).local, (UdpEndpoint{kA, kPort}));  // bind unchanged
}

TEST_F(UdpTable, Connected_DatagramFromOtherAddressOrPort_NotDelivered) {
  UdpHandle h = bound(kA, kPort, 1);
  ASSERT_EQ(table().connect(h, kPeer, kPeerPort), UdpSocketError::kOk);
  EXPECT_EQ(delivered(kA, kPort, kOther, kPeerPort), std::nullopt);
  EXPECT_EQ(delivered(kA, kPort, kPeer, kPeerPort + 1), std::nullopt);
}

TEST_F(UdpTable, ConnectedSpecificAndWildcard_DatagramFromOtherRemote_WildcardTakesIt) {
  UdpHandle h = bound(kA, kPort, 1, true);
  ASSERT_EQ(table().connect(h, kPeer, kPeerPort), UdpSocketError::kOk);
  bound(kAny, kPort, 2, true);
  EXPECT_EQ(delivered(kA, kPort, kOther, kPeerPort), 2);
  EXPECT_EQ(delivered(kA, kPort, kPeer, kPeerPort), 1);
}

TEST_F(UdpTable, Connected_Disconnect_ReceivesFromAnyone) {
  UdpHandle h = bound(kA, kPort, 1);
  ASSERT_EQ(table().connect(h, kPeer, kPeerPort), UdpSocketError::kOk);
  ASSERT_EQ(table().disconnect(h), UdpSocketError::kOk);
  EXPECT_FALSE(info_of(h).connected());
  EXPECT_EQ(delivered(kA, kPort, kOther, 1234), 1);
}

TEST_F(UdpTable, Connected_Reconnect_FollowsNewRemote) {
  UdpHandle h = bound(kA, kPort, 1);
  ASSERT_EQ(table().connect(h, kPeer, kPeerPort), UdpSocketError::kOk);
  ASSERT_EQ(table().connect(h, kOther, 53), UdpSocketError::kOk);
  EXPECT_EQ(delivered(kA, kPort, kPeer, kPeerPort), std::nullopt);
  EXPECT_EQ(delivered(kA, kPort, kOther, 53), 1);
}

TEST_F(UdpTable, Bound_ConnectHalfZeroRemote_Invalid) {
  UdpHandle h = bound(kA, kPort, 1);
  EXPECT_EQ(table().connect(h, kPeer, 0), UdpSocketError::kInvalid);
  EXPECT_EQ(table().connect(h, kAny, kPeerPort), UdpSocketError::kInvalid);
  EXPECT_FALSE(info_of(h).connected());
}

// --- ephemeral ports ---

TEST_F(UdpTable, Empty_BindPortZero_PortInRange) {
  uint16_t p = ephemeral(1);
  EXPECT_GE(p, 50000);
  EXPECT_LE(p, 50003);
  EXPECT_EQ(delivered(kA, p), 1);
}

TEST_F(UdpTable, Empty_BindPortZeroUntilFull_DistinctPortsInRotation) {
  std::vector<uint16_t> got;
  for (int i = 0; i < 4; ++i) got.push_back(ephemeral(i));
  EXPECT_EQ(std::set<uint16_t>(got.begin(), got.end()).size(), 4u);
  for (size_t i = 1; i < got.size(); ++i)  // the cursor moves on by one each time
    EXPECT_EQ(got[i], got[i - 1] == 50003 ? 50000 : got[i - 1] + 1) << "bind " << i;
}

TEST_F(UdpTable, Seeded_BindPortZero_StartsAtSeededPosition) {
  std::set<uint16_t> firsts;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    UdpTableConfig c = config();
    c.ephemeral_last = 60000;
    c.seed = seed;
    reset(c);
    firsts.insert(ephemeral(1));
  }
  EXPECT_GT(firsts.size(), 8u);  // not always the range's first port
  UdpTableConfig c = config();
  c.ephemeral_last = 60000;
  c.seed = 5;
  reset(c);
  uint16_t a = ephemeral(1);
  reset(c);
  EXPECT_EQ(ephemeral(1), a);  // same seed, same port
}

TEST_F(UdpTable, PortClosed_BindPortZero_CursorMovesOnRatherThanReusing) {
  UdpHandle h = table().bind(kAny, 0, 1).handle;
  uint16_t p = info_of(h).local.port;
  ASSERT_EQ(table().close(h), UdpSocketError::kOk);
  EXPECT_NE(ephemeral(2), p);
}

TEST_F(UdpTable, RangeExhausted_BindPortZero_NoEphemeralPort) {
  for (int i = 0; i < 4; ++i) ephemeral(i);
  EXPECT_EQ(table().bind(kAny, 0, 9).error, UdpSocketError::kNoEphemeralPort);
  EXPECT_EQ(table().bind(kA, 0, 9).error, UdpSocketError::kNoEphemeralPort);  // ephemeral ports are never shared
  EXPECT_EQ(table().size(), 4u);
}

TEST_F(UdpTable, PortInRangeBoundExplicitly_BindPortZero_SkipsIt) {
  bound(kA, 50000, 1);
  bound(kB, 50001, 2);
  std::set<uint16_t> got{ephemeral(3), ephemeral(4)};
  EXPECT_EQ(got, (std::set<uint16_t>{50002, 50003}));
  EXPECT_EQ(table().bind(kAny, 0, 5).error, UdpSocketError::kNoEphemeralPort);
}

TEST_F(UdpTable, RangeExhausted_CloseOne_ItsPortIsReused) {
  std::vector<UdpHandle> hs;
  for (int i = 0; i < 4; ++i) hs.push_back(table().bind(kAny, 0, i).handle);
  uint16_t freed = info_of(hs[2]).local.port;
  ASSERT_EQ(table().close(hs[2]), UdpSocketError::kOk);
  EXPECT_EQ(delivered(kA, freed), std::nullopt);
  EXPECT_EQ(ephemeral(7), freed);
  EXPECT_EQ(delivered(kA, freed), 7);
}

TEST_F(UdpTable, Predicate_BindPortZero_OnlyAcceptablePorts) {
  UdpBindOptions o;
  std::vector<uint16_t> asked;
  o.acceptable = [&asked](uint16_t p) {
    asked.push_back(p);
    return p % 2 == 1;  // stands in for "the RSS hash comes back to this lcore"
  };
  std::set<uint16_t> got{ephemeral(1, o), ephemeral(2, o)};
  EXPECT_EQ(got, (std::set<uint16_t>{50001, 50003}));
  EXPECT_FALSE(asked.empty());
  EXPECT_EQ(table().bind(kAny, 0, 3, o).error, UdpSocketError::kNoEphemeralPort);
  EXPECT_EQ(table().size(), 2u);
}

TEST_F(UdpTable, EmptyRange_BindPortZero_NoEphemeralPort) {
  UdpTableConfig c = config();
  c.ephemeral_first = 50010;
  c.ephemeral_last = 50000;
  reset(c);
  EXPECT_EQ(table().bind(kAny, 0, 1).error, UdpSocketError::kNoEphemeralPort);
}

// --- handles, close, limits ---

TEST_F(UdpTable, Bound_Close_PortFreeAndNothingDelivered) {
  UdpHandle h = bound(kA, kPort, 1);
  ASSERT_EQ(table().close(h), UdpSocketError::kOk);
  EXPECT_EQ(table().size(), 0u);
  EXPECT_EQ(delivered(kA, kPort), std::nullopt);
  bound(kAny, kPort, 2);  // no longer in use
  EXPECT_EQ(delivered(kA, kPort), 2);
}

TEST_F(UdpTable, TwoOnOnePort_CloseOne_OtherStillReceives) {
  UdpHandle a = bound(kA, kPort, 1);
  UdpHandle b = bound(kB, kPort, 2);
  ASSERT_EQ(table().close(b), UdpSocketError::kOk);
  EXPECT_EQ(delivered(kA, kPort), 1);
  EXPECT_EQ(delivered(kB, kPort), std::nullopt);
  ASSERT_EQ(table().close(a), UdpSocketError::kOk);
  EXPECT_EQ(delivered(kA, kPort), std::nullopt);
}

TEST_F(UdpTable, Closed_StaleHandle_RejectedEverywhere) {
  UdpHandle h = bound(kA, kPort, 1);
  ASSERT_EQ(table().close(h), UdpSocketError::kOk);
  EXPECT_EQ(table().get(h), nullptr);
  EXPECT_EQ(table().info(h), nullptr);
  EXPECT_EQ(table().connect(h, kPeer, kPeerPort), UdpSocketError::kBadHandle);
  EXPECT_EQ(table().close(h), UdpSocketError::kBadHandle);
}

TEST_F(UdpTable, SlotReused_StaleHandle_DoesNotReachNewSocket) {
  UdpTableConfig c = config();
  c.max_sockets = 1;  // force the same slot
  reset(c);
  UdpHandle old = bound(kA, kPort, 1);
  ASSERT_EQ(table().close(old), UdpSocketError::kOk);
  UdpHandle now = bound(kB, kPort + 1, 2);
  EXPECT_NE(now, old);
  EXPECT_EQ(table().get(old), nullptr);
  EXPECT_EQ(table().close(old), UdpSocketError::kBadHandle);
  const int* v = table().get(now);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, 2);
}

TEST_F(UdpTable, Empty_NeverIssuedHandles_Rejected) {
  EXPECT_EQ(table().get(kNoUdpSocket), nullptr);
  EXPECT_EQ(table().get(0xffffffffu), nullptr);
  EXPECT_EQ(table().close(kNoUdpSocket), UdpSocketError::kBadHandle);
}

TEST_F(UdpTable, Full_Bind_TableFullUntilOneCloses) {
  UdpTableConfig c = config();
  c.max_sockets = 3;
  reset(c);
  UdpHandle first = bound(kAny, 1000, 0);
  bound(kAny, 1001, 1);
  bound(kAny, 1002, 2);
  EXPECT_EQ(bind_error(kAny, 1003), UdpSocketError::kTableFull);
  EXPECT_EQ(table().bind(kAny, 0, 3).error, UdpSocketError::kTableFull);
  ASSERT_EQ(table().close(first), UdpSocketError::kOk);
  EXPECT_EQ(bind_error(kAny, 1003), UdpSocketError::kOk);
}

TEST_F(UdpTable, Bound_Get_ValueIsMutable) {
  UdpHandle h = bound(kA, kPort, 1);
  int* v = table().get(h);
  ASSERT_NE(v, nullptr);
  *v = 42;
  EXPECT_EQ(delivered(kA, kPort), 42);
}

TEST_F(UdpTable, Several_ForEachAndSize_ListLiveSocketsOnly) {
  UdpHandle a = bound(kA, kPort, 1);
  UdpHandle b = bound(kAny, 53, 2);
  UdpHandle gone = bound(kB, kPort, 3);
  ASSERT_EQ(table().connect(b, kPeer, kPeerPort), UdpSocketError::kOk);
  ASSERT_EQ(table().close(gone), UdpSocketError::kOk);
  EXPECT_EQ(table().size(), 2u);
  std::vector<std::pair<UdpHandle, int>> seen;
  table().for_each([&](UdpHandle h, const UdpSocketInfo& info, const int& v) {
    seen.emplace_back(h, v);
    if (h == b) {
      EXPECT_EQ(info.remote, (UdpEndpoint{kPeer, kPeerPort}));
    }
    if (h == a) {
      EXPECT_EQ(info.local, (UdpEndpoint{kA, kPort}));
    }
  });
  EXPECT_EQ(seen, (std::vector<std::pair<UdpHandle, int>>{{a, 1}, {b, 2}}));
}

// A value that is neither default-constructible nor copyable is stored and
// destroyed exactly once at close.
TEST_F(UdpTable, MoveOnlyValue_BindAndClose_DestroyedOnce) {
  struct Counted {
    explicit Counted(int* d) : destroyed(d) {}
    Counted(Counted&& o) noexcept : destroyed(std::exchange(o.destroyed, nullptr)) {}
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
    Counted& operator=(Counted&&) = delete;
    ~Counted() {
      if (destroyed != nullptr) ++*destroyed;
    }
    int* destroyed;
  };
  int destroyed = 0;
  UdpSocketTable<Counted> t(config());
  UdpBindResult r = t.bind(kA, kPort, Counted(&destroyed));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(destroyed, 0);
  ASSERT_EQ(t.close(r.handle), UdpSocketError::kOk);
  EXPECT_EQ(destroyed, 1);
}

}  // namespace
}  // namespace dpdkstack

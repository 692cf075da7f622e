// Component tests of the filter table in the engines (issue 5) on the shared
// net_ring stack (two ports, two engines; see test_engine.cpp): the three
// hooks, every action, the exact bytes of a TCP reset, counters, and the
// publication of a new table to both engines. Every test puts back an empty
// table and checks that every mbuf came back.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <string>
#include <vector>

#include "../support/ring_stack.hpp"
#include "config/filters.hpp"
#include "runtime/stack.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace dpdkstack {

ringtest::RingStack& component_ring();

namespace {

using namespace wire;
using ringtest::Bytes;
using ringtest::echo_datagram;
using ringtest::eth_frame;
using ringtest::ipv4_datagram;
using ringtest::Ipv4Fields;
using ringtest::kPeerIp;
using ringtest::kStackIp;

constexpr size_t kEth = 14;
constexpr size_t kIp = 20;

ringtest::RingStack& ring() { return component_ring(); }

FilterRule rule(const std::string& json) {
  auto r = parse_filter_rule(json, "rule", ring().ports());
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : FilterRule{};
}

// A TCP segment (header only, or with `data` bytes) from the peer to us.
Bytes tcp_frame(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, size_t data = 0) {
  Bytes seg(20 + data, 0);
  store_be16(seg.data(), sport);
  store_be16(seg.data() + 2, dport);
  store_be32(seg.data() + 4, seq);
  store_be32(seg.data() + 8, ack);
  seg[12] = 5 << 4;
  seg[13] = flags;
  store_be16(seg.data() + 14, 65535);
  store_be16(seg.data() + 16, transport_checksum(kPeerIp, kStackIp, ipproto::kTcp, seg.data(), seg.size()));
  Ipv4Fields f;
  f.protocol = ipproto::kTcp;
  return eth_frame(ipv4_datagram(f, seg));
}

Bytes udp_frame(uint16_t sport, uint16_t dport, size_t len) {
  Bytes seg(8 + len, 0x33);
  UdpRepr{sport, dport, static_cast<uint16_t>(len)}.emit(seg.data(), kPeerIp, kStackIp, true);
  Ipv4Fields f;
  f.protocol = ipproto::kUdp;
  return eth_frame(ipv4_datagram(f, seg));
}

class FilterComponent : public ::testing::Test {
 protected:
  void SetUp() override {
    ring().poll(2);
    ring().drop_sent();
    in_use_ = ring().in_use();
    before_ = ring().counters();
  }
  void TearDown() override {
    EXPECT_TRUE(ring().stack().set_filters(FilterConfig{}));
    ring().poll(2);
    ring().drop_sent();
    EXPECT_EQ(ring().in_use(), in_use_) << "mbufs not given back";
  }
  void install(const FilterConfig& cfg) {
    auto st = ring().stack().set_filters(cfg);
    ASSERT_TRUE(st) << st.error().message;
  }
  void feed(const std::vector<Bytes>& frames, unsigned port = 0) {
    for (const auto& f : frames) ASSERT_TRUE(ring().inject(f, port));
    ring().poll(3);
  }
  uint64_t drops(DropReason r) {
    return ring().counters().drops[static_cast<size_t>(r)] - before_.drops[static_cast<size_t>(r)];
  }
  uint64_t delta(uint64_t LcoreCounters::*f) { return ring().counters().*f - before_.*f; }

  unsigned in_use_ = 0;
  LcoreCounters before_;
};

// Input: the first terminal match decides; count rules before it count.
TEST_F(FilterComponent, Input_FirstMatchWins_CountRulesCountAndGoOn) {
  FilterConfig cfg;
  cfg.rules = {rule(R"({"hook": "input", "proto": "icmp", "action": "count"})"),
               rule(R"({"hook": "input", "proto": "icmp", "src": "10.0.0.0/28", "action": "drop"})"),
               rule(R"({"hook": "input", "proto": "icmp", "action": "accept"})")};
  install(cfg);
  feed({eth_frame(echo_datagram(kPeerIp, kStackIp, 0x8001, 1, 40))});  // 10.0.0.2: in /28
  EXPECT_EQ(drops(DropReason::filter_drop), 1u);
  EXPECT_TRUE(ring().sent(0).empty());
  auto st = ring().stack().filter_state();
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[0].packets, 1u);
  EXPECT_EQ(st[0].bytes, 68u);
  EXPECT_EQ(st[1].packets, 1u);
  EXPECT_EQ(st[2].packets, 0u);
}

// RFC 9293 3.10.7.1: a SYN (no ACK) gets <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>;
// a segment with ACK gets <SEQ=SEG.ACK><CTL=RST>; a RST gets nothing.
TEST_F(FilterComponent, RejectTcp_ResetExactlyAsAClosedPortAnswers) {
  FilterConfig cfg;
  cfg.rules = {rule(R"({"hook": "input", "proto": "tcp", "dport": 23, "action": "reject"})")};
  install(cfg);
  feed({tcp_frame(40000, 23, 0x02, 1000, 0)});
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  const uint8_t* ip = out[0].data() + kEth;
  ASSERT_EQ(ip[9], ipproto::kTcp);
  EXPECT_EQ(Ipv4View::trusted(const_cast<uint8_t*>(ip)).src(), kStackIp);
  const uint8_t* t = ip + kIp;
  EXPECT_EQ(load_be16(t), 23);
  EXPECT_EQ(load_be16(t + 2), 40000);
  EXPECT_EQ(load_be32(t + 4), 0u);
  EXPECT_EQ(load_be32(t + 8), 1001u);
  EXPECT_EQ(t[13], 0x14);  // RST, ACK
  EXPECT_EQ(transport_checksum(kStackIp, kPeerIp, ipproto::kTcp, t, 20), 0);

  feed({tcp_frame(40001, 23, 0x18, 5000, 777, 10)});  // PSH ACK with data
  out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  t = out[0].data() + kEth + kIp;
  EXPECT_EQ(load_be32(t + 4), 777u);
  EXPECT_EQ(t[13], 0x04);  // RST

  feed({tcp_frame(40002, 23, 0x04, 5000, 0)});  // a RST: never answered
  EXPECT_TRUE(ring().sent(0).empty());
  EXPECT_EQ(drops(DropReason::filter_reject), 3u);
  EXPECT_EQ(delta(&LcoreCounters::filter_resets_sent), 2u);
}

// Reject with ICMP: port unreachable by default for UDP, administratively
// prohibited when asked.
TEST_F(FilterComponent, RejectUdp_IcmpCodes) {
  FilterConfig cfg;
  cfg.rules = {rule(R"({"hook": "input", "proto": "udp", "dport": 5000, "action": "reject"})"),
               rule(R"({"hook": "input", "proto": "udp", "dport": 5001, "action": "reject", "reject_with": "icmp-admin-prohibited"})")};
  install(cfg);
  feed({udp_frame(1000, 5000, 10), udp_frame(1000, 5001, 10)});
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0][kEth + kIp], icmptype::kDestUnreachable);
  EXPECT_EQ(out[0][kEth + kIp + 1], icmpcode::kPortUnreachable);
  EXPECT_EQ(out[1][kEth + kIp + 1], icmpcode::kAdminProhibited);
}

// The output hook sees our own datagrams (here: echo replies); the policy
// decides what no rule does.
TEST_F(FilterComponent, OutputHookAndPolicy) {
  FilterConfig cfg;
  cfg.rules = {rule(R"({"hook": "output", "proto": "icmp", "icmp_type": 0, "action": "drop"})")};
  install(cfg);
  feed({eth_frame(echo_datagram(kPeerIp, kStackIp, 0x8101, 2, 20))});
  EXPECT_TRUE(ring().sent(0).empty());
  EXPECT_EQ(drops(DropReason::filter_drop), 1u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 1u);  // made, then stopped on its way out

  FilterConfig deny;
  deny.policy[static_cast<size_t>(FilterHook::kInput)] = FilterAction::kDrop;
  install(deny);
  feed({eth_frame(echo_datagram(kPeerIp, kStackIp, 0x8102, 3, 20))});
  EXPECT_EQ(drops(DropReason::filter_policy), 1u);
  EXPECT_TRUE(ring().sent(0).empty());
}

// The forward hook knows both ports.
TEST_F(FilterComponent, ForwardHook_MatchesIngressAndEgressPorts) {
  FilterConfig cfg;
  cfg.rules = {rule(R"({"hook": "forward", "in_port": 0, "out_port": 1, "proto": "icmp", "action": "drop"})")};
  install(cfg);
  feed({eth_frame(echo_datagram(kPeerIp, ringtest::peer_ip(1), 0x8201, 4, 20))});
  EXPECT_EQ(drops(DropReason::filter_drop), 1u);
  EXPECT_EQ(delta(&LcoreCounters::ipv4_forwarded), 0u);
  FilterConfig other;  // the same rule on the other direction's ports: not ours
  other.rules = {rule(R"({"hook": "forward", "in_port": 1, "out_port": 0, "proto": "icmp", "action": "drop"})")};
  install(other);
  feed({eth_frame(echo_datagram(kPeerIp, ringtest::peer_ip(1), 0x8202, 5, 20))});
  EXPECT_EQ(delta(&LcoreCounters::ipv4_forwarded), 1u);
}

// Rate limit: the burst passes, the rest is dropped and counted on the rule.
TEST_F(FilterComponent, RateLimit_BurstThenDropped) {
  FilterConfig cfg;
  cfg.rules = {rule(R"({"hook": "input", "proto": "udp", "dport": 9, "action": "rate_limit", "rate": {"pps": 1, "burst": 3}})")};
  install(cfg);
  std::vector<Bytes> frames;
  for (int i = 0; i < 10; ++i) frames.push_back(udp_frame(static_cast<uint16_t>(2000 + i), 9, 4));
  feed(frames);
  EXPECT_EQ(drops(DropReason::filter_rate_limited), 7u);
  EXPECT_EQ(drops(DropReason::udp_no_socket), 3u);  // the three let through: nobody listens on 9 here
  auto st = ring().stack().filter_state();
  EXPECT_EQ(st[0].rate_dropped, 7u);
  EXPECT_EQ(st[0].packets, 10u);
}

// A new table reaches both engines; the old one is freed once both moved.
TEST_F(FilterComponent, SetFilters_BothEnginesSwitch_OldTableReleased) {
  FilterConfig a;
  a.rules = {rule(R"({"hook": "input", "proto": "udp", "action": "drop"})")};
  install(a);
  const FilterTable* t0 = ring().engine(0).filter();
  EXPECT_EQ(ring().engine(1).filter(), t0);
  FilterConfig b = a;
  b.rules.push_back(rule(R"({"hook": "input", "proto": "tcp", "action": "drop"})"));
  install(b);
  EXPECT_NE(ring().engine(0).filter(), t0);
  EXPECT_EQ(ring().engine(0).filter(), ring().engine(1).filter());
  EXPECT_EQ(ring().engine(0).filter()->config().rules.size(), 2u);
  EXPECT_EQ(ring().stack().filters(), b);
  EXPECT_GE(delta(&LcoreCounters::filter_tables_loaded), 4u);  // two tables, two engines
}

}  // namespace
}  // namespace dpdkstack

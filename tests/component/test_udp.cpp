// Component tests of UDP and its application API (runtime/udp.hpp) on the
// shared net_ring stack (two ports, two engines; see test_engine.cpp):
// datagrams injected where port 0 receives reach the socket opened on
// engine 0, and what sockets send is read back from the TX rings, checked
// byte by byte (headers, checksums, fragments). Every test closes the
// sockets it opened and checks that every mbuf came back.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../support/ring_stack.hpp"
#include "runtime/udp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace dpdkstack {

ringtest::RingStack& component_ring();

namespace {

using namespace wire;
using ringtest::Bytes;
using ringtest::eth_frame;
using ringtest::ip_fragments;
using ringtest::ipv4_datagram;
using ringtest::Ipv4Fields;
using ringtest::kPeerIp;
using ringtest::kPeerMac;
using ringtest::kStackIp;
using ringtest::kStackMac;

constexpr size_t kEth = 14;
constexpr size_t kIpHdr = 20;
constexpr uint16_t kPeerPort = 40000;

ringtest::RingStack& ring() { return component_ring(); }

Bytes pattern(size_t n, unsigned seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 31 + seed + (i >> 9));
  return b;
}

// A UDP segment (header + payload) with its checksum (or none: zero).
Bytes udp_segment(uint16_t sport, uint16_t dport, const Bytes& payload, Ipv4Addr src = kPeerIp,
                  Ipv4Addr dst = kStackIp, bool checksum = true) {
  Bytes b(UdpView::kHeaderLen + payload.size());
  std::copy(payload.begin(), payload.end(), b.begin() + UdpView::kHeaderLen);
  UdpRepr{sport, dport, static_cast<uint16_t>(payload.size())}.emit(b.data(), src, dst, checksum);
  return b;
}

Bytes udp_frame(uint16_t sport, uint16_t dport, const Bytes& payload, uint16_t ident = 0x7000) {
  Ipv4Fields f;
  f.protocol = ipproto::kUdp;
  f.ident = ident;
  return eth_frame(ipv4_datagram(f, udp_segment(sport, dport, payload)));
}

// A datagram the stack sent, pieced together from its frames (fragments
// joined by offset); empty when the frames do not make one.
struct Sent {
  Ipv4Addr src, dst;
  uint16_t sport = 0, dport = 0, checksum = 0;
  Bytes payload;
  bool checksum_ok = false;
  size_t frames = 0;
};

bool parse_sent(const std::vector<Bytes>& frames, Sent& out) {
  std::map<size_t, Bytes> pieces;
  Bytes header;
  size_t total = 0;
  for (const auto& f : frames) {
    if (f.size() < kEth + kIpHdr || load_be16(f.data() + 12) != ethertype::kIpv4) return false;
    Ipv4View ip;
    if (Ipv4View::check(const_cast<uint8_t*>(f.data()) + kEth, f.size() - kEth, true, ip) != Ipv4Error::kNone)
      return false;
    if (ip.protocol() != ipproto::kUdp) return false;
    size_t off = ip.frag_offset_bytes();
    pieces[off] = Bytes(ip.payload(), ip.payload() + ip.payload_len());
    if (off == 0) header = Bytes(f.begin() + kEth, f.begin() + kEth + kIpHdr);
    if (!ip.more_fragments()) total = off + ip.payload_len();
  }
  Bytes seg;
  for (auto& [off, p] : pieces) {
    if (off != seg.size()) return false;
    seg.insert(seg.end(), p.begin(), p.end());
  }
  if (header.empty() || seg.size() != total || seg.size() < UdpView::kHeaderLen) return false;
  Ipv4View ip = Ipv4View::trusted(header.data());
  out.src = ip.src();
  out.dst = ip.dst();
  out.sport = load_be16(seg.data());
  out.dport = load_be16(seg.data() + 2);
  out.checksum = load_be16(seg.data() + 6);
  if (load_be16(seg.data() + 4) != seg.size()) return false;
  out.payload = Bytes(seg.begin() + UdpView::kHeaderLen, seg.end());
  out.checksum_ok = out.checksum != 0 && transport_checksum(out.src, out.dst, ipproto::kUdp, seg.data(), seg.size()) == 0;
  out.frames = frames.size();
  return true;
}

class UdpComponent : public ::testing::Test {
 protected:
  void SetUp() override {
    ring().poll(2);
    ring().drop_sent();
    in_use_ = ring().in_use();
    before_ = ring().counters();
  }
  void TearDown() override {
    for (auto h : opened_) udp().close(h);
    for (auto h : opened1_) ring().engine(1).udp().close(h);
    EXPECT_EQ(ring().engine(1).udp().size(), 0u);
    ring().poll(2);
    ring().drop_sent();
    EXPECT_EQ(udp().size(), 0u) << "sockets left open";
    EXPECT_EQ(ring().in_use(), in_use_) << "mbufs not given back";
  }

  Udp& udp() { return ring().engine(0).udp(); }
  UdpHandle open(uint16_t port, UdpHandlers h = {}, Ipv4Addr addr = {}) {
    auto r = udp().open({addr, port}, std::move(h), {"test"});
    EXPECT_EQ(r.status, UdpStatus::kOk) << udp_status_name(r.status);
    if (r) opened_.push_back(r.handle);
    return r.handle;
  }
  void feed(const std::vector<Bytes>& frames, int rounds = 3) {
    for (const auto& f : frames) ASSERT_TRUE(ring().inject(f));
    ring().poll(rounds);
  }
  // Everything port 0 sent, as one datagram.
  Sent sent_datagram() {
    Sent s;
    auto frames = ring().sent(0);
    EXPECT_TRUE(parse_sent(frames, s)) << frames.size() << " frames do not make one UDP datagram";
    return s;
  }
  uint64_t delta(uint64_t LcoreCounters::*f) { return ring().counters().*f - before_.*f; }
  uint64_t drops(DropReason r) {
    return ring().counters().drops[static_cast<size_t>(r)] - before_.drops[static_cast<size_t>(r)];
  }

  unsigned in_use_ = 0;
  LcoreCounters before_;
  std::vector<UdpHandle> opened_;
  std::vector<UdpHandle> opened1_;  // on engine 1
};

// RFC 768: the datagram reaches the socket with the sender's endpoint and
// our own, the payload unchanged and uncopied.
TEST_F(UdpComponent, Receive_WildcardSocket_GetsSenderAddressAndPayload) {
  const Bytes payload = pattern(300, 1);
  std::vector<std::pair<UdpEndpoint, Bytes>> got;
  UdpDatagram seen;
  UdpHandle h = open(5000, {[&](UdpHandle, UdpDatagram& d) {
                              Bytes b(d.length());
                              EXPECT_EQ(d.copy_to(b.data(), b.size()), b.size());
                              EXPECT_EQ(d.contiguous_length(), d.length());
                              EXPECT_TRUE(std::equal(b.begin(), b.end(), d.data()));
                              EXPECT_EQ(d.to.addr, kStackIp);
                              EXPECT_EQ(d.to.port, 5000);
                              got.emplace_back(d.from, b);
                            },
                            {}});
  feed({udp_frame(kPeerPort, 5000, payload)});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first.addr, kPeerIp);
  EXPECT_EQ(got[0].first.port, kPeerPort);
  EXPECT_EQ(got[0].second, payload);
  EXPECT_EQ(udp().stats(h)->rx_datagrams, 1u);
  EXPECT_EQ(udp().stats(h)->rx_bytes, 300u);
  EXPECT_EQ(delta(&LcoreCounters::udp_delivered), 1u);
  EXPECT_EQ(ring().drop_sent(), 0u);  // nothing answered
}

// The echo service's way: take() the mbuf and send it back; the reply is
// the same payload, from the address it was sent to, with a valid checksum.
TEST_F(UdpComponent, TakeAndSendMbuf_EchoesInPlace) {
  const Bytes payload = pattern(1000, 2);
  UdpStatus st = UdpStatus::kInvalid;
  open(7007, {[&](UdpHandle s, UdpDatagram& d) { st = udp().send_mbuf_to(s, d.from, d.take(), d.to.addr); }, {}});
  feed({udp_frame(kPeerPort, 7007, payload)});
  EXPECT_EQ(st, UdpStatus::kOk);
  Sent s = sent_datagram();
  EXPECT_EQ(s.src, kStackIp);
  EXPECT_EQ(s.dst, kPeerIp);
  EXPECT_EQ(s.sport, 7007);
  EXPECT_EQ(s.dport, kPeerPort);
  EXPECT_EQ(s.payload, payload);
  EXPECT_TRUE(s.checksum_ok);
  EXPECT_EQ(delta(&LcoreCounters::udp_sent), 1u);
}

// Udp::echo: the same payload back with the request's checksum, which is
// valid for the reply; a request without one gets one computed.
TEST_F(UdpComponent, Echo_ReusesTheRequestChecksum_OrComputesOne) {
  UdpStatus st = UdpStatus::kInvalid;
  open(7020, {[&](UdpHandle s, UdpDatagram& d) {
                st = udp().echo(s, d);
                EXPECT_EQ(udp().echo(s, d), UdpStatus::kInvalid);  // nothing left to send
              },
              {}});
  for (bool with_sum : {true, false}) {
    SCOPED_TRACE(with_sum ? "request with a checksum" : "request without one");
    const Bytes payload = pattern(777, with_sum ? 9 : 10);
    Ipv4Fields f;
    f.protocol = ipproto::kUdp;
    const Bytes seg = udp_segment(kPeerPort, 7020, payload, kPeerIp, kStackIp, with_sum);
    feed({eth_frame(ipv4_datagram(f, seg))});
    EXPECT_EQ(st, UdpStatus::kOk);
    Sent s = sent_datagram();
    EXPECT_EQ(s.payload, payload);
    EXPECT_EQ(s.sport, 7020);
    EXPECT_EQ(s.dport, kPeerPort);
    EXPECT_TRUE(s.checksum_ok);
    if (with_sum) {
      EXPECT_EQ(s.checksum, load_be16(seg.data() + 6));
    }
  }
  EXPECT_EQ(delta(&LcoreCounters::udp_send_refused), 2u);  // the two second echo() calls
}

// A payload bigger than the MTU (and than one mbuf): sent as a chain, its
// checksum over the whole chain, fragmented; and the same size received in
// fragments reassembles into a chain the handler reads whole.
TEST_F(UdpComponent, BigDatagram_ChainSentInFragments_AndReceivedWhole) {
  const Bytes payload = pattern(60000, 3);
  UdpHandle h = open(7008);
  EXPECT_EQ(udp().send_to(h, {kPeerIp, kPeerPort}, payload.data(), payload.size()), UdpStatus::kOk);
  ring().poll(2);
  Sent s = sent_datagram();
  EXPECT_EQ(s.frames, 41u);  // 60,028 bytes of IP payload at 1,480 a fragment
  EXPECT_EQ(s.payload, payload);
  EXPECT_TRUE(s.checksum_ok);

  // Reassembled, the datagram goes to the engine its 4-tuple hashes to:
  // the socket is open on both (as services do).
  Bytes got;
  size_t received = 0;
  UdpHandlers rh{[&](UdpHandle, UdpDatagram& d) {
                   ++received;
                   got.resize(d.length());
                   EXPECT_EQ(d.copy_to(got.data(), got.size()), got.size());
                   EXPECT_LT(d.contiguous_length(), d.length());  // a chain
                 },
                 {}};
  open(7009, rh);
  auto r1 = ring().engine(1).udp().open({Ipv4Addr{}, 7009}, rh);
  ASSERT_TRUE(r1);
  opened1_.push_back(r1.handle);
  Ipv4Fields f;
  f.protocol = ipproto::kUdp;
  f.ident = 0x7101;
  std::vector<Bytes> frames;
  for (auto& frag : ip_fragments(ipv4_datagram(f, udp_segment(kPeerPort, 7009, payload)), 1500))
    frames.push_back(eth_frame(frag));
  feed(frames);
  EXPECT_EQ(got, payload);
  EXPECT_EQ(received, 1u);

  // One byte changed after the checksum was made: the sum over the chain catches it.
  Bytes bad = udp_segment(kPeerPort, 7009, payload);
  bad.back() ^= 0x40;
  f.ident = 0x7102;
  frames.clear();
  for (auto& frag : ip_fragments(ipv4_datagram(f, bad), 1500)) frames.push_back(eth_frame(frag));
  feed(frames);
  EXPECT_EQ(drops(DropReason::udp_bad_checksum), 1u);
  EXPECT_EQ(received, 1u);
}

// RFC 768: a zero checksum means none and is accepted; a wrong one drops.
TEST_F(UdpComponent, Checksum_ZeroAccepted_WrongDropped) {
  UdpHandle h = open(7010);
  Ipv4Fields f;
  f.protocol = ipproto::kUdp;
  feed({eth_frame(ipv4_datagram(f, udp_segment(kPeerPort, 7010, pattern(20, 4), kPeerIp, kStackIp, false)))});
  EXPECT_EQ(udp().stats(h)->rx_datagrams, 1u);
  Bytes seg = udp_segment(kPeerPort, 7010, pattern(20, 4));
  seg[6] ^= 0x01;
  feed({eth_frame(ipv4_datagram(f, seg))});
  EXPECT_EQ(udp().stats(h)->rx_datagrams, 1u);
  EXPECT_EQ(drops(DropReason::udp_bad_checksum), 1u);
}

// RFC 1122 4.1.3.4 / 3.2.2.1: the length must fit; a datagram to a port
// nobody listens on gets port unreachable quoting it.
TEST_F(UdpComponent, BadLengthTruncatedAndClosedPort_DroppedByReason) {
  Ipv4Fields f;
  f.protocol = ipproto::kUdp;
  Bytes seg = udp_segment(kPeerPort, 7011, pattern(20, 5));
  store_be16(seg.data() + 4, 200);
  feed({eth_frame(ipv4_datagram(f, seg)), eth_frame(ipv4_datagram(f, Bytes{1, 2, 3, 4})),
        udp_frame(kPeerPort, 7011, pattern(20, 5))});
  EXPECT_EQ(drops(DropReason::udp_bad_length), 1u);
  EXPECT_EQ(drops(DropReason::udp_truncated), 1u);
  EXPECT_EQ(drops(DropReason::udp_no_socket), 1u);
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  const Bytes& e = out[0];
  ASSERT_GE(e.size(), kEth + kIpHdr + 8 + kIpHdr + 8);
  EXPECT_EQ(e[kEth + 9], ipproto::kIcmp);
  EXPECT_EQ(e[kEth + kIpHdr], icmptype::kDestUnreachable);
  EXPECT_EQ(e[kEth + kIpHdr + 1], icmpcode::kPortUnreachable);
  EXPECT_EQ(load_be16(e.data() + kEth + kIpHdr + 8 + kIpHdr + 2), 7011);  // the quoted destination port
}

// A connected socket takes only its remote's datagrams; others fall through
// to a wildcard socket on the port, else get port unreachable.
TEST_F(UdpComponent, ConnectedSocket_FiltersByRemote_SendGoesToIt) {
  std::vector<uint16_t> conn_from, wild_from;
  UdpHandle c = open(7012, {[&](UdpHandle, UdpDatagram& d) { conn_from.push_back(d.from.port); }, {}}, kStackIp);
  EXPECT_EQ(udp().send(c, "x", 1), UdpStatus::kNotConnected);
  ASSERT_EQ(udp().connect(c, {kPeerIp, 1111}), UdpStatus::kOk);
  feed({udp_frame(1111, 7012, pattern(8, 6)), udp_frame(2222, 7012, pattern(8, 6))});
  EXPECT_EQ(conn_from, std::vector<uint16_t>{1111});
  EXPECT_EQ(drops(DropReason::udp_no_socket), 1u);
  ring().drop_sent();
  UdpOpenOptions reuse;
  reuse.reuse_addr = true;
  EXPECT_EQ(udp().open({Ipv4Addr{}, 7012}, {}, reuse).status, UdpStatus::kAddressInUse);  // c did not set reuse_addr

  EXPECT_EQ(udp().send(c, "hello", 5), UdpStatus::kOk);
  ring().poll(1);
  Sent s = sent_datagram();
  EXPECT_EQ(s.dport, 1111);
  EXPECT_EQ(s.sport, 7012);
  EXPECT_EQ(s.payload, (Bytes{'h', 'e', 'l', 'l', 'o'}));
  (void)wild_from;
}

// open(): our addresses (or loopback) only; one socket per endpoint; port 0
// picks from the ephemeral range.
TEST_F(UdpComponent, Open_RulesAndEphemeralPorts) {
  EXPECT_EQ(udp().open({Ipv4Addr::from_octets(192, 0, 2, 1), 7013}, {}).status, UdpStatus::kNotLocal);
  open(7013);
  EXPECT_EQ(udp().open({Ipv4Addr{}, 7013}, {}).status, UdpStatus::kAddressInUse);
  auto r = udp().open({Ipv4Addr{}, 0}, {});
  ASSERT_EQ(r.status, UdpStatus::kOk);
  opened_.push_back(r.handle);
  EXPECT_GE(r.port, 49152);
  EXPECT_EQ(udp().info(r.handle)->local.port, r.port);
  EXPECT_EQ(udp().close(r.handle), UdpStatus::kOk);
  EXPECT_EQ(udp().close(r.handle), UdpStatus::kBadHandle);
  EXPECT_EQ(udp().send_to(r.handle, {kPeerIp, 1}, "x", 1), UdpStatus::kBadHandle);
}

// Sends that cannot go say why, are counted, and free a handed-over mbuf.
TEST_F(UdpComponent, Send_RefusalsAreStatusesAndCounted) {
  UdpHandle h = open(7014);
  Bytes big(65508);
  EXPECT_EQ(udp().send_to(h, {kPeerIp, 9}, big.data(), big.size()), UdpStatus::kTooBig);
  EXPECT_EQ(udp().send_to(h, {kPeerIp, 0}, "x", 1), UdpStatus::kInvalid);
  EXPECT_EQ(udp().send_to(h, {Ipv4Addr::from_octets(203, 0, 113, 9), 9}, "x", 1), UdpStatus::kNoRoute);
  rte_mbuf* m = udp().alloc_payload(10);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(udp().send_mbuf_to(h, {Ipv4Addr::from_octets(203, 0, 113, 9), 9}, m), UdpStatus::kNoRoute);
  EXPECT_EQ(udp().stats(h)->tx_refused, 4u);
  EXPECT_EQ(udp().stats(h)->tx_datagrams, 0u);
  EXPECT_EQ(delta(&LcoreCounters::udp_send_refused), 4u);
  EXPECT_EQ(drops(DropReason::udp_send_failed), 1u);  // the mbuf handed over
  EXPECT_EQ(ring().drop_sent(), 0u);
}

// The PMD refuses (its ring is full, nobody drains it): frames wait in the
// engine's TX backlog; once that is full, sends return kTxFull (counted)
// instead of losing datagrams; when the ring drains, sends work again.
TEST_F(UdpComponent, TxFull_WhenRingAndBacklogFull_ThenRecovers) {
  UdpHandle h = open(7015);
  rte_ring* tx = ring().tx(0, 0);
  size_t ok = 0;
  UdpStatus st = UdpStatus::kOk;
  for (size_t i = 0; i < 20000 && st == UdpStatus::kOk; ++i) {
    st = udp().send_to(h, {kPeerIp, 9}, "fill", 4);
    if (st == UdpStatus::kOk) ++ok;
  }
  EXPECT_EQ(st, UdpStatus::kTxFull) << udp_status_name(st);
  EXPECT_EQ(ok, rte_ring_count(tx) + kTxBacklog);
  EXPECT_EQ(udp().stats(h)->tx_full, 1u);
  EXPECT_EQ(delta(&LcoreCounters::udp_send_tx_full), 1u);
  EXPECT_EQ(ring().engine(0).tx_room(ring().port(0)), 0u);
  EXPECT_EQ(drops(DropReason::tx_ring_full), 0u);  // nothing lost
  size_t drained = ring().drop_sent();
  ring().poll(1);  // the backlog goes to the ring
  drained += ring().drop_sent();
  EXPECT_EQ(drained, ok);
  EXPECT_EQ(udp().send_to(h, {kPeerIp, 9}, "again", 5), UdpStatus::kOk);
}

// close() from the socket's own handler: it stops receiving at once and is
// released after the handler returns.
TEST_F(UdpComponent, CloseFromOwnHandler_ReleasedAfterIt) {
  int calls = 0;
  auto r = udp().open({Ipv4Addr{}, 7016}, {[&](UdpHandle s, UdpDatagram& d) {
                                              ++calls;
                                              EXPECT_EQ(udp().close(s), UdpStatus::kOk);
                                              EXPECT_EQ(d.length(), 8u);  // still valid
                                            },
                                            {}});
  ASSERT_TRUE(r);
  feed({udp_frame(kPeerPort, 7016, pattern(8, 7))});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(udp().info(r.handle), nullptr);
  feed({udp_frame(kPeerPort, 7016, pattern(8, 7))});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(drops(DropReason::udp_no_socket), 1u);
}

// RFC 1122 4.1.3.3: an ICMP error about a datagram a socket sent goes to
// that socket's on_error.
TEST_F(UdpComponent, IcmpError_DeliveredToTheSendingSocket) {
  std::vector<IcmpErrorInfo> errs;
  UdpHandle h = open(7017, {{}, [&](UdpHandle, const IcmpErrorInfo& e) { errs.push_back(e); }});
  ASSERT_EQ(udp().send_to(h, {kPeerIp, 53}, "query", 5), UdpStatus::kOk);
  ring().poll(1);
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  Bytes quote(out[0].begin() + kEth, out[0].begin() + kEth + kIpHdr + 8);
  Ipv4Fields f;
  f.ident = 0x7201;
  feed({eth_frame(ipv4_datagram(
      f, ringtest::icmp_error_msg(icmptype::kDestUnreachable, icmpcode::kPortUnreachable, 0, quote)))});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].code, icmpcode::kPortUnreachable);
  EXPECT_EQ(errs[0].dst, kPeerIp);
  EXPECT_EQ(udp().stats(h)->icmp_errors, 1u);
  EXPECT_EQ(delta(&LcoreCounters::udp_icmp_errors), 1u);
}

// Datagrams to our own address go through the internal loopback, never a NIC.
TEST_F(UdpComponent, ToOwnAddress_ThroughLoopback) {
  Bytes got;
  UdpHandle rx = open(7018, {[&](UdpHandle, UdpDatagram& d) {
                               got.resize(d.length());
                               d.copy_to(got.data(), got.size());
                               EXPECT_EQ(d.from.addr, kStackIp);
                             },
                             {}});
  UdpHandle tx = open(7019);
  const Bytes payload = pattern(3000, 8);
  ASSERT_EQ(udp().send_to(tx, {kStackIp, 7018}, payload.data(), payload.size()), UdpStatus::kOk);
  ring().poll(2);
  EXPECT_EQ(got, payload);
  EXPECT_EQ(udp().stats(rx)->rx_datagrams, 1u);
  EXPECT_EQ(ring().drop_sent(), 0u);
}

}  // namespace
}  // namespace dpdkstack

// Component tests: the whole receive path of the engines on a real PMD
// (net_ring, created with rte_eth_from_rings so that the test owns the
// rings: it enqueues frames where a port receives, and dequeues what the
// port transmits). EAL runs without hugepages, PCI or telemetry.
//
// One stack serves every component test of this program (EAL starts once a
// process): two ports (10.0.0.1/24 and 10.1.1.1/24, MTU 1500 and 1280) and
// two engines, each with a queue pair on both ports, driven by poll_once()
// from the test thread (see ring_stack.hpp); test_ip.cpp reaches it through
// component_ring(). Frames are injected on queue 0 of a port (engine 0's).
//
// The seeded fuzz test feeds hundreds of thousands of mutated frames through
// the stack and checks that nothing crashes and that every mbuf comes back:
// once ARP has given up and the reassembly tables are empty, the mempools'
// in-use counts are where they started and every packet is accounted for
// (see the identity at the end of the test).
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "../support/ring_stack.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/udp.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {

// The stack every component test uses (defined below; test_ip.cpp too).
ringtest::RingStack& component_ring();

namespace {

using namespace wire;
using ringtest::Bytes;
using ringtest::echo_datagram;

std::unique_ptr<ringtest::RingStack> g_ring;
using ringtest::kPeerIp;
using ringtest::kPeerMac;
using ringtest::kStackIp;
using ringtest::kStackMac;

std::vector<uint8_t> echo_request(uint16_t seq, size_t data_len, Ipv4Addr src = kPeerIp) {
  std::vector<uint8_t> f(42 + data_len);
  ringtest::write_echo_request(f.data(), seq, data_len, src);
  return f;
}

std::vector<uint8_t> arp_request(Ipv4Addr sender, Ipv4Addr target) {
  std::vector<uint8_t> f(42);
  ringtest::write_arp_request(f.data(), sender, target);
  return f;
}

// Feeds frames to port 0 (engine 0's queue) and a few loops of every
// engine, then returns what every port transmitted (the caller frees it).
std::vector<rte_mbuf*> exchange(const std::vector<std::vector<uint8_t>>& frames) {
  for (const auto& f : frames) EXPECT_TRUE(g_ring->inject(f));
  g_ring->poll(4);
  std::vector<rte_mbuf*> out;
  for (unsigned p = 0; p < g_ring->ports(); ++p) {
    auto sent = g_ring->drain(p);
    out.insert(out.end(), sent.begin(), sent.end());
  }
  return out;
}

void free_all(std::vector<rte_mbuf*>& v) {
  for (auto* m : v) rte_pktmbuf_free(m);
  v.clear();
}

TEST(EngineComponent, EchoRequest_RepliedWithSameDataAndValidChecksums) {
  for (size_t len : {0u, 1u, 17u, 18u, 1472u}) {
    auto out = exchange({echo_request(7, len)});
    ASSERT_EQ(out.size(), 1u) << "data length " << len;
    uint8_t* p = rte_pktmbuf_mtod(out[0], uint8_t*);
    auto eth = EthernetView::check(p, out[0]->data_len);
    ASSERT_TRUE(eth);
    EXPECT_EQ(eth->dst(), kPeerMac);
    EXPECT_EQ(eth->src(), kStackMac);
    EXPECT_GE(out[0]->pkt_len, 60u) << "short frames are padded";
    Ipv4View ip;
    ASSERT_EQ(Ipv4View::check(p + 14, out[0]->data_len - 14, true, ip), Ipv4Error::kNone);
    EXPECT_EQ(ip.src(), kStackIp);
    EXPECT_EQ(ip.dst(), kPeerIp);
    IcmpView icmp;
    ASSERT_EQ(IcmpView::check(ip.payload(), ip.payload_len(), true, icmp), IcmpError::kNone);
    EXPECT_EQ(icmp.type(), icmptype::kEchoReply);
    EXPECT_EQ(icmp.echo_seq(), 7);
    auto req = echo_request(7, len);
    ASSERT_EQ(icmp.data_len(), len);
    EXPECT_EQ(std::memcmp(icmp.data(), req.data() + 42, len), 0);
    free_all(out);
  }
}

TEST(EngineComponent, ArpRequestForUs_AnsweredWithStackMac) {
  auto out = exchange({arp_request(kPeerIp, kStackIp)});
  ASSERT_EQ(out.size(), 1u);
  uint8_t* p = rte_pktmbuf_mtod(out[0], uint8_t*);
  auto arp = ArpView::check(p + 14, out[0]->data_len - 14);
  ASSERT_TRUE(arp);
  ArpRepr r;
  ArpParseError why{};
  ASSERT_TRUE(ArpRepr::parse(*arp, r, why));
  EXPECT_EQ(r.op, ArpOp::kReply);
  EXPECT_EQ(r.sha, kStackMac);
  EXPECT_EQ(r.spa, kStackIp);
  EXPECT_EQ(r.tha, kPeerMac);
  EXPECT_EQ(r.tpa, kPeerIp);
  free_all(out);
}

// Mutates valid frames (bit flips, byte overwrites, truncation, extension,
// header-field fuzz) and random garbage; seeded, so a failure reproduces.
// Besides echo requests and ARP, the seeds hold the fragments of two echo
// requests (first, middle and last, and some that overlap them), datagrams
// to forward (to port 1's peer, with TTL 1, to a network without a route)
// and one of an unknown protocol, and UDP datagrams to an echo socket (one
// in fragments, steered), a discard socket and a closed port, so that
// reassembly, steering to the other engine, forwarding, ICMP errors and UDP
// all run under the fuzz.
TEST(EngineComponent, Fuzz_NoCrashNoLeakEveryPacketAccounted) {
  std::mt19937 rng(20261121);
  auto& ring = *g_ring;
  ring.stack().context().ping.ident.store(0);  // echo replies are drops, never silently taken by a ping
  const unsigned in_use_before = ring.in_use();
  const LcoreCounters before = ring.counters();
  const Ipv4Addr kFar = Ipv4Addr::from_octets(10, 0, 0, 3);  // steered to the other engine than kPeerIp's
  const Ipv4Addr kPort1Peer = ringtest::peer_ip(1);
  // A 1228-byte echo request from the peer in three fragments (its reply
  // still fits the MTU), fragments overlapping them, and a second datagram
  // of two fragments from a host whose ARP may never answer.
  const Bytes big = echo_datagram(kPeerIp, kStackIp, 0x4242, 9, 1200);
  const Bytes other = echo_datagram(kFar, kStackIp, 0x4343, 10, 600);
  ringtest::Ipv4Fields unknown;
  unknown.protocol = 253;
  unknown.ident = 0x4444;
  // UDP: an echo socket (7, answering with Udp::echo, as the service
  // does) and a discard socket (9) on both engines for the fuzz.
  std::vector<std::pair<Engine*, UdpHandle>> sockets;
  for (unsigned e = 0; e < ring.engines(); ++e) {
    Udp& udp = ring.engine(e).udp();
    UdpHandlers echo{[&udp](UdpHandle h, UdpDatagram& d) { udp.echo(h, d); }, {}};
    for (auto [port, handlers] : {std::pair{uint16_t{7}, echo}, std::pair{uint16_t{9}, UdpHandlers{}}}) {
      auto r = udp.open({Ipv4Addr{}, port}, handlers);
      ASSERT_TRUE(r) << udp_status_name(r.status);
      sockets.emplace_back(&ring.engine(e), r.handle);
    }
  }
  auto udp_datagram = [](Ipv4Addr src, uint16_t sport, uint16_t dport, size_t len, uint16_t ident, bool sum) {
    Bytes seg(8 + len);
    for (size_t i = 8; i < seg.size(); ++i) seg[i] = static_cast<uint8_t>(i * 3);
    wire::UdpRepr{sport, dport, static_cast<uint16_t>(len)}.emit(seg.data(), src, kStackIp, sum);
    ringtest::Ipv4Fields f;
    f.src = src;
    f.protocol = wire::ipproto::kUdp;
    f.ident = ident;
    return ringtest::ipv4_datagram(f, seg);
  };
  const Bytes big_udp = udp_datagram(kFar, 4000, 7, 1000, 0x4848, true);
  std::vector<std::vector<uint8_t>> seeds = {
      echo_request(1, 0), echo_request(2, 56), echo_request(3, 1472), arp_request(kPeerIp, kStackIp),
      arp_request(Ipv4Addr::from_octets(10, 0, 0, 77), kStackIp),
      // from a host nobody answers for: replies wait for ARP, then give up
      echo_request(4, 100, Ipv4Addr::from_octets(10, 0, 0, 50)),
      ringtest::eth_frame(ringtest::ip_fragment(big, 0, 400, true)),
      ringtest::eth_frame(ringtest::ip_fragment(big, 400, 400, true)),
      ringtest::eth_frame(ringtest::ip_fragment(big, 800, 408, false)),
      ringtest::eth_frame(ringtest::ip_fragment(big, 200, 400, true)),  // overlaps both neighbours
      ringtest::eth_frame(ringtest::ip_fragment(big, 800, 200, true)),  // same offset as the last, shorter
      ringtest::eth_frame(ringtest::ip_fragment(big, 24, 8, false)),    // teardrop: ends inside the first
      ringtest::eth_frame(ringtest::ip_fragment(other, 0, 304, true)),
      ringtest::eth_frame(ringtest::ip_fragment(other, 304, 304, false)),
      ringtest::eth_frame(echo_datagram(kPeerIp, kPort1Peer, 0x4545, 11, 64)),      // forwarded to port 1
      ringtest::eth_frame(echo_datagram(kPeerIp, kPort1Peer, 0x4646, 12, 64, 1)),   // time exceeded
      ringtest::eth_frame(echo_datagram(kPeerIp, Ipv4Addr::from_octets(10, 99, 0, 1), 0x4747, 13, 64)),  // no route
      ringtest::eth_frame(ringtest::ipv4_datagram(unknown, Bytes(40, 0xab))),       // protocol unreachable
      ringtest::eth_frame(udp_datagram(kPeerIp, 5000, 7, 64, 0x4900, true)),        // echoed
      ringtest::eth_frame(udp_datagram(kPeerIp, 5001, 7, 1472, 0x4901, false)),     // echoed, no checksum
      ringtest::eth_frame(udp_datagram(kPeerIp, 5002, 9, 100, 0x4902, true)),       // discarded
      ringtest::eth_frame(udp_datagram(kPeerIp, 5003, 5555, 20, 0x4903, true)),     // port unreachable
      ringtest::eth_frame(ringtest::ip_fragment(big_udp, 0, 504, true)),           // reassembled, echoed
      ringtest::eth_frame(ringtest::ip_fragment(big_udp, 504, 504, false)),
  };
  constexpr int kRounds = 20000;
  constexpr int kBatch = 32;
  uint64_t injected = 0, sent = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::vector<uint8_t>> batch;
    for (int i = 0; i < kBatch; ++i) {
      std::vector<uint8_t> f;
      if (rng() % 16 == 0) {
        f.resize(rng() % 200);
        for (auto& b : f) b = static_cast<uint8_t>(rng());
      } else {
        f = seeds[rng() % seeds.size()];
        int edits = static_cast<int>(rng() % 5);  // 0: the seed as it is
        for (int e = 0; e < edits && !f.empty(); ++e) {
          switch (rng() % 5) {
            case 0: f[rng() % f.size()] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
            case 1: f[rng() % f.size()] = static_cast<uint8_t>(rng()); break;
            case 2: f.resize(rng() % (f.size() + 1)); break;
            case 3: f.resize(f.size() + rng() % 64, static_cast<uint8_t>(rng())); break;
            case 4: {  // a header byte: version/IHL, lengths, flags, protocol, ARP fields
              static const size_t hot[] = {12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 34, 35};
              size_t at = hot[rng() % (sizeof hot / sizeof hot[0])];
              if (at < f.size()) f[at] = static_cast<uint8_t>(rng());
              break;
            }
          }
        }
      }
      if (f.empty()) f.push_back(0);
      batch.push_back(std::move(f));
    }
    injected += batch.size();
    auto out = exchange(batch);
    sent += out.size();
    free_all(out);
  }
  // Let ARP give up on next hops that never answer (the fuzz invents
  // on-link sources) and the reassembly tables expire what they hold (100 ms
  // in this config), bounded in time.
  auto settled = [&] {
    for (unsigned e = 0; e < ring.engines(); ++e)
      if (ring.engine(e).reassembly().flows() != 0) return false;
    return ring.in_use() == in_use_before;
  };
  for (int i = 0; i < 300 && !settled(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto out = exchange({});
    sent += out.size();
    free_all(out);
  }
  for (auto [engine, h] : sockets) EXPECT_EQ(engine->udp().close(h), UdpStatus::kOk);
  for (unsigned e = 0; e < ring.engines(); ++e) EXPECT_EQ(ring.engine(e).reassembly().flows(), 0u);
  EXPECT_EQ(ring.in_use(), in_use_before) << "mbufs leaked";
  const LcoreCounters after = ring.counters();
  auto delta = [&](uint64_t LcoreCounters::*f) { return after.*f - before.*f; };
  auto drop_delta = [&](DropReason r) {
    return after.drops[static_cast<size_t>(r)] - before.drops[static_cast<size_t>(r)];
  };
  EXPECT_EQ(delta(&LcoreCounters::rx_packets), injected);
  EXPECT_EQ(sent, delta(&LcoreCounters::tx_packets));
  // Every input frame and every packet the engines originate (ARP requests,
  // ICMP errors) ends exactly once: on the wire, dropped by reason, consumed
  // (ARP replies and ICMP errors to us), or absorbed into a reassembled
  // datagram, which is itself one new packet with one outcome. Looped-back
  // and steered packets are in transit, not new. Splitting a datagram on
  // output would make frames no counter ties to datagrams: nothing here
  // exceeds an MTU, so none may be split.
  uint64_t originated = delta(&LcoreCounters::arp_requests_sent) + delta(&LcoreCounters::icmp_errors_sent);
  // A datagram delivered to a socket is echoed (one frame, counted as sent
  // or, when its echo could not go, dropped) or consumed (discard).
  uint64_t udp_consumed = delta(&LcoreCounters::udp_delivered) - delta(&LcoreCounters::udp_sent) -
                          drop_delta(DropReason::udp_send_failed);
  uint64_t consumed =
      delta(&LcoreCounters::arp_replies_in) + delta(&LcoreCounters::icmp_errors_in) + udp_consumed;
  uint64_t drops = after.drop_total() - before.drop_total();
  uint64_t reasm = delta(&LcoreCounters::reasm_ok);
  uint64_t absorbed = delta(&LcoreCounters::reasm_fragments);
  EXPECT_EQ(delta(&LcoreCounters::frags_out), 0u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_rate_limited), 0u) << "icmp.error_rate is 0 in this config";
  EXPECT_EQ(injected + originated + reasm, sent + drops + consumed + absorbed)
      << "sent " << sent << " originated " << originated << " reassembled " << reasm << " drops " << drops
      << " consumed " << consumed << " absorbed " << absorbed;
  for (auto [name, value] : {std::pair<const char*, uint64_t>{"injected", injected}, {"sent", sent},
                              {"originated", originated}, {"reassembled", reasm}, {"absorbed", absorbed},
                              {"drops", drops}, {"consumed", consumed},
                              {"steered", delta(&LcoreCounters::steered_out)},
                              {"forwarded", delta(&LcoreCounters::ipv4_forwarded)}})
    RecordProperty(name, std::to_string(value));
  // The fuzz reached what it is meant to exercise.
  EXPECT_GT(delta(&LcoreCounters::arp_requests_sent), 0u) << "ARP resolution";
  EXPECT_GT(drop_delta(DropReason::arp_resolve_failed) + drop_delta(DropReason::arp_pending_full), 0u);
  EXPECT_GT(reasm, 0u) << "reassembly";
  EXPECT_GT(delta(&LcoreCounters::steered_out), 0u) << "steering to the owning engine";
  EXPECT_EQ(delta(&LcoreCounters::steered_out), delta(&LcoreCounters::steered_in));
  EXPECT_GT(drop_delta(DropReason::frag_overlap), 0u);
  EXPECT_GT(drop_delta(DropReason::frag_duplicate), 0u);
  EXPECT_GT(drop_delta(DropReason::frag_timeout), 0u);
  EXPECT_GT(delta(&LcoreCounters::ipv4_forwarded), 0u);
  EXPECT_GT(delta(&LcoreCounters::icmp_errors_sent), 0u);
  EXPECT_GT(consumed, 0u);
  EXPECT_GT(delta(&LcoreCounters::udp_sent), 0u) << "UDP echo";
  EXPECT_GT(udp_consumed, 0u) << "UDP discard";
  EXPECT_GT(drop_delta(DropReason::udp_no_socket), 0u);
  EXPECT_GT(drop_delta(DropReason::udp_bad_checksum), 0u);
  EXPECT_GT(drop_delta(DropReason::udp_bad_length) + drop_delta(DropReason::udp_truncated), 0u);
}

}  // namespace

ringtest::RingStack& component_ring() { return *g_ring; }

}  // namespace dpdkstack

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  using namespace dpdkstack;
  ringtest::RingStackOptions opt;
  // Fast ARP give-up, so the fuzz can wait for unresolvable next hops; a
  // short reassembly timeout (the least the config takes), so held fragments
  // expire within the tests; ICMP errors never rate limited, so every one
  // the rules allow is sent.
  opt.arp = R"("retry_interval_ms": 10, "max_requests": 2)";
  opt.extra = R"("ip": {"reassembly": {"timeout_ms": 100}}, "icmp": {"error_rate": 0})";
  opt.ports = 2;
  opt.engines = 2;
  opt.port_extra = {"", R"("mtu": 1280)"};
  g_ring = ringtest::RingStack::start("dstcomp", opt);
  if (!g_ring) return 1;
  int rc = RUN_ALL_TESTS();
  unsigned in_use = g_ring->stop();
  g_ring.reset();
  if (in_use != 0) {
    std::fprintf(stderr, "component-tests: %u mbufs in use after shutdown\n", in_use);
    rc = 1;
  }
  return rc;
}

// Component tests: the whole receive path of one engine on a real PMD
// (net_ring, created with rte_eth_from_rings so that the test owns both
// rings: it enqueues frames where the port receives, and dequeues what the
// port transmits). EAL runs without hugepages, PCI or telemetry.
//
// The seeded fuzz test feeds hundreds of thousands of mutated frames through
// the engine and checks that nothing crashes and that every mbuf comes back:
// after the ARP replica gives up, the mempool's in-use count is where it
// started and every received packet was either sent or counted as a drop.
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
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {
namespace {

using namespace wire;

std::unique_ptr<ringtest::RingStack> g_ring;
using ringtest::kPeerIp;
using ringtest::kPeerMac;
using ringtest::kStackIp;
using ringtest::kStackMac;

Engine& engine() { return g_ring->engine(); }
rte_mempool* pool() { return g_ring->pool(); }

rte_mbuf* frame(const std::vector<uint8_t>& bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool());
  if (m == nullptr) return nullptr;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(p, bytes.data(), bytes.size());
  return m;
}

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

// Feeds frames through the port's RX ring and one engine loop, then returns
// what the port transmitted (the caller frees it).
std::vector<rte_mbuf*> exchange(const std::vector<std::vector<uint8_t>>& frames) {
  for (const auto& f : frames) {
    rte_mbuf* m = frame(f);
    EXPECT_NE(m, nullptr);
    EXPECT_EQ(rte_ring_enqueue(g_ring->rx(), m), 0);
  }
  for (int i = 0; i < 4; ++i) engine().poll_once();
  std::vector<rte_mbuf*> out(rte_ring_count(g_ring->tx()));
  unsigned n = rte_ring_dequeue_burst(g_ring->tx(), reinterpret_cast<void**>(out.data()), static_cast<unsigned>(out.size()), nullptr);
  out.resize(n);
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
TEST(EngineComponent, Fuzz_NoCrashNoLeakEveryPacketAccounted) {
  std::mt19937 rng(20261121);
  const unsigned in_use_before = rte_mempool_in_use_count(pool());
  const LcoreCounters before = engine().counters();
  std::vector<std::vector<uint8_t>> seeds = {echo_request(1, 0), echo_request(2, 56), echo_request(3, 1472),
                                             arp_request(kPeerIp, kStackIp),
                                             arp_request(Ipv4Addr::from_octets(10, 0, 0, 77), kStackIp),
                                             // from a host nobody answers for: replies wait for ARP, then give up
                                             echo_request(4, 100, Ipv4Addr::from_octets(10, 0, 0, 50))};
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
        int edits = 1 + static_cast<int>(rng() % 4);
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
  // Let the ARP replica give up on next hops that never answer (the fuzz
  // invents on-link sources), bounded in time.
  for (int i = 0; i < 400 && rte_mempool_in_use_count(pool()) != in_use_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto out = exchange({});
    sent += out.size();
    free_all(out);
  }
  EXPECT_EQ(rte_mempool_in_use_count(pool()), in_use_before) << "mbufs leaked";
  const LcoreCounters& after = engine().counters();
  EXPECT_EQ(after.rx_packets - before.rx_packets, injected);
  // Every frame in was answered (at most one reply each) or dropped by reason;
  // ARP requests the stack originated are extra frames out.
  uint64_t drops = after.drop_total() - before.drop_total();
  uint64_t requests = after.arp_requests_sent - before.arp_requests_sent;
  uint64_t consumed = after.arp_replies_in - before.arp_replies_in;  // ARP replies: absorbed, nothing to send
  EXPECT_EQ(sent, after.tx_packets - before.tx_packets);
  EXPECT_GT(requests, 0u) << "the fuzz should have exercised ARP resolution";
  EXPECT_GT(after.drops[static_cast<size_t>(DropReason::arp_resolve_failed)] +
                after.drops[static_cast<size_t>(DropReason::arp_pending_full)],
            0u);
  EXPECT_EQ(injected, (sent - requests) + drops + consumed)
      << "sent " << sent << " requests " << requests << " drops " << drops << " consumed " << consumed;
}

}  // namespace
}  // namespace dpdkstack

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  using namespace dpdkstack;
  // Fast ARP give-up, so the fuzz can wait for unresolvable next hops.
  g_ring = ringtest::RingStack::start("dstcomp", R"("retry_interval_ms": 10, "max_requests": 2)");
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

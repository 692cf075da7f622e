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
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "runtime/stack.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {
namespace {

using namespace wire;

rte_ring* g_rx = nullptr;  // frames for the stack
rte_ring* g_tx = nullptr;  // frames from the stack
std::unique_ptr<Stack> g_stack;

const MacAddr kStackMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};
const Ipv4Addr kStackIp = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(10, 0, 0, 2);

Engine& engine() { return *g_stack->engines()[0]; }
rte_mempool* pool() { return g_stack->pools()[0]; }

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
  std::vector<uint8_t> f(14 + 20 + 8 + data_len);
  EthernetRepr{kStackMac, kPeerMac, ethertype::kIpv4}.emit(f.data());
  for (size_t i = 0; i < data_len; ++i) f[42 + i] = static_cast<uint8_t>(i * 7 + seq);
  IcmpEchoRepr{true, 0x1234, seq}.emit(f.data() + 34, data_len);
  Ipv4Repr ip{src, kStackIp, ipproto::kIcmp, 64, 0, seq, false, static_cast<uint16_t>(8 + data_len)};
  ip.emit(f.data() + 14, true);
  return f;
}

std::vector<uint8_t> arp_request(Ipv4Addr sender, Ipv4Addr target) {
  std::vector<uint8_t> f(14 + 28);
  EthernetRepr{MacAddr::broadcast(), kPeerMac, ethertype::kArp}.emit(f.data());
  ArpRepr{ArpOp::kRequest, kPeerMac, sender, MacAddr{}, target}.emit(f.data() + 14);
  return f;
}

// Feeds frames through the port's RX ring and one engine loop, then returns
// what the port transmitted (the caller frees it).
std::vector<rte_mbuf*> exchange(const std::vector<std::vector<uint8_t>>& frames) {
  for (const auto& f : frames) {
    rte_mbuf* m = frame(f);
    EXPECT_NE(m, nullptr);
    EXPECT_EQ(rte_ring_enqueue(g_rx, m), 0);
  }
  for (int i = 0; i < 4; ++i) engine().poll_once();
  std::vector<rte_mbuf*> out(rte_ring_count(g_tx));
  unsigned n = rte_ring_dequeue_burst(g_tx, reinterpret_cast<void**>(out.data()), static_cast<unsigned>(out.size()), nullptr);
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
  const char* eal[] = {"component-tests", "-l", "0", "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
                       "--no-telemetry", "--log-level", "lib.*:error", "--file-prefix", "dstcomp"};
  if (rte_eal_init(static_cast<int>(sizeof eal / sizeof eal[0]), const_cast<char**>(eal)) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  using namespace dpdkstack;
  g_rx = rte_ring_create("comp_rx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  g_tx = rte_ring_create("comp_tx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (g_rx == nullptr || g_tx == nullptr || rte_eth_from_rings("net_ring_comp", &g_rx, 1, &g_tx, 1, SOCKET_ID_ANY) < 0) {
    std::fprintf(stderr, "cannot create the ring port\n");
    return 1;
  }
  auto cfg = parse_config(R"({"ports": [{"address": "10.0.0.1/24", "mac": "02:00:00:00:00:01", "rx_desc": 64, "tx_desc": 64}],
                              "arp": {"retry_interval_ms": 10, "max_requests": 2,
                                      "static": [{"port": 0, "ip": "10.0.0.2", "mac": "02:00:00:00:00:02"}]}})");
  if (!cfg) {
    std::fprintf(stderr, "config: %s\n", cfg.error().message.c_str());
    return 1;
  }
  auto stack = Stack::create(*cfg, {});
  if (!stack) {
    std::fprintf(stderr, "stack: %s\n", stack.error().message.c_str());
    return 1;
  }
  g_stack = std::move(*stack);
  // The first loop sends the gratuitous ARP; drain it so tests start clean.
  for (int i = 0; i < 300 && rte_ring_count(g_tx) == 0; ++i) {
    g_stack->engines()[0]->poll_once();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void* m = nullptr;
  while (rte_ring_dequeue(g_tx, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  int rc = RUN_ALL_TESTS();
  auto pools = g_stack->pools();
  g_stack->shutdown();
  while (rte_ring_dequeue(g_tx, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  while (rte_ring_dequeue(g_rx, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  unsigned in_use = 0;
  for (auto* p : pools) in_use += rte_mempool_in_use_count(p);
  if (in_use != 0) {
    std::fprintf(stderr, "component-tests: %u mbufs in use after shutdown\n", in_use);
    rc = 1;
  }
  g_stack.reset();
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(runtime_dir.c_str());  // leave no /var/run/dpdk/<prefix> behind
  return rc;
}

// Engine microbenchmark: the stack's own per-packet cost, without syscalls.
//
// One net_ring port made with rte_eth_from_rings; this program owns both
// rings. It fills the port's RX ring with ICMP echo requests (and, in a
// second phase, ARP requests), runs the engine until every request is
// answered on the TX ring, recycles the replies as new requests, and reports
// TSC cycles per packet for the whole loop (rx_burst, parse, reply, tx).
// The peer, run side by side in the same process on the same port: a bare
// l2fwd-style loop (rx_burst, swap MACs, tx_burst) — the forwarding ceiling,
// as testpmd's macswap mode would be on this port.
//
// Usage: bench-engine-ring [packets] [rounds]   prints one JSON line per result.
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../support/ring_stack.hpp"
#include "services/udp_services.hpp"
#include "wire/udp.hpp"

using namespace dpdkstack;
using namespace dpdkstack::ringtest;

namespace {

constexpr uint16_t kBurst = 32;

void fill_echo(rte_mbuf* m, size_t data_len) {
  rte_pktmbuf_reset(m);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(42 + data_len)));
  if (p == nullptr) std::abort();  // data room is 2 KB: cannot happen
  write_echo_request(p, 1, data_len);
}

// A UDP datagram of `payload` bytes from the peer to the echo service (7),
// with its checksum (the stack verifies it, and computes the reply's).
void fill_udp(rte_mbuf* m, size_t payload) {
  rte_pktmbuf_reset(m);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(42 + payload)));
  if (p == nullptr) std::abort();
  wire::EthernetRepr{kStackMac, kPeerMac, wire::ethertype::kIpv4}.emit(p);
  for (size_t i = 0; i < payload; ++i) p[42 + i] = static_cast<uint8_t>(i * 7);
  wire::UdpRepr{40000, 7, static_cast<uint16_t>(payload)}.emit(p + 34, kPeerIp, kStackIp, true);
  wire::Ipv4Repr{kPeerIp, kStackIp, wire::ipproto::kUdp, 64, 0, 1, false, static_cast<uint16_t>(8 + payload)}.emit(
      p + 14, true);
}

void fill_arp(rte_mbuf* m) {
  rte_pktmbuf_reset(m);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 42));
  if (p == nullptr) std::abort();
  write_arp_request(p);
}

struct Result {
  double cycles_per_pkt;
  double mpps;
};

// Runs `total` packets through `step` (one loop of the responder), keeping
// up to `inflight` requests in the RX ring; replies are refilled as requests.
template <typename Step, typename Fill>
Result run(rte_ring* rx, rte_ring* tx, rte_mempool* pool, unsigned total, unsigned inflight, Step&& step,
           Fill&& fill) {
  std::vector<rte_mbuf*> bufs(inflight);
  if (rte_pktmbuf_alloc_bulk(pool, bufs.data(), inflight) != 0) {
    std::fprintf(stderr, "alloc failed\n");
    std::exit(1);
  }
  for (auto* m : bufs) fill(m);
  rte_ring_enqueue_bulk(rx, reinterpret_cast<void**>(bufs.data()), inflight, nullptr);
  unsigned done = 0;
  uint64_t cycles = 0;
  rte_mbuf* out[kBurst];
  while (done < total) {
    uint64_t t0 = rte_rdtsc();
    step();
    cycles += rte_rdtsc() - t0;
    unsigned n = rte_ring_dequeue_burst(tx, reinterpret_cast<void**>(out), kBurst, nullptr);
    for (unsigned i = 0; i < n; ++i) fill(out[i]);  // the generator's work, outside the timed step
    done += n;
    if (n) rte_ring_enqueue_bulk(rx, reinterpret_cast<void**>(out), n, nullptr);
  }
  // Drain what is still in flight.
  for (int i = 0; i < 1000 && rte_ring_count(rx) + rte_ring_count(tx) < inflight; ++i) step();
  RingStack::free_ring(rx);
  RingStack::free_ring(tx);
  double cpp = static_cast<double>(cycles) / done;
  return {cpp, static_cast<double>(rte_get_tsc_hz()) / cpp / 1e6};
}

}  // namespace

int main(int argc, char** argv) {
  unsigned total = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 2000000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  auto ring = RingStack::start("dstbench");
  if (!ring) return 1;
  rte_ring* rx = ring->rx();
  rte_ring* tx = ring->tx();
  uint16_t port = ring->port();
  Engine& engine = ring->engine();
  rte_mempool* pool = ring->pool();

  auto bare = [&] {  // the ceiling: l2fwd with a MAC swap
    rte_mbuf* pkts[kBurst];
    uint16_t n = rte_eth_rx_burst(port, 0, pkts, kBurst);
    for (uint16_t i = 0; i < n; ++i) {
      auto* p = rte_pktmbuf_mtod(pkts[i], rte_ether_hdr*);
      rte_ether_addr t = p->dst_addr;
      p->dst_addr = p->src_addr;
      p->src_addr = t;
    }
    uint16_t sent = rte_eth_tx_burst(port, 0, pkts, n);
    for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(pkts[i]);
  };
  auto stack_step = [&] { engine.poll_once(); };
  auto echo64 = [](rte_mbuf* b) { fill_echo(b, 56); };
  auto echo1472 = [](rte_mbuf* b) { fill_echo(b, 1472); };
  auto arp = [](rte_mbuf* b) { fill_arp(b); };
  auto udp64 = [](rte_mbuf* b) { fill_udp(b, 64); };
  auto udp1400 = [](rte_mbuf* b) { fill_udp(b, 1400); };
  ServicesConfig services;
  services.udp_echo = {true, 7};
  if (auto st = start_udp_services(ring->stack(), services); !st) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }

  struct Case {
    const char* name;
    unsigned inflight;
    void (*fill)(rte_mbuf*);
  };
  const Case cases[] = {{"icmp_echo_64B_x32", 32, +echo64},     {"icmp_echo_64B_x1", 1, +echo64},
                        {"icmp_echo_1500B_x32", 32, +echo1472}, {"arp_request_x32", 32, +arp},
                        {"udp_echo_64B_x32", 32, +udp64},       {"udp_echo_1400B_x32", 32, +udp1400}};
  for (const auto& c : cases) {
    std::vector<double> s_cpp, b_cpp;
    for (int r = 0; r < rounds; ++r) {  // interleaved, so both see the same machine
      s_cpp.push_back(run(rx, tx, pool, c.inflight == 1 ? total / 8 : total, c.inflight, stack_step, c.fill).cycles_per_pkt);
      b_cpp.push_back(run(rx, tx, pool, c.inflight == 1 ? total / 8 : total, c.inflight, bare, c.fill).cycles_per_pkt);
    }
    std::sort(s_cpp.begin(), s_cpp.end());
    std::sort(b_cpp.begin(), b_cpp.end());
    double s = s_cpp[s_cpp.size() / 2], b = b_cpp[b_cpp.size() / 2];
    double hz = static_cast<double>(rte_get_tsc_hz());
    std::printf("{\"case\": \"%s\", \"stack_cycles_per_pkt\": %.1f, \"bare_cycles_per_pkt\": %.1f, "
                "\"stack_mpps\": %.2f, \"bare_mpps\": %.2f, \"ratio_stack_over_bare_cycles\": %.2f, "
                "\"rounds\": %d, \"tsc_hz\": %.0f}\n",
                c.name, s, b, hz / s / 1e6, hz / b / 1e6, s / b, rounds, hz);
  }
  // Reassembly: UDP datagrams (to a port nobody serves, so after
  // reassembly each ends in a counted drop; its port-unreachable error is
  // rate limited; no checksum, so that nothing sums the payload) arriving as k fragments of at most 1500 bytes, fed in
  // batches of whole datagrams. Reported: TSC cycles per datagram and per
  // fragment; the peer is the bare loop forwarding the same fragments.
  for (size_t payload : {size_t{4000}, size_t{65507}}) {
    std::vector<std::vector<Bytes>> frames;  // per datagram, its fragments as Ethernet frames
    for (uint16_t id = 0; id < 64; ++id) {
      Ipv4Fields f;
      f.protocol = wire::ipproto::kUdp;
      f.ident = static_cast<uint16_t>(id + 1);
      Bytes udp(payload + 8, 0x5a);  // ports 0x5a5a: no socket there
      uint8_t* h = udp.data();
      if (h == nullptr) std::abort();  // never: payload + 8 bytes
      wire::store_be16(h + 4, static_cast<uint16_t>(udp.size()));
      wire::store_be16(h + 6, 0);  // no checksum: the case measures reassembly, not summing
      auto frags = ip_fragments(ipv4_datagram(f, udp), 1500);
      std::vector<Bytes> eth;
      for (auto& fr : frags) eth.push_back(eth_frame(fr));
      frames.push_back(std::move(eth));
    }
    size_t k = frames[0].size();
    size_t per_batch = std::max<size_t>(1, 1024 / k);
    unsigned datagrams = static_cast<unsigned>(std::max<size_t>(per_batch, total / 20 / k));
    auto feed = [&](auto&& step, uint64_t& cycles) {
      unsigned done = 0;
      while (done < datagrams) {
        size_t n = std::min<size_t>(per_batch, datagrams - done);
        for (size_t d = 0; d < n; ++d)
          for (const auto& fr : frames[(done + d) % frames.size()]) {
            rte_mbuf* m = rte_pktmbuf_alloc(pool);
            if (m == nullptr) std::abort();
            std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(fr.size())), fr.data(), fr.size());
            rte_ring_enqueue(rx, m);
          }
        while (rte_ring_count(rx) != 0) {
          uint64_t t0 = rte_rdtsc();
          step();
          cycles += rte_rdtsc() - t0;
        }
        RingStack::free_ring(tx);
        done += static_cast<unsigned>(n);
      }
    };
    std::vector<double> s_cpd, b_cpd;
    for (int r = 0; r < rounds; ++r) {
      uint64_t sc = 0, bc = 0;
      uint64_t before = engine.counters().reasm_ok;
      feed(stack_step, sc);
      if (engine.counters().reasm_ok - before != datagrams) {
        std::fprintf(stderr, "reassembly bench: %" PRIu64 " of %u datagrams reassembled\n",
                     engine.counters().reasm_ok - before, datagrams);
        return 1;
      }
      feed(bare, bc);
      s_cpd.push_back(static_cast<double>(sc) / datagrams);
      b_cpd.push_back(static_cast<double>(bc) / datagrams);
    }
    std::sort(s_cpd.begin(), s_cpd.end());
    std::sort(b_cpd.begin(), b_cpd.end());
    double s = s_cpd[s_cpd.size() / 2], b = b_cpd[b_cpd.size() / 2];
    std::printf("{\"case\": \"reassembly_udp_%zuB_%zufrags\", \"stack_cycles_per_datagram\": %.1f, "
                "\"stack_cycles_per_fragment\": %.1f, \"bare_cycles_per_fragment\": %.1f, "
                "\"ratio_stack_over_bare_cycles\": %.2f, \"datagrams\": %u, \"rounds\": %d}\n",
                payload, k, s, s / static_cast<double>(k), b / static_cast<double>(k), s / b, datagrams, rounds);
  }
  std::fprintf(stderr, "mbufs in use after shutdown: %u\n", ring->stop());
  return 0;
}

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
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "runtime/stack.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

using namespace dpdkstack;
using namespace dpdkstack::wire;

namespace {

const MacAddr kStackMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};
const Ipv4Addr kStackIp = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(10, 0, 0, 2);
constexpr uint16_t kBurst = 32;

void fill_echo(rte_mbuf* m, size_t data_len) {
  rte_pktmbuf_reset(m);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(42 + data_len)));
  if (p == nullptr) std::abort();  // data room is 2 KB: cannot happen
  EthernetRepr{kStackMac, kPeerMac, ethertype::kIpv4}.emit(p);
  std::memset(p + 42, 0xab, data_len);
  IcmpEchoRepr{true, 1, 1}.emit(p + 34, data_len);
  Ipv4Repr{kPeerIp, kStackIp, ipproto::kIcmp, 64, 0, 1, false, static_cast<uint16_t>(8 + data_len)}.emit(p + 14, true);
}

void fill_arp(rte_mbuf* m) {
  rte_pktmbuf_reset(m);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 42));
  if (p == nullptr) std::abort();
  EthernetRepr{MacAddr::broadcast(), kPeerMac, ethertype::kArp}.emit(p);
  ArpRepr{ArpOp::kRequest, kPeerMac, kPeerIp, MacAddr{}, kStackIp}.emit(p + 14);
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
  void* m = nullptr;
  while (rte_ring_dequeue(rx, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  while (rte_ring_dequeue(tx, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  double cpp = static_cast<double>(cycles) / done;
  return {cpp, static_cast<double>(rte_get_tsc_hz()) / cpp / 1e6};
}

}  // namespace

int main(int argc, char** argv) {
  unsigned total = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 2000000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const char* eal[] = {"bench-engine-ring", "-l", "0", "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
                       "--no-telemetry", "--log-level", "lib.*:error", "--file-prefix", "dstbench"};
  if (rte_eal_init(static_cast<int>(sizeof eal / sizeof eal[0]), const_cast<char**>(eal)) < 0) return 1;
  rte_ring* rx = rte_ring_create("bench_rx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* tx = rte_ring_create("bench_tx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  int port = rte_eth_from_rings("net_ring_bench", &rx, 1, &tx, 1, SOCKET_ID_ANY);
  if (port < 0) return 1;
  auto cfg = parse_config(R"({"ports": [{"address": "10.0.0.1/24", "mac": "02:00:00:00:00:01", "rx_desc": 64, "tx_desc": 64}],
                              "arp": {"static": [{"port": 0, "ip": "10.0.0.2", "mac": "02:00:00:00:00:02"}]}})");
  auto stack = Stack::create(*cfg, {});
  if (!stack) {
    std::fprintf(stderr, "%s\n", stack.error().message.c_str());
    return 1;
  }
  Engine& engine = *(*stack)->engines()[0];
  rte_mempool* pool = (*stack)->pools()[0];
  for (int i = 0; i < 100; ++i) engine.poll_once();  // gratuitous ARP out
  void* m = nullptr;
  while (rte_ring_dequeue(tx, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));

  auto bare = [&] {  // the ceiling: l2fwd with a MAC swap
    rte_mbuf* pkts[kBurst];
    uint16_t n = rte_eth_rx_burst(static_cast<uint16_t>(port), 0, pkts, kBurst);
    for (uint16_t i = 0; i < n; ++i) {
      auto* p = rte_pktmbuf_mtod(pkts[i], rte_ether_hdr*);
      rte_ether_addr t = p->dst_addr;
      p->dst_addr = p->src_addr;
      p->src_addr = t;
    }
    uint16_t sent = rte_eth_tx_burst(static_cast<uint16_t>(port), 0, pkts, n);
    for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(pkts[i]);
  };
  auto stack_step = [&] { engine.poll_once(); };
  auto echo64 = [](rte_mbuf* b) { fill_echo(b, 56); };
  auto echo1472 = [](rte_mbuf* b) { fill_echo(b, 1472); };
  auto arp = [](rte_mbuf* b) { fill_arp(b); };

  struct Case {
    const char* name;
    unsigned inflight;
    void (*fill)(rte_mbuf*);
  };
  const Case cases[] = {{"icmp_echo_64B_x32", 32, +echo64},     {"icmp_echo_64B_x1", 1, +echo64},
                        {"icmp_echo_1500B_x32", 32, +echo1472}, {"arp_request_x32", 32, +arp}};
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
  unsigned in_use = rte_mempool_in_use_count(pool);
  (*stack)->shutdown();
  std::fprintf(stderr, "mbufs in use before shutdown (rx ring fill): %u\n", in_use);
  stack->reset();
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(runtime_dir.c_str());  // leave no /var/run/dpdk/<prefix> behind
  return 0;
}

// A whole Stack on a net_ring port whose two rings the test program owns:
// frames enqueued on rx() are what the port receives, frames dequeued from
// tx() are what it sent. Shared by the component tests and the engine
// microbenchmark. EAL runs on one lcore, without hugepages, PCI or
// telemetry, under its own file prefix.
//
// The stack answers as 10.0.0.1 / 02:00:00:00:00:01; the peer is 10.0.0.2 /
// 02:00:00:00:00:02, known through a static ARP entry.
#pragma once

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "runtime/stack.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack::ringtest {

inline const MacAddr kStackMac{{0x02, 0, 0, 0, 0, 0x01}};
inline const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr Ipv4Addr kStackIp = Ipv4Addr::from_octets(10, 0, 0, 1);
inline constexpr Ipv4Addr kPeerIp = Ipv4Addr::from_octets(10, 0, 0, 2);

// Writes an ICMP echo request from `src` to the stack (Ethernet, IPv4, ICMP,
// data of `data_len` bytes: byte i is i*7+seq) into `out`, which must hold
// 42 + data_len bytes.
inline void write_echo_request(uint8_t* out, uint16_t seq, size_t data_len, Ipv4Addr src = kPeerIp) {
  using namespace wire;
  EthernetRepr{kStackMac, kPeerMac, ethertype::kIpv4}.emit(out);
  for (size_t i = 0; i < data_len; ++i) out[42 + i] = static_cast<uint8_t>(i * 7 + seq);
  IcmpEchoRepr{true, 0x1234, seq}.emit(out + 34, data_len);
  Ipv4Repr{src, kStackIp, ipproto::kIcmp, 64, 0, seq, false, static_cast<uint16_t>(8 + data_len)}.emit(out + 14,
                                                                                                       true);
}

// Writes a broadcast ARP request from the peer's MAC into `out` (42 bytes).
inline void write_arp_request(uint8_t* out, Ipv4Addr sender = kPeerIp, Ipv4Addr target = kStackIp) {
  using namespace wire;
  EthernetRepr{MacAddr::broadcast(), kPeerMac, ethertype::kArp}.emit(out);
  ArpRepr{ArpOp::kRequest, kPeerMac, sender, MacAddr{}, target}.emit(out + 14);
}

class RingStack {
 public:
  // Starts EAL and the stack; `arp_json` is the config's "arp" object
  // without the static entry for the peer, which is always added.
  static std::unique_ptr<RingStack> start(const char* prefix, const std::string& arp_json = "") {
    const char* eal[] = {"ring-stack", "-l", "0", "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
                         "--no-telemetry", "--log-level", "lib.*:error", "--file-prefix", prefix};
    if (rte_eal_init(static_cast<int>(sizeof eal / sizeof eal[0]), const_cast<char**>(eal)) < 0) {
      std::fprintf(stderr, "ring-stack: EAL init failed\n");
      return nullptr;
    }
    std::unique_ptr<RingStack> r(new RingStack());
    r->rx_ = rte_ring_create("ring_stack_rx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    r->tx_ = rte_ring_create("ring_stack_tx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r->rx_ == nullptr || r->tx_ == nullptr) return fail("cannot create rings");
    r->port_ = rte_eth_from_rings("net_ring_stack", &r->rx_, 1, &r->tx_, 1, SOCKET_ID_ANY);
    if (r->port_ < 0) return fail("cannot create the ring port");
    std::string json = R"({"ports": [{"address": "10.0.0.1/24", "mac": "02:00:00:00:00:01", "rx_desc": 64,
                          "tx_desc": 64}], "arp": {)" + arp_json + (arp_json.empty() ? "" : ", ") +
                       R"("static": [{"port": 0, "ip": "10.0.0.2", "mac": "02:00:00:00:00:02"}]}})";
    auto cfg = parse_config(json);
    if (!cfg) return fail(cfg.error().message);
    auto stack = Stack::create(*cfg, {});
    if (!stack) return fail(stack.error().message);
    r->stack_ = std::move(*stack);
    // The first timer step sends the gratuitous ARP; drain it so runs start clean.
    for (int i = 0; i < 300 && rte_ring_count(r->tx_) == 0; ++i) {
      r->engine().poll_once();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    free_ring(r->tx_);
    return r;
  }

  // Stops the stack and EAL; returns the mbufs still in use after shutdown
  // (0 unless something leaked). Removes the EAL runtime directory.
  unsigned stop() {
    auto pools = stack_->pools();
    stack_->shutdown();
    free_ring(tx_);
    free_ring(rx_);
    unsigned in_use = 0;
    for (auto* p : pools) in_use += rte_mempool_in_use_count(p);
    stack_.reset();
    std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    rmdir(runtime_dir.c_str());
    return in_use;
  }

  Stack& stack() { return *stack_; }
  Engine& engine() { return *stack_->engines()[0]; }
  rte_mempool* pool() { return stack_->pools()[0]; }
  rte_ring* rx() { return rx_; }
  rte_ring* tx() { return tx_; }
  uint16_t port() const { return static_cast<uint16_t>(port_); }

  static void free_ring(rte_ring* ring) {
    void* m = nullptr;
    while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }

 private:
  RingStack() = default;
  static std::unique_ptr<RingStack> fail(const std::string& why) {
    std::fprintf(stderr, "ring-stack: %s\n", why.c_str());
    return nullptr;
  }

  rte_ring* rx_ = nullptr;
  rte_ring* tx_ = nullptr;
  int port_ = -1;
  std::unique_ptr<Stack> stack_;
};

}  // namespace dpdkstack::ringtest

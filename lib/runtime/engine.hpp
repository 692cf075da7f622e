// The per-lcore engine: one run-to-completion loop over this lcore's queues.
//
// Contract:
// - An Engine is created on the main lcore, then run() on exactly one lcore;
//   everything it mutates (ARP replica, tx buffers, counters, snapshots) is
//   its own. Other threads only read `counters()` racily (see counters.hpp)
//   and ask for ARP snapshots through an atomic request/done pair.
// - Each loop: rx burst on every owned queue, the whole burst through
//   ethernet -> arp | ipv4 -> icmp, mailboxes drained, timers run (ARP
//   retries/ageing, snapshot requests) once a millisecond, tx buffers flushed
//   once; what the PMD refuses is freed and counted (tx_ring_full).
// - Every mbuf that enters leaves exactly once: transmitted, held by the ARP
//   replica (which hands it back), or freed at one drop site that counts a
//   DropReason.
#pragma once

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "l2/arp_cache.hpp"
#include "port/port.hpp"
#include "runtime/mailbox.hpp"
#include "runtime/trace.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {

// What every engine shares: read-only once the engines run, but for the
// stop flag.
struct StackContext {
  std::vector<PortInfo> ports;  // indexed by DPDK port id
  ArpCacheConfig arp;           // in TSC cycles
  std::vector<StaticArpConfig> static_arp;
  std::vector<rte_mempool*> pools;  // by NUMA socket; null where unused
  // The pool on `socket`, or the first pool when that socket has none.
  rte_mempool* pool_for(int socket) const {
    if (socket >= 0 && static_cast<size_t>(socket) < pools.size() && pools[static_cast<size_t>(socket)] != nullptr)
      return pools[static_cast<size_t>(socket)];
    for (auto* p : pools)
      if (p != nullptr) return p;
    return nullptr;
  }
  Mailboxes* mail = nullptr;
  Trace* trace = nullptr;       // null unless --trace
  uint64_t tsc_hz = 0;
  std::atomic<bool> stop{false};
};

struct ArpSnapshotEntry {
  uint16_t port = 0;
  Ipv4Addr ip;
  MacAddr mac;
  ArpState state = ArpState::kIncomplete;
  uint64_t expires_in_ms = 0;  // Reachable only
  uint32_t pending = 0;
};

class Engine {
 public:
  static constexpr uint16_t kBurst = 32;

  Engine(StackContext& ctx, unsigned index, unsigned lcore_id);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs until ctx.stop. `control`, when set, is called about every
  // millisecond from this loop (the single-lcore console/stats case).
  void run(const std::function<void()>& control);
  // One loop iteration; returns the packets received.
  unsigned poll_once();
  // Processes frames as if received on `port` (ownership passes to the
  // engine). The rx path of poll_once, without the PMD; used by component
  // tests and by local delivery.
  void receive(uint16_t port, rte_mbuf** pkts, uint16_t n) {
    now_ = rte_rdtsc();
    process_burst(port, pkts, n);
  }

  unsigned index() const { return index_; }
  unsigned lcore_id() const { return lcore_id_; }
  const LcoreCounters& counters() const { return counters_; }
  void clear_counters_request() { clear_req_.fetch_add(1, std::memory_order_release); }

  // A copy of this engine's ARP replica. Safe from any thread; waits (at most
  // `timeout_ms`) for the engine to take the copy on its own lcore.
  std::vector<ArpSnapshotEntry> arp_snapshot(unsigned timeout_ms = 1000);

 private:
  struct TxQueue {
    bool owned = false;
    uint16_t queue = 0;
    rte_eth_dev_tx_buffer* buf = nullptr;
  };

  void process_burst(uint16_t port, rte_mbuf** pkts, uint16_t n);
  void eth_input(uint16_t port, rte_mbuf* m);
  void arp_input(uint16_t port, rte_mbuf* m);
  void ipv4_input(uint16_t port, rte_mbuf* m);
  void icmp_input(uint16_t port, rte_mbuf* m, wire::Ipv4View ip, bool to_broadcast);
  // m starts with room for an Ethernet header, then the complete IPv4
  // datagram that `ip` views (checked or built by the caller).
  void ipv4_output(uint16_t port, rte_mbuf* m, wire::Ipv4View ip, Ipv4Addr next_hop);
  void send_frame(uint16_t port, rte_mbuf* m);
  void broadcast_arp_request(uint16_t port, Ipv4Addr target);
  void send_arp_request(uint16_t port, Ipv4Addr target);
  void send_gratuitous_arp(uint16_t port);
  void arp_learned(uint16_t port, Ipv4Addr ip, const MacAddr& mac, bool create, bool tell_replicas);
  void drop(rte_mbuf* m, DropReason r);
  void drain_mailboxes();
  void run_timers(uint64_t now);
  void fill_snapshot(std::vector<ArpSnapshotEntry>& out, uint64_t now) const;
  void flush_tx();

  StackContext& ctx_;
  unsigned index_;
  unsigned lcore_id_;
  LcoreCounters counters_;
  ArpCache arp_;
  std::vector<TxQueue> txq_;  // by port id
  std::vector<Ipv4Addr> local_addrs_;  // every configured port's address
  std::vector<std::pair<uint16_t, uint16_t>> rxq_;  // (port, queue) pairs this engine polls and sends on
  rte_mempool* pool_ = nullptr;  // on this lcore's socket: packets we build
  uint64_t now_ = 0;
  uint64_t next_timer_ = 0;
  uint64_t timer_period_ = 0;
  std::vector<uint16_t> garp_pending_;  // ports still to announce (link not up yet)
  uint64_t next_link_check_ = 0;

  std::mutex snap_readers_;  // serialises control-plane readers only
  std::atomic<uint64_t> snap_req_{0};
  std::atomic<uint64_t> snap_done_{0};
  std::vector<ArpSnapshotEntry> snap_;
  std::atomic<uint64_t> clear_req_{0};
  uint64_t clear_done_ = 0;
};

}  // namespace dpdkstack

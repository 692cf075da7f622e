// The per-lcore engine: one run-to-completion loop over this lcore's queues.
//
// Contract:
// - An Engine is created on the main lcore, then run() on exactly one lcore;
//   everything it mutates (ARP replica, routes, reassembly, tx buffers,
//   counters) is
//   its own. Other threads only read `counters()` racily (see counters.hpp)
//   and run control jobs (route changes, copies for the console) on its
//   lcore through call().
// - Each loop: rx burst on every owned queue, the whole burst through
//   ethernet -> arp | ipv4 -> (reassembly) -> icmp | forward, the internal
//   loopback queue, mailboxes drained, timers run (ARP retries/ageing,
//   reassembly expiry, control jobs) once a millisecond, tx buffers flushed
//   once; what the PMD refuses waits in a bounded per-port backlog
//   (kTxBacklog) for the next flush; a frame that finds the backlog full is
//   freed and counted (tx_ring_full), and API sends check tx_room() first
//   so that they can refuse with a status instead.
// - Every mbuf that enters leaves exactly once: transmitted, held by the ARP
//   replica or the reassembly table (which hand it back), queued on the
//   loopback or a mailbox to another engine, or freed at one drop site that
//   counts a DropReason.
// - IP output: ip_send() for our own datagrams (route lookup, loopback for
//   our own addresses, path MTU, fragmentation), forward() for others'
//   (RFC 1812 checks, TTL, ICMP errors); both end in neigh_output (ARP, or
//   nothing on an L3 port) and link_output (fragments, then the tx buffer).
// - L3 ports (net_tun) carry bare IP packets: on receive a 14-byte Ethernet
//   header is prepended (so every layer sees one frame shape), on transmit
//   it is taken off again.
#pragma once

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "core/token_bucket.hpp"
#include "filter/table.hpp"
#include "ip/pmtu_cache.hpp"
#include "ip/reassembly.hpp"
#include "ip/route_table.hpp"
#include "l2/arp_cache.hpp"
#include "port/port.hpp"
#include "runtime/mailbox.hpp"
#include "runtime/tcp.hpp"
#include "runtime/trace.hpp"
#include "runtime/udp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {

// The IP layer's settings, times in TSC cycles.
struct IpSettings {
  bool forwarding = true;
  uint8_t default_ttl = 64;
  uint32_t max_routes = 1024;
  ReassemblyConfig reassembly;
  uint64_t pmtu_timeout = 0;
  uint32_t pmtu_max_entries = 1024;
  uint32_t icmp_error_rate = 1000;
  uint32_t icmp_error_burst = 50;
};

// Echo requests the console's `ping` sent and the replies that came back,
// written by whichever engine receives a reply (one slot a sequence number).
struct PingBoard {
  static constexpr size_t kSlots = 1024;
  std::atomic<uint16_t> ident{0};  // 0: no ping running
  std::array<std::atomic<uint64_t>, kSlots> sent_tsc{};
  std::array<std::atomic<uint64_t>, kSlots> reply_tsc{};
  std::array<std::atomic<uint32_t>, kSlots> reply_bytes{};
  std::array<std::atomic<uint8_t>, kSlots> reply_ttl{};
};

// What every engine shares: read-only once the engines run, but for the
// stop flag and the ping board.
struct StackContext {
  std::vector<PortInfo> ports;  // indexed by DPDK port id
  ArpCacheConfig arp;           // in TSC cycles
  std::vector<StaticArpConfig> static_arp;
  IpSettings ip;
  std::vector<rte_mempool*> indirect_pools;  // by NUMA socket: fragments' data mbufs
  PingBoard ping;
  UdpTableConfig udp;               // every engine's UDP socket table (seed drawn per engine)
  TcpConfig tcp;                    // every engine's TCP settings
  std::array<uint64_t, 2> isn_key{};  // RFC 6528's secret, one per stack
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

// A received ICMP error, as handed to the protocol it concerns (RFC 1122
// 3.2.2.1): the quoted datagram's addresses, protocol and first 8 payload
// bytes (the ports, for UDP and TCP).
struct IcmpErrorInfo {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t next_hop_mtu = 0;
  Ipv4Addr reporter;  // who sent the error
  Ipv4Addr src, dst;  // of the quoted datagram (src is ours)
  uint8_t protocol = 0;
  std::array<uint8_t, 8> l4{};
};

class Engine {
 public:
  static constexpr uint16_t kBurst = 32;
  static constexpr uint16_t kLoopbackPort = 0xffff;  // ingress "port" of the loopback path
  static constexpr uint16_t kNoPort = 0xfffe;         // no port (the output hook's ingress)
  static constexpr size_t kLoopbackSize = 1024;

  Engine(StackContext& ctx, unsigned index, unsigned lcore_id);
  // What can fail at start (the routing table's memory): the table, filled
  // with `routes` (connected and configured, port ids resolved); before run().
  Status init(const std::vector<Route>& routes);
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

  // Runs `fn` on this engine's lcore (at its next timer step) and waits for
  // it, at most `timeout_ms`; directly when called from that lcore or while
  // the engine is not running. Control plane only (console, telemetry);
  // callers are serialised. `fn` must own what it captures: after a timeout
  // it may still run later. Returns false on timeout.
  bool call(std::function<void(Engine&)> fn, unsigned timeout_ms = 2000);
  // Set by the Stack around the engine's life on a worker lcore: while
  // launched, call() queues its job even before run() has begun.
  void set_launched(bool on) { launched_.store(on, std::memory_order_release); }

  // On the engine's lcore (through call()): the routing table, the
  // reassembly and path-MTU tables, and sending an echo request.
  RouteTable& routes() { return *routes_; }
  const Reassembler<rte_mbuf*>& reassembly() const { return reasm_; }
  const PmtuCache& pmtu() const { return pmtu_; }
  uint64_t now() const { return now_; }
  // Sends an ICMP echo request from the address routing picks (or from
  // `src` when set); false when no mbuf or no route.
  bool send_echo_request(Ipv4Addr dst, uint16_t ident, uint16_t seq, uint16_t data_len);
  // Received ICMP errors are handed to the handler of their protocol (UDP
  // and TCP register theirs); the last few are kept for `show ip`.
  using IcmpErrorHandler = std::function<void(const IcmpErrorInfo&)>;
  void set_icmp_error_handler(uint8_t protocol, IcmpErrorHandler h) { icmp_handlers_[protocol] = std::move(h); }
  const std::vector<IcmpErrorInfo>& recent_icmp_errors() const { return recent_errors_; }
  // The filter table (filter/table.hpp), on this lcore: set_filter swaps
  // the table between bursts (the caller keeps the old one alive until
  // every engine has moved, then frees it) and zeroes the rule counters.
  void set_filter(std::shared_ptr<const FilterTable> table);
  const FilterTable* filter() const { return filter_.get(); }
  struct FilterRuleCount {
    uint64_t packets = 0, bytes = 0;
    uint64_t rate_dropped = 0;  // rate_limit rules: packets over the rate
  };
  // Per rule of the current table (same order).
  const std::vector<FilterRuleCount>& filter_counts() const { return filter_counts_; }
  // UDP sockets and the application API (runtime/udp.hpp), on this lcore.
  Udp& udp() { return udp_; }
  const Udp& udp() const { return udp_; }
  // TCP connections, listeners and the application API (runtime/tcp.hpp), on this lcore.
  Tcp& tcp() { return tcp_; }
  const Tcp& tcp() const { return tcp_; }
  // The mempool this engine builds packets from.
  rte_mempool* pool() const { return pool_; }
  // Frames the TX backlog of `port` can still take (0 when we have no queue).
  uint16_t tx_room(uint16_t port) const {
    const auto& t = txq_[port];
    return t.owned ? static_cast<uint16_t>(kTxBacklog - t.len) : 0;
  }

 private:
  struct TxQueue {
    bool owned = false;
    uint16_t queue = 0;
    uint16_t len = 0;             // frames waiting in pkts, oldest first
    rte_mbuf** pkts = nullptr;    // kTxBacklog slots
  };

  struct ControlJob {
    std::function<void(Engine&)> fn;
    std::atomic<bool> done{false};
  };
  using ControlQueue = boost::lockfree::spsc_queue<std::shared_ptr<ControlJob>*, boost::lockfree::capacity<64>>;

  friend class Udp;  // the UDP and TCP layers use the IP output path and counters
  friend class Tcp;

  void process_burst(uint16_t port, rte_mbuf** pkts, uint16_t n);
  void eth_input(uint16_t port, rte_mbuf* m);
  void arp_input(uint16_t port, rte_mbuf* m);
  void ipv4_input(uint16_t port, rte_mbuf* m);
  // A whole datagram for one of our addresses (reassembled or not).
  void ipv4_deliver(uint16_t port, rte_mbuf* m, wire::Ipv4View ip, bool to_broadcast);
  // Takes a fragment; returns the reassembled datagram once complete, else
  // nullptr (the fragment is held or dropped).
  rte_mbuf* reassemble(rte_mbuf* m, wire::Ipv4View ip);
  void forward(uint16_t port, rte_mbuf* m, wire::Ipv4View ip);
  void icmp_input(uint16_t port, rte_mbuf* m, wire::Ipv4View ip, bool to_broadcast);
  void icmp_error_input(rte_mbuf* m, wire::Ipv4View ip, uint8_t* icmp, size_t icmp_len);
  // RFC 792 / RFC 1122 3.2.2 / RFC 1812 4.3.2: an error about `orig` (not
  // consumed) to its source, unless the rules say never (an error, a
  // broadcast, a non-first fragment, a source that is not one host) or the
  // rate limit is spent. `local`: the error is about a datagram for us (its
  // source address is the one the datagram was sent to).
  void icmp_error(rte_mbuf* orig, uint8_t type, uint8_t code, uint16_t mtu, bool local);
  // Our own datagram: m starts with room for an Ethernet header, then the
  // complete datagram with every field but the checksum set.
  void ip_send(rte_mbuf* m);
  void loopback(rte_mbuf* m);
  void run_loopback();
  void neigh_output(uint16_t port, rte_mbuf* m, Ipv4Addr next_hop);
  // The frame's destination MAC is set; fragments when it exceeds the MTU.
  void link_output(uint16_t port, rte_mbuf* m);
  void send_frame(uint16_t port, rte_mbuf* m);
  void fill_ip_checksum(uint16_t port, rte_mbuf* m, wire::Ipv4View ip);
  bool is_local(Ipv4Addr a) const;
  Ipv4Addr source_for(Ipv4Addr dst) const;
  void arp_gave_up(rte_mbuf* m);
  void pmtu_learned(Ipv4Addr dst, uint16_t mtu, uint32_t datagram_len, bool tell_replicas);
  void run_control_jobs();
  void broadcast_arp_request(uint16_t port, Ipv4Addr target);
  void send_arp_request(uint16_t port, Ipv4Addr target);
  void send_gratuitous_arp(uint16_t port);
  void arp_learned(uint16_t port, Ipv4Addr ip, const MacAddr& mac, bool create, bool tell_replicas);
  void drop(rte_mbuf* m, DropReason r);
  void drain_mailboxes();
  void run_timers(uint64_t now);
  void fill_snapshot(std::vector<ArpSnapshotEntry>& out, uint64_t now) const;
  // Sends `msg` to every other engine's mailbox (counting the full ones).
  void tell_other_engines(const MailMessage& msg);
  // A configured network's directed broadcast (never a host's address).
  bool is_our_broadcast(Ipv4Addr a) const {
    for (Ipv4Addr b : broadcasts_)
      if (a == b) return true;
    return false;
  }
  // A new datagram of ours: an mbuf with room for the Ethernet and a
  // 20-byte IPv4 header and `l4_len` bytes, whose first byte `*l4` points
  // to; nullptr when the pool is empty (counted). send_datagram() writes the
  // IPv4 header and sends it (ip_send).
  rte_mbuf* alloc_datagram(size_t l4_len, uint8_t** l4);
  void send_datagram(rte_mbuf* m, Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, uint8_t tos = 0, bool df = false);
  void flush_tx();
  void flush_queue(uint16_t port, TxQueue& t);
  // The filter hook: true when the datagram may go on; false when a rule or
  // the policy consumed it (dropped or rejected, counted). in/out ports:
  // DPDK port ids, or kLoopbackPort / kNoPort.
  bool filter_pass(FilterHook hook, rte_mbuf* m, wire::Ipv4View ip, uint16_t in_port, uint16_t out_port) {
    if (!filter_active_[static_cast<size_t>(hook)]) [[likely]] return true;
    return run_filter(hook, m, ip, in_port, out_port);
  }
  bool run_filter(FilterHook hook, rte_mbuf* m, wire::Ipv4View ip, uint16_t in_port, uint16_t out_port);
  void filter_reject(FilterHook hook, rte_mbuf* m, wire::Ipv4View ip, RejectWith how);
  void send_tcp_reset(rte_mbuf* m, wire::Ipv4View ip);

  StackContext& ctx_;
  unsigned index_;
  unsigned lcore_id_;
  LcoreCounters counters_;
  ArpCache arp_;
  std::vector<TxQueue> txq_;  // by port id
  std::vector<Ipv4Addr> local_addrs_;  // every configured port's address
  std::unique_ptr<RouteTable> routes_;
  Reassembler<rte_mbuf*> reasm_;
  std::vector<Reassembler<rte_mbuf*>::Piece> pieces_;  // scratch: a completed datagram
  std::vector<rte_mbuf*> frag_released_;               // scratch: fragments a drop released
  std::vector<rte_mbuf*> frag_out_;                    // scratch: rte_ipv4_fragment_packet output
  PmtuCache pmtu_;
  TokenBucket icmp_bucket_;
  std::array<rte_mbuf*, kLoopbackSize> loop_q_{};
  size_t loop_head_ = 0, loop_len_ = 0;
  std::array<IcmpErrorHandler, 256> icmp_handlers_;
  std::vector<IcmpErrorInfo> recent_errors_;  // the last kRecentErrors, oldest first
  uint16_t ident_ = 0;                        // IP identification of our datagrams
  rte_mempool* indirect_pool_ = nullptr;
  std::mutex callers_;                        // serialises control-plane callers of call()
  ControlQueue control_q_;
  std::atomic<bool> running_{false};
  std::atomic<bool> launched_{false};
  std::vector<Ipv4Addr> broadcasts_;  // every configured port's directed broadcast
  std::vector<std::pair<uint16_t, uint16_t>> rxq_;  // (port, queue) pairs this engine polls and sends on
  rte_mempool* pool_ = nullptr;  // on this lcore's socket: packets we build
  uint64_t now_ = 0;
  uint64_t next_timer_ = 0;
  uint64_t timer_period_ = 0;
  std::vector<uint16_t> garp_pending_;  // ports still to announce (link not up yet)
  uint64_t next_link_check_ = 0;

  Udp udp_;
  Tcp tcp_;
  std::shared_ptr<const FilterTable> filter_;
  std::array<bool, kFilterHooks> filter_active_{};  // rules on the hook, or a drop policy
  std::vector<FilterRuleCount> filter_counts_;
  std::vector<TokenBucket> filter_buckets_;  // per rule (rate_limit rules use theirs)

  std::atomic<uint64_t> clear_req_{0};
  uint64_t clear_done_ = 0;
};

}  // namespace dpdkstack

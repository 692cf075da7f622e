// Per-lcore counters: packet totals and drops by named reason.
//
// Contract: each LcoreCounters belongs to one lcore, which is the only writer.
// Readers on other lcores (console, telemetry, stats printer) read the plain
// 64-bit words racily; on the platforms DPDK supports an aligned 64-bit load
// is atomic, so a reader sees a value that was true a moment ago. No locks.
//
// Every dropped packet is counted exactly once, at the place that frees it,
// under one of the reasons below (gVisor's habit: one named counter a drop).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dpdkstack {

#define DPDKSTACK_DROP_REASONS(X)                                                        \
  X(eth_runt, "frame shorter than an Ethernet header")                                   \
  X(eth_multisegment, "frame spread over several mbufs (not produced at our MTUs)")       \
  X(eth_not_for_us, "destination MAC neither ours, broadcast nor a joined group")       \
  X(eth_unknown_type, "EtherType we do not speak")                                       \
  X(arp_truncated, "ARP packet shorter than 28 bytes")                                   \
  X(arp_unsupported, "ARP hardware/protocol type or lengths not Ethernet/IPv4")          \
  X(arp_bad_op, "ARP operation neither request nor reply")                               \
  X(arp_bad_sender, "ARP sender address broadcast, multicast or our own")                \
  X(arp_not_for_us, "ARP target address not ours (after merge)")                         \
  X(arp_pending_full, "packet waiting for ARP dropped: pending queue full")              \
  X(arp_resolve_failed, "packet waiting for ARP dropped: no reply after retries")        \
  X(ipv4_truncated, "IPv4 header shorter than 20 bytes")                                 \
  X(ipv4_bad_version, "IP version not 4")                                                \
  X(ipv4_bad_ihl, "IHL below 5 or header past the frame")                                \
  X(ipv4_bad_total_length, "total length below IHL or past the frame")                   \
  X(ipv4_bad_checksum, "IPv4 header checksum wrong")                                     \
  X(ipv4_bad_source, "source broadcast, multicast, zero, loopback, class E or ours")      \
  X(ipv4_link_broadcast, "unicast datagram sent to a link-layer broadcast/multicast")      \
  X(ipv4_not_for_us, "destination not ours (forwarding comes later)")                    \
  X(ipv4_fragment, "fragment (reassembly comes later)")                                  \
  X(ipv4_unknown_protocol, "IP protocol we do not speak")                                \
  X(ipv4_no_route, "no connected subnet for the destination")                            \
  X(ipv4_mtu_exceeded, "datagram larger than the egress MTU")                            \
  X(icmp_truncated, "ICMP message shorter than 8 bytes")                                 \
  X(icmp_bad_checksum, "ICMP checksum wrong")                                            \
  X(icmp_unhandled_type, "ICMP type we do not act on")                                   \
  X(icmp_broadcast_echo, "echo request to a broadcast address ignored (RFC 1122 3.2.2.6)") \
  X(tx_ring_full, "PMD refused the packet at tx_burst")                                  \
  X(tx_no_queue, "this engine has no TX queue on the port")                              \
  X(no_mbuf, "mempool empty when building a packet")

enum class DropReason : uint8_t {
#define X(name, text) name,
  DPDKSTACK_DROP_REASONS(X)
#undef X
      kCount
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

constexpr std::string_view drop_reason_name(DropReason r) {
  constexpr std::array<std::string_view, kDropReasonCount> names = {
#define X(name, text) #name,
      DPDKSTACK_DROP_REASONS(X)
#undef X
  };
  return names[static_cast<size_t>(r)];
}

constexpr std::string_view drop_reason_text(DropReason r) {
  constexpr std::array<std::string_view, kDropReasonCount> texts = {
#define X(name, text) text,
      DPDKSTACK_DROP_REASONS(X)
#undef X
  };
  return texts[static_cast<size_t>(r)];
}

struct alignas(64) LcoreCounters {
  uint64_t loops = 0;
  uint64_t busy_loops = 0;     // loops that received at least one packet
  uint64_t busy_cycles = 0;    // TSC cycles spent in loops that did work
  uint64_t total_cycles = 0;   // TSC cycles spent in the loop at all
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t arp_in = 0;
  uint64_t arp_replies_sent = 0;
  uint64_t arp_replies_in = 0;  // replies to us, absorbed after learning
  uint64_t arp_requests_sent = 0;
  uint64_t ipv4_in = 0;
  uint64_t icmp_echo_replies = 0;
  uint64_t mailbox_full = 0;   // ARP updates not delivered to a replica
  std::array<uint64_t, kDropReasonCount> drops{};

  void drop(DropReason r) { ++drops[static_cast<size_t>(r)]; }
  uint64_t drop_total() const {
    uint64_t t = 0;
    for (auto d : drops) t += d;
    return t;
  }
};

}  // namespace dpdkstack

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
  X(eth_multisegment, "received frame spread over several mbufs (not produced at our MTUs)") \
  X(eth_not_for_us, "destination MAC neither ours, broadcast nor a joined group")       \
  X(eth_unknown_type, "EtherType we do not speak")                                       \
  X(arp_truncated, "ARP packet shorter than 28 bytes")                                   \
  X(arp_unsupported, "ARP hardware/protocol type or lengths not Ethernet/IPv4")          \
  X(arp_bad_op, "ARP operation neither request nor reply")                               \
  X(arp_bad_sender, "ARP sender address broadcast, multicast or our own")                \
  X(arp_not_for_us, "ARP target address not ours (after merge)")                         \
  X(arp_pending_full, "packet waiting for ARP dropped: pending queue full")              \
  X(arp_resolve_failed, "packet waiting for ARP dropped: no reply after retries (host unreachable sent)") \
  X(ipv4_truncated, "IPv4 header shorter than 20 bytes")                                 \
  X(ipv4_bad_version, "IP version not 4")                                                \
  X(ipv4_bad_ihl, "IHL below 5 or header past the frame")                                \
  X(ipv4_bad_total_length, "total length below IHL or past the frame")                   \
  X(ipv4_bad_checksum, "IPv4 header checksum wrong")                                     \
  X(ipv4_bad_source, "source broadcast, multicast, zero, loopback, class E or ours")      \
  X(ipv4_link_broadcast, "unicast datagram sent to a link-layer broadcast/multicast")      \
  X(ipv4_forwarding_disabled, "destination not ours and forwarding is off")            \
  X(ipv4_not_forwardable, "destination never forwarded (RFC 1812: 0/8, 127/8, class D/E, broadcast)") \
  X(ipv4_ttl_exceeded, "TTL would reach 0 when forwarding (time exceeded sent)")       \
  X(ipv4_frag_needed, "too big for the egress MTU with DF set (frag needed sent)")      \
  X(ipv4_unknown_protocol, "IP protocol we do not speak (protocol unreachable sent)")   \
  X(ipv4_no_route, "no route to the destination")                                       \
  X(ipv4_mtu_exceeded, "own datagram with DF set larger than the path MTU")             \
  X(frag_duplicate, "fragment already held (same offset and length), ignored")          \
  X(frag_overlap, "fragment overlaps held data: whole datagram dropped")                \
  X(frag_too_big, "fragment ends past 65535 bytes (ping of death): datagram dropped")   \
  X(frag_inconsistent, "fragment length/offset contradicts the datagram: dropped")      \
  X(frag_too_many, "datagram over ip.reassembly.max_fragments: dropped")                \
  X(frag_table_full, "reassembly table full (flows or fragments)")                      \
  X(frag_timeout, "datagram not complete within ip.reassembly.timeout_ms")              \
  X(frag_tiny, "TCP fragment too small to hold the header (RFC 1858)")                 \
  X(icmp_truncated, "ICMP message shorter than 8 bytes")                                 \
  X(icmp_bad_checksum, "ICMP checksum wrong")                                            \
  X(icmp_unhandled_type, "ICMP type we do not act on")                                   \
  X(icmp_bad_quote, "ICMP error quoting too little, or a datagram we did not send")      \
  X(icmp_broadcast_echo, "echo request to a broadcast address ignored (RFC 1122 3.2.2.6)") \
  X(udp_truncated, "UDP datagram shorter than its 8-byte header")                       \
  X(udp_bad_length, "UDP length below 8 or past the IP payload")                         \
  X(udp_bad_checksum, "UDP checksum wrong")                                              \
  X(udp_no_socket, "no UDP socket on the port (port unreachable sent unless broadcast)") \
  X(udp_send_failed, "datagram handed to a UDP send that could not go (no route, TX full, too big, no mbuf)") \
  X(filter_drop, "dropped by a filter rule (action drop)")                               \
  X(filter_reject, "rejected by a filter rule (TCP RST or ICMP error sent, rate limits permitting)") \
  X(filter_rate_limited, "over a filter rule's rate limit")                              \
  X(filter_policy, "no filter rule decided and the hook's policy is drop")              \
  X(tcp_truncated, "TCP segment shorter than its 20-byte header")                     \
  X(tcp_bad_offset, "TCP data offset below 5 words or past the segment")               \
  X(tcp_bad_checksum, "TCP checksum wrong")                                              \
  X(tcp_bad_options, "TCP option with a bad length or running past the header")        \
  X(tcp_bad_flags, "TCP flags that never go together (SYN+FIN, SYN+RST)")              \
  X(tcp_broadcast, "TCP segment to a broadcast or multicast address")                  \
  X(tcp_no_socket, "TCP segment for no connection or listener (RST sent unless it was one)") \
  X(tcp_listen_overflow, "SYN dropped: the listener's SYN or accept queue is full")    \
  X(tcp_table_full, "SYN dropped: tcp.max_connections connections on this lcore")     \
  X(tcp_no_memory, "SYN dropped: connection buffers could not be allocated")            \
  X(tx_ring_full, "TX backlog full: the PMD kept refusing frames")                       \
  X(tx_no_queue, "this engine has no TX queue on the port")                              \
  X(steer_queue_full, "queue to the owning lcore full (steered datagram)")               \
  X(loopback_full, "internal loopback queue full")                                       \
  X(no_mbuf, "mempool empty when building a packet")

enum class DropReason : uint8_t {
#define X(name, text) name,
  DPDKSTACK_DROP_REASONS(X)
#undef X
      kCount
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);
inline constexpr size_t kMaxCountedPorts = 32;  // RTE_MAX_ETHPORTS in Debian's DPDK

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

// Event counters (not drops), summed over engines by the console and the
// /dpdkstack/counters telemetry command, each under its name.
#define DPDKSTACK_COUNTERS(X)                                                             \
  X(rx_packets, "frames received from the PMDs")                                        \
  X(tx_packets, "frames the PMDs took for transmission")                                \
  X(arp_in, "ARP packets received")                                                     \
  X(arp_replies_sent, "ARP replies sent")                                               \
  X(arp_replies_in, "ARP replies to us, absorbed after learning")                       \
  X(arp_requests_sent, "ARP requests sent (resolution and announcements)")              \
  X(ipv4_in, "IPv4 datagrams received (fragments each counted)")                        \
  X(ipv4_delivered, "datagrams delivered to a local protocol")                          \
  X(ipv4_forwarded, "datagrams forwarded to another host")                              \
  X(frags_in, "fragments taken into reassembly")                                        \
  X(reasm_ok, "datagrams reassembled")                                                  \
  X(reasm_fragments, "fragments that made up the reassembled datagrams")                \
  X(frags_out, "fragments created on output")                                           \
  X(icmp_echo_replies, "ICMP echo replies sent")                                        \
  X(icmp_echo_replies_in, "echo replies to the console's ping, consumed")               \
  X(icmp_errors_sent, "ICMP error messages sent")                                       \
  X(icmp_errors_in, "ICMP error messages received and delivered")                       \
  X(icmp_errors_rate_limited, "ICMP errors not sent: token bucket empty")               \
  X(loopback_packets, "datagrams sent through the internal loopback")                   \
  X(steered_out, "reassembled datagrams handed to their owning lcore")                  \
  X(steered_in, "datagrams received from another lcore")                                \
  X(pmtu_updates, "path MTU cache entries lowered by frag-needed messages")             \
  X(mailbox_full, "cross-lcore messages (ARP, PMTU) refused by a full queue")           \
  X(udp_in, "UDP datagrams received (checked)")                                         \
  X(udp_delivered, "UDP datagrams handed to a socket")                                  \
  X(udp_sent, "UDP datagrams sent from sockets")                                        \
  X(udp_send_tx_full, "UDP sends refused with kTxFull (TX backlog full)")               \
  X(udp_send_refused, "UDP sends refused for another reason (no route, too big, no mbuf, bad handle)") \
  X(udp_icmp_errors, "ICMP errors delivered to a UDP socket")                           \
  X(filter_resets_sent, "TCP resets sent by filter reject rules")                       \
  X(filter_tables_loaded, "filter tables this engine switched to (start, reload, add, del)") \
  X(tcp_active_opens, "RFC 4022 tcpActiveOpens: CLOSED -> SYN-SENT")                    \
  X(tcp_passive_opens, "RFC 4022 tcpPassiveOpens: LISTEN -> SYN-RECEIVED")              \
  X(tcp_attempt_fails, "RFC 4022 tcpAttemptFails: SYN-SENT/SYN-RECEIVED -> CLOSED, SYN-RECEIVED -> LISTEN") \
  X(tcp_estab_resets, "RFC 4022 tcpEstabResets: ESTABLISHED/CLOSE-WAIT -> CLOSED")      \
  X(tcp_curr_estab, "RFC 4022 tcpCurrEstab: connections now ESTABLISHED or CLOSE-WAIT (a gauge)") \
  X(tcp_in_segs, "RFC 4022 tcpInSegs: segments received, errors included")              \
  X(tcp_out_segs, "RFC 4022 tcpOutSegs: segments sent, not counting retransmissions")   \
  X(tcp_retrans_segs, "RFC 4022 tcpRetransSegs: segments retransmitted")                \
  X(tcp_in_errs, "RFC 4022 tcpInErrs: segments received in error (checksum, header, options)") \
  X(tcp_out_rsts, "RFC 4022 tcpOutRsts: segments sent with RST")                        \
  X(tcp_unacceptable, "segments outside the receive window: ACKed (unless RST) and dropped") \
  X(tcp_paws_rejected, "segments with an old timestamp (RFC 7323 PAWS): ACKed and dropped") \
  X(tcp_challenge_acks, "challenge ACKs sent for an in-window RST or a SYN (RFC 5961)") \
  X(tcp_no_ack_flag, "segments without ACK in a synchronized state, dropped")          \
  X(tcp_ack_unsent, "ACKs for data not yet sent: ACKed and dropped")                    \
  X(tcp_ooo_segs, "segments received out of order and kept")                           \
  X(tcp_ooo_dropped, "out-of-order data dropped: too many holes")                       \
  X(tcp_window_trimmed, "segments trimmed to the receive window")                       \
  X(tcp_dup_acks, "duplicate ACKs received")                                            \
  X(tcp_fast_retransmits, "fast retransmits (three duplicate ACKs)")                    \
  X(tcp_rto_timeouts, "retransmission timer expiries")                                  \
  X(tcp_persist_probes, "zero-window probes sent")                                      \
  X(tcp_tlp_probes, "tail loss probes sent (RFC 8985 7)")                               \
  X(tcp_retry_aborts, "connections aborted after the retry limit")                      \
  X(tcp_tw_recycled, "TIME-WAIT connections ended early by a new SYN (RFC 6191)")       \
  X(tcp_conn_allocs, "connections created (passive and active)")                        \
  X(tcp_conn_frees, "connections released")

struct alignas(64) LcoreCounters {
  uint64_t loops = 0;
  uint64_t busy_loops = 0;     // loops that received at least one packet
  uint64_t busy_cycles = 0;    // TSC cycles spent in loops that did work
  uint64_t total_cycles = 0;   // TSC cycles spent in the loop at all
#define X(name, text) uint64_t name = 0;
  DPDKSTACK_COUNTERS(X)
#undef X
  // Forwarded datagrams by ingress and egress port id.
  std::array<uint64_t, kMaxCountedPorts> fwd_rx{};
  std::array<uint64_t, kMaxCountedPorts> fwd_tx{};
  std::array<uint64_t, kDropReasonCount> drops{};

  void drop(DropReason r) { ++drops[static_cast<size_t>(r)]; }
  // Adds another engine's counters (for the totals the console and
  // telemetry show).
  LcoreCounters& operator+=(const LcoreCounters& o) {
    loops += o.loops;
    busy_loops += o.busy_loops;
    busy_cycles += o.busy_cycles;
    total_cycles += o.total_cycles;
#define X(name, text) name += o.name;
    DPDKSTACK_COUNTERS(X)
#undef X
    for (size_t i = 0; i < kMaxCountedPorts; ++i) {
      fwd_rx[i] += o.fwd_rx[i];
      fwd_tx[i] += o.fwd_tx[i];
    }
    for (size_t i = 0; i < kDropReasonCount; ++i) drops[i] += o.drops[i];
    return *this;
  }
  uint64_t drop_total() const {
    uint64_t t = 0;
    for (auto d : drops) t += d;
    return t;
  }
};

// The RFC 4022 TCP MIB scalars, by their MIB names, from the counters
// (console `show tcp stats`, telemetry `/dpdkstack/tcp`).
struct MibValue {
  const char* name;
  uint64_t value;
};
inline std::array<MibValue, 10> tcp_mib(const LcoreCounters& s) {
  return {{{"ActiveOpens", s.tcp_active_opens},
           {"PassiveOpens", s.tcp_passive_opens},
           {"AttemptFails", s.tcp_attempt_fails},
           {"EstabResets", s.tcp_estab_resets},
           {"CurrEstab", s.tcp_curr_estab},
           {"InSegs", s.tcp_in_segs},
           {"OutSegs", s.tcp_out_segs},
           {"RetransSegs", s.tcp_retrans_segs},
           {"InErrs", s.tcp_in_errs},
           {"OutRsts", s.tcp_out_rsts}}};
}

}  // namespace dpdkstack

// The filter table's rules (issue 5): what a rule matches and what it does.
//
// Contract:
// - A FilterConfig is an ordered list of rules and a default policy per
//   hook. Rules are evaluated in order, per hook; the first terminal rule
//   that matches decides (accept, drop, reject, rate_limit); `count` rules
//   that match before it are counted and evaluation goes on. No terminal
//   match: the hook's policy (accept or drop).
// - Hooks: input (datagrams for us, after reassembly, before the protocol),
//   forward (datagrams routed through us, before the TTL is decremented),
//   output (datagrams we originate, before routing).
// - Matching (every field optional; absent = any):
//   in_port / out_port: DPDK port ids (= indexes of $.ports); in_port on
//   input and forward, out_port on forward and output.
//   protocol: the IP protocol number. src / dst: prefixes.
//   sport / dport: inclusive ranges, TCP and UDP only. For a non-first
//   fragment (no transport header) ports read as 0.
//   tcp_flags: (flags & tcp_flags_mask) == tcp_flags, TCP only.
//   icmp_type / icmp_code: ICMP only (kept in the port fields: sport = type,
//   dport = code, so ranges of types are possible).
// - Actions: accept; drop; reject (drop, and answer: TCP RST, or ICMP port
//   unreachable, or ICMP administratively prohibited, per reject_with);
//   count (count and go on); rate_limit (a token bucket per rule and engine:
//   within rate_pps/rate_burst the packet is accepted, beyond it dropped).
// - Every rule counts the packets and bytes it matched (per engine).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace dpdkstack {

enum class FilterHook : uint8_t { kInput, kForward, kOutput };
inline constexpr size_t kFilterHooks = 3;

enum class FilterAction : uint8_t { kAccept, kDrop, kReject, kCount, kRateLimit };

enum class RejectWith : uint8_t {
  kAuto,                 // TCP: RST; anything else: ICMP port unreachable
  kTcpReset,             // TCP only
  kIcmpPortUnreachable,  // type 3 code 3
  kIcmpAdminProhibited,  // type 3 code 13 (RFC 1812 5.2.7.1)
};

struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 65535;
  bool any() const { return lo == 0 && hi == 65535; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct FilterRule {
  FilterHook hook = FilterHook::kInput;
  std::optional<uint16_t> in_port;
  std::optional<uint16_t> out_port;
  std::optional<uint8_t> protocol;
  Ipv4Prefix src{};  // /0: any
  Ipv4Prefix dst{};
  PortRange sport;   // TCP/UDP ports, or ICMP type (sport) and code (dport)
  PortRange dport;
  uint8_t tcp_flags = 0;
  uint8_t tcp_flags_mask = 0;  // 0: flags not looked at
  FilterAction action = FilterAction::kAccept;
  RejectWith reject_with = RejectWith::kAuto;
  uint32_t rate_pps = 0;    // rate_limit only
  uint32_t rate_burst = 0;  // rate_limit only
  std::string comment;
  friend bool operator==(const FilterRule&, const FilterRule&) = default;
};

struct FilterConfig {
  // Per hook, what happens to a packet no terminal rule matched: accept or drop.
  std::array<FilterAction, kFilterHooks> policy{FilterAction::kAccept, FilterAction::kAccept, FilterAction::kAccept};
  std::vector<FilterRule> rules;
  friend bool operator==(const FilterConfig&, const FilterConfig&) = default;
};

// Count rules are carried by rte_acl categories (one each), of which a
// context has 16: category 0 is for the terminal rules.
inline constexpr size_t kMaxCountRulesPerHook = 15;
inline constexpr size_t kMaxFilterRules = 65536;

constexpr std::string_view filter_hook_name(FilterHook h) {
  switch (h) {
    case FilterHook::kInput: return "input";
    case FilterHook::kForward: return "forward";
    case FilterHook::kOutput: return "output";
  }
  return "?";
}

constexpr std::string_view filter_action_name(FilterAction a) {
  switch (a) {
    case FilterAction::kAccept: return "accept";
    case FilterAction::kDrop: return "drop";
    case FilterAction::kReject: return "reject";
    case FilterAction::kCount: return "count";
    case FilterAction::kRateLimit: return "rate_limit";
  }
  return "?";
}

constexpr std::string_view reject_with_name(RejectWith r) {
  switch (r) {
    case RejectWith::kAuto: return "auto";
    case RejectWith::kTcpReset: return "tcp-reset";
    case RejectWith::kIcmpPortUnreachable: return "icmp-port-unreachable";
    case RejectWith::kIcmpAdminProhibited: return "icmp-admin-prohibited";
  }
  return "?";
}

}  // namespace dpdkstack

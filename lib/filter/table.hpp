// The compiled filter table: FilterConfig's rules classified with rte_acl.
//
// Contract:
// - build() compiles a validated FilterConfig into one rte_acl context per
//   hook that has rules (control path: allocates, may take long for 10,000
//   rules). The result is immutable: engines share it read-only and
//   classify concurrently without locks. It is freed (rte_acl_free) by its
//   last owner, on the control path, once no engine uses it any more.
// - classify(hook, key) returns the deciding terminal rule (first in config
//   order among accept/drop/reject/rate_limit rules that match) and the
//   count rules that match before it, in config order. Cost does not grow
//   with the number of rules (rte_acl's tries); a hook without rules costs
//   nothing (has_rules() lets the caller skip the key).
// - The key is what the engine reads from the headers, addresses and ports
//   in network byte order as they are in the packet.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "core/result.hpp"
#include "filter/rule.hpp"

struct rte_acl_ctx;

namespace dpdkstack {

struct FilterKey {
  uint8_t proto = 0;
  uint8_t tcp_flags = 0;
  uint8_t in_port = 0xff;   // DPDK port id; 0xff: none (output hook)
  uint8_t out_port = 0xff;  // DPDK port id; 0xff: none (input hook)
  uint32_t src = 0;         // network byte order
  uint32_t dst = 0;         // network byte order
  uint16_t sport = 0;       // network byte order; ICMP: type (host value in the low byte: htons(type))
  uint16_t dport = 0;       // network byte order; ICMP: code (htons(code))
};
static_assert(sizeof(FilterKey) == 16);

struct FilterResult {
  int32_t rule = -1;  // index into config().rules of the deciding terminal rule; -1: none (policy)
  uint8_t n_counts = 0;
  std::array<uint32_t, kMaxCountRulesPerHook> counts{};  // indexes of matching count rules before `rule`
};

class FilterTable {
 public:
  static Result<std::shared_ptr<const FilterTable>> build(const FilterConfig& cfg, int socket);
  ~FilterTable();
  FilterTable(const FilterTable&) = delete;
  FilterTable& operator=(const FilterTable&) = delete;

  const FilterConfig& config() const { return cfg_; }
  bool has_rules(FilterHook h) const { return ctx_[static_cast<size_t>(h)] != nullptr; }
  FilterResult classify(FilterHook h, const FilterKey& key) const;

 private:
  FilterTable() = default;
  FilterConfig cfg_;
  std::array<rte_acl_ctx*, kFilterHooks> ctx_{};
  // Per hook: the config index of each count rule's category (1..15).
  std::array<std::array<uint32_t, kMaxCountRulesPerHook>, kFilterHooks> count_rule_{};
  std::array<uint8_t, kFilterHooks> n_count_rules_{};
};

// The reference matcher (plain code, no rte_acl): whether `r` matches `key`
// on `hook`. Tests check the classifier against it.
bool filter_rule_matches(const FilterRule& r, FilterHook hook, const FilterKey& key);

}  // namespace dpdkstack

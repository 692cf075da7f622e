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
// - Matching (identical in classify() and filter_rule_matches()), beyond
//   rule.hpp's "absent = any":
//   * a rule with a tcp_flags_mask and no protocol matches TCP only; with
//     a protocol other than TCP, or flags outside its mask, it never
//     matches;
//   * a rule with a port range and no protocol matches TCP and UDP only
//     (rule.hpp: ports are TCP and UDP only), so that "dport 0-1023"
//     does not catch ICMP, whose type and code sit in the port fields; with
//     a protocol the key's port fields are compared as they are (ICMP:
//     type and code; the engine sets 0 for protocols without ports);
//   * in_port / out_port 255 and above never match (0xff in the key is
//     "none").
//   build() refuses (Error, naming the rule) an upside-down range, a prefix
//   longer than 32, more than kMaxCountRulesPerHook count rules in a hook,
//   more than kMaxFilterRules rules, and any rte_acl failure (with its
//   rte_strerror text); it never throws. When rte_acl cannot build a hook's
//   rules in one context (it gives up beyond 8 tries, which many overlapping
//   wildcards and ranges can need), build() splits them into consecutive
//   ranges, each its own context, searched in order until one decides: the
//   same answers, at a cost per context.
// - Layout for rte_acl (table.cpp): eight fields over FilterKey's 16 bytes
//   in four 4-byte input groups, read in key order: {proto (mask),
//   tcp_flags (bitmask), in_port (bitmask), out_port (bitmask)}, {src
//   (prefix)}, {dst (prefix)}, {sport (range), dport (range)}. Category 0
//   holds the terminal rules, categories 1..15 one count rule each;
//   priority falls with the rule's index (first match wins), userdata is
//   index + 1.
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
  // False when no rule of the hook can match anything (none, or only rules
  // that never match): classify() would return no rule and no count.
  bool has_rules(FilterHook h) const { return n_ctx_[static_cast<size_t>(h)] != 0; }
  // How many rte_acl contexts hold the hook's rules: 1 unless rte_acl could
  // not build them in one (see build()); 0 without rules.
  size_t acl_contexts(FilterHook h) const { return n_ctx_[static_cast<size_t>(h)]; }
  FilterResult classify(FilterHook h, const FilterKey& key) const;
  // classify() for n keys at once (rte_acl's batched search, which
  // interleaves the keys' trie walks: cheaper per key from 8 keys on).
  void classify_burst(FilterHook h, const FilterKey* keys, FilterResult* out, uint32_t n) const;

 private:
  FilterTable() = default;
  // Adds rte_acl's answer for one key and one context to `res`; true when
  // that decided (a terminal rule matched: later contexts cannot matter).
  bool merge(const uint32_t* acl_results, size_t hook, FilterResult& res) const;

  static constexpr size_t kMaxContextsPerHook = 32;

  FilterConfig cfg_;
  // Per hook, the rte_acl contexts over consecutive ranges of its rules, in
  // config order: one, unless rte_acl failed to build them in one (it gives
  // up beyond 8 tries, which overlapping rules can need), in which case
  // build() halved the range until every part built.
  std::array<std::array<rte_acl_ctx*, kMaxContextsPerHook>, kFilterHooks> ctx_{};
  std::array<uint8_t, kFilterHooks> n_ctx_{};
  // Per hook: count rules (category k + 1 is the k-th count rule of the hook
  // in config order, so rte_acl's results come out in config order), and
  // the categories classify asks for: 1 without count rules, else 1 + the
  // count rules rounded up to RTE_ACL_RESULTS_MULTIPLIER.
  std::array<uint8_t, kFilterHooks> n_count_rules_{};
  std::array<uint8_t, kFilterHooks> categories_{};
};

// The reference matcher (plain code, no rte_acl): whether `r` matches `key`
// on `hook`. Tests check the classifier against it.
bool filter_rule_matches(const FilterRule& r, FilterHook hook, const FilterKey& key);

}  // namespace dpdkstack

// The compiled filter table over rte_acl (contract in table.hpp).
//
// Each hook with rules gets its own rte_acl context; a rule becomes zero
// (never matches), one, or two ACL rules (no protocol but a port range: one
// for TCP, one for UDP, same priority and userdata, disjoint on proto).
// rte_acl returns per category the matching rule of highest priority; the
// priority falls with the config index, so that is the first match in
// config order. Terminal rules share category 0; each count rule has a
// category of its own, so that every matching count rule is reported, and
// classify() keeps those that come before the terminal rule.
#include "filter/table.hpp"

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_errno.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

namespace dpdkstack {

namespace {

constexpr uint8_t kIpprotoTcp = 6;
constexpr uint8_t kIpprotoUdp = 17;
constexpr uint16_t kNoPort = 0xff;  // FilterKey's "no port"

// Field indexes inside an ACL rule.
enum AclField : uint8_t {
  kFProto,
  kFProtoAgain,  // always wild: fills group 1's first byte (see below)
  kFTcpFlags,
  kFInPort,
  kFOutPort,
  kFSrc,
  kFDst,
  kFSport,
  kFDport,
  kNumFields
};

RTE_ACL_RULE_DEF(AclRule, kNumFields);

// How rte_acl reads a key (lib/acl: acl_build_index, acl_start_next_trie):
// one byte at the offset of input group 0 (which must therefore hold a
// single 1-byte field), then 4 bytes at the offset of each following group,
// walking the trie one byte at a time in memory order; the trie's levels are
// the fields in definition order. So the fields after the first must tile
// each group's 4 bytes in offset order, and a group of 1-byte fields sharing
// group 0 with the first field would be matched against the next group's
// bytes. Hence group 1 rereads the key's first 4 bytes, proto included (as
// an always-wild byte), to reach tcp_flags, in_port and out_port; FilterKey
// stays 16 bytes at the cost of one more trie level. Multi-byte fields are
// compared most significant byte first: the rules' values are in host order,
// the key in network order.
constexpr rte_acl_field_def field_def(uint8_t type, uint8_t size, AclField f, uint8_t input, size_t offset) {
  return rte_acl_field_def{type, size, static_cast<uint8_t>(f), input, static_cast<uint32_t>(offset)};
}

const rte_acl_field_def kFieldDefs[kNumFields] = {
    field_def(RTE_ACL_FIELD_TYPE_MASK, 1, kFProto, 0, offsetof(FilterKey, proto)),
    field_def(RTE_ACL_FIELD_TYPE_BITMASK, 1, kFProtoAgain, 1, offsetof(FilterKey, proto)),
    field_def(RTE_ACL_FIELD_TYPE_BITMASK, 1, kFTcpFlags, 1, offsetof(FilterKey, tcp_flags)),
    field_def(RTE_ACL_FIELD_TYPE_BITMASK, 1, kFInPort, 1, offsetof(FilterKey, in_port)),
    field_def(RTE_ACL_FIELD_TYPE_BITMASK, 1, kFOutPort, 1, offsetof(FilterKey, out_port)),
    field_def(RTE_ACL_FIELD_TYPE_MASK, 4, kFSrc, 2, offsetof(FilterKey, src)),
    field_def(RTE_ACL_FIELD_TYPE_MASK, 4, kFDst, 3, offsetof(FilterKey, dst)),
    field_def(RTE_ACL_FIELD_TYPE_RANGE, 2, kFSport, 4, offsetof(FilterKey, sport)),
    field_def(RTE_ACL_FIELD_TYPE_RANGE, 2, kFDport, 4, offsetof(FilterKey, dport)),
};
static_assert(offsetof(FilterKey, proto) == 0 && offsetof(FilterKey, tcp_flags) == 1 &&
              offsetof(FilterKey, in_port) == 2 && offsetof(FilterKey, out_port) == 3 &&
              offsetof(FilterKey, src) == 4 && offsetof(FilterKey, dst) == 8 && offsetof(FilterKey, sport) == 12 &&
              offsetof(FilterKey, dport) == 14,
              "the ACL field definitions follow FilterKey's layout");

constexpr uint32_t kMaxCategories = RTE_ACL_MAX_CATEGORIES;
static_assert(kMaxCountRulesPerHook + 1 <= kMaxCategories);
static_assert(kMaxFilterRules < static_cast<size_t>(RTE_ACL_MAX_PRIORITY));

// Makes every build's context names unique: rte_acl_create hands back an
// existing context of the same name instead of a new one.
std::atomic<uint32_t> g_generation{0};

// The protocols a rule can match, as rule.hpp and table.hpp say.
struct RuleProtocols {
  uint8_t n = 0;        // 0: the rule never matches
  int proto[2] = {};    // -1: any
};

RuleProtocols rule_protocols(const FilterRule& r) {
  if (r.tcp_flags_mask != 0) {
    if ((r.tcp_flags & ~r.tcp_flags_mask) != 0) return {};
    if (r.protocol && *r.protocol != kIpprotoTcp) return {};
    return {1, {kIpprotoTcp}};
  }
  if (r.protocol) return {1, {*r.protocol}};
  if (!r.sport.any() || !r.dport.any()) return {2, {kIpprotoTcp, kIpprotoUdp}};
  return {1, {-1}};
}

bool never_matches(const FilterRule& r) {
  return (r.in_port && *r.in_port >= kNoPort) || (r.out_port && *r.out_port >= kNoPort);
}

// Whether a rule can be compiled at all; the message names what is wrong.
std::string rule_problem(const FilterRule& r) {
  if (static_cast<size_t>(r.hook) >= kFilterHooks) return "unknown hook";
  if (r.src.len > 32) return "src prefix longer than 32";
  if (r.dst.len > 32) return "dst prefix longer than 32";
  if (r.sport.lo > r.sport.hi) return "sport range upside down";
  if (r.dport.lo > r.dport.hi) return "dport range upside down";
  return {};
}

AclRule acl_rule(const FilterRule& r, int proto, uint32_t index, uint32_t category_mask) {
  AclRule a{};  // every field zero: any (mask 0, prefix /0), ranges set below
  a.data.category_mask = category_mask;
  a.data.priority = static_cast<int32_t>(RTE_ACL_MAX_PRIORITY - index);
  a.data.userdata = index + 1;
  if (proto >= 0) {
    a.field[kFProto].value.u8 = static_cast<uint8_t>(proto);
    a.field[kFProto].mask_range.u8 = 8;
  }
  a.field[kFTcpFlags].value.u8 = r.tcp_flags;
  a.field[kFTcpFlags].mask_range.u8 = r.tcp_flags_mask;
  if (r.in_port) {
    a.field[kFInPort].value.u8 = static_cast<uint8_t>(*r.in_port);
    a.field[kFInPort].mask_range.u8 = 0xff;
  }
  if (r.out_port) {
    a.field[kFOutPort].value.u8 = static_cast<uint8_t>(*r.out_port);
    a.field[kFOutPort].mask_range.u8 = 0xff;
  }
  a.field[kFSrc].value.u32 = r.src.addr.v & r.src.mask();
  a.field[kFSrc].mask_range.u32 = r.src.len;
  a.field[kFDst].value.u32 = r.dst.addr.v & r.dst.mask();
  a.field[kFDst].mask_range.u32 = r.dst.len;
  a.field[kFSport].value.u16 = r.sport.lo;
  a.field[kFSport].mask_range.u16 = r.sport.hi;
  a.field[kFDport].value.u16 = r.dport.lo;
  a.field[kFDport].mask_range.u16 = r.dport.hi;
  return a;
}

std::string acl_error(const char* what, FilterHook h, int err) {
  if (err < 0) err = -err;
  return std::string("filter table, hook ") + std::string(filter_hook_name(h)) + ": " + what + ": " +
         rte_strerror(err);
}

uint8_t categories_for(size_t n_count_rules) {
  if (n_count_rules == 0) return 1;
  size_t c = (1 + n_count_rules + RTE_ACL_RESULTS_MULTIPLIER - 1) / RTE_ACL_RESULTS_MULTIPLIER *
             RTE_ACL_RESULTS_MULTIPLIER;
  return static_cast<uint8_t>(std::min<size_t>(c, kMaxCategories));
}

// One context over `n` rules; nullptr and `err` (a negative errno) if
// rte_acl cannot create or build it.
rte_acl_ctx* make_context(const char* name, int socket, const AclRule* rules, size_t n, uint32_t categories,
                          const char*& what, int& err) {
  rte_acl_param param{};
  param.name = name;
  param.socket_id = socket;
  param.rule_size = RTE_ACL_RULE_SZ(kNumFields);
  param.max_rule_num = static_cast<uint32_t>(n);
  rte_errno = 0;
  rte_acl_ctx* ctx = rte_acl_create(&param);
  if (ctx == nullptr) {
    what = "rte_acl_create";
    err = rte_errno != 0 ? -rte_errno : -ENOMEM;  // its allocation failure leaves rte_errno alone
    return nullptr;
  }
  int rc = rte_acl_add_rules(ctx, reinterpret_cast<const rte_acl_rule*>(rules), static_cast<uint32_t>(n));
  if (rc == 0) {
    rte_acl_config cfg{};
    cfg.num_categories = categories;
    cfg.num_fields = kNumFields;
    std::copy(std::begin(kFieldDefs), std::end(kFieldDefs), cfg.defs);
    cfg.max_size = 0;  // rte_acl's own trie-splitting heuristics, no memory cap
    rc = rte_acl_build(ctx, &cfg);
    what = "rte_acl_build";
  } else {
    what = "rte_acl_add_rules";
  }
  if (rc != 0) {
    rte_acl_free(ctx);
    err = rc;
    return nullptr;
  }
  return ctx;
}

}  // namespace

Result<std::shared_ptr<const FilterTable>> FilterTable::build(const FilterConfig& cfg, int socket) {
  if (cfg.rules.size() > kMaxFilterRules) {
    return Error{"filter table: " + std::to_string(cfg.rules.size()) + " rules, at most " +
                 std::to_string(kMaxFilterRules)};
  }
  std::array<std::vector<AclRule>, kFilterHooks> acl_rules;
  std::array<size_t, kFilterHooks> n_count{};
  for (size_t i = 0; i < cfg.rules.size(); ++i) {
    const FilterRule& r = cfg.rules[i];
    if (std::string p = rule_problem(r); !p.empty()) {
      return Error{"filter table: rule " + std::to_string(i) + ": " + p};
    }
    const auto h = static_cast<size_t>(r.hook);
    uint32_t category_mask = 1;
    if (r.action == FilterAction::kCount) {
      if (n_count[h] == kMaxCountRulesPerHook) {
        return Error{"filter table: rule " + std::to_string(i) + ": more than " +
                     std::to_string(kMaxCountRulesPerHook) + " count rules in hook " +
                     std::string(filter_hook_name(r.hook))};
      }
      category_mask = 1u << (1 + n_count[h]);
      ++n_count[h];  // the category stays the rule's even if it never matches
    }
    if (never_matches(r)) continue;
    const RuleProtocols protos = rule_protocols(r);
    for (uint8_t k = 0; k < protos.n; ++k) {
      acl_rules[h].push_back(acl_rule(r, protos.proto[k], static_cast<uint32_t>(i), category_mask));
    }
  }

  std::unique_ptr<FilterTable> t(new FilterTable());
  const uint32_t generation = g_generation.fetch_add(1, std::memory_order_relaxed);
  for (size_t h = 0; h < kFilterHooks; ++h) {
    const auto hook = static_cast<FilterHook>(h);
    const std::vector<AclRule>& rules = acl_rules[h];
    t->n_count_rules_[h] = static_cast<uint8_t>(n_count[h]);
    t->categories_[h] = categories_for(n_count[h]);
    // Ranges [lo, hi) of `rules` still to build, last one on top: built in
    // order, a range that fails is halved (at a rule boundary: both
    // protocol copies of a rule stay together) until it builds.
    std::vector<std::pair<size_t, size_t>> todo;
    if (!rules.empty()) todo.emplace_back(0, rules.size());
    unsigned attempts = 0;
    while (!todo.empty()) {
      auto [lo, hi] = todo.back();
      todo.pop_back();
      char name[RTE_ACL_NAMESIZE];
      std::snprintf(name, sizeof name, "filter%u.%zu.%u", generation, h, attempts++);
      const char* what = "";
      int err = 0;
      rte_acl_ctx* ctx = make_context(name, socket, rules.data() + lo, hi - lo, t->categories_[h], what, err);
      if (ctx != nullptr) {
        t->ctx_[h][t->n_ctx_[h]++] = ctx;  // freed by ~FilterTable, also on the error paths below
        continue;
      }
      size_t mid = lo + (hi - lo) / 2;
      while (mid > lo && rules[mid].data.userdata == rules[mid - 1].data.userdata) --mid;
      // Halving can only help the build (not a bad argument), and only while
      // the parts fit; what remains to build needs a context each.
      const bool can_split = err != -EINVAL && mid > lo && t->n_ctx_[h] + todo.size() + 2 <= kMaxContextsPerHook;
      if (!can_split) {
        std::string msg = acl_error(what, hook, err);
        if (hi - lo != rules.size()) {
          msg += " (rules " + std::to_string(rules[lo].data.userdata - 1) + " to " +
                 std::to_string(rules[hi - 1].data.userdata - 1) + ", after splitting the hook's rules into " +
                 std::to_string(t->n_ctx_[h] + todo.size() + 1) + " parts)";
        }
        return Error{msg};
      }
      todo.emplace_back(mid, hi);
      todo.emplace_back(lo, mid);
    }
  }
  t->cfg_ = cfg;
  return std::shared_ptr<const FilterTable>(std::move(t));
}

FilterTable::~FilterTable() {
  for (size_t h = 0; h < kFilterHooks; ++h) {
    for (size_t p = 0; p < n_ctx_[h]; ++p) rte_acl_free(ctx_[h][p]);
  }
}

bool FilterTable::merge(const uint32_t* acl_results, size_t hook, FilterResult& res) const {
  const uint32_t terminal = acl_results[0];  // index + 1; 0: no terminal rule matched
  const uint32_t limit = terminal != 0 ? terminal - 1 : UINT32_MAX;
  // Count rules are categories 1.. in config order, and contexts hold
  // consecutive ranges: appended in config order.
  for (uint32_t k = 1; k <= n_count_rules_[hook]; ++k) {
    const uint32_t c = acl_results[k];
    if (c != 0 && c - 1 < limit) res.counts[res.n_counts++] = c - 1;
  }
  if (terminal == 0) return false;
  res.rule = static_cast<int32_t>(terminal - 1);
  return true;
}

FilterResult FilterTable::classify(FilterHook h, const FilterKey& key) const {
  const auto hook = static_cast<size_t>(h);
  FilterResult res;
  const auto* data = reinterpret_cast<const uint8_t*>(&key);
  uint32_t results[kMaxCategories];
  for (size_t p = 0; p < n_ctx_[hook]; ++p) {
    // Cannot fail: the context is built, categories are 1 or a multiple of
    // RTE_ACL_RESULTS_MULTIPLIER within RTE_ACL_MAX_CATEGORIES.
    rte_acl_classify(ctx_[hook][p], &data, results, 1, categories_[hook]);
    if (merge(results, hook, res)) break;
  }
  return res;
}

void FilterTable::classify_burst(FilterHook h, const FilterKey* keys, FilterResult* out, uint32_t n) const {
  const auto hook = static_cast<size_t>(h);
  std::fill(out, out + n, FilterResult{});
  constexpr uint32_t kChunk = 32;
  const uint32_t cats = categories_[hook];
  const uint8_t* data[kChunk];
  uint32_t which[kChunk];
  uint32_t results[kChunk * kMaxCategories];
  for (uint32_t base = 0; base < n; base += kChunk) {
    const uint32_t m = std::min(kChunk, n - base);
    uint32_t open = m;  // keys not decided yet: data[0..open)
    for (uint32_t i = 0; i < m; ++i) {
      data[i] = reinterpret_cast<const uint8_t*>(&keys[base + i]);
      which[i] = base + i;
    }
    for (size_t p = 0; p < n_ctx_[hook] && open != 0; ++p) {
      rte_acl_classify(ctx_[hook][p], data, results, open, cats);
      uint32_t still = 0;
      for (uint32_t i = 0; i < open; ++i) {
        if (!merge(results + i * cats, hook, out[which[i]])) {
          data[still] = data[i];
          which[still] = which[i];
          ++still;
        }
      }
      open = still;
    }
  }
}

// Written out field by field rather than from the helpers build() uses, so
// that the tests compare two independent readings of the contract.
bool filter_rule_matches(const FilterRule& r, FilterHook hook, const FilterKey& key) {
  if (r.hook != hook) return false;
  if (r.protocol && key.proto != *r.protocol) return false;
  const bool has_ports = !r.sport.any() || !r.dport.any();
  if (!r.protocol && has_ports && key.proto != kIpprotoTcp && key.proto != kIpprotoUdp) return false;
  // Flags outside the mask: (flags & mask) can never equal them.
  if (r.tcp_flags_mask != 0 && (key.proto != kIpprotoTcp || (key.tcp_flags & r.tcp_flags_mask) != r.tcp_flags)) {
    return false;
  }
  if (r.in_port && (*r.in_port >= kNoPort || *r.in_port != key.in_port)) return false;
  if (r.out_port && (*r.out_port >= kNoPort || *r.out_port != key.out_port)) return false;
  if (r.src.len > 32 || r.dst.len > 32) return false;  // refused by build()
  if (!r.src.contains(Ipv4Addr(rte_be_to_cpu_32(key.src)))) return false;
  if (!r.dst.contains(Ipv4Addr(rte_be_to_cpu_32(key.dst)))) return false;
  const uint16_t sport = rte_be_to_cpu_16(key.sport);
  const uint16_t dport = rte_be_to_cpu_16(key.dport);
  return sport >= r.sport.lo && sport <= r.sport.hi && dport >= r.dport.lo && dport <= r.dport.hi;
}

}  // namespace dpdkstack

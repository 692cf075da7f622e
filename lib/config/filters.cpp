#include "config/filters_json.h"

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <tuple>
#include <utility>

#include "config/checker.h"

namespace dpdkstack {

namespace {

using config_detail::Checker;
using config_detail::json;
using config_detail::type_name;

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

constexpr std::array<std::string_view, 15> kRuleKeys = {
    "hook",      "in_port",   "out_port",  "proto",  "src",         "dst",  "sport",  "dport",
    "tcp_flags", "icmp_type", "icmp_code", "action", "reject_with", "rate", "comment"};

// Indexed by FilterHook, FilterAction and RejectWith - 1 (kAuto has no name here).
constexpr std::array<std::string_view, kFilterHooks> kHookNames = {
    filter_hook_name(FilterHook::kInput), filter_hook_name(FilterHook::kForward),
    filter_hook_name(FilterHook::kOutput)};
constexpr std::array<std::string_view, 5> kActionNames = {
    filter_action_name(FilterAction::kAccept), filter_action_name(FilterAction::kDrop),
    filter_action_name(FilterAction::kReject), filter_action_name(FilterAction::kCount),
    filter_action_name(FilterAction::kRateLimit)};
constexpr std::array<std::string_view, 2> kPolicyNames = {filter_action_name(FilterAction::kAccept),
                                                          filter_action_name(FilterAction::kDrop)};
constexpr std::array<std::string_view, 3> kRejectNames = {reject_with_name(RejectWith::kTcpReset),
                                                          reject_with_name(RejectWith::kIcmpPortUnreachable),
                                                          reject_with_name(RejectWith::kIcmpAdminProhibited)};
// Bit i of the TCP flags byte (RFC 9293, RFC 3168).
constexpr std::array<std::string_view, 8> kTcpFlagNames = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};

std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// A JSON value as text for a complaint or an output line; never throws
// (invalid UTF-8 in a rule built by code is replaced).
std::string text_of(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// One of `names`: its index.
bool choice(Checker& c, const json& j, const std::string& path, std::span<const std::string_view> names,
            size_t& out) {
  const std::string expected = "expected one of " + join(names) + ", got ";
  if (!j.is_string()) return c.fail(path, expected + type_name(j));
  const auto s = j.get<std::string>();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) {
      out = i;
      return true;
    }
  return c.fail(path, expected + text_of(j));
}

std::string protocol_text(uint8_t p) {
  switch (p) {
    case kProtoIcmp: return "icmp";
    case kProtoTcp: return "tcp";
    case kProtoUdp: return "udp";
  }
  return std::to_string(p);
}

// "proto tcp" / "proto 47" / "no proto", for complaints about keys that
// depend on the protocol.
std::string protocol_of(const FilterRule& r) {
  return r.protocol ? "proto " + protocol_text(*r.protocol) : std::string("no proto");
}

bool protocol(Checker& c, const json& j, const std::string& path, uint8_t& out) {
  const std::string expected = "expected \"tcp\", \"udp\", \"icmp\" or an integer in 0..255, got ";
  if (j.is_string()) {
    const auto s = j.get<std::string>();
    for (uint8_t p : {kProtoTcp, kProtoUdp, kProtoIcmp})
      if (s == protocol_text(p)) {
        out = p;
        return true;
      }
    return c.fail(path, expected + text_of(j));
  }
  if (!j.is_number_integer()) return c.fail(path, expected + type_name(j));
  if (j.is_number_unsigned() ? j.get<uint64_t>() > 255 : (j.get<int64_t>() < 0 || j.get<int64_t>() > 255))
    return c.fail(path, expected + text_of(j));
  out = static_cast<uint8_t>(j.get<int64_t>());
  return true;
}

// A match prefix: "a.b.c.d/len" (len 0..32, host bits zero) or "a.b.c.d" (/32).
bool match_prefix(Checker& c, const json& j, const std::string& path, Ipv4Prefix& out) {
  std::string s;
  if (!c.string(j, path, s)) return false;
  std::optional<Ipv4Prefix> p;
  if (s.find('/') != std::string::npos) {
    p = Ipv4Prefix::parse(s);
  } else if (auto a = Ipv4Addr::parse(s)) {
    p = Ipv4Prefix{*a, 32};
  }
  if (!p)
    return c.fail(path, "expected a prefix a.b.c.d/len (len 0..32) or an address a.b.c.d, got \"" + s + "\"");
  if (p->addr != p->network())
    return c.fail(path, "expected a prefix a.b.c.d/len with no host bits set, got \"" + s + "\" (the network is " +
                            Ipv4Prefix{p->network(), p->len}.to_string() + ")");
  out = *p;
  return true;
}

// A decimal number in 0..max, the whole of `s`.
std::optional<uint16_t> parse_number(std::string_view s, uint16_t max) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return static_cast<uint16_t>(v);
}

// An inclusive range of 0..max: n, [lo, hi] or "lo-hi".
bool range(Checker& c, const json& j, const std::string& path, uint16_t max, PortRange& out) {
  const std::string expected =
      "expected an integer in 0.." + std::to_string(max) + ", [lo, hi] or \"lo-hi\", got ";
  uint16_t lo = 0, hi = 0;
  if (j.is_number_integer()) {
    if (!c.integer(j, path, 0, max, lo)) return false;
    hi = lo;
  } else if (j.is_array()) {
    if (j.size() != 2) return c.fail(path, expected + "an array of " + std::to_string(j.size()));
    if (!c.integer(j[0], path + "[0]", 0, max, lo) || !c.integer(j[1], path + "[1]", 0, max, hi)) return false;
    if (lo > hi)
      return c.fail(path, "expected lo <= hi, got [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  } else if (j.is_string()) {
    const auto s = j.get<std::string>();
    const auto dash = s.find('-');
    std::optional<uint16_t> l, h;
    if (dash != std::string::npos) {
      l = parse_number(std::string_view(s).substr(0, dash), max);
      h = parse_number(std::string_view(s).substr(dash + 1), max);
    }
    if (!l || !h) return c.fail(path, expected + text_of(j));
    lo = *l;
    hi = *h;
    if (lo > hi) return c.fail(path, "expected lo <= hi, got " + text_of(j));
  } else {
    return c.fail(path, expected + type_name(j));
  }
  out = PortRange{lo, hi};
  return true;
}

bool port_index(Checker& c, const json& j, const std::string& path, size_t nports, uint16_t& out) {
  if (nports == 0) return c.fail(path, "expected no port match, as no ports are configured, got " + text_of(j));
  return c.integer(j, path, 0, static_cast<int64_t>(nports) - 1, out);
}

bool tcp_flags(Checker& c, const json& j, const std::string& path, FilterRule& r) {
  if (!c.object(j, path, {"set", "unset"})) return false;
  uint8_t set = 0, unset = 0;
  for (auto [key, bits] : {std::pair{"set", &set}, std::pair{"unset", &unset}}) {
    if (!j.contains(key)) continue;
    const auto& a = j[key];
    const std::string p = path + "." + key;
    if (!a.is_array())
      return c.fail(p, "expected an array of flag names (" + join(kTcpFlagNames) + "), got " + type_name(a));
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string fp = p + "[" + std::to_string(i) + "]";
      size_t f = 0;
      if (!choice(c, a[i], fp, kTcpFlagNames, f)) return false;
      const auto bit = static_cast<uint8_t>(1u << f);
      if (bits == &unset && (set & bit) != 0)
        return c.fail(fp, "expected a flag not also in " + path + ".set, got " + text_of(a[i]));
      *bits = static_cast<uint8_t>(*bits | bit);
    }
  }
  r.tcp_flags = set;
  r.tcp_flags_mask = static_cast<uint8_t>(set | unset);
  return true;
}

bool rate(Checker& c, const json& j, const std::string& path, FilterRule& r) {
  if (!c.object(j, path, {"pps", "burst"})) return false;
  if (!j.contains("pps"))
    return c.fail(path + ".pps",
                  "required key missing (expected an integer in 1.." + std::to_string(kMaxFilterRatePps) + ")");
  if (!c.integer(j["pps"], path + ".pps", 1, kMaxFilterRatePps, r.rate_pps)) return false;
  r.rate_burst = default_filter_rate_burst(r.rate_pps);
  if (j.contains("burst") && !c.integer(j["burst"], path + ".burst", 1, kMaxFilterRateBurst, r.rate_burst))
    return false;
  return true;
}

bool parse_rule(Checker& c, const json& j, const std::string& path, size_t nports, FilterRule& r) {
  if (!c.object(j, path, kRuleKeys, "key")) return false;
  size_t i = 0;
  const auto key = [&](const char* k) { return path + "." + k; };

  // What the other keys depend on first: hook, action, proto.
  if (j.contains("hook")) {
    if (!choice(c, j["hook"], key("hook"), kHookNames, i)) return false;
    r.hook = static_cast<FilterHook>(i);
  }
  const std::string hook_text = "hook " + std::string(filter_hook_name(r.hook));
  if (!j.contains("action"))
    return c.fail(key("action"), "required key missing (expected one of " + join(kActionNames) + ")");
  if (!choice(c, j["action"], key("action"), kActionNames, i)) return false;
  r.action = static_cast<FilterAction>(i);
  const std::string action_text = "action " + std::string(filter_action_name(r.action));
  if (j.contains("proto")) {
    uint8_t p = 0;
    if (!protocol(c, j["proto"], key("proto"), p)) return false;
    r.protocol = p;
  }

  if (j.contains("in_port")) {
    if (r.hook == FilterHook::kOutput)
      return c.fail(key("in_port"), "expected a hook with an ingress port (input or forward), got " + hook_text);
    uint16_t v = 0;
    if (!port_index(c, j["in_port"], key("in_port"), nports, v)) return false;
    r.in_port = v;
  }
  if (j.contains("out_port")) {
    if (r.hook == FilterHook::kInput)
      return c.fail(key("out_port"), "expected a hook with an egress port (forward or output), got " + hook_text);
    uint16_t v = 0;
    if (!port_index(c, j["out_port"], key("out_port"), nports, v)) return false;
    r.out_port = v;
  }
  if (j.contains("src") && !match_prefix(c, j["src"], key("src"), r.src)) return false;
  if (j.contains("dst") && !match_prefix(c, j["dst"], key("dst"), r.dst)) return false;

  const bool tcp_or_udp = r.protocol == kProtoTcp || r.protocol == kProtoUdp;
  for (auto [k, field] : {std::pair{"sport", &r.sport}, std::pair{"dport", &r.dport}}) {
    if (!j.contains(k)) continue;
    if (!tcp_or_udp)
      return c.fail(key(k), "expected proto tcp or udp for a port match, got " + protocol_of(r));
    if (!range(c, j[k], key(k), 65535, *field)) return false;
  }
  // ICMP type and code live in the port fields (filter/rule.hpp).
  for (auto [k, what, field] : {std::tuple{"icmp_type", "type", &r.sport}, std::tuple{"icmp_code", "code", &r.dport}}) {
    if (!j.contains(k)) continue;
    if (r.protocol != kProtoIcmp)
      return c.fail(key(k), std::string("expected proto icmp for an ICMP ") + what + " match, got " + protocol_of(r));
    if (!range(c, j[k], key(k), 255, *field)) return false;
  }
  if (j.contains("tcp_flags")) {
    if (r.protocol != kProtoTcp)
      return c.fail(key("tcp_flags"), "expected proto tcp for a TCP flags match, got " + protocol_of(r));
    if (!tcp_flags(c, j["tcp_flags"], key("tcp_flags"), r)) return false;
  }

  if (j.contains("reject_with")) {
    if (r.action != FilterAction::kReject)
      return c.fail(key("reject_with"), "expected action reject for reject_with, got " + action_text);
    if (!choice(c, j["reject_with"], key("reject_with"), kRejectNames, i)) return false;
    r.reject_with = static_cast<RejectWith>(i + 1);
    if (r.reject_with == RejectWith::kTcpReset && r.protocol != kProtoTcp)
      return c.fail(key("reject_with"),
                    "expected proto tcp for tcp-reset (icmp-port-unreachable or icmp-admin-prohibited answer the "
                    "others), got " + protocol_of(r));
  }
  if (r.action == FilterAction::kRateLimit) {
    if (!j.contains("rate"))
      return c.fail(key("rate"), "required key missing (action rate_limit needs {\"pps\": 1.." +
                                     std::to_string(kMaxFilterRatePps) + ", \"burst\": 1.." +
                                     std::to_string(kMaxFilterRateBurst) + "})");
    if (!rate(c, j["rate"], key("rate"), r)) return false;
  } else if (j.contains("rate")) {
    return c.fail(key("rate"), "expected action rate_limit for a rate, got " + action_text);
  }
  if (j.contains("comment")) {
    if (!c.string(j["comment"], key("comment"), r.comment)) return false;
    if (r.comment.size() > kMaxFilterCommentBytes)
      return c.fail(key("comment"), "expected a string of at most " + std::to_string(kMaxFilterCommentBytes) +
                                        " bytes, got " + std::to_string(r.comment.size()) + " bytes");
  }
  return true;
}

// "80" or "[5000, 5100]".
std::string range_text(const PortRange& r) {
  if (r.lo == r.hi) return std::to_string(r.lo);
  return "[" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]";
}

std::string json_string(std::string_view s) { return text_of(json(std::string(s))); }

}  // namespace

Result<FilterConfig> parse_filters(const nlohmann::json& j, const std::string& path, size_t nports) {
  Checker c;
  FilterConfig f;
  if (!c.object(j, path, {"policy", "rules"})) return *c.err;
  if (j.contains("policy")) {
    const auto& p = j["policy"];
    const std::string pp = path + ".policy";
    if (!c.object(p, pp, kHookNames, "hook")) return *c.err;
    for (size_t h = 0; h < kFilterHooks; ++h) {
      const std::string name(kHookNames[h]);
      size_t i = 0;
      if (!p.contains(name)) continue;
      if (!choice(c, p[name], pp + "." + name, kPolicyNames, i)) return *c.err;
      f.policy[h] = i == 0 ? FilterAction::kAccept : FilterAction::kDrop;
    }
  }
  if (j.contains("rules")) {
    const auto& rules = j["rules"];
    const std::string rp = path + ".rules";
    const auto rule_path = [&](size_t i) { return rp + "[" + std::to_string(i) + "]"; };
    if (!rules.is_array()) return Error{rp + ": expected an array of rules, got " + type_name(rules)};
    if (rules.size() > kMaxFilterRules)
      return Error{rule_path(kMaxFilterRules) + ": expected at most " + std::to_string(kMaxFilterRules) +
                   " rules, got " + std::to_string(rules.size())};
    std::array<size_t, kFilterHooks> counts{};
    f.rules.reserve(rules.size());
    for (size_t i = 0; i < rules.size(); ++i) {
      FilterRule r;
      if (!parse_rule(c, rules[i], rule_path(i), nports, r)) return *c.err;
      if (r.action == FilterAction::kCount && ++counts[static_cast<size_t>(r.hook)] > kMaxCountRulesPerHook)
        return Error{rule_path(i) + ": expected at most " + std::to_string(kMaxCountRulesPerHook) +
                     " count rules per hook (each takes one rte_acl category), got a " +
                     std::to_string(kMaxCountRulesPerHook + 1) + "th on hook " +
                     std::string(filter_hook_name(r.hook))};
      f.rules.push_back(std::move(r));
    }
  }
  return f;
}

Result<FilterRule> parse_filter_rule(std::string_view json_text, const std::string& path, size_t nports) {
  json j;
  try {
    // Console input, never a packet path; the parser's exception carries
    // the byte offset we want to report.
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    return Error{path + ": not valid JSON (" + std::string(e.what()) + ")"};
  }
  Checker c;
  FilterRule r;
  if (!parse_rule(c, j, path, nports, r)) return *c.err;
  return r;
}

std::string format_filter_rule(const FilterRule& r) {
  std::string out;
  const auto add = [&](std::string_view key, const std::string& value) {
    out += (out.empty() ? "{" : ", ") + json_string(key) + ": " + value;
  };
  add("hook", json_string(filter_hook_name(r.hook)));
  if (r.in_port) add("in_port", std::to_string(*r.in_port));
  if (r.out_port) add("out_port", std::to_string(*r.out_port));
  if (r.protocol) {
    const std::string name = protocol_text(*r.protocol);
    add("proto", name == std::to_string(*r.protocol) ? name : json_string(name));
  }
  if (r.src != Ipv4Prefix{}) add("src", json_string(r.src.to_string()));
  if (r.dst != Ipv4Prefix{}) add("dst", json_string(r.dst.to_string()));
  const bool icmp = r.protocol == kProtoIcmp;
  if (!r.sport.any()) add(icmp ? "icmp_type" : "sport", range_text(r.sport));
  if (!r.dport.any()) add(icmp ? "icmp_code" : "dport", range_text(r.dport));
  if (r.tcp_flags_mask != 0) {
    std::string set, unset;
    for (size_t f = 0; f < kTcpFlagNames.size(); ++f) {
      const auto bit = static_cast<uint8_t>(1u << f);
      if ((r.tcp_flags_mask & bit) == 0) continue;
      std::string& list = (r.tcp_flags & bit) != 0 ? set : unset;
      list += (list.empty() ? "" : ", ") + json_string(kTcpFlagNames[f]);
    }
    std::string flags;
    if (!set.empty()) flags = "\"set\": [" + set + "]";
    if (!unset.empty()) flags += (flags.empty() ? "" : ", ") + std::string("\"unset\": [") + unset + "]";
    add("tcp_flags", "{" + flags + "}");
  }
  add("action", json_string(filter_action_name(r.action)));
  if (r.reject_with != RejectWith::kAuto) add("reject_with", json_string(reject_with_name(r.reject_with)));
  if (r.action == FilterAction::kRateLimit) {
    std::string rt = "{\"pps\": " + std::to_string(r.rate_pps);
    if (r.rate_burst != default_filter_rate_burst(r.rate_pps)) rt += ", \"burst\": " + std::to_string(r.rate_burst);
    add("rate", rt + "}");
  }
  if (!r.comment.empty()) add("comment", json_string(r.comment));
  return out + "}";
}

}  // namespace dpdkstack

// The filter table's configuration (lib/config/filters.hpp): $.filters of
// stack.json through parse_config, one rule through parse_filter_rule (the
// console's `filter add`), and format_filter_rule back to text. A valid
// rule gives the values it names and the defaults for what it leaves out;
// every rejected one gives an error whose message begins with the JSON path
// of the offending value and says what was expected. One test per rejected
// case.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/filters_json.h"

namespace dpdkstack {
namespace {

// Two ports (so that in_port / out_port may be 0 or 1) and the $.filters
// object whose members are `members` (the text between braces).
std::string filters(std::string_view members) {
  return std::string(R"({"ports": [{"address": "10.0.0.1/24"}, {"address": "10.1.1.1/24"}], "filters": {)") +
         std::string(members) + "}}";
}
// filters() with the rules array `rules` (the text between brackets).
std::string rules(std::string_view rules) { return filters(std::string(R"("rules": [)") + std::string(rules) + "]"); }

std::string error_of(const std::string& text) {
  auto r = parse_config(text);
  return r.ok() ? std::string("<accepted>") : r.error().message;
}

// Passes when parsing `text` fails with a message that starts with `path`,
// ": " and `prefix` (what was expected).
::testing::AssertionResult RejectedAs(const std::string& text, const std::string& path, const std::string& prefix) {
  const std::string msg = error_of(text);
  const std::string want = path + ": " + prefix;
  if (msg.rfind(want, 0) != 0)
    return ::testing::AssertionFailure() << "got message \"" << msg << "\", want it to start with \"" << want << "\"";
  return ::testing::AssertionSuccess() << msg;
}

// The one rule of `rule` (the text of a rule object), parsed through the
// whole document; fails the test if rejected.
FilterRule rule_of(std::string_view rule) {
  auto r = parse_config(rules(rule));
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok() || r->filters.rules.size() != 1) return FilterRule{};
  return r->filters.rules[0];
}

// As RejectedAs, for `filter add`: one rule from text, 2 ports, path "rule".
::testing::AssertionResult RuleRejectedAs(std::string_view text, const std::string& path, const std::string& prefix,
                                          size_t nports = 2) {
  auto r = parse_filter_rule(text, "rule", nports);
  if (r.ok()) return ::testing::AssertionFailure() << "accepted: " << text;
  const std::string& msg = r.error().message;
  const std::string want = path + ": " + prefix;
  if (msg.rfind(want, 0) != 0)
    return ::testing::AssertionFailure() << "got message \"" << msg << "\", want it to start with \"" << want << "\"";
  return ::testing::AssertionSuccess() << msg;
}

// `n` copies of `rule` as the text of a rules array's members.
std::string repeated(std::string_view rule, size_t n) {
  std::string out;
  out.reserve(n * (rule.size() + 2));
  for (size_t i = 0; i < n; ++i) (out += i ? ", " : "") += rule;
  return out;
}

// ------------------------------------------------------------------- valid

// The example of docs/CONFIG.md (## filters).
constexpr const char* kExample = R"({
  "ports": [{"address": "10.0.0.1/24"}, {"address": "10.1.1.1/24"}],
  "filters": {
    "policy": { "input": "accept", "forward": "accept", "output": "accept" },
    "rules": [
      { "hook": "input", "proto": "icmp", "src": "10.0.0.0/28", "action": "drop", "comment": "no ping from the first 16" },
      { "hook": "input", "proto": "tcp", "dport": 23, "action": "reject" },
      { "hook": "input", "proto": "udp", "dport": [5000, 5100], "action": "reject", "reject_with": "icmp-admin-prohibited" },
      { "hook": "forward", "in_port": 0, "out_port": 1, "proto": "tcp", "tcp_flags": {"set": ["syn"], "unset": ["ack"]}, "action": "count" },
      { "hook": "input", "proto": "icmp", "icmp_type": 8, "action": "rate_limit", "rate": {"pps": 100, "burst": 20} }
    ]
  }
})";

TEST(FilterConfig, Example_EveryRuleParsed) {
  auto r = parse_config(kExample);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const FilterConfig& f = r->filters;
  for (auto p : f.policy) EXPECT_EQ(p, FilterAction::kAccept);
  ASSERT_EQ(f.rules.size(), 5u);

  const FilterRule& r0 = f.rules[0];
  EXPECT_EQ(r0.hook, FilterHook::kInput);
  EXPECT_EQ(r0.protocol, 1);
  EXPECT_EQ(r0.src.to_string(), "10.0.0.0/28");
  EXPECT_EQ(r0.dst, Ipv4Prefix{});
  EXPECT_TRUE(r0.sport.any());
  EXPECT_TRUE(r0.dport.any());
  EXPECT_EQ(r0.action, FilterAction::kDrop);
  EXPECT_EQ(r0.comment, "no ping from the first 16");

  const FilterRule& r1 = f.rules[1];
  EXPECT_EQ(r1.protocol, 6);
  EXPECT_EQ(r1.dport, (PortRange{23, 23}));
  EXPECT_TRUE(r1.sport.any());
  EXPECT_EQ(r1.action, FilterAction::kReject);
  EXPECT_EQ(r1.reject_with, RejectWith::kAuto);

  const FilterRule& r2 = f.rules[2];
  EXPECT_EQ(r2.protocol, 17);
  EXPECT_EQ(r2.dport, (PortRange{5000, 5100}));
  EXPECT_EQ(r2.reject_with, RejectWith::kIcmpAdminProhibited);

  const FilterRule& r3 = f.rules[3];
  EXPECT_EQ(r3.hook, FilterHook::kForward);
  EXPECT_EQ(r3.in_port, 0);
  EXPECT_EQ(r3.out_port, 1);
  EXPECT_EQ(r3.protocol, 6);
  EXPECT_EQ(r3.tcp_flags, 0x02);       // syn
  EXPECT_EQ(r3.tcp_flags_mask, 0x12);  // syn | ack
  EXPECT_EQ(r3.action, FilterAction::kCount);

  const FilterRule& r4 = f.rules[4];
  EXPECT_EQ(r4.protocol, 1);
  EXPECT_EQ(r4.sport, (PortRange{8, 8}));  // ICMP type
  EXPECT_TRUE(r4.dport.any());             // any code
  EXPECT_EQ(r4.action, FilterAction::kRateLimit);
  EXPECT_EQ(r4.rate_pps, 100u);
  EXPECT_EQ(r4.rate_burst, 20u);
}

TEST(FilterConfig, Absent_DefaultsToNoRulesAndAcceptEverywhere) {
  auto r = parse_config(R"({"ports": [{"address": "10.0.0.1/24"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->filters, FilterConfig{});
  EXPECT_TRUE(r->filters.rules.empty());
  for (auto p : r->filters.policy) EXPECT_EQ(p, FilterAction::kAccept);
}

TEST(FilterConfig, EmptyObjectAndEmptyParts_TakeDefaults) {
  for (const char* members : {"", R"("policy": {})", R"("rules": [])", R"("policy": {}, "rules": [])"}) {
    auto r = parse_config(filters(members));
    ASSERT_TRUE(r.ok()) << members << ": " << r.error().message;
    EXPECT_EQ(r->filters, FilterConfig{}) << members;
  }
}

TEST(FilterConfig, RuleWithOnlyAction_DefaultsForEveryOtherKey) {
  const FilterRule r = rule_of(R"({"action": "drop"})");
  EXPECT_EQ(r.hook, FilterHook::kInput);
  EXPECT_FALSE(r.in_port.has_value());
  EXPECT_FALSE(r.out_port.has_value());
  EXPECT_FALSE(r.protocol.has_value());
  EXPECT_EQ(r.src, Ipv4Prefix{});
  EXPECT_EQ(r.dst, Ipv4Prefix{});
  EXPECT_TRUE(r.sport.any());
  EXPECT_TRUE(r.dport.any());
  EXPECT_EQ(r.tcp_flags, 0);
  EXPECT_EQ(r.tcp_flags_mask, 0);
  EXPECT_EQ(r.action, FilterAction::kDrop);
  EXPECT_EQ(r.reject_with, RejectWith::kAuto);
  EXPECT_EQ(r.rate_pps, 0u);
  EXPECT_EQ(r.rate_burst, 0u);
  EXPECT_EQ(r.comment, "");
  FilterRule want;
  want.action = FilterAction::kDrop;
  EXPECT_EQ(r, want);
}

TEST(FilterConfig, Policy_EachHookSetAlone) {
  auto r = parse_config(filters(R"("policy": {"forward": "drop"})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->filters.policy[0], FilterAction::kAccept);
  EXPECT_EQ(r->filters.policy[1], FilterAction::kDrop);
  EXPECT_EQ(r->filters.policy[2], FilterAction::kAccept);

  r = parse_config(filters(R"("policy": {"input": "drop", "forward": "accept", "output": "drop"})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->filters.policy[static_cast<size_t>(FilterHook::kInput)], FilterAction::kDrop);
  EXPECT_EQ(r->filters.policy[static_cast<size_t>(FilterHook::kForward)], FilterAction::kAccept);
  EXPECT_EQ(r->filters.policy[static_cast<size_t>(FilterHook::kOutput)], FilterAction::kDrop);
}

TEST(FilterConfig, RulesKeepTheirOrder) {
  auto r = parse_config(rules(R"({"action": "count"}, {"action": "drop"}, {"action": "accept"})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->filters.rules.size(), 3u);
  EXPECT_EQ(r->filters.rules[0].action, FilterAction::kCount);
  EXPECT_EQ(r->filters.rules[1].action, FilterAction::kDrop);
  EXPECT_EQ(r->filters.rules[2].action, FilterAction::kAccept);
}

TEST(FilterConfig, EveryHook_Accepted) {
  EXPECT_EQ(rule_of(R"({"hook": "input", "action": "drop"})").hook, FilterHook::kInput);
  EXPECT_EQ(rule_of(R"({"hook": "forward", "action": "drop"})").hook, FilterHook::kForward);
  EXPECT_EQ(rule_of(R"({"hook": "output", "action": "drop"})").hook, FilterHook::kOutput);
}

TEST(FilterConfig, EveryAction_Accepted) {
  EXPECT_EQ(rule_of(R"({"action": "accept"})").action, FilterAction::kAccept);
  EXPECT_EQ(rule_of(R"({"action": "drop"})").action, FilterAction::kDrop);
  EXPECT_EQ(rule_of(R"({"action": "reject"})").action, FilterAction::kReject);
  EXPECT_EQ(rule_of(R"({"action": "count"})").action, FilterAction::kCount);
  EXPECT_EQ(rule_of(R"({"action": "rate_limit", "rate": {"pps": 5}})").action, FilterAction::kRateLimit);
}

TEST(FilterConfig, InPortAndOutPort_OnTheirHooks_Accepted) {
  EXPECT_EQ(rule_of(R"({"hook": "input", "in_port": 0, "action": "drop"})").in_port, 0);
  EXPECT_EQ(rule_of(R"({"hook": "forward", "in_port": 1, "action": "drop"})").in_port, 1);
  EXPECT_EQ(rule_of(R"({"hook": "forward", "out_port": 1, "action": "drop"})").out_port, 1);
  EXPECT_EQ(rule_of(R"({"hook": "output", "out_port": 0, "action": "drop"})").out_port, 0);
  const FilterRule r = rule_of(R"({"hook": "forward", "in_port": 1, "out_port": 0, "action": "drop"})");
  EXPECT_EQ(r.in_port, 1);
  EXPECT_EQ(r.out_port, 0);
}

TEST(FilterConfig, ProtoNamesAndNumbers_Accepted) {
  EXPECT_EQ(rule_of(R"({"proto": "icmp", "action": "drop"})").protocol, 1);
  EXPECT_EQ(rule_of(R"({"proto": "tcp", "action": "drop"})").protocol, 6);
  EXPECT_EQ(rule_of(R"({"proto": "udp", "action": "drop"})").protocol, 17);
  EXPECT_EQ(rule_of(R"({"proto": 0, "action": "drop"})").protocol, 0);
  EXPECT_EQ(rule_of(R"({"proto": 47, "action": "drop"})").protocol, 47);
  EXPECT_EQ(rule_of(R"({"proto": 255, "action": "drop"})").protocol, 255);
}

// A number is the protocol it names: 6 takes ports and flags like "tcp".
TEST(FilterConfig, ProtoNumbersOfTcpUdpIcmp_TakeTheirMatches) {
  const FilterRule t = rule_of(R"({"proto": 6, "dport": 80, "tcp_flags": {"set": ["syn"]}, "action": "drop"})");
  EXPECT_EQ(t, rule_of(R"({"proto": "tcp", "dport": 80, "tcp_flags": {"set": ["syn"]}, "action": "drop"})"));
  EXPECT_EQ(rule_of(R"({"proto": 17, "sport": 53, "action": "drop"})").sport, (PortRange{53, 53}));
  EXPECT_EQ(rule_of(R"({"proto": 1, "icmp_type": 0, "action": "drop"})").sport, (PortRange{0, 0}));
}

TEST(FilterConfig, SrcAndDst_PrefixesAndHosts_Accepted) {
  const FilterRule r = rule_of(R"({"src": "10.0.0.0/28", "dst": "192.168.1.7", "action": "drop"})");
  EXPECT_EQ(r.src, (Ipv4Prefix{Ipv4Addr::from_octets(10, 0, 0, 0), 28}));
  EXPECT_EQ(r.dst, (Ipv4Prefix{Ipv4Addr::from_octets(192, 168, 1, 7), 32}));  // an address is a /32
  EXPECT_EQ(rule_of(R"({"src": "192.168.1.7/32", "action": "drop"})").src, r.dst);
  EXPECT_EQ(rule_of(R"({"dst": "0.0.0.0/0", "action": "drop"})").dst, Ipv4Prefix{});  // any
  EXPECT_EQ(rule_of(R"({"src": "128.0.0.0/1", "action": "drop"})").src,
            (Ipv4Prefix{Ipv4Addr::from_octets(128, 0, 0, 0), 1}));
  EXPECT_EQ(rule_of(R"({"dst": "255.255.255.255", "action": "drop"})").dst,
            (Ipv4Prefix{Ipv4Addr::from_octets(255, 255, 255, 255), 32}));
}

TEST(FilterConfig, PortRanges_EveryForm_Accepted) {
  EXPECT_EQ(rule_of(R"({"proto": "tcp", "dport": 23, "action": "drop"})").dport, (PortRange{23, 23}));
  EXPECT_EQ(rule_of(R"({"proto": "udp", "dport": [5000, 5100], "action": "drop"})").dport, (PortRange{5000, 5100}));
  EXPECT_EQ(rule_of(R"({"proto": "udp", "dport": "5000-5100", "action": "drop"})").dport, (PortRange{5000, 5100}));
  EXPECT_EQ(rule_of(R"({"proto": "tcp", "sport": [80, 80], "action": "drop"})").sport, (PortRange{80, 80}));
  EXPECT_EQ(rule_of(R"({"proto": "tcp", "sport": "1024-1024", "action": "drop"})").sport, (PortRange{1024, 1024}));
  // Port 0 is what the ports of a non-first fragment read.
  EXPECT_EQ(rule_of(R"({"proto": "udp", "sport": 0, "action": "drop"})").sport, (PortRange{0, 0}));
  EXPECT_EQ(rule_of(R"({"proto": "udp", "sport": 65535, "action": "drop"})").sport, (PortRange{65535, 65535}));
  EXPECT_TRUE(rule_of(R"({"proto": "udp", "sport": "0-65535", "action": "drop"})").sport.any());
  EXPECT_TRUE(rule_of(R"({"proto": "udp", "dport": [0, 65535], "action": "drop"})").dport.any());
  const FilterRule r = rule_of(R"({"proto": "tcp", "sport": [1024, 65535], "dport": 443, "action": "drop"})");
  EXPECT_EQ(r.sport, (PortRange{1024, 65535}));
  EXPECT_EQ(r.dport, (PortRange{443, 443}));
}

TEST(FilterConfig, TcpFlags_EveryNameIsItsBit) {
  const FilterRule r = rule_of(
      R"({"proto": "tcp", "tcp_flags": {"set": ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"]}, "action": "drop"})");
  EXPECT_EQ(r.tcp_flags, 0xff);
  EXPECT_EQ(r.tcp_flags_mask, 0xff);
  const char* names[] = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};
  for (int bit = 0; bit < 8; ++bit) {
    const FilterRule u = rule_of(std::string(R"({"proto": "tcp", "tcp_flags": {"unset": [")") + names[bit] +
                                 R"("]}, "action": "drop"})");
    EXPECT_EQ(u.tcp_flags, 0) << names[bit];
    EXPECT_EQ(u.tcp_flags_mask, 1 << bit) << names[bit];
  }
}

TEST(FilterConfig, TcpFlags_SetUnsetBothAndNeither) {
  FilterRule r = rule_of(R"({"proto": "tcp", "tcp_flags": {"set": ["syn"], "unset": ["ack", "rst"]}, "action": "drop"})");
  EXPECT_EQ(r.tcp_flags, 0x02);
  EXPECT_EQ(r.tcp_flags_mask, 0x16);
  r = rule_of(R"({"proto": "tcp", "tcp_flags": {"set": ["syn", "ack"]}, "action": "drop"})");
  EXPECT_EQ(r.tcp_flags, 0x12);
  EXPECT_EQ(r.tcp_flags_mask, 0x12);
  r = rule_of(R"({"proto": "tcp", "tcp_flags": {"set": ["syn", "syn"]}, "action": "drop"})");  // repeated: once
  EXPECT_EQ(r.tcp_flags, 0x02);
  EXPECT_EQ(r.tcp_flags_mask, 0x02);
  r = rule_of(R"({"proto": "tcp", "tcp_flags": {}, "action": "drop"})");  // flags not looked at
  EXPECT_EQ(r.tcp_flags_mask, 0);
  r = rule_of(R"({"proto": "tcp", "tcp_flags": {"set": [], "unset": []}, "action": "drop"})");
  EXPECT_EQ(r.tcp_flags_mask, 0);
}

TEST(FilterConfig, IcmpTypeAndCode_InThePortFields) {
  FilterRule r = rule_of(R"({"proto": "icmp", "icmp_type": 3, "icmp_code": [0, 3], "action": "drop"})");
  EXPECT_EQ(r.sport, (PortRange{3, 3}));
  EXPECT_EQ(r.dport, (PortRange{0, 3}));
  r = rule_of(R"({"proto": "icmp", "icmp_type": "13-14", "action": "drop"})");
  EXPECT_EQ(r.sport, (PortRange{13, 14}));
  EXPECT_TRUE(r.dport.any());
  r = rule_of(R"({"proto": "icmp", "icmp_type": [0, 255], "icmp_code": 255, "action": "drop"})");
  EXPECT_EQ(r.sport, (PortRange{0, 255}));
  EXPECT_EQ(r.dport, (PortRange{255, 255}));
}

TEST(FilterConfig, RejectWith_EveryKindAndAuto) {
  EXPECT_EQ(rule_of(R"({"proto": "tcp", "action": "reject"})").reject_with, RejectWith::kAuto);
  EXPECT_EQ(rule_of(R"({"action": "reject"})").reject_with, RejectWith::kAuto);
  EXPECT_EQ(rule_of(R"({"proto": "tcp", "action": "reject", "reject_with": "tcp-reset"})").reject_with,
            RejectWith::kTcpReset);
  EXPECT_EQ(rule_of(R"({"proto": "udp", "action": "reject", "reject_with": "icmp-port-unreachable"})").reject_with,
            RejectWith::kIcmpPortUnreachable);
  EXPECT_EQ(rule_of(R"({"action": "reject", "reject_with": "icmp-admin-prohibited"})").reject_with,
            RejectWith::kIcmpAdminProhibited);
  // A TCP segment may be answered with ICMP too.
  EXPECT_EQ(rule_of(R"({"proto": "tcp", "action": "reject", "reject_with": "icmp-port-unreachable"})").reject_with,
            RejectWith::kIcmpPortUnreachable);
}

TEST(FilterConfig, Rate_BurstDefaultsToPps) {
  FilterRule r = rule_of(R"({"action": "rate_limit", "rate": {"pps": 100}})");
  EXPECT_EQ(r.rate_pps, 100u);
  EXPECT_EQ(r.rate_burst, 100u);
  r = rule_of(R"({"action": "rate_limit", "rate": {"pps": 100, "burst": 5}})");
  EXPECT_EQ(r.rate_burst, 5u);
  // The default is capped at the largest burst.
  r = rule_of(R"({"action": "rate_limit", "rate": {"pps": 10000000}})");
  EXPECT_EQ(r.rate_pps, 10000000u);
  EXPECT_EQ(r.rate_burst, 1000000u);
}

TEST(FilterConfig, Rate_Boundaries_Accepted) {
  FilterRule r = rule_of(R"({"action": "rate_limit", "rate": {"pps": 1, "burst": 1}})");
  EXPECT_EQ(r.rate_pps, 1u);
  EXPECT_EQ(r.rate_burst, 1u);
  r = rule_of(R"({"action": "rate_limit", "rate": {"pps": 10000000, "burst": 1000000}})");
  EXPECT_EQ(r.rate_pps, 10000000u);
  EXPECT_EQ(r.rate_burst, 1000000u);
}

TEST(FilterConfig, Comment_UpTo200Bytes_Accepted) {
  const std::string c200(200, 'x');
  EXPECT_EQ(rule_of(R"({"action": "drop", "comment": ")" + c200 + "\"}").comment, c200);
  EXPECT_EQ(rule_of(R"({"action": "drop", "comment": ""})").comment, "");
  EXPECT_EQ(rule_of(R"({"action": "drop", "comment": "tab\there \"quoted\" é"})").comment,
            "tab\there \"quoted\" \xc3\xa9");
}

TEST(FilterConfig, FifteenCountRulesOnEveryHook_Accepted) {
  const std::string text = rules(repeated(R"({"hook": "input", "action": "count"})", 15) + ", " +
                                 repeated(R"({"hook": "forward", "action": "count"})", 15) + ", " +
                                 repeated(R"({"hook": "output", "action": "count"})", 15) + ", " +
                                 repeated(R"({"action": "drop"})", 20));
  auto r = parse_config(text);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->filters.rules.size(), 65u);
}

TEST(FilterConfig, MaxRules_Accepted) {
  auto r = parse_config(rules(repeated(R"({"action":"drop"})", kMaxFilterRules)));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->filters.rules.size(), kMaxFilterRules);
}

// --------------------------------------------------- reload and filter add

TEST(FilterConfig, ParseFilters_SameResultAsTheDocument) {
  auto cfg = parse_config(kExample);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  const auto doc = nlohmann::json::parse(kExample);
  auto f = parse_filters(doc["filters"], "$.filters", 2);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(*f, cfg->filters);
}

TEST(FilterConfig, ParseFilters_PathAndPortCountAreTheCallers) {
  const auto j = nlohmann::json::parse(R"({"rules": [{"action": "drop"}, {"in_port": 1, "action": "drop"}]})");
  auto f = parse_filters(j, "$.filters", 1);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, "$.filters.rules[1].in_port: expected an integer in 0..0, got 1");
  f = parse_filters(j, "reload", 2);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->rules.size(), 2u);
}

TEST(FilterConfig, ParseFilterRule_OneRuleFromText) {
  auto r = parse_filter_rule(R"({"proto": "tcp", "dport": 23, "action": "reject"})", "rule", 1);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, rule_of(R"({"hook": "input", "proto": "tcp", "dport": 23, "action": "reject"})"));
}

TEST(FilterConfig, ParseFilterRule_ErrorPathUnderTheGivenPrefix) {
  EXPECT_TRUE(RuleRejectedAs(R"({"proto": "tcp", "sport": [90, 80], "action": "drop"})", "rule.sport",
                             "expected lo <= hi, got [90, 80]"));
  EXPECT_TRUE(RuleRejectedAs(R"({"proto": "tcp", "action": "drop", "x": 1})", "rule.x", "unknown key"));
}

TEST(FilterConfig, ParseFilterRule_NotJson_Rejected) {
  EXPECT_TRUE(RuleRejectedAs(R"({"action": "drop")", "rule", "not valid JSON ("));
  EXPECT_TRUE(RuleRejectedAs("", "rule", "not valid JSON ("));
}

TEST(FilterConfig, ParseFilterRule_NotAnObject_Rejected) {
  EXPECT_TRUE(RuleRejectedAs(R"([{"action": "drop"}])", "rule", "expected an object, got an array"));
}

TEST(FilterConfig, ParseFilterRule_PortBeyondTheGivenCount_Rejected) {
  EXPECT_TRUE(RuleRejectedAs(R"({"in_port": 1, "action": "drop"})", "rule.in_port",
                             "expected an integer in 0..0, got 1", 1));
}

TEST(FilterConfig, ParseFilterRule_PortWithNoPortsConfigured_Rejected) {
  EXPECT_TRUE(RuleRejectedAs(R"({"in_port": 0, "action": "drop"})", "rule.in_port",
                             "expected no port match, as no ports are configured, got 0", 0));
}

// ---------------------------------------------------------------- format

TEST(FilterConfig, Format_TheExampleRules) {
  auto r = parse_config(kExample);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& rs = r->filters.rules;
  EXPECT_EQ(format_filter_rule(rs[0]),
            R"({"hook": "input", "proto": "icmp", "src": "10.0.0.0/28", "action": "drop", "comment": "no ping from the first 16"})");
  EXPECT_EQ(format_filter_rule(rs[1]), R"({"hook": "input", "proto": "tcp", "dport": 23, "action": "reject"})");
  EXPECT_EQ(format_filter_rule(rs[2]),
            R"({"hook": "input", "proto": "udp", "dport": [5000, 5100], "action": "reject", "reject_with": "icmp-admin-prohibited"})");
  EXPECT_EQ(format_filter_rule(rs[3]),
            R"({"hook": "forward", "in_port": 0, "out_port": 1, "proto": "tcp", "tcp_flags": {"set": ["syn"], "unset": ["ack"]}, "action": "count"})");
  EXPECT_EQ(format_filter_rule(rs[4]),
            R"({"hook": "input", "proto": "icmp", "icmp_type": 8, "action": "rate_limit", "rate": {"pps": 100, "burst": 20}})");
}

TEST(FilterConfig, Format_DefaultsLeftOut) {
  FilterRule r;
  EXPECT_EQ(format_filter_rule(r), R"({"hook": "input", "action": "accept"})");
  r.action = FilterAction::kRateLimit;
  r.rate_pps = 50;
  r.rate_burst = 50;  // the default burst
  EXPECT_EQ(format_filter_rule(r), R"({"hook": "input", "action": "rate_limit", "rate": {"pps": 50}})");
  FilterRule p;
  p.protocol = 47;
  p.dst = Ipv4Prefix{Ipv4Addr::from_octets(10, 9, 0, 1), 32};
  EXPECT_EQ(format_filter_rule(p), R"({"hook": "input", "proto": 47, "dst": "10.9.0.1/32", "action": "accept"})");
}

TEST(FilterConfig, Format_CommentEscaped) {
  FilterRule r;
  r.comment = "a \"b\"\n\\";
  EXPECT_EQ(format_filter_rule(r), R"({"hook": "input", "action": "accept", "comment": "a \"b\"\n\\"})");
}

// Rules of every shape: format, parse back, equal; and the text is a fixed
// point (formatting the parsed rule gives the same text).
TEST(FilterConfig, RoundTrip_EveryShape) {
  const char* shapes[] = {
      R"({"action": "accept"})",
      R"({"hook": "output", "action": "drop"})",
      R"({"hook": "forward", "in_port": 1, "out_port": 0, "action": "count"})",
      R"({"hook": "input", "in_port": 0, "action": "count"})",
      R"({"hook": "output", "out_port": 1, "action": "drop"})",
      R"({"proto": "tcp", "action": "drop"})",
      R"({"proto": "udp", "action": "drop"})",
      R"({"proto": "icmp", "action": "drop"})",
      R"({"proto": 0, "action": "drop"})",
      R"({"proto": 47, "action": "drop"})",
      R"({"proto": 255, "action": "drop"})",
      R"({"proto": 6, "dport": 22, "action": "accept"})",
      R"({"src": "10.0.0.0/28", "action": "drop"})",
      R"({"dst": "10.1.1.7", "action": "drop"})",
      R"({"src": "0.0.0.0/0", "dst": "192.168.0.0/16", "action": "drop"})",
      R"({"src": "10.0.0.0/8", "dst": "172.16.0.0/12", "action": "drop"})",
      R"({"proto": "tcp", "sport": 1234, "action": "drop"})",
      R"({"proto": "tcp", "dport": [1, 1023], "action": "drop"})",
      R"({"proto": "udp", "sport": "0-0", "dport": "5000-5100", "action": "drop"})",
      R"({"proto": "udp", "sport": [1024, 65535], "dport": 65535, "action": "drop"})",
      R"({"proto": "tcp", "sport": [0, 65535], "action": "drop"})",
      R"({"proto": "tcp", "tcp_flags": {"set": ["syn"]}, "action": "drop"})",
      R"({"proto": "tcp", "tcp_flags": {"unset": ["ack", "fin"]}, "action": "drop"})",
      R"({"proto": "tcp", "tcp_flags": {"set": ["cwr", "ece", "urg"], "unset": ["ack", "psh", "rst", "syn", "fin"]}, "action": "drop"})",
      R"({"proto": "tcp", "tcp_flags": {}, "action": "drop"})",
      R"({"proto": "icmp", "icmp_type": 8, "action": "drop"})",
      R"({"proto": "icmp", "icmp_code": [1, 3], "action": "drop"})",
      R"({"proto": "icmp", "icmp_type": [0, 255], "icmp_code": 0, "action": "drop"})",
      R"({"action": "reject"})",
      R"({"proto": "tcp", "action": "reject", "reject_with": "tcp-reset"})",
      R"({"proto": "udp", "action": "reject", "reject_with": "icmp-port-unreachable"})",
      R"({"action": "reject", "reject_with": "icmp-admin-prohibited"})",
      R"({"action": "rate_limit", "rate": {"pps": 100}})",
      R"({"action": "rate_limit", "rate": {"pps": 100, "burst": 100}})",
      R"({"action": "rate_limit", "rate": {"pps": 100, "burst": 1}})",
      R"({"action": "rate_limit", "rate": {"pps": 10000000}})",
      R"({"action": "rate_limit", "rate": {"pps": 10000000, "burst": 1000000}})",
      R"({"action": "rate_limit", "rate": {"pps": 1, "burst": 1000000}})",
      R"({"action": "drop", "comment": ""})",
      R"({"action": "drop", "comment": "quotes \" backslash \\ newline \n tab \t unicode é \u0001"})",
      R"({"hook": "forward", "in_port": 0, "out_port": 1, "proto": "tcp", "src": "10.0.0.0/24", "dst": "10.1.1.128/25",
          "sport": [1024, 65535], "dport": 443, "tcp_flags": {"set": ["syn"], "unset": ["ack"]},
          "action": "reject", "reject_with": "tcp-reset", "comment": "everything at once"})",
      R"({"hook": "output", "out_port": 1, "proto": "icmp", "src": "10.1.1.1", "dst": "10.1.1.0/24", "icmp_type": 3,
          "icmp_code": [0, 15], "action": "rate_limit", "rate": {"pps": 20, "burst": 3}, "comment": "errors out"})",
  };
  for (const char* shape : shapes) {
    auto first = parse_filter_rule(shape, "rule", 2);
    ASSERT_TRUE(first.ok()) << shape << ": " << first.error().message;
    const std::string text = format_filter_rule(*first);
    auto again = parse_filter_rule(text, "rule", 2);
    ASSERT_TRUE(again.ok()) << text << ": " << again.error().message;
    EXPECT_EQ(*again, *first) << shape << " -> " << text << " -> " << format_filter_rule(*again);
    EXPECT_EQ(format_filter_rule(*again), text);
  }
}

// ---------------------------------------------------- rejected: the table

TEST(FilterConfig, TopLevelKeyList_NamesFilters) {
  EXPECT_EQ(error_of(R"({"ports": [{"address": "10.0.0.1/24"}], "filter": {}})"),
            "$.filter: unknown key (expected one of: ports, routes, ip, icmp, arp, udp, tcp, services, filters, logging)");
}

TEST(FilterConfig, FiltersNotAnObject_Rejected) {
  EXPECT_TRUE(RejectedAs(R"({"ports": [{"address": "10.0.0.1/24"}], "filters": []})", "$.filters",
                         "expected an object, got an array"));
}

TEST(FilterConfig, FiltersUnknownKey_Rejected) {
  EXPECT_EQ(error_of(filters(R"("chains": [])")),
            "$.filters.chains: unknown key (expected one of: policy, rules)");
}

TEST(FilterConfig, PolicyNotAnObject_Rejected) {
  EXPECT_TRUE(RejectedAs(filters(R"("policy": "drop")"), "$.filters.policy", "expected an object, got a string"));
}

TEST(FilterConfig, PolicyUnknownHook_Rejected) {
  EXPECT_EQ(error_of(filters(R"("policy": {"prerouting": "drop"})")),
            "$.filters.policy.prerouting: unknown hook (expected one of: input, forward, output)");
}

TEST(FilterConfig, PolicyReject_Rejected) {
  EXPECT_EQ(error_of(filters(R"("policy": {"input": "reject"})")),
            "$.filters.policy.input: expected one of accept, drop, got \"reject\"");
}

TEST(FilterConfig, PolicyCount_Rejected) {
  EXPECT_TRUE(RejectedAs(filters(R"("policy": {"output": "count"})"), "$.filters.policy.output",
                         "expected one of accept, drop, got \"count\""));
}

TEST(FilterConfig, PolicyNotAString_Rejected) {
  EXPECT_TRUE(RejectedAs(filters(R"("policy": {"forward": false})"), "$.filters.policy.forward",
                         "expected one of accept, drop, got a boolean"));
}

TEST(FilterConfig, RulesNotAnArray_Rejected) {
  EXPECT_TRUE(RejectedAs(filters(R"("rules": {"action": "drop"})"), "$.filters.rules",
                         "expected an array of rules, got an object"));
}

TEST(FilterConfig, RuleNotAnObject_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"("drop")"), "$.filters.rules[0]", "expected an object, got a string"));
}

TEST(FilterConfig, MoreThanMaxRules_RejectedAtTheFirstExcessRule) {
  EXPECT_EQ(error_of(rules(repeated(R"({"action":"drop"})", kMaxFilterRules + 1))),
            "$.filters.rules[65536]: expected at most 65536 rules, got 65537");
}

TEST(FilterConfig, SixteenCountRulesOnOneHook_RejectedAtTheSixteenth) {
  // 15 on input, others between them, then a 16th on input at rules[20].
  const std::string text = rules(repeated(R"({"action": "count"})", 10) + ", " +
                                 repeated(R"({"hook": "forward", "action": "count"})", 5) + ", " +
                                 repeated(R"({"hook": "input", "action": "count"})", 5) + ", " +
                                 R"({"hook": "input", "action": "count"})");
  EXPECT_EQ(error_of(text),
            "$.filters.rules[20]: expected at most 15 count rules per hook (each takes one rte_acl category), "
            "got a 16th on hook input");
}

TEST(FilterConfig, SixteenCountRulesOnOutput_RejectedAtTheSixteenth) {
  EXPECT_TRUE(RejectedAs(rules(repeated(R"({"hook": "output", "action": "count"})", 16)), "$.filters.rules[15]",
                         "expected at most 15 count rules per hook"));
}

TEST(FilterConfig, ErrorInALaterRule_NamesItsIndex) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "drop"}, {"action": "drop"}, {"action": "deny"})"),
                         "$.filters.rules[2].action", "expected one of"));
}

// ----------------------------------------------------- rejected: rule keys

TEST(FilterConfig, UnknownRuleKey_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "drop", "bogus": 1})")),
            "$.filters.rules[0].bogus: unknown key (expected one of: hook, in_port, out_port, proto, src, dst, "
            "sport, dport, tcp_flags, icmp_type, icmp_code, action, reject_with, rate, comment)");
}

TEST(FilterConfig, MisspelledRuleKey_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "drop", "protocol": "tcp"})"), "$.filters.rules[0].protocol",
                         "unknown key (expected one of: "));
}

TEST(FilterConfig, ActionMissing_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "tcp"})")),
            "$.filters.rules[0].action: required key missing (expected one of accept, drop, reject, count, rate_limit)");
}

TEST(FilterConfig, ActionUnknown_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "accept"}, {"action": "accept"}, {"action": "deny"})")),
            "$.filters.rules[2].action: expected one of accept, drop, reject, count, rate_limit, got \"deny\"");
}

TEST(FilterConfig, ActionWrongCase_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "DROP"})"), "$.filters.rules[0].action",
                         "expected one of accept, drop, reject, count, rate_limit, got \"DROP\""));
}

TEST(FilterConfig, ActionNotAString_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": 1})"), "$.filters.rules[0].action",
                         "expected one of accept, drop, reject, count, rate_limit, got an integer"));
}

TEST(FilterConfig, HookUnknown_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"hook": "prerouting", "action": "drop"})")),
            "$.filters.rules[0].hook: expected one of input, forward, output, got \"prerouting\"");
}

TEST(FilterConfig, HookNotAString_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"hook": ["input"], "action": "drop"})"), "$.filters.rules[0].hook",
                         "expected one of input, forward, output, got an array"));
}

TEST(FilterConfig, InPortOnOutput_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"hook": "output", "in_port": 0, "action": "drop"})")),
            "$.filters.rules[0].in_port: expected a hook with an ingress port (input or forward), got hook output");
}

TEST(FilterConfig, OutPortOnInput_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"out_port": 0, "action": "drop"})")),  // input by default
            "$.filters.rules[0].out_port: expected a hook with an egress port (forward or output), got hook input");
}

TEST(FilterConfig, InPortBeyondThePorts_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"in_port": 2, "action": "drop"})")),
            "$.filters.rules[0].in_port: expected an integer in 0..1, got 2");
}

TEST(FilterConfig, InPortNegative_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"in_port": -1, "action": "drop"})"), "$.filters.rules[0].in_port",
                         "expected an integer in 0..1, got -1"));
}

TEST(FilterConfig, InPortNotAnInteger_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"in_port": "0", "action": "drop"})"), "$.filters.rules[0].in_port",
                         "expected an integer in 0..1, got a string"));
}

TEST(FilterConfig, OutPortBeyondThePorts_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"hook": "forward", "out_port": 5, "action": "drop"})"),
                         "$.filters.rules[0].out_port", "expected an integer in 0..1, got 5"));
}

TEST(FilterConfig, ProtoUnknownName_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "sctp", "action": "drop"})")),
            "$.filters.rules[0].proto: expected \"tcp\", \"udp\", \"icmp\" or an integer in 0..255, got \"sctp\"");
}

TEST(FilterConfig, ProtoWrongCase_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "TCP", "action": "drop"})"), "$.filters.rules[0].proto",
                         "expected \"tcp\", \"udp\", \"icmp\" or an integer in 0..255, got \"TCP\""));
}

TEST(FilterConfig, Proto256_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": 256, "action": "drop"})"), "$.filters.rules[0].proto",
                         "expected \"tcp\", \"udp\", \"icmp\" or an integer in 0..255, got 256"));
}

TEST(FilterConfig, ProtoNegative_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": -6, "action": "drop"})"), "$.filters.rules[0].proto",
                         "expected \"tcp\", \"udp\", \"icmp\" or an integer in 0..255, got -6"));
}

TEST(FilterConfig, ProtoBeyondInt64_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": 18446744073709551615, "action": "drop"})"), "$.filters.rules[0].proto",
                         "expected \"tcp\", \"udp\", \"icmp\" or an integer in 0..255, got 18446744073709551615"));
}

TEST(FilterConfig, ProtoFloat_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": 6.0, "action": "drop"})"), "$.filters.rules[0].proto",
                         "expected \"tcp\", \"udp\", \"icmp\" or an integer in 0..255, got a number"));
}

TEST(FilterConfig, SrcHostBitsSet_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "drop"}, {"src": "10.0.0.1/24", "action": "drop"})")),
            "$.filters.rules[1].src: expected a prefix a.b.c.d/len with no host bits set, got \"10.0.0.1/24\" "
            "(the network is 10.0.0.0/24)");
}

TEST(FilterConfig, SrcHostBitsSetInSlash0_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"src": "1.2.3.4/0", "action": "drop"})"), "$.filters.rules[0].src",
                         "expected a prefix a.b.c.d/len with no host bits set, got \"1.2.3.4/0\""));
}

TEST(FilterConfig, SrcMalformed_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"src": "10.0.0/24", "action": "drop"})")),
            "$.filters.rules[0].src: expected a prefix a.b.c.d/len (len 0..32) or an address a.b.c.d, got "
            "\"10.0.0/24\"");
}

TEST(FilterConfig, SrcLength33_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"src": "10.0.0.0/33", "action": "drop"})"), "$.filters.rules[0].src",
                         "expected a prefix a.b.c.d/len (len 0..32) or an address a.b.c.d, got \"10.0.0.0/33\""));
}

TEST(FilterConfig, SrcNotAString_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"src": 167772160, "action": "drop"})"), "$.filters.rules[0].src",
                         "expected a string, got an integer"));
}

TEST(FilterConfig, DstHostBitsSet_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"dst": "192.168.1.1/16", "action": "drop"})"), "$.filters.rules[0].dst",
                         "expected a prefix a.b.c.d/len with no host bits set, got \"192.168.1.1/16\""));
}

TEST(FilterConfig, DstOctetOutOfRange_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"dst": "10.0.0.256", "action": "drop"})"), "$.filters.rules[0].dst",
                         "expected a prefix a.b.c.d/len (len 0..32) or an address a.b.c.d, got \"10.0.0.256\""));
}

TEST(FilterConfig, SportWithoutProto_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"sport": 80, "action": "drop"})")),
            "$.filters.rules[0].sport: expected proto tcp or udp for a port match, got no proto");
}

TEST(FilterConfig, SportWithIcmp_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "icmp", "sport": 80, "action": "drop"})"), "$.filters.rules[0].sport",
                         "expected proto tcp or udp for a port match, got proto icmp"));
}

TEST(FilterConfig, DportWithOtherProtocolNumber_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": 47, "dport": 80, "action": "drop"})"), "$.filters.rules[0].dport",
                         "expected proto tcp or udp for a port match, got proto 47"));
}

TEST(FilterConfig, SportUpsideDown_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "drop"}, {"action": "drop"}, {"action": "drop"},
                           {"proto": "tcp", "sport": [90, 80], "action": "drop"})")),
            "$.filters.rules[3].sport: expected lo <= hi, got [90, 80]");
}

TEST(FilterConfig, DportUpsideDownText_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "udp", "dport": "90-80", "action": "drop"})")),
            "$.filters.rules[0].dport: expected lo <= hi, got \"90-80\"");
}

TEST(FilterConfig, Dport65536_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": 65536, "action": "drop"})"), "$.filters.rules[0].dport",
                         "expected an integer in 0..65535, got 65536"));
}

TEST(FilterConfig, DportNegative_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": -1, "action": "drop"})"), "$.filters.rules[0].dport",
                         "expected an integer in 0..65535, got -1"));
}

TEST(FilterConfig, DportArrayOfThree_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "tcp", "dport": [1, 2, 3], "action": "drop"})")),
            "$.filters.rules[0].dport: expected an integer in 0..65535, [lo, hi] or \"lo-hi\", got an array of 3");
}

TEST(FilterConfig, DportArrayOfOne_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": [80], "action": "drop"})"), "$.filters.rules[0].dport",
                         "expected an integer in 0..65535, [lo, hi] or \"lo-hi\", got an array of 1"));
}

TEST(FilterConfig, DportArrayHighOutOfRange_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": [80, 70000], "action": "drop"})"),
                         "$.filters.rules[0].dport[1]", "expected an integer in 0..65535, got 70000"));
}

TEST(FilterConfig, DportArrayElementNotAnInteger_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": ["80", 90], "action": "drop"})"),
                         "$.filters.rules[0].dport[0]", "expected an integer in 0..65535, got a string"));
}

TEST(FilterConfig, DportTextMalformed_Rejected) {
  for (const char* bad : {"80:90", "80-", "-80", " 80-90", "80-90 ", "80", "a-b", "80--90", "0x50-0x60", ""}) {
    EXPECT_TRUE(RejectedAs(rules(std::string(R"({"proto": "tcp", "dport": ")") + bad + R"(", "action": "drop"})"),
                           "$.filters.rules[0].dport",
                           std::string("expected an integer in 0..65535, [lo, hi] or \"lo-hi\", got \"") + bad + "\""))
        << bad;
  }
}

TEST(FilterConfig, DportTextOutOfRange_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": "0-65536", "action": "drop"})"),
                         "$.filters.rules[0].dport",
                         "expected an integer in 0..65535, [lo, hi] or \"lo-hi\", got \"0-65536\""));
}

TEST(FilterConfig, DportWrongType_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": true, "action": "drop"})"), "$.filters.rules[0].dport",
                         "expected an integer in 0..65535, [lo, hi] or \"lo-hi\", got a boolean"));
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": 80.5, "action": "drop"})"), "$.filters.rules[0].dport",
                         "expected an integer in 0..65535, [lo, hi] or \"lo-hi\", got a number"));
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "dport": null, "action": "drop"})"), "$.filters.rules[0].dport",
                         "expected an integer in 0..65535, [lo, hi] or \"lo-hi\", got a null"));
}

TEST(FilterConfig, TcpFlagsWithoutProto_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"tcp_flags": {"set": ["syn"]}, "action": "drop"})")),
            "$.filters.rules[0].tcp_flags: expected proto tcp for a TCP flags match, got no proto");
}

TEST(FilterConfig, TcpFlagsWithUdp_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "udp", "tcp_flags": {"set": ["syn"]}, "action": "drop"})"),
                         "$.filters.rules[0].tcp_flags", "expected proto tcp for a TCP flags match, got proto udp"));
}

TEST(FilterConfig, TcpFlagUnknown_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "tcp", "tcp_flags": {"set": ["syn", "foo"]}, "action": "drop"})")),
            "$.filters.rules[0].tcp_flags.set[1]: expected one of fin, syn, rst, psh, ack, urg, ece, cwr, got \"foo\"");
}

TEST(FilterConfig, TcpFlagWrongCase_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "tcp_flags": {"unset": ["ACK"]}, "action": "drop"})"),
                         "$.filters.rules[0].tcp_flags.unset[0]", "expected one of fin, syn, rst"));
}

TEST(FilterConfig, TcpFlagInSetAndUnset_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "tcp", "tcp_flags": {"set": ["syn"], "unset": ["ack", "syn"]}, "action": "drop"})")),
            "$.filters.rules[0].tcp_flags.unset[1]: expected a flag not also in $.filters.rules[0].tcp_flags.set, got "
            "\"syn\"");
}

TEST(FilterConfig, TcpFlagsUnknownKey_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "tcp", "tcp_flags": {"mask": ["syn"]}, "action": "drop"})")),
            "$.filters.rules[0].tcp_flags.mask: unknown key (expected one of: set, unset)");
}

TEST(FilterConfig, TcpFlagsNotAnObject_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "tcp_flags": ["syn"], "action": "drop"})"),
                         "$.filters.rules[0].tcp_flags", "expected an object, got an array"));
}

TEST(FilterConfig, TcpFlagsSetNotAnArray_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "tcp", "tcp_flags": {"set": "syn"}, "action": "drop"})"),
                         "$.filters.rules[0].tcp_flags.set",
                         "expected an array of flag names (fin, syn, rst, psh, ack, urg, ece, cwr), got a string"));
}

TEST(FilterConfig, IcmpTypeWithTcp_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "tcp", "icmp_type": 8, "action": "drop"})")),
            "$.filters.rules[0].icmp_type: expected proto icmp for an ICMP type match, got proto tcp");
}

TEST(FilterConfig, IcmpCodeWithoutProto_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"icmp_code": 0, "action": "drop"})"), "$.filters.rules[0].icmp_code",
                         "expected proto icmp for an ICMP code match, got no proto"));
}

TEST(FilterConfig, IcmpType256_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "icmp", "icmp_type": 256, "action": "drop"})"),
                         "$.filters.rules[0].icmp_type", "expected an integer in 0..255, got 256"));
}

TEST(FilterConfig, IcmpTypeUpsideDown_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "icmp", "icmp_type": [8, 0], "action": "drop"})"),
                         "$.filters.rules[0].icmp_type", "expected lo <= hi, got [8, 0]"));
}

TEST(FilterConfig, IcmpCodeTextOutOfRange_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"proto": "icmp", "icmp_code": "0-256", "action": "drop"})"),
                         "$.filters.rules[0].icmp_code",
                         "expected an integer in 0..255, [lo, hi] or \"lo-hi\", got \"0-256\""));
}

TEST(FilterConfig, RejectWithOnDrop_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "drop", "reject_with": "icmp-port-unreachable"})")),
            "$.filters.rules[0].reject_with: expected action reject for reject_with, got action drop");
}

TEST(FilterConfig, RejectWithUnknown_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "reject", "reject_with": "icmp-host-unreachable"})")),
            "$.filters.rules[0].reject_with: expected one of tcp-reset, icmp-port-unreachable, icmp-admin-prohibited, "
            "got \"icmp-host-unreachable\"");
}

// "auto" is what an absent reject_with means, not a value to write.
TEST(FilterConfig, RejectWithAuto_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "reject", "reject_with": "auto"})"), "$.filters.rules[0].reject_with",
                         "expected one of tcp-reset, icmp-port-unreachable, icmp-admin-prohibited, got \"auto\""));
}

TEST(FilterConfig, RejectWithTcpResetOnUdp_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"proto": "udp", "action": "reject", "reject_with": "tcp-reset"})")),
            "$.filters.rules[0].reject_with: expected proto tcp for tcp-reset (icmp-port-unreachable or "
            "icmp-admin-prohibited answer the others), got proto udp");
}

TEST(FilterConfig, RejectWithTcpResetWithoutProto_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "reject", "reject_with": "tcp-reset"})"),
                         "$.filters.rules[0].reject_with", "expected proto tcp for tcp-reset"));
}

TEST(FilterConfig, RateMissingOnRateLimit_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "rate_limit"})")),
            "$.filters.rules[0].rate: required key missing (action rate_limit needs {\"pps\": 1..10000000, "
            "\"burst\": 1..1000000})");
}

TEST(FilterConfig, RateOnDrop_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "drop", "rate": {"pps": 10}})")),
            "$.filters.rules[0].rate: expected action rate_limit for a rate, got action drop");
}

TEST(FilterConfig, RateNotAnObject_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "rate_limit", "rate": 100})"), "$.filters.rules[0].rate",
                         "expected an object, got an integer"));
}

TEST(FilterConfig, RateUnknownKey_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "rate_limit", "rate": {"pps": 10, "bps": 1000}})")),
            "$.filters.rules[0].rate.bps: unknown key (expected one of: pps, burst)");
}

TEST(FilterConfig, RatePpsMissing_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "rate_limit", "rate": {"burst": 10}})")),
            "$.filters.rules[0].rate.pps: required key missing (expected an integer in 1..10000000)");
}

TEST(FilterConfig, RatePps0_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "rate_limit", "rate": {"pps": 0}})"), "$.filters.rules[0].rate.pps",
                         "expected an integer in 1..10000000, got 0"));
}

TEST(FilterConfig, RatePpsTooLarge_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "rate_limit", "rate": {"pps": 10000001}})"),
                         "$.filters.rules[0].rate.pps", "expected an integer in 1..10000000, got 10000001"));
}

TEST(FilterConfig, RateBurst0_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "rate_limit", "rate": {"pps": 10, "burst": 0}})"),
                         "$.filters.rules[0].rate.burst", "expected an integer in 1..1000000, got 0"));
}

TEST(FilterConfig, RateBurstTooLarge_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "rate_limit", "rate": {"pps": 10, "burst": 1000001}})"),
                         "$.filters.rules[0].rate.burst", "expected an integer in 1..1000000, got 1000001"));
}

TEST(FilterConfig, CommentTooLong_Rejected) {
  EXPECT_EQ(error_of(rules(R"({"action": "drop", "comment": ")" + std::string(201, 'x') + "\"}")),
            "$.filters.rules[0].comment: expected a string of at most 200 bytes, got 201 bytes");
}

TEST(FilterConfig, CommentNotAString_Rejected) {
  EXPECT_TRUE(RejectedAs(rules(R"({"action": "drop", "comment": 7})"), "$.filters.rules[0].comment",
                         "expected a string, got an integer"));
}

}  // namespace
}  // namespace dpdkstack

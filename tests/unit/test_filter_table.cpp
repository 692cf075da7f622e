// The compiled filter table (lib/filter/table.hpp): rte_acl classification
// of crafted keys on every field, first match wins, count rules before and
// after the deciding rule, hook separation, the build's refusals, and 10,000
// random rules checked against the plain reference matcher
// (filter_rule_matches) on 100,000 keys.
//
// rte_acl allocates from EAL memory: these tests start EAL the first time
// one of them runs (test_util.hpp's eal_ready()).
#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "filter/table.hpp"
#include "test_util.hpp"

namespace dpdkstack {
namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kIcmp = 1;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20, kEce = 0x40;

constexpr FilterHook kIn = FilterHook::kInput;
constexpr FilterHook kFwd = FilterHook::kForward;
constexpr FilterHook kOut = FilterHook::kOutput;

Ipv4Addr A(const char* text) {
  auto a = Ipv4Addr::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(Ipv4Addr{});
}

Ipv4Prefix P(const char* text) {
  auto p = Ipv4Prefix::parse(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p.value_or(Ipv4Prefix{});
}

// A key as the engine makes it: addresses and ports in network byte order.
struct K {
  FilterKey k;
  K() = default;
  K& proto(uint8_t p) { k.proto = p; return *this; }
  K& flags(uint8_t f) { k.tcp_flags = f; return *this; }
  K& in(uint8_t p) { k.in_port = p; return *this; }
  K& out(uint8_t p) { k.out_port = p; return *this; }
  K& src(const char* a) { k.src = rte_cpu_to_be_32(A(a).v); return *this; }
  K& dst(const char* a) { k.dst = rte_cpu_to_be_32(A(a).v); return *this; }
  K& sport(uint16_t p) { k.sport = rte_cpu_to_be_16(p); return *this; }
  K& dport(uint16_t p) { k.dport = rte_cpu_to_be_16(p); return *this; }
  K& icmp(uint8_t type, uint8_t code) { return proto(kIcmp).sport(type).dport(code); }
  operator const FilterKey&() const { return k; }  // NOLINT(implicit)
};

K tcp(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  return K().proto(kTcp).src(src).dst(dst).sport(sport).dport(dport);
}
K udp(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  return K().proto(kUdp).src(src).dst(dst).sport(sport).dport(dport);
}

FilterRule rule(FilterAction a, FilterHook h = kIn) {
  FilterRule r;
  r.action = a;
  r.hook = h;
  return r;
}

// What a classification says, comparable and printable.
struct Outcome {
  int32_t rule = -1;
  std::vector<uint32_t> counts;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{rule " << o.rule << ", counts [";
  for (size_t i = 0; i < o.counts.size(); ++i) *os << (i ? " " : "") << o.counts[i];
  *os << "]}";
}

Outcome outcome(const FilterResult& r) {
  Outcome o{r.rule, {}};
  for (uint8_t i = 0; i < r.n_counts; ++i) o.counts.push_back(r.counts[i]);
  return o;
}

Outcome got(const FilterTable& t, FilterHook h, const FilterKey& k) { return outcome(t.classify(h, k)); }

// The reference: the rules in order, plain matching; `idx` the hook's rule
// indexes in config order (all rules if empty and `all`).
Outcome want_among(const FilterConfig& cfg, const std::vector<uint32_t>& idx, FilterHook h, const FilterKey& k) {
  Outcome o;
  for (uint32_t i : idx) {
    const FilterRule& r = cfg.rules[i];
    if (!filter_rule_matches(r, h, k)) continue;
    if (r.action == FilterAction::kCount) {
      o.counts.push_back(i);
    } else {
      o.rule = static_cast<int32_t>(i);
      break;
    }
  }
  return o;
}

Outcome want(const FilterConfig& cfg, FilterHook h, const FilterKey& k) {
  std::vector<uint32_t> idx(cfg.rules.size());
  for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
  return want_among(cfg, idx, h, k);
}

Outcome O(int32_t r, std::vector<uint32_t> counts = {}) { return Outcome{r, std::move(counts)}; }

::testing::AssertionResult FailsWith(const Result<std::shared_ptr<const FilterTable>>& t, const std::string& part) {
  if (t.ok()) return ::testing::AssertionFailure() << "built, want an error containing \"" << part << "\"";
  if (t.error().message.find(part) == std::string::npos)
    return ::testing::AssertionFailure() << "got \"" << t.error().message << "\", want it to contain \"" << part
                                         << "\"";
  return ::testing::AssertionSuccess() << t.error().message;
}

class FilterTableTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(eal_ready()); }

  // Builds `cfg` (failing the test if it cannot).
  std::shared_ptr<const FilterTable> build(const FilterConfig& cfg) {
    auto t = FilterTable::build(cfg, SOCKET_ID_ANY);
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? *t : nullptr;
  }
  std::shared_ptr<const FilterTable> build(std::vector<FilterRule> rules) {
    FilterConfig cfg;
    cfg.rules = std::move(rules);
    return build(cfg);
  }

  // The table's answer, checked against the reference on the way.
  Outcome classify(const FilterTable& t, FilterHook h, const FilterKey& k) {
    Outcome o = got(t, h, k);
    EXPECT_EQ(o, want(t.config(), h, k)) << "the reference matcher disagrees";
    return o;
  }
  // Which rule decides (-1: none), on the input hook unless told.
  int32_t decides(const FilterTable& t, const FilterKey& k, FilterHook h = kIn) { return classify(t, h, k).rule; }
};

TEST_F(FilterTableTest, NoRules_NoHookHasRules_ClassifyGivesNothing) {
  auto t = build(std::vector<FilterRule>{});
  ASSERT_NE(t, nullptr);
  for (FilterHook h : {kIn, kFwd, kOut}) {
    EXPECT_FALSE(t->has_rules(h)) << filter_hook_name(h);
    EXPECT_EQ(got(*t, h, tcp("10.0.0.1", "10.0.0.2", 1, 2)), O(-1));
  }
}

TEST_F(FilterTableTest, ConfigIsKept) {
  FilterConfig cfg;
  cfg.policy = {FilterAction::kDrop, FilterAction::kAccept, FilterAction::kDrop};
  cfg.rules = {rule(FilterAction::kDrop), rule(FilterAction::kCount, kOut)};
  cfg.rules[0].comment = "a comment";
  auto t = build(cfg);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->config(), cfg);
}

TEST_F(FilterTableTest, Hooks_RulesOfOneHookAreNotInAnother) {
  FilterRule in = rule(FilterAction::kDrop, kIn);
  auto t = build({in});
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->has_rules(kIn));
  EXPECT_FALSE(t->has_rules(kFwd));
  EXPECT_FALSE(t->has_rules(kOut));
  const FilterKey k = tcp("10.0.0.1", "10.0.0.2", 1000, 80);
  EXPECT_EQ(decides(*t, k, kIn), 0);
  EXPECT_EQ(decides(*t, k, kFwd), -1);
  EXPECT_EQ(decides(*t, k, kOut), -1);

  // The same match on every hook: each hook finds its own rule, whatever
  // the order.
  auto t3 = build({rule(FilterAction::kAccept, kOut), rule(FilterAction::kDrop, kFwd),
                   rule(FilterAction::kCount, kIn), rule(FilterAction::kReject, kIn)});
  ASSERT_NE(t3, nullptr);
  EXPECT_EQ(classify(*t3, kIn, k), O(3, {2}));
  EXPECT_EQ(classify(*t3, kFwd, k), O(1));
  EXPECT_EQ(classify(*t3, kOut, k), O(0));
}

TEST_F(FilterTableTest, Protocol_ExactNumber_AbsentIsAny) {
  FilterRule r = rule(FilterAction::kDrop);
  r.protocol = kUdp;
  auto t = build({r});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(decides(*t, udp("10.0.0.1", "10.0.0.2", 5, 6)), 0);
  EXPECT_EQ(decides(*t, tcp("10.0.0.1", "10.0.0.2", 5, 6)), -1);
  EXPECT_EQ(decides(*t, K().proto(kIcmp)), -1);
  EXPECT_EQ(decides(*t, K().proto(0)), -1);
  EXPECT_EQ(decides(*t, K().proto(kUdp + 1)), -1);

  auto any = build({rule(FilterAction::kDrop)});
  ASSERT_NE(any, nullptr);
  for (int p : {0, 1, 6, 17, 47, 255}) EXPECT_EQ(decides(*any, K().proto(static_cast<uint8_t>(p))), 0) << p;

  FilterRule p255 = rule(FilterAction::kDrop);
  p255.protocol = 255;
  auto t255 = build({p255});
  ASSERT_NE(t255, nullptr);
  EXPECT_EQ(decides(*t255, K().proto(255)), 0);
  EXPECT_EQ(decides(*t255, K().proto(254)), -1);
}

// Prefixes of every interesting length: the first and last address inside,
// the neighbours outside, on src and on dst.
TEST_F(FilterTableTest, SrcAndDstPrefixes_EveryLength_EdgesInsideAndOut) {
  struct Case {
    const char* prefix;
    const char* first;
    const char* last;
    const char* below;  // nullptr: none (the prefix starts at 0.0.0.0)
    const char* above;  // nullptr: none (ends at 255.255.255.255)
  };
  const Case cases[] = {
      {"0.0.0.0/0", "0.0.0.0", "255.255.255.255", nullptr, nullptr},
      {"128.0.0.0/1", "128.0.0.0", "255.255.255.255", "127.255.255.255", nullptr},
      {"10.0.0.0/8", "10.0.0.0", "10.255.255.255", "9.255.255.255", "11.0.0.0"},
      {"172.16.0.0/12", "172.16.0.0", "172.31.255.255", "172.15.255.255", "172.32.0.0"},
      {"192.168.4.0/22", "192.168.4.0", "192.168.7.255", "192.168.3.255", "192.168.8.0"},
      {"10.1.2.0/24", "10.1.2.0", "10.1.2.255", "10.1.1.255", "10.1.3.0"},
      {"10.0.0.0/28", "10.0.0.0", "10.0.0.15", "9.255.255.255", "10.0.0.16"},
      {"10.0.0.6/31", "10.0.0.6", "10.0.0.7", "10.0.0.5", "10.0.0.8"},
      {"10.0.0.7/32", "10.0.0.7", "10.0.0.7", "10.0.0.6", "10.0.0.8"},
      {"0.0.0.0/32", "0.0.0.0", "0.0.0.0", nullptr, "0.0.0.1"},
      {"255.255.255.255/32", "255.255.255.255", "255.255.255.255", "255.255.255.254", nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.prefix);
    FilterRule s = rule(FilterAction::kDrop);
    s.src = P(c.prefix);
    FilterRule d = rule(FilterAction::kReject);
    d.dst = P(c.prefix);
    auto ts = build({s});
    auto td = build({d});
    ASSERT_NE(ts, nullptr);
    ASSERT_NE(td, nullptr);
    for (const char* in : {c.first, c.last}) {
      EXPECT_EQ(decides(*ts, K().src(in).dst("1.2.3.4")), 0) << in;
      EXPECT_EQ(decides(*td, K().dst(in).src("1.2.3.4")), 0) << in;
    }
    for (const char* out : {c.below, c.above}) {
      if (out == nullptr) continue;
      EXPECT_EQ(decides(*ts, K().src(out).dst(c.first)), -1) << out;
      EXPECT_EQ(decides(*td, K().dst(out).src(c.first)), -1) << out;
    }
  }
}

TEST_F(FilterTableTest, PrefixWithHostBits_MatchesItsNetwork) {
  FilterRule r = rule(FilterAction::kDrop);
  r.src = P("10.1.2.3/16");  // host bits set: the network is 10.1.0.0/16
  auto t = build({r});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(decides(*t, K().src("10.1.0.0")), 0);
  EXPECT_EQ(decides(*t, K().src("10.1.255.255")), 0);
  EXPECT_EQ(decides(*t, K().src("10.2.2.3")), -1);
}

// The key is in network byte order: 10.1.2.3 is the bytes 10 1 2 3, port
// 0x0102 the bytes 1 2; the byte-swapped values must not match.
TEST_F(FilterTableTest, KeyIsInNetworkByteOrder_RulesInHostOrder) {
  FilterRule r = rule(FilterAction::kDrop);
  r.protocol = kTcp;
  r.src = P("10.1.2.3/32");
  r.dst = P("192.168.0.0/16");
  r.sport = {0x0102, 0x0102};
  r.dport = {0x0304, 0x0304};
  auto t = build({r});
  ASSERT_NE(t, nullptr);

  FilterKey k{};
  k.proto = kTcp;
  const uint8_t src[4] = {10, 1, 2, 3};
  const uint8_t dst[4] = {192, 168, 7, 9};
  const uint8_t sport[2] = {1, 2};
  const uint8_t dport[2] = {3, 4};
  std::memcpy(&k.src, src, 4);
  std::memcpy(&k.dst, dst, 4);
  std::memcpy(&k.sport, sport, 2);
  std::memcpy(&k.dport, dport, 2);
  EXPECT_EQ(decides(*t, k), 0);

  FilterKey swapped = k;
  swapped.src = rte_bswap32(k.src);
  EXPECT_EQ(decides(*t, swapped), -1);
  swapped = k;
  swapped.dst = rte_bswap32(k.dst);
  EXPECT_EQ(decides(*t, swapped), -1);
  swapped = k;
  swapped.sport = rte_bswap16(k.sport);
  EXPECT_EQ(decides(*t, swapped), -1);
  swapped = k;
  swapped.dport = rte_bswap16(k.dport);
  EXPECT_EQ(decides(*t, swapped), -1);
}

TEST_F(FilterTableTest, PortRanges_InclusiveEdges) {
  FilterRule d = rule(FilterAction::kDrop);
  d.protocol = kTcp;
  d.dport = {1000, 2000};
  FilterRule s = rule(FilterAction::kReject);
  s.protocol = kUdp;
  s.sport = {53, 53};
  FilterRule lo = rule(FilterAction::kAccept);
  lo.protocol = kUdp;
  lo.dport = {0, 0};
  FilterRule hi = rule(FilterAction::kRateLimit);
  hi.protocol = kUdp;
  hi.dport = {65535, 65535};
  FilterRule top = rule(FilterAction::kCount);
  top.protocol = kTcp;
  top.sport = {256, 65535};
  auto t = build({d, s, lo, hi, top});
  ASSERT_NE(t, nullptr);

  EXPECT_EQ(decides(*t, tcp("1.1.1.1", "2.2.2.2", 5, 999)), -1);
  EXPECT_EQ(decides(*t, tcp("1.1.1.1", "2.2.2.2", 5, 1000)), 0);
  EXPECT_EQ(decides(*t, tcp("1.1.1.1", "2.2.2.2", 5, 1500)), 0);
  EXPECT_EQ(decides(*t, tcp("1.1.1.1", "2.2.2.2", 5, 2000)), 0);
  EXPECT_EQ(decides(*t, tcp("1.1.1.1", "2.2.2.2", 5, 2001)), -1);
  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 5, 1500)), -1);  // proto tcp only

  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 53, 7)), 1);
  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 52, 7)), -1);
  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 54, 7)), -1);

  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 7, 0)), 2);
  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 7, 1)), -1);
  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 7, 65535)), 3);
  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 7, 65534)), -1);

  EXPECT_EQ(classify(*t, kIn, tcp("1.1.1.1", "2.2.2.2", 255, 5)), O(-1));
  EXPECT_EQ(classify(*t, kIn, tcp("1.1.1.1", "2.2.2.2", 256, 5)), O(-1, {4}));
  EXPECT_EQ(classify(*t, kIn, tcp("1.1.1.1", "2.2.2.2", 65535, 5)), O(-1, {4}));
  EXPECT_EQ(classify(*t, kIn, tcp("1.1.1.1", "2.2.2.2", 65535, 1000)), O(0));  // count 4 comes after
}

TEST_F(FilterTableTest, TcpFlags_ValueUnderMask) {
  // SYN set, ACK clear, the rest not looked at: a connection request.
  FilterRule syn = rule(FilterAction::kDrop);
  syn.protocol = kTcp;
  syn.tcp_flags = kSyn;
  syn.tcp_flags_mask = kSyn | kAck;
  auto t = build({syn});
  ASSERT_NE(t, nullptr);
  auto k = [](uint8_t flags) { return tcp("10.0.0.1", "10.0.0.2", 1234, 80).flags(flags); };
  EXPECT_EQ(decides(*t, k(kSyn)), 0);
  EXPECT_EQ(decides(*t, k(kSyn | kEce)), 0);
  EXPECT_EQ(decides(*t, k(kSyn | kFin | kPsh | kUrg)), 0);
  EXPECT_EQ(decides(*t, k(kSyn | kAck)), -1);
  EXPECT_EQ(decides(*t, k(kAck)), -1);
  EXPECT_EQ(decides(*t, k(0)), -1);

  // Every flag clear (a null scan): flags 0 under a full mask.
  FilterRule null_scan = rule(FilterAction::kDrop);
  null_scan.protocol = kTcp;
  null_scan.tcp_flags = 0;
  null_scan.tcp_flags_mask = 0xff;
  auto tn = build({null_scan});
  ASSERT_NE(tn, nullptr);
  EXPECT_EQ(decides(*tn, k(0)), 0);
  EXPECT_EQ(decides(*tn, k(kRst)), -1);
  EXPECT_EQ(decides(*tn, k(0x80)), -1);
  EXPECT_EQ(decides(*tn, udp("10.0.0.1", "10.0.0.2", 1, 2)), -1);  // TCP only

  // Mask 0: flags not looked at.
  FilterRule any = rule(FilterAction::kDrop);
  any.protocol = kTcp;
  auto ta = build({any});
  ASSERT_NE(ta, nullptr);
  for (int f = 0; f < 256; f += 17) EXPECT_EQ(decides(*ta, k(static_cast<uint8_t>(f))), 0) << f;
}

// ICMP type and code ride in the port fields: sport = type, dport = code.
TEST_F(FilterTableTest, IcmpTypeAndCode) {
  FilterRule echo = rule(FilterAction::kDrop);
  echo.protocol = kIcmp;
  echo.sport = {8, 8};  // echo request, any code
  FilterRule unreach = rule(FilterAction::kCount);
  unreach.protocol = kIcmp;
  unreach.sport = {3, 3};
  unreach.dport = {13, 13};  // administratively prohibited
  FilterRule range = rule(FilterAction::kAccept);
  range.protocol = kIcmp;
  range.sport = {3, 5};
  range.dport = {0, 3};
  auto t = build({echo, unreach, range});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(classify(*t, kIn, K().icmp(8, 0)), O(0));
  EXPECT_EQ(classify(*t, kIn, K().icmp(8, 255)), O(0));
  EXPECT_EQ(classify(*t, kIn, K().icmp(0, 0)), O(-1));
  EXPECT_EQ(classify(*t, kIn, K().icmp(3, 13)), O(-1, {1}));
  EXPECT_EQ(classify(*t, kIn, K().icmp(3, 3)), O(2));
  EXPECT_EQ(classify(*t, kIn, K().icmp(5, 0)), O(2));
  EXPECT_EQ(classify(*t, kIn, K().icmp(6, 0)), O(-1));
  EXPECT_EQ(classify(*t, kIn, K().icmp(4, 4)), O(-1));
  // A UDP datagram with "ports" 8 and 0 is not an echo request.
  EXPECT_EQ(classify(*t, kIn, udp("1.1.1.1", "2.2.2.2", 8, 0)), O(-1));
}

TEST_F(FilterTableTest, InAndOutPorts_AbsentIsAnyIncludingNone) {
  FilterRule in1 = rule(FilterAction::kDrop, kIn);
  in1.in_port = 1;
  FilterRule fwd = rule(FilterAction::kReject, kFwd);
  fwd.in_port = 0;
  fwd.out_port = 2;
  FilterRule out3 = rule(FilterAction::kAccept, kOut);
  out3.out_port = 3;
  FilterRule any_out = rule(FilterAction::kDrop, kOut);
  auto t = build({in1, fwd, out3, any_out});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(decides(*t, K().in(1), kIn), 0);
  EXPECT_EQ(decides(*t, K().in(0), kIn), -1);
  EXPECT_EQ(decides(*t, K().in(2), kIn), -1);
  EXPECT_EQ(decides(*t, K().in(0xff), kIn), -1);

  EXPECT_EQ(decides(*t, K().in(0).out(2), kFwd), 1);
  EXPECT_EQ(decides(*t, K().in(2).out(0), kFwd), -1);
  EXPECT_EQ(decides(*t, K().in(0).out(1), kFwd), -1);
  EXPECT_EQ(decides(*t, K().in(1).out(2), kFwd), -1);

  EXPECT_EQ(decides(*t, K().out(3), kOut), 2);
  EXPECT_EQ(decides(*t, K().out(4), kOut), 3);
  EXPECT_EQ(decides(*t, K().out(0xff), kOut), 3);

  // 255 and above are no port: such a rule never matches, even the key's
  // "none" (0xff).
  FilterRule p255 = rule(FilterAction::kDrop, kIn);
  p255.in_port = 255;
  FilterRule p300 = rule(FilterAction::kDrop, kOut);
  p300.out_port = 300;
  auto tn = build({p255, p300});
  ASSERT_NE(tn, nullptr);
  EXPECT_FALSE(tn->has_rules(kIn));
  EXPECT_FALSE(tn->has_rules(kOut));
  EXPECT_EQ(decides(*tn, K().in(0xff), kIn), -1);
  EXPECT_EQ(decides(*tn, K().out(300 & 0xff), kOut), -1);
}

TEST_F(FilterTableTest, FirstMatchWins_NotTheMostSpecific) {
  FilterRule wide = rule(FilterAction::kAccept);
  wide.src = P("10.0.0.0/8");
  FilterRule narrow = rule(FilterAction::kDrop);
  narrow.src = P("10.1.0.0/16");
  narrow.protocol = kTcp;
  narrow.dport = {80, 80};
  auto t = build({wide, narrow});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(decides(*t, tcp("10.1.2.3", "1.1.1.1", 1, 80)), 0);
  EXPECT_EQ(decides(*t, tcp("11.1.2.3", "1.1.1.1", 1, 80)), -1);

  auto r = build({narrow, wide});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(decides(*r, tcp("10.1.2.3", "1.1.1.1", 1, 80)), 0);
  EXPECT_EQ(decides(*r, tcp("10.1.2.3", "1.1.1.1", 1, 81)), 1);

  // Many identical rules: the first one.
  std::vector<FilterRule> same(50, wide);
  same[0].src = P("11.0.0.0/8");  // does not match
  auto s = build(same);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(decides(*s, K().src("10.9.9.9")), 1);
}

TEST_F(FilterTableTest, CountRules_BeforeTheDecidingRuleReported_AfterItNot) {
  FilterRule c_tcp = rule(FilterAction::kCount);
  c_tcp.protocol = kTcp;
  FilterRule c_udp = rule(FilterAction::kCount);
  c_udp.protocol = kUdp;
  FilterRule c_all = rule(FilterAction::kCount);
  FilterRule drop80 = rule(FilterAction::kDrop);
  drop80.protocol = kTcp;
  drop80.dport = {80, 80};
  FilterRule c_after = rule(FilterAction::kCount);
  FilterRule c_net = rule(FilterAction::kCount);
  c_net.dst = P("10.0.0.0/8");
  auto t = build({c_tcp, c_udp, c_all, drop80, c_after, c_net});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(classify(*t, kIn, tcp("1.1.1.1", "10.0.0.1", 1, 80)), O(3, {0, 2}));
  // No rule decides: every matching count rule, in config order.
  EXPECT_EQ(classify(*t, kIn, tcp("1.1.1.1", "10.0.0.1", 1, 81)), O(-1, {0, 2, 4, 5}));
  EXPECT_EQ(classify(*t, kIn, udp("1.1.1.1", "9.0.0.1", 1, 80)), O(-1, {1, 2, 4}));
  EXPECT_EQ(classify(*t, kOut, udp("1.1.1.1", "9.0.0.1", 1, 80)), O(-1));

  // A hook with count rules only has rules.
  auto c = build({c_all});
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->has_rules(kIn));
  EXPECT_EQ(classify(*c, kIn, K()), O(-1, {0}));

  // A deciding rule first: no count rule is reported.
  auto first = build({rule(FilterAction::kAccept), c_all, c_tcp});
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(classify(*first, kIn, tcp("1.1.1.1", "10.0.0.1", 1, 80)), O(0));
}

TEST_F(FilterTableTest, FifteenCountRulesPerHook_AllReportedInOrder) {
  std::vector<FilterRule> rules;
  std::vector<uint32_t> in_counts;
  std::vector<uint32_t> out_counts;
  for (int i = 0; i < 15; ++i) {
    in_counts.push_back(static_cast<uint32_t>(rules.size()));
    rules.push_back(rule(FilterAction::kCount, kIn));
    out_counts.push_back(static_cast<uint32_t>(rules.size()));
    rules.push_back(rule(FilterAction::kCount, kOut));
    if (i == 7) rules.push_back(rule(FilterAction::kCount, kFwd));
  }
  rules.push_back(rule(FilterAction::kDrop, kOut));
  const auto out_drop = static_cast<int32_t>(rules.size() - 1);
  auto t = build(rules);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(classify(*t, kIn, K()), O(-1, in_counts));
  EXPECT_EQ(classify(*t, kOut, K()), O(out_drop, out_counts));
  EXPECT_EQ(classify(*t, kFwd, K()), O(-1, {16}));  // the 8th iteration's third rule: 7 * 2 + 2
}

// The key's defaults (no protocol, no ports, addresses and ports 0): only
// rules that ask for nothing, or for exactly those zeros, match.
TEST_F(FilterTableTest, EmptyKey_MatchesOnlyWhatAsksForZeros) {
  const FilterKey empty{};
  FilterRule in0 = rule(FilterAction::kDrop);
  in0.in_port = 0;
  FilterRule ports0 = rule(FilterAction::kDrop);  // no protocol: TCP or UDP only
  ports0.dport = {0, 0};
  FilterRule flags0 = rule(FilterAction::kDrop);  // no protocol: TCP only
  flags0.tcp_flags_mask = kSyn;
  FilterRule src0 = rule(FilterAction::kReject);
  src0.src = P("0.0.0.0/32");
  src0.dst = P("0.0.0.0/32");
  src0.protocol = 0;
  src0.sport = {0, 0};
  src0.dport = {0, 0};
  FilterRule all = rule(FilterAction::kAccept);
  auto t = build({in0, ports0, flags0, src0, all});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(decides(*t, empty), 3);
  auto t2 = build({in0, ports0, flags0, all});
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(decides(*t2, empty), 3);
  EXPECT_EQ(decides(*t2, empty, kOut), -1);
}

// table.hpp: a port range without a protocol is TCP and UDP only; TCP flags
// without a protocol TCP only; with another protocol, or flags outside the
// mask, never. (The config parser asks for the protocol; the table does not
// rely on it.)
TEST_F(FilterTableTest, ImpliedProtocols_PortsMeanTcpOrUdp_FlagsMeanTcp) {
  FilterRule ports = rule(FilterAction::kDrop);
  ports.dport = {0, 1023};
  auto t = build({ports});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(decides(*t, tcp("1.1.1.1", "2.2.2.2", 5000, 22)), 0);
  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 5000, 53)), 0);
  EXPECT_EQ(decides(*t, udp("1.1.1.1", "2.2.2.2", 5000, 1024)), -1);
  EXPECT_EQ(decides(*t, K().icmp(8, 0)), -1);
  EXPECT_EQ(decides(*t, K().proto(47)), -1);

  FilterRule syn = rule(FilterAction::kDrop);
  syn.tcp_flags = kSyn;
  syn.tcp_flags_mask = kSyn;
  auto ts = build({syn});
  ASSERT_NE(ts, nullptr);
  EXPECT_EQ(decides(*ts, tcp("1.1.1.1", "2.2.2.2", 1, 2).flags(kSyn)), 0);
  EXPECT_EQ(decides(*ts, udp("1.1.1.1", "2.2.2.2", 1, 2).flags(kSyn)), -1);

  FilterRule syn_udp = syn;
  syn_udp.protocol = kUdp;
  FilterRule outside = rule(FilterAction::kDrop);
  outside.protocol = kTcp;
  outside.tcp_flags = kSyn | kFin;
  outside.tcp_flags_mask = kSyn;
  auto never = build({syn_udp, outside});
  ASSERT_NE(never, nullptr);
  EXPECT_FALSE(never->has_rules(kIn));
  EXPECT_EQ(decides(*never, udp("1.1.1.1", "2.2.2.2", 1, 2).flags(kSyn)), -1);
  EXPECT_EQ(decides(*never, tcp("1.1.1.1", "2.2.2.2", 1, 2).flags(kSyn | kFin)), -1);

  // A never-matching count rule keeps its category: the next one still works.
  FilterRule c_never = outside;
  c_never.action = FilterAction::kCount;
  FilterRule c = rule(FilterAction::kCount);
  auto tc = build({c_never, c});
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(classify(*tc, kIn, tcp("1.1.1.1", "2.2.2.2", 1, 2).flags(kSyn | kFin)), O(-1, {1}));
}

TEST_F(FilterTableTest, TwoTablesFromOneConfig_AreIndependent) {
  FilterRule r = rule(FilterAction::kDrop);
  r.protocol = kTcp;
  FilterConfig cfg;
  cfg.rules = {r};
  auto a = build(cfg);
  auto b = build(cfg);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  a.reset();
  EXPECT_EQ(decides(*b, K().proto(kTcp)), 0);
  EXPECT_EQ(decides(*b, K().proto(kUdp)), -1);
}

TEST_F(FilterTableTest, Build_SixteenCountRulesInAHook_Refused) {
  std::vector<FilterRule> rules;
  for (int i = 0; i < 15; ++i) {
    rules.push_back(rule(FilterAction::kCount, kIn));
    rules.push_back(rule(FilterAction::kCount, kFwd));
    rules.push_back(rule(FilterAction::kCount, kOut));
  }
  FilterConfig cfg;
  cfg.rules = rules;
  EXPECT_TRUE(FilterTable::build(cfg, SOCKET_ID_ANY).ok());  // 15 on every hook is fine
  cfg.rules.push_back(rule(FilterAction::kCount, kFwd));
  EXPECT_TRUE(FailsWith(FilterTable::build(cfg, SOCKET_ID_ANY), "rule 45: more than 15 count rules in hook forward"));
}

TEST_F(FilterTableTest, Build_MalformedRules_RefusedNamingTheRule) {
  FilterConfig cfg;
  cfg.rules = {rule(FilterAction::kAccept), rule(FilterAction::kDrop)};
  cfg.rules[1].protocol = kTcp;
  cfg.rules[1].dport = {90, 80};
  EXPECT_TRUE(FailsWith(FilterTable::build(cfg, SOCKET_ID_ANY), "rule 1: dport range upside down"));
  cfg.rules[1].dport = {};
  cfg.rules[1].sport = {2, 1};
  EXPECT_TRUE(FailsWith(FilterTable::build(cfg, SOCKET_ID_ANY), "rule 1: sport range upside down"));
  cfg.rules[1].sport = {};
  cfg.rules[1].src.len = 33;
  EXPECT_TRUE(FailsWith(FilterTable::build(cfg, SOCKET_ID_ANY), "rule 1: src prefix longer than 32"));
  cfg.rules[1].src.len = 0;
  cfg.rules[1].dst.len = 40;
  EXPECT_TRUE(FailsWith(FilterTable::build(cfg, SOCKET_ID_ANY), "rule 1: dst prefix longer than 32"));
  cfg.rules[1].dst.len = 32;
  EXPECT_TRUE(FilterTable::build(cfg, SOCKET_ID_ANY).ok());

  cfg.rules.assign(kMaxFilterRules + 1, rule(FilterAction::kAccept));
  EXPECT_TRUE(FailsWith(FilterTable::build(cfg, SOCKET_ID_ANY), "65537 rules, at most 65536"));
}

// rte_acl's own failures come back as an Error with its reason, never as
// an exception or a crash: here EAL's memory is used up first (by this
// test, with rte_malloc; given back at the end). (A bad socket id cannot do
// it: without hugepages rte_malloc takes memory from any socket.)
TEST_F(FilterTableTest, Build_RteAclOutOfMemory_IsAnErrorWithItsReason) {
  FilterConfig one;
  one.rules = {rule(FilterAction::kDrop, kFwd)};
  FilterConfig three;
  three.rules = {rule(FilterAction::kDrop, kOut), rule(FilterAction::kAccept, kOut), rule(FilterAction::kDrop, kOut)};
  three.rules[0].protocol = kTcp;
  three.rules[1].protocol = kUdp;
  std::vector<void*> hog;
  for (size_t size : {size_t{64} << 20, size_t{1} << 20, size_t{64} << 10, size_t{4} << 10, size_t{256}, size_t{16}}) {
    while (void* p = rte_malloc("filter-test-hog", size, 0)) hog.push_back(p);
  }
  auto t1 = FilterTable::build(one, SOCKET_ID_ANY);
  auto t3 = FilterTable::build(three, SOCKET_ID_ANY);
  for (void* p : hog) rte_free(p);
  EXPECT_FALSE(hog.empty());
  EXPECT_TRUE(FailsWith(t1, "filter table, hook forward: rte_acl_create: Cannot allocate memory"));
  // Several rules: halved until one rule alone cannot be built either.
  EXPECT_TRUE(FailsWith(t3, "filter table, hook output: rte_acl_create: Cannot allocate memory (rules 0 to 0"));
  // Memory back: the same configs build.
  EXPECT_TRUE(FilterTable::build(one, SOCKET_ID_ANY).ok());
  EXPECT_TRUE(FilterTable::build(three, SOCKET_ID_ANY).ok());
}

TEST_F(FilterTableTest, ClassifyBurst_SameAsOneByOne) {
  FilterRule c = rule(FilterAction::kCount);
  c.protocol = kUdp;
  FilterRule d = rule(FilterAction::kDrop);
  d.protocol = kUdp;
  d.dport = {100, 200};
  FilterRule a = rule(FilterAction::kAccept);
  a.src = P("10.0.0.0/8");
  auto t = build({c, d, a});
  ASSERT_NE(t, nullptr);
  std::vector<FilterKey> keys;
  for (uint16_t p = 50; p < 300; p += 3) {
    keys.push_back(udp("10.0.0.1", "1.1.1.1", 7, p));
    keys.push_back(udp("11.0.0.1", "1.1.1.1", 7, p));
    keys.push_back(tcp("10.0.0.1", "1.1.1.1", 7, p));
  }
  std::vector<FilterResult> out(keys.size());
  t->classify_burst(kIn, keys.data(), out.data(), static_cast<uint32_t>(keys.size()));
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(outcome(out[i]), classify(*t, kIn, keys[i])) << i;
  t->classify_burst(kOut, keys.data(), out.data(), static_cast<uint32_t>(keys.size()));
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(outcome(out[i]), O(-1)) << i;
}

// ---- 10,000 random rules against the reference matcher ----

// Bytes allocated from EAL's heaps, all sockets.
size_t eal_heap_allocated() {
  size_t total = 0;
  for (unsigned s = 0; s < rte_socket_count(); ++s) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0) total += st.heap_allocsz_bytes;
  }
  return total;
}

// Values come from small pools so that rules overlap and keys hit them.
class RandomRules {
 public:
  explicit RandomRules(uint32_t seed) : rng_(seed) {}

  FilterConfig config(size_t n) {
    FilterConfig cfg;
    std::array<size_t, kFilterHooks> counts{};
    for (size_t i = 0; i < n; ++i) {
      FilterRule r = random_rule();
      auto& c = counts[static_cast<size_t>(r.hook)];
      if (c < kMaxCountRulesPerHook && pick(n / 60) == 0) {
        r = count_rule(r.hook);
        ++c;
      }
      cfg.rules.push_back(r);
    }
    return cfg;
  }

  // A key: half made to fall inside a random rule, half from the pools.
  std::pair<FilterHook, FilterKey> key(const FilterConfig& cfg) {
    if (pick(2) == 0 && !cfg.rules.empty()) return key_inside(cfg.rules[pick(cfg.rules.size())]);
    FilterKey k;
    const uint8_t protos[] = {0, kIcmp, kTcp, kTcp, kUdp, kUdp, 47};
    k.proto = protos[pick(sizeof protos)];
    k.tcp_flags = k.proto == kTcp ? static_cast<uint8_t>(pick(256)) : 0;
    k.in_port = pick(4) == 0 ? 0xff : static_cast<uint8_t>(pick(4));
    k.out_port = pick(4) == 0 ? 0xff : static_cast<uint8_t>(pick(4));
    k.src = rte_cpu_to_be_32(addr());
    k.dst = rte_cpu_to_be_32(addr());
    k.sport = rte_cpu_to_be_16(k.proto == kIcmp ? static_cast<uint16_t>(pick(16)) : port());
    k.dport = rte_cpu_to_be_16(k.proto == kIcmp ? static_cast<uint16_t>(pick(16)) : port());
    return {static_cast<FilterHook>(pick(kFilterHooks)), k};
  }

 private:
  size_t pick(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  uint32_t addr() {
    switch (pick(4)) {
      case 0: return static_cast<uint32_t>(rng_());
      case 1: return Ipv4Addr::from_octets(192, 168, static_cast<uint8_t>(pick(4)), static_cast<uint8_t>(pick(256))).v;
      default:
        return Ipv4Addr::from_octets(10, static_cast<uint8_t>(pick(4)), static_cast<uint8_t>(pick(8)),
                                     static_cast<uint8_t>(pick(256)))
            .v;
    }
  }

  uint16_t port() {
    const uint16_t pool[] = {0, 1, 22, 23, 53, 80, 443, 1023, 1024, 8080, 65535};
    if (pick(2) == 0) return pool[pick(sizeof pool / sizeof pool[0])];
    return static_cast<uint16_t>(pick(3) == 0 ? pick(65536) : pick(2048));
  }

  PortRange range() {
    switch (pick(4)) {
      case 0: {
        uint16_t p = port();
        return {p, p};
      }
      case 1: {
        auto lo = static_cast<uint16_t>(pick(2048));
        return {lo, static_cast<uint16_t>(lo + pick(600))};
      }
      case 2: return {1024, 65535};
      default: {
        auto a = static_cast<uint16_t>(pick(65536));
        auto b = static_cast<uint16_t>(pick(65536));
        return {std::min(a, b), std::max(a, b)};
      }
    }
  }

  Ipv4Prefix prefix() {
    const uint8_t lens[] = {8, 12, 16, 16, 20, 24, 24, 24, 28, 30, 31, 32, 32};
    if (pick(300) == 0) return Ipv4Prefix{Ipv4Addr(addr()), static_cast<uint8_t>(pick(2))};  // /0 or /1
    return Ipv4Prefix{Ipv4Addr(addr()), lens[pick(sizeof lens)]};
  }

  // Count rules are broad (a protocol, a /8 to /16, a port), so that many
  // keys meet some before their deciding rule.
  FilterRule count_rule(FilterHook h) {
    FilterRule r;
    r.hook = h;
    r.action = FilterAction::kCount;
    switch (pick(4)) {
      case 0: r.protocol = pick(2) ? kTcp : kUdp; break;
      case 1: r.dst = Ipv4Prefix{Ipv4Addr(addr()), static_cast<uint8_t>(8 + pick(9))}; break;
      case 2: r.src = Ipv4Prefix{Ipv4Addr(addr()), static_cast<uint8_t>(8 + pick(9))}; break;
      default:
        r.protocol = kTcp;
        r.dport = {0, static_cast<uint16_t>(pick(2048))};
        break;
    }
    return r;
  }

  FilterRule random_rule() {
    FilterRule r;
    r.hook = static_cast<FilterHook>(pick(kFilterHooks));
    const FilterAction actions[] = {FilterAction::kAccept, FilterAction::kDrop, FilterAction::kDrop,
                                    FilterAction::kReject, FilterAction::kRateLimit};
    r.action = actions[pick(sizeof actions)];
    if (pick(5) == 0) r.in_port = static_cast<uint16_t>(pick(60) == 0 ? 255 + pick(100) : pick(4));
    if (pick(5) == 0) r.out_port = static_cast<uint16_t>(pick(60) == 0 ? 255 + pick(100) : pick(4));
    if (pick(4) != 0) r.src = prefix();
    if (pick(3) != 0 || r.src.len == 0) r.dst = prefix();
    switch (pick(20)) {
      case 0: case 1: case 2: case 3:  // no protocol: any, or TCP/UDP with ports, or TCP with flags
        if (pick(3) != 0) r.dport = range();
        if (pick(8) == 0) r.tcp_flags_mask = static_cast<uint8_t>(1 + pick(255));
        break;
      case 4: case 5: case 6: case 7: case 8: case 9: case 10:
        r.protocol = kTcp;
        if (pick(3) == 0) r.sport = range();
        if (pick(2) == 0) r.dport = range();
        if (pick(4) == 0) r.tcp_flags_mask = static_cast<uint8_t>(1 + pick(255));
        break;
      case 11: case 12: case 13: case 14: case 15:
        r.protocol = kUdp;
        if (pick(3) == 0) r.sport = range();
        if (pick(2) == 0) r.dport = range();
        break;
      case 16: case 17:  // ICMP type (sport) and code (dport)
        r.protocol = kIcmp;
        if (pick(2) == 0) {
          auto type = static_cast<uint16_t>(pick(16));
          r.sport = {type, static_cast<uint16_t>(type + pick(3))};
        }
        if (pick(3) == 0) r.dport = {0, static_cast<uint16_t>(pick(16))};
        break;
      default:
        r.protocol = static_cast<uint8_t>(pick(2) == 0 ? 47 : pick(256));
        break;
    }
    if (r.tcp_flags_mask != 0) {
      r.tcp_flags = static_cast<uint8_t>(pick(256)) & r.tcp_flags_mask;
      if (pick(30) == 0) r.tcp_flags |= static_cast<uint8_t>(~r.tcp_flags_mask & 0x80);  // outside: never
    }
    return r;
  }

  std::pair<FilterHook, FilterKey> key_inside(const FilterRule& r) {
    FilterKey k;
    if (r.protocol) {
      k.proto = *r.protocol;
    } else if (r.tcp_flags_mask != 0) {
      k.proto = kTcp;
    } else {
      k.proto = pick(2) ? kTcp : kUdp;
    }
    k.tcp_flags = static_cast<uint8_t>((pick(256) & ~r.tcp_flags_mask) | r.tcp_flags);
    k.in_port = r.in_port ? static_cast<uint8_t>(*r.in_port) : static_cast<uint8_t>(pick(5) == 0 ? 0xff : pick(4));
    k.out_port = r.out_port ? static_cast<uint8_t>(*r.out_port) : static_cast<uint8_t>(pick(5) == 0 ? 0xff : pick(4));
    auto inside = [&](const Ipv4Prefix& p) { return (p.addr.v & p.mask()) | (static_cast<uint32_t>(rng_()) & ~p.mask()); };
    auto in_range = [&](const PortRange& pr) {
      return static_cast<uint16_t>(pick(3) == 0 ? (pick(2) ? pr.lo : pr.hi) : pr.lo + pick(pr.hi - pr.lo + 1u));
    };
    k.src = rte_cpu_to_be_32(inside(r.src));
    k.dst = rte_cpu_to_be_32(inside(r.dst));
    k.sport = rte_cpu_to_be_16(in_range(r.sport));
    k.dport = rte_cpu_to_be_16(in_range(r.dport));
    // Now and then one field nudged off the rule: keys just outside.
    switch (pick(8)) {
      case 0: k.src = rte_cpu_to_be_32(rte_be_to_cpu_32(k.src) + 1); break;
      case 1: k.dport = rte_cpu_to_be_16(static_cast<uint16_t>(rte_be_to_cpu_16(k.dport) + 1)); break;
      case 2: k.sport = rte_cpu_to_be_16(static_cast<uint16_t>(rte_be_to_cpu_16(k.sport) - 1)); break;
      case 3: k.tcp_flags ^= static_cast<uint8_t>(1u << pick(8)); break;
      default: break;
    }
    return {r.hook, k};
  }

  std::mt19937 rng_;
};

TEST_F(FilterTableTest, TenThousandRandomRules_SameAsReferenceOnEveryKey) {
  constexpr uint32_t kSeed = 20261121;
  RandomRules gen(kSeed);
  const FilterConfig cfg = gen.config(10000);
  const size_t mem0 = eal_heap_allocated();
  const auto b0 = std::chrono::steady_clock::now();
  auto built = FilterTable::build(cfg, SOCKET_ID_ANY);
  const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - b0).count();
  const double mib = static_cast<double>(eal_heap_allocated() - mem0) / (1 << 20);
  ASSERT_TRUE(built.ok()) << built.error().message;
  const FilterTable& t = **built;

  std::array<std::vector<uint32_t>, kFilterHooks> by_hook;
  for (uint32_t i = 0; i < cfg.rules.size(); ++i) by_hook[static_cast<size_t>(cfg.rules[i].hook)].push_back(i);
  size_t counts = 0;
  for (const FilterRule& r : cfg.rules) counts += r.action == FilterAction::kCount;
  EXPECT_GE(counts, 30u) << "the generator should make count rules on every hook";

  constexpr size_t kKeys = 100000;
  constexpr size_t kBurst = 32;
  size_t decided = 0, with_counts = 0, mismatches = 0;
  std::vector<std::pair<FilterHook, FilterKey>> keys(kKeys);
  for (auto& k : keys) k = gen.key(cfg);
  std::vector<FilterKey> burst;
  std::vector<FilterResult> burst_out(kBurst);
  for (size_t i = 0; i < kKeys; ++i) {
    const auto& [hook, key] = keys[i];
    const Outcome g = got(t, hook, key);
    const Outcome w = want_among(cfg, by_hook[static_cast<size_t>(hook)], hook, key);
    decided += w.rule >= 0;
    with_counts += !w.counts.empty();
    if (g != w && ++mismatches <= 10) {
      ADD_FAILURE() << "key " << i << " hook " << filter_hook_name(hook) << ": got " << ::testing::PrintToString(g)
                    << ", want " << ::testing::PrintToString(w);
    }
  }
  EXPECT_EQ(mismatches, 0u);
  // The keys exercise the table: many decided by a rule, many by none, and
  // count rules seen.
  EXPECT_GT(decided, kKeys / 4);
  EXPECT_LT(decided, kKeys - kKeys / 50);
  EXPECT_GT(with_counts, kKeys / 100);
  std::printf("[ info ] %zu rules (%zu count) built in %.0f ms into %zu/%zu/%zu rte_acl contexts (input/forward/"
              "output), %.1f MiB; %zu keys: %zu decided by a rule, %zu with counts\n",
              cfg.rules.size(), counts, build_ms, t.acl_contexts(kIn), t.acl_contexts(kFwd), t.acl_contexts(kOut), mib,
              kKeys, decided, with_counts);

  // The burst path agrees with the one-key path, per hook.
  size_t burst_mismatches = 0;
  for (FilterHook h : {kIn, kFwd, kOut}) {
    burst.clear();
    for (const auto& [hook, key] : keys) {
      if (hook == h && burst.size() < 4000) burst.push_back(key);
    }
    std::vector<FilterResult> out(burst.size());
    t.classify_burst(h, burst.data(), out.data(), static_cast<uint32_t>(burst.size()));
    for (size_t i = 0; i < burst.size(); ++i) burst_mismatches += outcome(out[i]) != got(t, h, burst[i]);
  }
  EXPECT_EQ(burst_mismatches, 0u);
}

// The reference on its own, on rules whose answers are known by hand (the
// table tests above check the table against it, so it must be right).
TEST(FilterRuleMatchesTest, HandCheckedCases) {
  FilterRule r;
  r.hook = FilterHook::kForward;
  r.protocol = kTcp;
  r.src = P("10.0.0.0/24");
  r.dport = {22, 23};
  r.tcp_flags = kSyn;
  r.tcp_flags_mask = kSyn | kAck;
  r.in_port = 1;
  const FilterKey k = tcp("10.0.0.9", "1.2.3.4", 40000, 22).flags(kSyn).in(1).out(0);
  EXPECT_TRUE(filter_rule_matches(r, kFwd, k));
  EXPECT_FALSE(filter_rule_matches(r, kIn, k));
  EXPECT_FALSE(filter_rule_matches(r, kFwd, K(tcp("10.0.1.9", "1.2.3.4", 40000, 22).flags(kSyn).in(1))));
  EXPECT_FALSE(filter_rule_matches(r, kFwd, K(tcp("10.0.0.9", "1.2.3.4", 40000, 24).flags(kSyn).in(1))));
  EXPECT_FALSE(filter_rule_matches(r, kFwd, K(tcp("10.0.0.9", "1.2.3.4", 40000, 23).flags(kSyn | kAck).in(1))));
  EXPECT_FALSE(filter_rule_matches(r, kFwd, K(tcp("10.0.0.9", "1.2.3.4", 40000, 23).flags(kSyn).in(2))));
  EXPECT_FALSE(filter_rule_matches(r, kFwd, K(udp("10.0.0.9", "1.2.3.4", 40000, 23).flags(kSyn).in(1))));
  EXPECT_TRUE(filter_rule_matches(FilterRule{}, kIn, FilterKey{}));
  FilterRule bad;
  bad.src.len = 33;
  EXPECT_FALSE(filter_rule_matches(bad, kIn, FilterKey{}));
}

}  // namespace
}  // namespace dpdkstack

// The per-lcore routing table (lib/ip/route_table.hpp): longest-prefix match
// on rte_lpm, the default route kept beside it, connected routes that cannot
// be deleted, and every refusal with a message that says why.
//
// rte_lpm allocates from EAL memory, so these tests start EAL the first time
// one of them runs (test_util.hpp's eal_ready()).
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "ip/route_table.hpp"
#include "test_util.hpp"

namespace dpdkstack {

inline void PrintTo(RouteKind k, std::ostream* os) { *os << route_kind_name(k); }

namespace {

Ipv4Prefix P(const char* text) {
  auto p = Ipv4Prefix::parse(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p.value_or(Ipv4Prefix{});
}

Ipv4Addr A(const char* text) {
  auto a = Ipv4Addr::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(Ipv4Addr{});
}

Route connected(const char* prefix, uint16_t port) { return Route{P(prefix), port, Ipv4Addr{}, RouteKind::kConnected}; }
Route via(const char* prefix, const char* gateway, uint16_t port = 0) {
  return Route{P(prefix), port, A(gateway), RouteKind::kStatic};
}

// The prefix of the route `dst` matches, or "none".
std::string match(const RouteTable& t, const char* dst) {
  const Route* r = t.lookup(A(dst));
  return r ? r->prefix.to_string() : "none";
}

::testing::AssertionResult FailsWith(const Status& s, const std::string& part) {
  if (s.ok()) return ::testing::AssertionFailure() << "succeeded, want an error containing \"" << part << "\"";
  if (s.error().message.find(part) == std::string::npos)
    return ::testing::AssertionFailure() << "got \"" << s.error().message << "\", want it to contain \"" << part
                                         << "\"";
  return ::testing::AssertionSuccess() << s.error().message;
}

class RouteTableTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(eal_ready()); }

  // A fresh table with a name no other table in the process has.
  std::unique_ptr<RouteTable> make(uint32_t max_routes = 1024) {
    static int n = 0;
    auto t = RouteTable::create("ut-rt" + std::to_string(n++), max_routes, SOCKET_ID_ANY);
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? std::move(*t) : nullptr;
  }
};

TEST_F(RouteTableTest, ConnectedAndStatic_LookupGivesPortGatewayKind) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(connected("10.0.0.0/24", 0)).ok());
  ASSERT_TRUE(t->add(connected("10.1.1.0/24", 1)).ok());
  ASSERT_TRUE(t->add(via("10.2.0.0/16", "10.1.1.2", 1)).ok());
  EXPECT_EQ(t->size(), 3u);

  const Route* r = t->lookup(A("10.0.0.7"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->prefix.to_string(), "10.0.0.0/24");
  EXPECT_EQ(r->port, 0);
  EXPECT_TRUE(r->gateway.is_unspecified());
  EXPECT_EQ(r->kind, RouteKind::kConnected);

  r = t->lookup(A("10.2.200.1"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->prefix.to_string(), "10.2.0.0/16");
  EXPECT_EQ(r->port, 1);
  EXPECT_EQ(r->gateway, A("10.1.1.2"));
  EXPECT_EQ(r->kind, RouteKind::kStatic);

  EXPECT_EQ(match(*t, "10.1.1.255"), "10.1.1.0/24");
  EXPECT_EQ(match(*t, "10.3.0.1"), "none");  // no default route
}

TEST_F(RouteTableTest, EmptyTable_LookupMisses) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->size(), 0u);
  EXPECT_EQ(t->lookup(A("10.0.0.1")), nullptr);
  EXPECT_TRUE(t->routes().empty());
}

TEST_F(RouteTableTest, LongestPrefixWins) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("10.0.0.0/8", "192.168.0.8")).ok());
  ASSERT_TRUE(t->add(via("10.1.0.0/16", "192.168.0.16")).ok());
  ASSERT_TRUE(t->add(via("10.1.2.0/24", "192.168.0.24")).ok());
  ASSERT_TRUE(t->add(via("10.1.2.3/32", "192.168.0.32")).ok());

  EXPECT_EQ(match(*t, "10.9.9.9"), "10.0.0.0/8");
  EXPECT_EQ(match(*t, "10.1.9.9"), "10.1.0.0/16");
  EXPECT_EQ(match(*t, "10.1.2.4"), "10.1.2.0/24");
  EXPECT_EQ(match(*t, "10.1.2.2"), "10.1.2.0/24");
  EXPECT_EQ(match(*t, "10.1.2.3"), "10.1.2.3/32");
  EXPECT_EQ(match(*t, "11.1.2.3"), "none");
  EXPECT_EQ(t->lookup(A("10.1.2.3"))->gateway, A("192.168.0.32"));
}

TEST_F(RouteTableTest, LongestPrefixWins_WhateverTheInsertionOrder) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("10.1.2.3/32", "192.168.0.32")).ok());
  ASSERT_TRUE(t->add(via("10.1.2.0/24", "192.168.0.24")).ok());
  ASSERT_TRUE(t->add(via("10.1.0.0/16", "192.168.0.16")).ok());
  ASSERT_TRUE(t->add(via("10.0.0.0/8", "192.168.0.8")).ok());
  EXPECT_EQ(match(*t, "10.9.9.9"), "10.0.0.0/8");
  EXPECT_EQ(match(*t, "10.1.9.9"), "10.1.0.0/16");
  EXPECT_EQ(match(*t, "10.1.2.4"), "10.1.2.0/24");
  EXPECT_EQ(match(*t, "10.1.2.3"), "10.1.2.3/32");
}

TEST_F(RouteTableTest, DefaultRoute_CatchesEveryMissThenDeleted) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(connected("10.0.0.0/24", 0)).ok());
  ASSERT_TRUE(t->add(via("0.0.0.0/0", "10.0.0.254")).ok());
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(match(*t, "10.0.0.9"), "10.0.0.0/24");  // a longer match still wins
  for (const char* dst : {"8.8.8.8", "0.0.0.0", "255.255.255.255", "10.0.1.0"}) {
    const Route* r = t->lookup(A(dst));
    ASSERT_NE(r, nullptr) << dst;
    EXPECT_EQ(r->prefix.to_string(), "0.0.0.0/0") << dst;
    EXPECT_EQ(r->gateway, A("10.0.0.254")) << dst;
  }

  ASSERT_TRUE(t->del(P("0.0.0.0/0")).ok());
  EXPECT_EQ(t->size(), 1u);
  EXPECT_EQ(match(*t, "8.8.8.8"), "none");
  EXPECT_EQ(match(*t, "10.0.0.9"), "10.0.0.0/24");
  EXPECT_TRUE(FailsWith(t->del(P("0.0.0.0/0")), "no such route"));
}

TEST_F(RouteTableTest, DefaultRoute_AloneInTable) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("0.0.0.0/0", "10.0.0.1", 3)).ok());
  const Route* r = t->lookup(A("1.2.3.4"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->port, 3);
}

TEST_F(RouteTableTest, Delete_RestoresTheShorterMatch) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("0.0.0.0/0", "10.0.0.254")).ok());
  ASSERT_TRUE(t->add(via("10.0.0.0/8", "10.0.0.8")).ok());
  ASSERT_TRUE(t->add(via("10.1.0.0/16", "10.0.0.16")).ok());
  ASSERT_TRUE(t->add(via("10.1.2.0/24", "10.0.0.24")).ok());
  ASSERT_TRUE(t->add(via("10.1.2.3/32", "10.0.0.32")).ok());

  EXPECT_EQ(match(*t, "10.1.2.3"), "10.1.2.3/32");
  ASSERT_TRUE(t->del(P("10.1.2.3/32")).ok());
  EXPECT_EQ(match(*t, "10.1.2.3"), "10.1.2.0/24");
  ASSERT_TRUE(t->del(P("10.1.2.0/24")).ok());
  EXPECT_EQ(match(*t, "10.1.2.3"), "10.1.0.0/16");
  ASSERT_TRUE(t->del(P("10.1.0.0/16")).ok());
  EXPECT_EQ(match(*t, "10.1.2.3"), "10.0.0.0/8");
  ASSERT_TRUE(t->del(P("10.0.0.0/8")).ok());
  EXPECT_EQ(match(*t, "10.1.2.3"), "0.0.0.0/0");
  EXPECT_EQ(t->size(), 1u);
}

TEST_F(RouteTableTest, Delete_MiddlePrefixKeepsLongerAndShorter) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("10.0.0.0/8", "10.0.0.8")).ok());
  ASSERT_TRUE(t->add(via("10.1.0.0/16", "10.0.0.16")).ok());
  ASSERT_TRUE(t->add(via("10.1.2.0/24", "10.0.0.24")).ok());
  ASSERT_TRUE(t->del(P("10.1.0.0/16")).ok());
  EXPECT_EQ(match(*t, "10.1.2.3"), "10.1.2.0/24");
  EXPECT_EQ(match(*t, "10.1.3.3"), "10.0.0.0/8");
}

TEST_F(RouteTableTest, DuplicateAdd_Refused) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("10.2.0.0/16", "10.0.0.2")).ok());
  // Same prefix, another gateway: refused, the first route stays.
  EXPECT_TRUE(FailsWith(t->add(via("10.2.0.0/16", "10.0.0.3")), "10.2.0.0/16: already present"));
  EXPECT_EQ(t->lookup(A("10.2.0.1"))->gateway, A("10.0.0.2"));
  // Same network with another length is another prefix.
  EXPECT_TRUE(t->add(via("10.2.0.0/24", "10.0.0.3")).ok());
  EXPECT_EQ(t->size(), 2u);
}

TEST_F(RouteTableTest, DuplicateDefaultRoute_Refused) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("0.0.0.0/0", "10.0.0.1")).ok());
  EXPECT_TRUE(FailsWith(t->add(via("0.0.0.0/0", "10.0.0.2")), "already present"));
  EXPECT_EQ(t->lookup(A("1.1.1.1"))->gateway, A("10.0.0.1"));
  EXPECT_EQ(t->size(), 1u);
}

TEST_F(RouteTableTest, DuplicateOfConnected_RefusedNamingKind) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(connected("10.0.0.0/24", 0)).ok());
  EXPECT_TRUE(FailsWith(t->add(via("10.0.0.0/24", "10.0.0.2")), "connected"));
}

TEST_F(RouteTableTest, TableFull_AtMaxRoutes) {
  auto t = make(16);
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("0.0.0.0/0", "10.0.0.1")).ok());  // the default route counts too
  for (int i = 0; i < 15; ++i) {
    std::string p = "10." + std::to_string(i) + ".0.0/16";
    ASSERT_TRUE(t->add(via(p.c_str(), "10.0.0.1")).ok()) << p;
  }
  EXPECT_EQ(t->size(), 16u);
  EXPECT_TRUE(FailsWith(t->add(via("10.99.0.0/16", "10.0.0.1")), "table full (max_routes 16)"));
  EXPECT_EQ(t->size(), 16u);
  EXPECT_EQ(match(*t, "10.99.0.1"), "0.0.0.0/0");
  // Room again after a delete.
  ASSERT_TRUE(t->del(P("10.3.0.0/16")).ok());
  EXPECT_TRUE(t->add(via("10.99.0.0/16", "10.0.0.1")).ok());
  EXPECT_EQ(match(*t, "10.99.0.1"), "10.99.0.0/16");
}

TEST_F(RouteTableTest, TableFull_DefaultRouteRefusedToo) {
  auto t = make(16);
  ASSERT_NE(t, nullptr);
  for (int i = 0; i < 16; ++i) {
    std::string p = "10." + std::to_string(i) + ".0.0/16";
    ASSERT_TRUE(t->add(via(p.c_str(), "10.0.0.1")).ok()) << p;
  }
  EXPECT_TRUE(FailsWith(t->add(via("0.0.0.0/0", "10.0.0.1")), "table full"));
  EXPECT_EQ(match(*t, "11.0.0.1"), "none");
}

TEST_F(RouteTableTest, DeleteConnected_Refused) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(connected("10.0.0.0/24", 2)).ok());
  EXPECT_TRUE(FailsWith(t->del(P("10.0.0.0/24")), "10.0.0.0/24: is a connected route"));
  EXPECT_EQ(match(*t, "10.0.0.1"), "10.0.0.0/24");
  EXPECT_EQ(t->size(), 1u);
}

TEST_F(RouteTableTest, DeleteMissing_Refused) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(via("10.2.0.0/16", "10.0.0.2")).ok());
  EXPECT_TRUE(FailsWith(t->del(P("10.3.0.0/16")), "10.3.0.0/16: no such route"));
  // A prefix that only covers a present route is not that route.
  EXPECT_TRUE(FailsWith(t->del(P("10.2.0.0/24")), "no such route"));
  EXPECT_TRUE(FailsWith(t->del(P("10.0.0.0/8")), "no such route"));
  EXPECT_EQ(t->size(), 1u);
}

TEST_F(RouteTableTest, HostBitsSet_Refused) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(FailsWith(t->add(via("10.2.0.1/16", "10.0.0.2")),
                        "10.2.0.1/16: host bits set (expected a network prefix, e.g. 10.2.0.0/16)"));
  EXPECT_TRUE(FailsWith(t->add(via("0.0.0.1/0", "10.0.0.2")), "host bits set"));
  EXPECT_TRUE(FailsWith(t->del(P("10.2.0.1/16")), "host bits set"));
  EXPECT_EQ(t->size(), 0u);
  EXPECT_EQ(match(*t, "10.2.0.1"), "none");
}

TEST_F(RouteTableTest, PrefixLengthAbove32_Refused) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  Route r = via("10.2.0.1/32", "10.0.0.2");
  r.prefix.len = 33;
  EXPECT_TRUE(FailsWith(t->add(r), "prefix length above 32"));
}

TEST_F(RouteTableTest, ReAddAfterDelete_ReusesSlots) {
  auto t = make(16);
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->add(connected("10.0.0.0/24", 0)).ok());
  // 100 rounds of filling the table and emptying it again: without slot
  // reuse the second round would already find it full.
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 15; ++i) {
      std::string p = std::to_string(20 + round) + "." + std::to_string(i) + ".0.0/16";
      ASSERT_TRUE(t->add(via(p.c_str(), "10.0.0.2", static_cast<uint16_t>(i))).ok()) << round << " " << p;
    }
    ASSERT_EQ(t->size(), 16u);
    for (int i = 0; i < 15; ++i) {
      std::string dst = std::to_string(20 + round) + "." + std::to_string(i) + ".1.1";
      const Route* r = t->lookup(A(dst.c_str()));
      ASSERT_NE(r, nullptr) << dst;
      EXPECT_EQ(r->port, i) << dst;  // the slot holds the new route, not a stale one
    }
    for (int i = 0; i < 15; ++i) {
      std::string p = std::to_string(20 + round) + "." + std::to_string(i) + ".0.0/16";
      ASSERT_TRUE(t->del(P(p.c_str())).ok()) << p;
    }
    ASSERT_EQ(t->size(), 1u);
  }
  EXPECT_EQ(match(*t, "20.0.1.1"), "none");
  EXPECT_EQ(match(*t, "10.0.0.1"), "10.0.0.0/24");
}

TEST_F(RouteTableTest, Routes_SortedByLengthDescendingThenAddress) {
  auto t = make();
  ASSERT_NE(t, nullptr);
  for (const char* p : {"0.0.0.0/0", "10.2.0.0/16", "192.168.0.0/24", "10.0.0.0/24", "10.0.0.0/8", "10.1.0.0/16",
                        "10.0.0.7/32"})
    ASSERT_TRUE(t->add(via(p, "10.0.0.1")).ok()) << p;
  std::vector<std::string> got;
  for (const Route& r : t->routes()) got.push_back(r.prefix.to_string());
  EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.7/32", "10.0.0.0/24", "192.168.0.0/24", "10.1.0.0/16",
                                           "10.2.0.0/16", "10.0.0.0/8", "0.0.0.0/0"}));
  EXPECT_EQ(t->size(), 7u);
}

TEST_F(RouteTableTest, Create_DuplicateNameRefused) {
  auto a = RouteTable::create("ut-rt-same", 64, SOCKET_ID_ANY);
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto b = RouteTable::create("ut-rt-same", 64, SOCKET_ID_ANY);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("ut-rt-same"), std::string::npos) << b.error().message;
  // Freed tables give their name back.
  a.value().reset();
  auto c = RouteTable::create("ut-rt-same", 64, SOCKET_ID_ANY);
  EXPECT_TRUE(c.ok()) << c.error().message;
}

TEST_F(RouteTableTest, Create_BadArgumentsRefused) {
  EXPECT_FALSE(RouteTable::create("", 64, SOCKET_ID_ANY).ok());
  EXPECT_FALSE(RouteTable::create(std::string(32, 'n'), 64, SOCKET_ID_ANY).ok());
  EXPECT_FALSE(RouteTable::create("ut-rt-zero", 0, SOCKET_ID_ANY).ok());
  EXPECT_FALSE(RouteTable::create("ut-rt-huge", (1u << 24) + 1, SOCKET_ID_ANY).ok());
  auto longest = RouteTable::create(std::string(31, 'n'), 64, SOCKET_ID_ANY);  // RTE_LPM_NAMESIZE - 1
  EXPECT_TRUE(longest.ok()) << longest.error().message;
}

// 1000 random routes (every length 0..32), 10000 random destinations, each
// answer checked against a brute-force longest-prefix search; then again
// after deleting every other route.
TEST_F(RouteTableTest, RandomRoutes_MatchBruteForce) {
  auto t = make(1024);
  ASSERT_NE(t, nullptr);
  std::mt19937 rng(20240611);
  std::vector<Route> routes;
  std::set<std::pair<uint32_t, uint8_t>> seen;
  while (routes.size() < 1000) {
    Ipv4Prefix p{Ipv4Addr(static_cast<uint32_t>(rng())), static_cast<uint8_t>(rng() % 33)};
    p.addr = p.network();
    if (!seen.insert({p.addr.v, p.len}).second) continue;
    Route r{p, static_cast<uint16_t>(routes.size()), Ipv4Addr(static_cast<uint32_t>(rng())), RouteKind::kStatic};
    ASSERT_TRUE(t->add(r).ok()) << p.to_string();
    routes.push_back(r);
  }
  ASSERT_EQ(t->size(), 1000u);

  // Half the destinations fall inside a random route, so long prefixes are
  // hit too, not only the short ones a uniform address would find.
  std::vector<Ipv4Addr> dsts;
  for (int i = 0; i < 10000; ++i) {
    Ipv4Addr a(static_cast<uint32_t>(rng()));
    if (i % 2 == 0) {
      const Ipv4Prefix& p = routes[rng() % routes.size()].prefix;
      a = Ipv4Addr(p.addr.v | (a.v & ~p.mask()));
    }
    dsts.push_back(a);
  }

  auto check = [&](const std::vector<Route>& present) {
    int mismatches = 0;
    for (Ipv4Addr a : dsts) {
      const Route* want = nullptr;
      for (const Route& r : present)
        if (r.prefix.contains(a) && (want == nullptr || r.prefix.len > want->prefix.len)) want = &r;
      const Route* got = t->lookup(a);
      if ((want == nullptr) != (got == nullptr) ||
          (want && (got->prefix.addr != want->prefix.addr || got->prefix.len != want->prefix.len ||
                    got->port != want->port || got->gateway != want->gateway))) {
        if (++mismatches <= 5)
          ADD_FAILURE() << a.to_string() << ": got " << (got ? got->prefix.to_string() : "none") << ", want "
                        << (want ? want->prefix.to_string() : "none");
      }
    }
    EXPECT_EQ(mismatches, 0);
  };
  check(routes);

  std::vector<Route> kept;
  for (size_t i = 0; i < routes.size(); ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE(t->del(routes[i].prefix).ok()) << routes[i].prefix.to_string();
    } else {
      kept.push_back(routes[i]);
    }
  }
  ASSERT_EQ(t->size(), kept.size());
  check(kept);

  auto listed = t->routes();
  ASSERT_EQ(listed.size(), kept.size());
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end(), [](const Route& a, const Route& b) {
    return a.prefix.len != b.prefix.len ? a.prefix.len > b.prefix.len : a.prefix.addr < b.prefix.addr;
  }));
}

}  // namespace
}  // namespace dpdkstack

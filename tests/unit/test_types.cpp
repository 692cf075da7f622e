// Address value types (lib/core/types.hpp): text in, values out, and every
// malformed text rejected with nullopt.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/types.hpp"
#include "test_util.hpp"

namespace dpdkstack {
namespace {

// ---------------------------------------------------------------- Ipv4Addr

TEST(Ipv4Addr, FromOctets_IsHostOrder) {
  auto a = Ipv4Addr::from_octets(192, 168, 1, 2);
  EXPECT_EQ(a.v, 0xc0a80102u);
  EXPECT_EQ(Ipv4Addr(0x0a000001u), Ipv4Addr::from_octets(10, 0, 0, 1));
}

TEST(Ipv4Addr, Parse_ValidAddresses) {
  struct Case {
    std::string_view text;
    uint32_t v;
  };
  const Case cases[] = {
      {"0.0.0.0", 0x00000000u},         {"255.255.255.255", 0xffffffffu},
      {"10.0.0.1", 0x0a000001u},        {"192.168.1.254", 0xc0a801feu},
      {"127.0.0.1", 0x7f000001u},       {"1.2.3.4", 0x01020304u},
      {"224.0.0.251", 0xe00000fbu},     {"172.16.255.0", 0xac10ff00u},
  };
  for (const auto& c : cases) {
    auto a = Ipv4Addr::parse(c.text);
    ASSERT_TRUE(a.has_value()) << c.text;
    EXPECT_EQ(a->v, c.v) << c.text;
  }
}

TEST(Ipv4Addr, ToString_DottedQuad) {
  EXPECT_EQ(Ipv4Addr(0).to_string(), "0.0.0.0");
  EXPECT_EQ(Ipv4Addr::broadcast().to_string(), "255.255.255.255");
  EXPECT_EQ(Ipv4Addr::from_octets(10, 20, 30, 40).to_string(), "10.20.30.40");
}

TEST(Ipv4Addr, ParseToString_RoundTrip) {
  for (uint32_t v : {0u, 1u, 0x7f000001u, 0x0a0000ffu, 0xc0a80001u, 0xdeadbeefu, 0xffffffffu}) {
    auto a = Ipv4Addr::parse(Ipv4Addr(v).to_string());
    ASSERT_TRUE(a.has_value()) << v;
    EXPECT_EQ(a->v, v);
  }
}

TEST(Ipv4Addr, Parse_MalformedRejected) {
  const std::string_view bad[] = {
      "",                 // empty
      ".",                //
      "1",                // too few octets
      "1.2",              //
      "1.2.3",            //
      "1.2.3.4.5",        // too many octets
      "1.2.3.4.",         // trailing dot
      ".1.2.3.4",         // leading dot
      "1..2.3",           // empty octet
      "1.2.3.",           //
      "256.0.0.1",        // octet out of range
      "1.2.3.256",        //
      "1.2.3.1000",       // four digits
      "1.2.3.0004",       // four digits even if the value fits
      "-1.2.3.4",         // sign
      "+1.2.3.4",         //
      "1.2.3.-4",         //
      " 1.2.3.4",         // leading junk
      "x1.2.3.4",         //
      "1.2.3.4 ",         // trailing junk
      "1.2.3.4x",         //
      "1.2.3.4/24",       // a prefix is not an address
      "1.2.3.4\n",        //
      "0x1.2.3.4",        // hex
      "1.2.3.a",          //
      "1,2,3,4",          // wrong separator
      "1:2:3:4",          //
      "::1",              // IPv6
      "1 .2.3.4",         //
  };
  for (auto text : bad) EXPECT_FALSE(Ipv4Addr::parse(text).has_value()) << '"' << text << '"';
}

TEST(Ipv4Addr, Parse_EmbeddedNulRejected) {
  using namespace std::string_view_literals;
  EXPECT_FALSE(Ipv4Addr::parse("1.2.3.4\0"sv).has_value());
  EXPECT_FALSE(Ipv4Addr::parse("1.2\0.3.4"sv).has_value());
}

TEST(Ipv4Addr, Classification) {
  EXPECT_TRUE(Ipv4Addr(0).is_unspecified());
  EXPECT_FALSE(Ipv4Addr::from_octets(0, 0, 0, 1).is_unspecified());
  EXPECT_TRUE(Ipv4Addr::broadcast().is_broadcast());
  EXPECT_FALSE(Ipv4Addr::from_octets(255, 255, 255, 254).is_broadcast());
  EXPECT_TRUE(Ipv4Addr::from_octets(224, 0, 0, 1).is_multicast());
  EXPECT_TRUE(Ipv4Addr::from_octets(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4Addr::from_octets(223, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4Addr::from_octets(240, 0, 0, 0).is_multicast());
  EXPECT_TRUE(Ipv4Addr::from_octets(127, 1, 2, 3).is_loopback());
  EXPECT_FALSE(Ipv4Addr::from_octets(128, 0, 0, 1).is_loopback());
}

TEST(Ipv4Addr, Ordering_FollowsNumericValue) {
  EXPECT_LT(Ipv4Addr::from_octets(9, 255, 255, 255), Ipv4Addr::from_octets(10, 0, 0, 0));
  EXPECT_LT(Ipv4Addr::from_octets(10, 0, 0, 1), Ipv4Addr::from_octets(10, 0, 1, 0));
}

// -------------------------------------------------------------- Ipv4Prefix

TEST(Ipv4Prefix, Parse_KeepsHostBits) {
  auto p = Ipv4Prefix::parse("192.168.1.10/24");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->addr, Ipv4Addr::from_octets(192, 168, 1, 10));
  EXPECT_EQ(p->len, 24);
  EXPECT_EQ(p->to_string(), "192.168.1.10/24");
}

TEST(Ipv4Prefix, Mask_EveryLength) {
  for (unsigned len = 0; len <= 32; ++len) {
    Ipv4Prefix p{Ipv4Addr(0), static_cast<uint8_t>(len)};
    uint64_t want = len == 0 ? 0 : ((uint64_t{1} << 32) - (uint64_t{1} << (32 - len)));
    EXPECT_EQ(p.mask(), static_cast<uint32_t>(want)) << "len " << len;
  }
  EXPECT_EQ((Ipv4Prefix{Ipv4Addr(0), 24}.mask()), 0xffffff00u);
  EXPECT_EQ((Ipv4Prefix{Ipv4Addr(0), 1}.mask()), 0x80000000u);
}

TEST(Ipv4Prefix, NetworkAndDirectedBroadcast) {
  auto p = *Ipv4Prefix::parse("10.1.2.3/8");
  EXPECT_EQ(p.network(), Ipv4Addr::from_octets(10, 0, 0, 0));
  EXPECT_EQ(p.directed_broadcast(), Ipv4Addr::from_octets(10, 255, 255, 255));

  auto q = *Ipv4Prefix::parse("192.168.1.77/26");
  EXPECT_EQ(q.network(), Ipv4Addr::from_octets(192, 168, 1, 64));
  EXPECT_EQ(q.directed_broadcast(), Ipv4Addr::from_octets(192, 168, 1, 127));

  auto host = *Ipv4Prefix::parse("1.2.3.4/32");
  EXPECT_EQ(host.network(), host.addr);
  EXPECT_EQ(host.directed_broadcast(), host.addr);

  auto all = *Ipv4Prefix::parse("1.2.3.4/0");
  EXPECT_EQ(all.network(), Ipv4Addr(0));
  EXPECT_EQ(all.directed_broadcast(), Ipv4Addr::broadcast());
}

TEST(Ipv4Prefix, Contains) {
  auto p = *Ipv4Prefix::parse("192.168.1.10/24");
  EXPECT_TRUE(p.contains(Ipv4Addr::from_octets(192, 168, 1, 0)));
  EXPECT_TRUE(p.contains(Ipv4Addr::from_octets(192, 168, 1, 1)));
  EXPECT_TRUE(p.contains(Ipv4Addr::from_octets(192, 168, 1, 255)));
  EXPECT_FALSE(p.contains(Ipv4Addr::from_octets(192, 168, 0, 255)));
  EXPECT_FALSE(p.contains(Ipv4Addr::from_octets(192, 168, 2, 0)));
  EXPECT_FALSE(p.contains(Ipv4Addr::from_octets(10, 0, 0, 1)));

  auto q = *Ipv4Prefix::parse("10.0.0.1/31");
  EXPECT_TRUE(q.contains(Ipv4Addr::from_octets(10, 0, 0, 0)));
  EXPECT_TRUE(q.contains(Ipv4Addr::from_octets(10, 0, 0, 1)));
  EXPECT_FALSE(q.contains(Ipv4Addr::from_octets(10, 0, 0, 2)));

  auto host = *Ipv4Prefix::parse("10.0.0.1/32");
  EXPECT_TRUE(host.contains(Ipv4Addr::from_octets(10, 0, 0, 1)));
  EXPECT_FALSE(host.contains(Ipv4Addr::from_octets(10, 0, 0, 0)));

  auto all = *Ipv4Prefix::parse("0.0.0.0/0");
  EXPECT_TRUE(all.contains(Ipv4Addr(0)));
  EXPECT_TRUE(all.contains(Ipv4Addr::broadcast()));
}

TEST(Ipv4Prefix, Parse_EveryValidLength) {
  for (unsigned len = 0; len <= 32; ++len) {
    auto text = "10.0.0.1/" + std::to_string(len);
    auto p = Ipv4Prefix::parse(text);
    ASSERT_TRUE(p.has_value()) << text;
    EXPECT_EQ(p->len, len);
    EXPECT_EQ(p->to_string(), text);
  }
}

TEST(Ipv4Prefix, Parse_MalformedRejected) {
  const std::string_view bad[] = {
      "",                 // empty
      "1.2.3.4",          // no length
      "1.2.3.4/",         // empty length
      "/24",              // no address
      "1.2.3.4/33",       // too long
      "1.2.3.4/100",      //
      "1.2.3.4/0033",     // four digits
      "1.2.3.4/-1",       // sign
      "1.2.3.4/+8",       //
      "1.2.3.4/24x",      // trailing junk
      "1.2.3.4/24 ",      //
      "1.2.3.4/ 24",      //
      "1.2.3.4 /24",      //
      "1.2.3.4/24/8",     // two slashes
      "1.2.3/24",         // bad address
      "1.2.3.256/24",     //
      "1.2.3.4.5/24",     //
      "a.b.c.d/24",       //
      "1.2.3.4\\24",      // wrong separator
      "1.2.3.4:24",       //
  };
  for (auto text : bad) EXPECT_FALSE(Ipv4Prefix::parse(text).has_value()) << '"' << text << '"';
}

// ----------------------------------------------------------------- MacAddr

TEST(MacAddr, Parse_UpperAndLowerHex) {
  auto m = MacAddr::parse("02:00:5e:AB:cd:Ff");
  ASSERT_TRUE(m.has_value());
  const MacAddr want{{0x02, 0x00, 0x5e, 0xab, 0xcd, 0xff}};
  EXPECT_EQ(*m, want);
}

TEST(MacAddr, ToString_UppercaseColonSeparated) {
  EXPECT_EQ((MacAddr{{0x02, 0x00, 0x5e, 0xab, 0xcd, 0xff}}.to_string()), "02:00:5E:AB:CD:FF");
  EXPECT_EQ(MacAddr{}.to_string(), "00:00:00:00:00:00");
  EXPECT_EQ(MacAddr::broadcast().to_string(), "FF:FF:FF:FF:FF:FF");
}

TEST(MacAddr, ParseToString_RoundTrip) {
  const MacAddr macs[] = {MacAddr{}, MacAddr::broadcast(), MacAddr{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}},
                          MacAddr{{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}}};
  for (const auto& m : macs) {
    auto back = MacAddr::parse(m.to_string());
    ASSERT_TRUE(back.has_value()) << m.to_string();
    EXPECT_EQ(*back, m);
  }
}

TEST(MacAddr, Parse_MalformedRejected) {
  const std::string_view bad[] = {
      "",                     // empty
      "02:00:00:00:00",       // five octets
      "02:00:00:00:00:01:02", // seven octets
      "02:00:00:00:00:1",     // short last octet
      "2:00:00:00:00:01",     // short first octet (and too short overall)
      "02:00:00:00:00:001",   // long last octet
      "02-00-00-00-00-01",    // wrong separator
      "02.00.00.00.00.01",    //
      "02:00:00-00:00:01",    // one wrong separator
      "0200:00:00:00:01:",    // misplaced separators, right length
      "020000000001",         // no separators
      "0g:00:00:00:00:01",    // bad hex
      "02:00:00:00:00:0x",    //
      "zz:zz:zz:zz:zz:zz",    //
      " 02:00:00:00:00:01",   // leading junk
      "02:00:00:00:00:01 ",   // trailing junk
      "x02:00:00:00:00:01",   //
      "+2:00:00:00:00:01",    // sign
      "-2:00:00:00:00:01",    //
      "02:+0:00:00:00:01",    //
      " 2:00:00:00:00:01",    // space as a digit
      "02:00:00:00:00: 1",    //
  };
  for (auto text : bad) EXPECT_FALSE(MacAddr::parse(text).has_value()) << '"' << text << '"';
}

TEST(MacAddr, Classification) {
  EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddr::broadcast().is_multicast());
  EXPECT_TRUE((MacAddr{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}}.is_multicast()));
  EXPECT_FALSE((MacAddr{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}}.is_multicast()));
  EXPECT_FALSE((MacAddr{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}}.is_broadcast()));
  EXPECT_TRUE(MacAddr{}.is_zero());
  EXPECT_FALSE((MacAddr{{0, 0, 0, 0, 0, 1}}.is_zero()));
}

TEST(Ipv4AddrParse, LeadingZeroOctet_Rejected) {
  // inet_aton reads "010" as octal 8, others as decimal 10: refuse it.
  EXPECT_FALSE(dpdkstack::Ipv4Addr::parse("010.0.0.1").has_value());
  EXPECT_FALSE(dpdkstack::Ipv4Addr::parse("10.0.0.01").has_value());
  EXPECT_TRUE(dpdkstack::Ipv4Addr::parse("10.0.0.0").has_value());
}

}  // namespace
}  // namespace dpdkstack

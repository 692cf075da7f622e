// Unit tests for the IP layer's small sans-I/O pieces: the RFC 1624
// incremental checksum (against a full recompute on random headers), the
// ICMP error rate limit (token bucket), the RFC 1191 path-MTU cache, and
// software RSS steering.
#include <gtest/gtest.h>

#include <array>
#include <random>

#include "core/token_bucket.hpp"
#include "ip/pmtu_cache.hpp"
#include "shard/steering.hpp"
#include "wire/checksum.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {
namespace {

using namespace wire;

std::array<uint8_t, 60> random_header(std::mt19937& rng, size_t ihl_words) {
  std::array<uint8_t, 60> h{};
  for (auto& b : h) b = static_cast<uint8_t>(rng());
  h[0] = static_cast<uint8_t>(0x40 | ihl_words);
  store_be16(h.data() + 2, static_cast<uint16_t>(ihl_words * 4 + rng() % 1000));
  store_be16(h.data() + 10, 0);
  store_be16(h.data() + 10, internet_checksum(h.data(), ihl_words * 4));
  return h;
}

TEST(IncrementalChecksum, RandomWordChange_EqualsFullRecompute) {
  std::mt19937 rng(1624);
  for (int i = 0; i < 100000; ++i) {
    size_t words = 5 + rng() % 11;
    auto h = random_header(rng, words);
    size_t at = 2 * (rng() % (words * 2));
    if (at == 10) continue;  // the checksum field itself
    uint16_t old_word = load_be16(h.data() + at);
    uint16_t new_word = static_cast<uint16_t>(i % 7 == 0 ? (rng() % 2 ? 0 : 0xffff) : rng());
    store_be16(h.data() + at, new_word);
    uint16_t incremental = checksum_adjust(load_be16(h.data() + 10), old_word, new_word);
    store_be16(h.data() + 10, incremental);
    ASSERT_EQ(internet_checksum(h.data(), words * 4), 0) << "header verifies after incremental update, case " << i;
  }
}

TEST(IncrementalChecksum, DecrementTtl_EqualsFullRecomputeForEveryTtl) {
  std::mt19937 rng(1812);
  for (int ttl = 2; ttl <= 255; ++ttl) {
    for (int k = 0; k < 200; ++k) {
      auto h = random_header(rng, 5);
      h[8] = static_cast<uint8_t>(ttl);
      store_be16(h.data() + 2, 20);
      store_be16(h.data() + 10, 0);
      store_be16(h.data() + 10, internet_checksum(h.data(), 20));
      Ipv4View v;
      ASSERT_EQ(Ipv4View::check(h.data(), 60, true, v), Ipv4Error::kNone);
      v.decrement_ttl();
      EXPECT_EQ(v.ttl(), ttl - 1);
      uint16_t got = v.checksum();
      v.fill_checksum();
      ASSERT_EQ(got, v.checksum()) << "ttl " << ttl;
    }
  }
}

TEST(IncrementalChecksum, EchoTypeChange_KeepsIcmpChecksumValid) {
  std::array<uint8_t, 64> msg{};
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i * 7);
  IcmpEchoRepr{true, 0x1234, 9}.emit(msg.data(), msg.size() - 8);
  uint16_t old_word = load_be16(msg.data());
  msg[0] = icmptype::kEchoReply;
  store_be16(msg.data() + 2, checksum_adjust(load_be16(msg.data() + 2), old_word, load_be16(msg.data())));
  EXPECT_EQ(internet_checksum(msg.data(), msg.size()), 0);
}

TEST(IcmpErrorRepr, Emit_ChecksumCoversQuoteAndCarriesMtu) {
  std::array<uint8_t, 8 + 28> msg{};
  for (size_t i = 8; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i);
  IcmpErrorRepr{icmptype::kDestUnreachable, icmpcode::kFragNeeded, 1280}.emit(msg.data(), 28);
  IcmpView v;
  ASSERT_EQ(IcmpView::check(msg.data(), msg.size(), true, v), IcmpError::kNone);
  EXPECT_EQ(v.type(), 3);
  EXPECT_EQ(v.code(), 4);
  EXPECT_EQ(v.next_hop_mtu(), 1280);
  EXPECT_EQ(load_be16(msg.data() + 4), 0) << "unused field zero";
}

TEST(IcmpTypes, ErrorsAndQueries_Classified) {
  for (uint8_t t : {3, 4, 5, 11, 12}) EXPECT_TRUE(icmptype::is_error(t)) << int(t);
  for (uint8_t t : {0, 8, 9, 10, 13, 14, 15, 16, 17, 18}) EXPECT_FALSE(icmptype::is_error(t)) << int(t);
}

constexpr uint64_t kHz = 1000000;  // time in microseconds

TEST(TokenBucket, Full_BurstTaken_ThenEmpty) {
  TokenBucket b(10, 5, kHz);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(1)) << i;
  EXPECT_FALSE(b.take(1));
}

TEST(TokenBucket, Empty_RefillsAtRate) {
  TokenBucket b(10, 5, kHz);
  for (int i = 0; i < 5; ++i) (void)b.take(1);
  EXPECT_FALSE(b.take(50000));        // 49 ms: not yet a token (one per 100 ms)
  EXPECT_TRUE(b.take(100001));        // 100 ms later: one
  EXPECT_FALSE(b.take(100002));
  EXPECT_EQ(b.tokens(100001 + 300000), 3u);  // three more 300 ms later
}

TEST(TokenBucket, LongIdle_CappedAtBurst) {
  TokenBucket b(1000000, 50, 3000000000ull);
  EXPECT_EQ(b.tokens(3000000000ull * 3600 * 24 * 365), 50u);  // a year idle: no overflow, still the burst
}

TEST(TokenBucket, RemainderKept_NoDriftOverManyRefills) {
  TokenBucket b(3, 100, kHz);  // one token every 333333.3 us
  int got = 0;
  while (b.take(0)) {
  }
  for (uint64_t t = 0; t <= 10 * kHz; t += 1000)
    if (b.take(t)) ++got;
  EXPECT_EQ(got, 30);  // 3 a second for 10 seconds
}

TEST(TokenBucket, RateZero_Unlimited) {
  TokenBucket b(0, 1, kHz);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.take(0));
}

const Ipv4Addr kDst = Ipv4Addr::from_octets(10, 9, 0, 1);

TEST(PmtuCache, Empty_LookupGivesZero) {
  PmtuCache c(1000, 16);
  EXPECT_EQ(c.mtu(kDst, 0), 0);
}

TEST(PmtuCache, Report_Lowers_ThenHigherIgnoredUntilExpiry) {
  PmtuCache c(1000, 16);
  EXPECT_TRUE(c.lower(kDst, 1280, 1500, 10));
  EXPECT_EQ(c.mtu(kDst, 11), 1280);
  EXPECT_FALSE(c.lower(kDst, 1400, 1500, 12)) << "RFC 1191: increases only by expiry";
  EXPECT_TRUE(c.lower(kDst, 1000, 1280, 13));
  EXPECT_EQ(c.mtu(kDst, 14), 1000);
  EXPECT_EQ(c.mtu(kDst, 13 + 1000), 0) << "expired";
  EXPECT_TRUE(c.lower(kDst, 1400, 1500, 2000)) << "after expiry a higher value is taken";
}

TEST(PmtuCache, ZeroMtu_UsesPlateauBelowDatagram) {
  PmtuCache c(1000, 16);
  EXPECT_TRUE(c.lower(kDst, 0, 1500, 0));
  EXPECT_EQ(c.mtu(kDst, 1), 1492);
  EXPECT_EQ(PmtuCache::plateau_below(65535), 32000);
  EXPECT_EQ(PmtuCache::plateau_below(1006), 508);
  EXPECT_EQ(PmtuCache::plateau_below(68), 68);
}

TEST(PmtuCache, BelowMinimum_RaisedTo68) {
  PmtuCache c(1000, 16);
  EXPECT_TRUE(c.lower(kDst, 20, 1500, 0));
  EXPECT_EQ(c.mtu(kDst, 1), 68);
}

TEST(PmtuCache, Full_EvictsExpiredOrSoonestExpiring) {
  PmtuCache c(1000, 16);
  for (uint32_t i = 0; i < 16; ++i) EXPECT_TRUE(c.lower(Ipv4Addr(0x0a000000 + i), 1000, 1500, i));
  EXPECT_TRUE(c.lower(Ipv4Addr(0x0b000000), 900, 1500, 100));
  EXPECT_EQ(c.size(), 16u);
  EXPECT_EQ(c.mtu(Ipv4Addr(0x0a000000), 101), 0) << "the entry expiring first went";
  EXPECT_EQ(c.mtu(Ipv4Addr(0x0b000000), 101), 900);
}

TEST(Steering, OneQueue_AlwaysZero) {
  RssParams r;
  EXPECT_EQ(owner_queue(r, kDst, kDst, 17, 1, 2), 0);
}

TEST(Steering, Reta_MapsHashAndIsStable) {
  RssParams r;
  r.nb_queues = 2;
  r.enabled = true;
  r.l4_udp = true;
  r.key_len = 40;
  for (size_t i = 0; i < 40; ++i) r.key[i] = static_cast<uint8_t>(0x6d + i * 13);
  r.reta.resize(128);
  for (size_t i = 0; i < r.reta.size(); ++i) r.reta[i] = static_cast<uint16_t>(i % 2);
  int seen[2] = {0, 0};
  for (uint16_t sport = 1000; sport < 1200; ++sport) {
    uint16_t q = owner_queue(r, Ipv4Addr::from_octets(10, 0, 0, 2), Ipv4Addr::from_octets(10, 0, 0, 1), 17, sport, 7);
    ASSERT_LT(q, 2);
    ++seen[q];
    EXPECT_EQ(q, owner_queue(r, Ipv4Addr::from_octets(10, 0, 0, 2), Ipv4Addr::from_octets(10, 0, 0, 1), 17, sport, 7));
    uint32_t tuple[3] = {Ipv4Addr::from_octets(10, 0, 0, 2).v, Ipv4Addr::from_octets(10, 0, 0, 1).v,
                         (uint32_t{sport} << 16) | 7};
    EXPECT_EQ(q, r.reta[rte_softrss(tuple, 3, r.key.data()) % 128]) << "the 4-tuple Toeplitz hash";
  }
  EXPECT_GT(seen[0], 50);
  EXPECT_GT(seen[1], 50);
  // ICMP (no ports) hashes on the addresses alone: the source port is ignored.
  EXPECT_EQ(owner_queue(r, kDst, Ipv4Addr::from_octets(10, 0, 0, 1), 1, 1, 2),
            owner_queue(r, kDst, Ipv4Addr::from_octets(10, 0, 0, 1), 1, 999, 2));
}

}  // namespace
}  // namespace dpdkstack

// The pieces a TCP connection is built from, each alone: sequence-number
// arithmetic (tcp/seq.hpp), the ISN generator and SipHash (tcp/isn.hpp), the
// RFC 6298 estimator (tcp/rtt.hpp), the byte ring and out-of-order ranges
// (tcp/ring.hpp), the timer wheel (tcp/timer_wheel.hpp) and NewReno
// (tcp/cc.hpp). All pure: no clock, no I/O.
#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "tcp/cc.hpp"
#include "tcp/isn.hpp"
#include "tcp/ring.hpp"
#include "tcp/rtt.hpp"
#include "tcp/seq.hpp"
#include "tcp/timer_wheel.hpp"

namespace dpdkstack::tcp {
namespace {

// ---- sequence numbers (RFC 9293 3.4) -----------------------------------------------------

TEST(TcpSeq, Ordinary_ComparesLikeIntegers) {
  EXPECT_TRUE(seq_lt(1, 2));
  EXPECT_FALSE(seq_lt(2, 2));
  EXPECT_TRUE(seq_le(2, 2));
  EXPECT_TRUE(seq_gt(3, 2));
  EXPECT_TRUE(seq_ge(3, 3));
  EXPECT_EQ(seq_diff(10, 3), 7);
  EXPECT_EQ(seq_diff(3, 10), -7);
}

TEST(TcpSeq, AcrossWrap_ZeroIsAfterMax) {
  EXPECT_TRUE(seq_lt(0xffffffffu, 0));
  EXPECT_TRUE(seq_gt(0, 0xffffffffu));
  EXPECT_TRUE(seq_lt(0xfffffff0u, 0x10));
  EXPECT_FALSE(seq_ge(0xfffffff0u, 0x10));
  EXPECT_TRUE(seq_le(0xffffffffu, 0xffffffffu));
  EXPECT_EQ(seq_diff(5, 0xfffffffbu), 10);
  EXPECT_EQ(seq_diff(0xfffffffbu, 5), -10);
  EXPECT_EQ(seq_max(0xfffffff0u, 0x10), 0x10u);
  EXPECT_EQ(seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
  EXPECT_EQ(seq_max(0x10, 0xfffffff0u), 0x10u);
  EXPECT_EQ(uint32_t{0xfffffff0u} + 0x20, 0x10u);  // what the stack relies on: plain unsigned wrap
}

TEST(TcpSeq, Range_HalfOpenAcrossWrap) {
  EXPECT_TRUE(seq_in(0xfffffff0u, 0xfffffff0u, 0x10));
  EXPECT_TRUE(seq_in(0xffffffffu, 0xfffffff0u, 0x10));
  EXPECT_TRUE(seq_in(0, 0xfffffff0u, 0x10));
  EXPECT_TRUE(seq_in(0xf, 0xfffffff0u, 0x10));
  EXPECT_FALSE(seq_in(0x10, 0xfffffff0u, 0x10));  // right edge excluded
  EXPECT_FALSE(seq_in(0xffffffefu, 0xfffffff0u, 0x10));
  EXPECT_FALSE(seq_in(5, 5, 5));  // an empty range holds nothing
  EXPECT_FALSE(seq_in(0, 0, 0));
}

TEST(TcpSeq, HalfSpaceBoundary_LargestValidDistance) {
  // Valid while numbers are less than 2^31 apart.
  constexpr uint32_t kBase = 0xc0000000u;
  EXPECT_TRUE(seq_lt(kBase, kBase + 0x7fffffffu));
  EXPECT_TRUE(seq_gt(kBase + 0x7fffffffu, kBase));
  EXPECT_EQ(seq_diff(kBase + 0x7fffffffu, kBase), INT32_MAX);
  // 2^32 - 1 apart reads as "one behind".
  EXPECT_TRUE(seq_lt(kBase + 0xffffffffu, kBase));
  static_assert(seq_lt(0xffffffffu, 0) && seq_gt(1, 0xffffffffu) && seq_in(0, 0xffffffffu, 1));
}

TEST(TcpSeq, EveryOffsetAroundWrap_Consistent) {
  for (uint32_t base : {0u, 0x7fffff00u, 0xffffff00u}) {
    for (uint32_t a = 0; a < 512; ++a) {
      for (uint32_t b = 0; b < 512; b += 7) {
        uint32_t x = base + a, y = base + b;
        EXPECT_EQ(seq_lt(x, y), a < b) << base << " " << a << " " << b;
        EXPECT_EQ(seq_le(x, y), a <= b);
        EXPECT_EQ(seq_diff(x, y), static_cast<int32_t>(a) - static_cast<int32_t>(b));
      }
    }
  }
}

// ---- SipHash-2-4 and the ISN (RFC 6528) --------------------------------------------------

// The reference vectors of the SipHash paper (Aumasson and Bernstein, appendix;
// vectors_sip64 in the reference implementation): key 00 01 .. 0f, message
// 00 01 .. (n-1) for n = 0..63, the 64-bit output as a little-endian integer.
constexpr uint64_t kSipVectors[64] = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d, 0xcf2794e0277187b7,
    0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137, 0x93f5f5799a932462, 0x9e0082df0ba9e4b0,
    0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7, 0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee,
    0xa129ca6149be45e5, 0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8, 0xb8ad50c6f649af94,
    0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad, 0xde4daaaca71dc9a5, 0xa6a2506687956571,
    0xad87a3535c49ef28, 0x32d892fad841c342, 0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238,
    0x15e034d40fa197ae, 0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95, 0xf935451de4f21df2,
    0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb, 0xe612a3cb9ecba951, 0xc766e62cfcadaf96,
    0xee64435a9752fe72, 0xa192d576b245165a, 0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea,
    0x245731c13ca42499, 0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};
// The key 00 01 .. 0f as the two little-endian words SipHash reads.
constexpr uint64_t kSipK0 = 0x0706050403020100ULL, kSipK1 = 0x0f0e0d0c0b0a0908ULL;

TEST(TcpSipHash, PaperVectors_AllSixtyFour) {
  uint8_t msg[64];
  for (int i = 0; i < 64; ++i) msg[i] = static_cast<uint8_t>(i);
  for (size_t n = 0; n < 64; ++n) EXPECT_EQ(siphash24(msg, n, kSipK0, kSipK1), kSipVectors[n]) << "n=" << n;
}

TEST(TcpSipHash, PaperWorkedExample_FifteenBytes) {
  const uint8_t msg[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  EXPECT_EQ(siphash24(msg, sizeof msg, kSipK0, kSipK1), 0xa129ca6149be45e5ULL);
}

const Ipv4Addr kLocal = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kRemote = Ipv4Addr::from_octets(10, 0, 0, 2);

TEST(TcpIsn, SameTuple_TicksEveryFourMicroseconds) {
  IsnGenerator g(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  uint32_t base = g.isn(kLocal, 80, kRemote, 40000, 0);
  for (uint64_t t = 0; t < 4000; ++t) {
    uint32_t v = g.isn(kLocal, 80, kRemote, 40000, t);
    uint32_t want = base + static_cast<uint32_t>(t / 4);
    if (want == 0) want = 1;
    EXPECT_EQ(v, want) << t;
  }
}

TEST(TcpIsn, SameTuple_MonotonicOverTimeAcrossWrap) {
  IsnGenerator g(1, 2);
  uint32_t prev = g.isn(kLocal, 80, kRemote, 40000, 0);
  // One step of 100 ms (25,000 ticks) at a time for well over one 2^32 wrap
  // of the clock (2^32 ticks = 4.77 hours): each ISN is later, wrap-aware.
  for (uint64_t t = 100000; t < 6ULL * 3600 * 1000000; t += 100000) {
    uint32_t v = g.isn(kLocal, 80, kRemote, 40000, t);
    ASSERT_TRUE(seq_gt(v, prev)) << t;
    ASSERT_EQ(seq_diff(v, prev), 25000) << t;
    prev = v;
  }
}

TEST(TcpIsn, NeverZero_ZeroBecomesOne) {
  IsnGenerator g(0xaaaa, 0x5555);
  uint32_t f = g.isn(kLocal, 1234, kRemote, 80, 0);  // M = 0: F itself (F != 0 for this key and tuple)
  ASSERT_NE(f, 0u);
  // M + F wraps to 0 at M = 2^32 - F.
  uint64_t t0 = (uint64_t{1} << 32) - f;
  t0 *= 4;
  EXPECT_EQ(g.isn(kLocal, 1234, kRemote, 80, t0 - 4), 0xffffffffu);
  EXPECT_EQ(g.isn(kLocal, 1234, kRemote, 80, t0), 1u);      // would be 0
  EXPECT_EQ(g.isn(kLocal, 1234, kRemote, 80, t0 + 3), 1u);  // same tick
  EXPECT_EQ(g.isn(kLocal, 1234, kRemote, 80, t0 + 4), 1u);  // really 1
  EXPECT_EQ(g.isn(kLocal, 1234, kRemote, 80, t0 + 8), 2u);
}

TEST(TcpIsn, DifferentTuplesAndKeys_Differ) {
  IsnGenerator g(0x1111, 0x2222);
  const uint64_t now = 123456789;
  std::set<uint32_t> seen;
  seen.insert(g.isn(kLocal, 80, kRemote, 40000, now));
  seen.insert(g.isn(Ipv4Addr::from_octets(10, 0, 0, 3), 80, kRemote, 40000, now));
  seen.insert(g.isn(kLocal, 81, kRemote, 40000, now));
  seen.insert(g.isn(kLocal, 80, Ipv4Addr::from_octets(10, 0, 0, 4), 40000, now));
  seen.insert(g.isn(kLocal, 80, kRemote, 40001, now));
  seen.insert(g.isn(kRemote, 80, kLocal, 40000, now));  // addresses swapped
  seen.insert(g.isn(kLocal, 40000, kRemote, 80, now));  // ports swapped
  seen.insert(IsnGenerator(0x1111, 0x2223).isn(kLocal, 80, kRemote, 40000, now));
  seen.insert(IsnGenerator(0x1112, 0x2222).isn(kLocal, 80, kRemote, 40000, now));
  EXPECT_EQ(seen.size(), 9u);
}

TEST(TcpIsn, ManyClientPorts_SpreadOverSpace) {
  // F is a keyed hash: 4096 consecutive client ports give 4096 distinct ISNs
  // whose top bits take every value (no visible structure).
  IsnGenerator g(0xdeadbeef, 0xcafef00d);
  std::set<uint32_t> isns;
  std::set<uint32_t> top;
  for (uint32_t p = 30000; p < 34096; ++p) {
    uint32_t v = g.isn(kLocal, static_cast<uint16_t>(p), kRemote, 443, 5000);
    isns.insert(v);
    top.insert(v >> 28);
  }
  EXPECT_EQ(isns.size(), 4096u);
  EXPECT_EQ(top.size(), 16u);
}

// ---- RFC 6298 --------------------------------------------------------------------------------

TEST(TcpRtt, NoSample_InitialRto) {
  RttEstimator d;
  EXPECT_EQ(d.rto(), 1000000u);  // 2.1: 1 second
  EXPECT_FALSE(d.has_sample());
  RttEstimator e(3000000, 200000, 60000000);
  EXPECT_EQ(e.rto(), 3000000u);
  EXPECT_EQ(RttEstimator(100000, 200000, 60000000).rto(), 200000u);  // the initial value clamped too
  EXPECT_EQ(RttEstimator(90000000, 200000, 60000000).rto(), 60000000u);
}

TEST(TcpRtt, FirstSample_SrttRAndRttvarHalf) {
  RttEstimator e(1000000, 200000, 60000000);
  e.sample(100000);  // 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, K*RTTVAR)
  EXPECT_EQ(e.srtt(), 100000u);
  EXPECT_EQ(e.rttvar(), 50000u);
  EXPECT_EQ(e.rto(), 300000u);
  EXPECT_TRUE(e.has_sample());
  EXPECT_EQ(e.samples(), 1u);
}

TEST(TcpRtt, LaterSamples_ExactIntegerValues) {
  RttEstimator e(1000000, 200000, 60000000);
  e.sample(100000);
  // 2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'| (with the old SRTT), then SRTT = 7/8 SRTT + 1/8 R'.
  e.sample(200000);
  EXPECT_EQ(e.rttvar(), 62500u);  // (3 * 50000 + 100000) / 4
  EXPECT_EQ(e.srtt(), 112500u);   // (7 * 100000 + 200000) / 8
  EXPECT_EQ(e.rto(), 362500u);    // 112500 + 4 * 62500
  e.sample(50000);
  EXPECT_EQ(e.rttvar(), 62500u);  // (3 * 62500 + |112500 - 50000|) / 4
  EXPECT_EQ(e.srtt(), 104687u);   // (7 * 112500 + 50000) / 8 = 104687.5, truncated
  EXPECT_EQ(e.rto(), 354687u);
  e.sample(104687);
  EXPECT_EQ(e.rttvar(), 46875u);  // (3 * 62500 + 0) / 4
  EXPECT_EQ(e.srtt(), 104687u);
  EXPECT_EQ(e.rto(), 292187u);
}

TEST(TcpRtt, RandomSamples_MatchRfcFormulas) {
  // The RFC's formulas written out plainly, in the same integer microseconds.
  std::mt19937_64 rng(6298);
  RttEstimator e(1000000, 200000, 60000000);
  uint64_t srtt = 0, rttvar = 0;
  for (int i = 0; i < 2000; ++i) {
    uint64_t r = 1 + rng() % 3000000;
    if (i == 0) {
      srtt = r;
      rttvar = r / 2;
    } else {
      uint64_t d = srtt > r ? srtt - r : r - srtt;
      rttvar = (3 * rttvar + d) / 4;
      srtt = (7 * srtt + r) / 8;
    }
    uint64_t rto = srtt + std::max<uint64_t>(1000, 4 * rttvar);
    rto = std::min<uint64_t>(std::max<uint64_t>(rto, 200000), 60000000);
    e.sample(r);
    ASSERT_EQ(e.srtt(), srtt) << i;
    ASSERT_EQ(e.rttvar(), rttvar) << i;
    ASSERT_EQ(e.rto(), rto) << i;
  }
}

TEST(TcpRtt, SmallSteadyRtt_ClampedToMin) {
  RttEstimator e(1000000, 200000, 60000000);
  for (int i = 0; i < 100; ++i) e.sample(500);
  EXPECT_EQ(e.srtt(), 500u);
  EXPECT_EQ(e.rttvar(), 0u);  // decays to nothing with identical samples
  EXPECT_EQ(e.rto(), 200000u);  // 2.4: never below the minimum
}

TEST(TcpRtt, SteadyRttWithoutMin_GranularityFloor) {
  RttEstimator e(1000000, 1, 60000000);
  for (int i = 0; i < 100; ++i) e.sample(3000);
  EXPECT_EQ(e.rttvar(), 0u);
  EXPECT_EQ(e.rto(), 3000u + RttEstimator::kGranularityUs);  // SRTT + max(G, 4 RTTVAR) with RTTVAR = 0
}

TEST(TcpRtt, HugeSample_ClampedToMax) {
  RttEstimator e(1000000, 200000, 60000000);
  e.sample(50000000);  // 50 s: 50 + 4 * 25 = 150 s
  EXPECT_EQ(e.rto(), 60000000u);
  EXPECT_EQ(e.srtt(), 50000000u);
}

TEST(TcpRtt, ZeroSample_TakenAsOneMicrosecond) {
  RttEstimator e(1000000, 0, 60000000);
  e.sample(0);
  EXPECT_EQ(e.srtt(), 1u);
  EXPECT_EQ(e.rttvar(), 0u);
  EXPECT_EQ(e.rto(), 1001u);
  EXPECT_TRUE(e.has_sample());
}

TEST(TcpRtt, Backoff_DoublesUpToMaxThenSampleRecomputes) {
  RttEstimator e(1000000, 200000, 60000000);
  e.sample(100000);
  ASSERT_EQ(e.rto(), 300000u);
  uint64_t want = 300000;
  for (int i = 0; i < 12; ++i) {
    e.backoff();  // 5.5: RTO = RTO * 2, up to the maximum
    want = std::min<uint64_t>(want * 2, 60000000);
    EXPECT_EQ(e.rto(), want) << i;
  }
  EXPECT_EQ(e.rto(), 60000000u);
  e.backoff();
  EXPECT_EQ(e.rto(), 60000000u);
  e.sample(100000);  // 5.7: the next sample brings the computed value back
  EXPECT_EQ(e.srtt(), 100000u);
  EXPECT_EQ(e.rttvar(), 37500u);  // (3 * 50000 + 0) / 4
  EXPECT_EQ(e.rto(), 250000u);
}

TEST(TcpRtt, BackoffBeforeSample_FromInitial) {
  RttEstimator e(1000000, 200000, 60000000);
  e.backoff();
  EXPECT_EQ(e.rto(), 2000000u);
  e.backoff();
  EXPECT_EQ(e.rto(), 4000000u);
  EXPECT_FALSE(e.has_sample());
}

// ---- ByteRing --------------------------------------------------------------------------------

std::vector<uint8_t> iota(size_t n, uint8_t first) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}

TEST(TcpByteRing, AppendConsume_WrapsAround) {
  ByteRing r;
  ASSERT_TRUE(r.init(8, 1000));
  EXPECT_EQ(r.start(), 1000u);
  EXPECT_EQ(r.end(), 1000u);
  auto a = iota(6, 1);
  EXPECT_EQ(r.append(a.data(), 6), 6u);
  r.consume(4);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.free_space(), 6u);
  auto b = iota(6, 7);  // 7..12: lands at memory 6,7,0,1,2,3 (1000 % 8 = 0)
  EXPECT_EQ(r.append(b.data(), 6), 6u);
  EXPECT_EQ(r.size(), 8u);
  EXPECT_EQ(r.free_space(), 0u);
  uint8_t out[8] = {};
  EXPECT_EQ(r.copy_out(r.start(), out, 8), 8u);
  EXPECT_EQ(std::vector<uint8_t>(out, out + 8), iota(8, 5));
  auto s = r.spans(1004, 8);
  ASSERT_NE(s[0].data, nullptr);
  EXPECT_EQ(s[0].len, 4u);
  EXPECT_EQ(s[1].len, 4u);
  EXPECT_EQ(s[0].data[0], 5);
  EXPECT_EQ(s[1].data[0], 9);
  // A copy from the middle, across the wrap.
  EXPECT_EQ(r.copy_out(1006, out, 3), 3u);
  EXPECT_EQ(std::vector<uint8_t>(out, out + 3), iota(3, 7));
}

TEST(TcpByteRing, AppendMoreThanFree_TakesWhatFits) {
  ByteRing r;
  ASSERT_TRUE(r.init(10));
  auto a = iota(25, 0);
  EXPECT_EQ(r.append(a.data(), 25), 10u);
  EXPECT_EQ(r.append(a.data(), 1), 0u);
  r.consume(3);
  EXPECT_EQ(r.append(a.data() + 10, 25), 3u);
  uint8_t out[10];
  ASSERT_EQ(r.copy_out(3, out, 100), 10u);
  EXPECT_EQ(std::vector<uint8_t>(out, out + 10), iota(10, 3));
}

TEST(TcpByteRing, WriteAtPastEnd_VisibleOnlyAfterAdvance) {
  ByteRing r;
  ASSERT_TRUE(r.init(16, 100));
  auto a = iota(4, 50);
  r.write_at(108, a.data(), 4);  // out of order: [108, 112)
  EXPECT_EQ(r.size(), 0u);
  uint8_t out[16];
  EXPECT_EQ(r.copy_out(108, out, 4), 0u);  // not part of [start, end) yet
  auto b = iota(8, 42);
  EXPECT_EQ(r.append(b.data(), 8), 8u);  // [100, 108): the hole
  r.advance_end(4);
  EXPECT_EQ(r.end(), 112u);
  ASSERT_EQ(r.copy_out(100, out, 16), 12u);
  EXPECT_EQ(std::vector<uint8_t>(out, out + 12), iota(12, 42));
}

TEST(TcpByteRing, WriteAtOutsideBounds_Ignored) {
  ByteRing r;
  ASSERT_TRUE(r.init(8, 100));
  auto a = iota(8, 1);
  r.append(a.data(), 4);
  r.consume(2);  // [102, 104), room up to 110
  auto junk = iota(8, 200);
  r.write_at(101, junk.data(), 1);  // before start
  r.write_at(108, junk.data(), 3);  // past start + capacity
  r.write_at(104, junk.data(), 0);  // empty
  uint8_t out[2];
  ASSERT_EQ(r.copy_out(102, out, 2), 2u);
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out[1], 4);
  r.write_at(104, junk.data(), 6);  // exactly up to start + capacity: allowed
  r.advance_end(100);               // clamped to start + capacity
  EXPECT_EQ(r.end(), 110u);
  uint8_t all[8];
  ASSERT_EQ(r.copy_out(102, all, 8), 8u);
  EXPECT_EQ(all[2], 200);
  EXPECT_EQ(all[7], 205);
  EXPECT_EQ(r.copy_out(110, all, 8), 0u);
  EXPECT_EQ(r.copy_out(99, all, 8), 0u);
  r.consume(100);  // clamped to size
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.start(), 110u);
}

TEST(TcpByteRing, ManyLaps_ContentsKept) {
  ByteRing r;
  ASSERT_TRUE(r.init(97));
  std::mt19937 rng(1);
  uint64_t written = 0, read = 0;
  for (int i = 0; i < 5000; ++i) {
    uint8_t buf[64];
    size_t n = rng() % 64;
    for (size_t k = 0; k < n; ++k) buf[k] = static_cast<uint8_t>((written + k) * 31);
    written += r.append(buf, n);
    size_t m = rng() % 64;
    uint8_t out[64];
    size_t got = r.copy_out(r.start(), out, m);
    for (size_t k = 0; k < got; ++k) ASSERT_EQ(out[k], static_cast<uint8_t>((read + k) * 31)) << i;
    r.consume(got);
    read += got;
  }
  EXPECT_GT(read, 97u * 100);
}

TEST(TcpByteRing, MoveAndRelease_OwnershipTransferred) {
  ByteRing a;
  ASSERT_TRUE(a.init(8, 5));
  auto d = iota(3, 1);
  a.append(d.data(), 3);
  ByteRing b(std::move(a));
  EXPECT_FALSE(a.allocated());
  EXPECT_TRUE(b.allocated());
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.start(), 5u);
  b.release();
  EXPECT_FALSE(b.allocated());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.start(), 8u);  // start moves to end
  uint8_t out[4];
  EXPECT_EQ(b.copy_out(8, out, 4), 0u);
  EXPECT_EQ(b.append(d.data(), 3), 0u);  // no memory: nothing taken
}

// ---- OooRanges -------------------------------------------------------------------------------

std::vector<std::pair<uint64_t, uint64_t>> ranges(const OooRanges& o) {
  std::vector<std::pair<uint64_t, uint64_t>> v;
  for (size_t i = 0; i < o.size(); ++i) v.emplace_back(o[i].start, o[i].end);
  return v;
}
using RangeList = std::vector<std::pair<uint64_t, uint64_t>>;

TEST(TcpOooRanges, Disjoint_KeptSorted) {
  OooRanges o;
  EXPECT_TRUE(o.add(50, 60));
  EXPECT_TRUE(o.add(10, 20));
  EXPECT_TRUE(o.add(30, 40));
  EXPECT_EQ(ranges(o), (RangeList{{10, 20}, {30, 40}, {50, 60}}));
  EXPECT_EQ(o.latest(), 1u);  // [30, 40) was the last added
  EXPECT_EQ(o.bytes(), 30u);
}

TEST(TcpOooRanges, EmptyRange_Ignored) {
  OooRanges o;
  EXPECT_TRUE(o.add(10, 10));
  EXPECT_TRUE(o.add(20, 10));
  EXPECT_TRUE(o.empty());
}

TEST(TcpOooRanges, Touching_Merged) {
  OooRanges o;
  o.add(10, 20);
  EXPECT_TRUE(o.add(20, 30));  // touches on the right
  EXPECT_EQ(ranges(o), (RangeList{{10, 30}}));
  EXPECT_TRUE(o.add(5, 10));  // touches on the left
  EXPECT_EQ(ranges(o), (RangeList{{5, 30}}));
}

TEST(TcpOooRanges, Overlapping_Merged) {
  OooRanges o;
  o.add(10, 20);
  o.add(40, 50);
  EXPECT_TRUE(o.add(15, 25));
  EXPECT_EQ(ranges(o), (RangeList{{10, 25}, {40, 50}}));
  EXPECT_TRUE(o.add(35, 45));
  EXPECT_EQ(ranges(o), (RangeList{{10, 25}, {35, 50}}));
  EXPECT_TRUE(o.add(12, 18));  // inside: nothing changes
  EXPECT_EQ(ranges(o), (RangeList{{10, 25}, {35, 50}}));
  EXPECT_EQ(o.latest(), 0u);
  EXPECT_TRUE(o.add(0, 100));  // covers everything
  EXPECT_EQ(ranges(o), (RangeList{{0, 100}}));
}

TEST(TcpOooRanges, BridgingSeveral_MergedIntoOne) {
  OooRanges o;
  for (uint64_t s : {10, 30, 50, 70, 90}) o.add(s, s + 10);
  EXPECT_EQ(o.size(), 5u);
  EXPECT_TRUE(o.add(20, 70));  // touches [10,20), fills [20,30), [40,50), [60,70): bridges four ranges
  EXPECT_EQ(ranges(o), (RangeList{{10, 80}, {90, 100}}));
  EXPECT_EQ(o.latest(), 0u);
  EXPECT_TRUE(o.add(85, 95));
  EXPECT_EQ(ranges(o), (RangeList{{10, 80}, {85, 100}}));
  EXPECT_EQ(o.latest(), 1u);
  EXPECT_TRUE(o.add(79, 86));  // overlaps both by one byte
  EXPECT_EQ(ranges(o), (RangeList{{10, 100}}));
}

TEST(TcpOooRanges, AtBound_NewRangeRefusedMergingAccepted) {
  OooRanges o;
  for (uint64_t i = 0; i < OooRanges::kMaxRanges; ++i) ASSERT_TRUE(o.add(i * 10, i * 10 + 5));
  EXPECT_EQ(o.size(), OooRanges::kMaxRanges);
  auto before = ranges(o);
  EXPECT_FALSE(o.add(1000, 1005));  // a 33rd hole
  EXPECT_FALSE(o.add(6, 8));        // between two ranges, touching neither
  EXPECT_EQ(ranges(o), before);
  EXPECT_TRUE(o.add(5, 7));  // extends one
  EXPECT_EQ(o.size(), OooRanges::kMaxRanges);
  EXPECT_TRUE(o.add(7, 10));  // bridges two: one slot frees
  EXPECT_EQ(o.size(), OooRanges::kMaxRanges - 1);
  EXPECT_TRUE(o.add(1000, 1005));
  EXPECT_EQ(o.size(), OooRanges::kMaxRanges);
}

TEST(TcpOooRanges, PopThrough_AbsorbsReachedRanges) {
  OooRanges o;
  o.add(10, 20);
  o.add(30, 40);
  o.add(50, 60);
  EXPECT_EQ(o.pop_through(5), 5u);  // reaches nothing
  EXPECT_EQ(o.size(), 3u);
  EXPECT_EQ(o.pop_through(10), 20u);  // touching counts
  EXPECT_EQ(ranges(o), (RangeList{{30, 40}, {50, 60}}));
  EXPECT_EQ(o.pop_through(35), 40u);  // inside a range
  EXPECT_EQ(ranges(o), (RangeList{{50, 60}}));
  EXPECT_EQ(o.latest(), 0u);
  EXPECT_EQ(o.pop_through(70), 70u);  // past everything
  EXPECT_TRUE(o.empty());
}

TEST(TcpOooRanges, PopThroughChain_Cascades) {
  OooRanges o;
  o.add(10, 20);
  o.add(20, 30);  // merged
  o.add(40, 50);
  o.add(60, 70);
  o.add(41, 45);
  EXPECT_EQ(o.latest(), 1u);
  EXPECT_EQ(o.pop_through(10), 30u);
  EXPECT_EQ(o.latest(), 0u);  // [40, 50), now first
  EXPECT_EQ(ranges(o), (RangeList{{40, 50}, {60, 70}}));
}

TEST(TcpOooRanges, RandomSegments_MatchBitmap) {
  std::mt19937 rng(2018);
  for (int round = 0; round < 50; ++round) {
    OooRanges o;
    std::vector<bool> have(400, false);
    for (int i = 0; i < 40; ++i) {
      uint64_t s = rng() % 380, e = s + 1 + rng() % 20;
      std::vector<bool> after = have;
      for (uint64_t k = s; k < e; ++k) after[k] = true;
      if (o.add(s, e)) have = after;
    }
    // The ranges are exactly the runs of the bitmap, sorted, disjoint, non-adjacent.
    RangeList want;
    for (uint64_t k = 0; k < have.size(); ++k) {
      if (!have[k]) continue;
      uint64_t s = k;
      while (k < have.size() && have[k]) ++k;
      want.emplace_back(s, k);
    }
    ASSERT_EQ(ranges(o), want) << round;
    ASSERT_LE(o.size(), OooRanges::kMaxRanges);
  }
}

// ---- TimerWheel ------------------------------------------------------------------------------

struct Fired {
  uint32_t id;
  uint32_t gen;
  uint64_t deadline;
  uint64_t at;
  friend bool operator==(const Fired&, const Fired&) = default;
};

class TcpTimerWheel : public ::testing::Test {
 protected:
  void advance(uint64_t now) {
    wheel_.advance(now, [&](uint32_t id, uint32_t gen, uint64_t deadline) { fired_.push_back({id, gen, deadline, now}); });
  }
  std::vector<uint32_t> ids() const {
    std::vector<uint32_t> v;
    for (const auto& f : fired_) v.push_back(f.id);
    return v;
  }
  TimerWheel wheel_{0};
  std::vector<Fired> fired_;
};

TEST_F(TcpTimerWheel, InsideHorizon_FiresOnceWhenDue) {
  wheel_.schedule(1, 0, 5500);
  EXPECT_EQ(wheel_.size(), 1u);
  advance(4999);
  EXPECT_TRUE(fired_.empty());
  advance(5499);  // same tick as the deadline, but before it
  EXPECT_TRUE(fired_.empty());
  advance(5500);
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_EQ(fired_[0], (Fired{1, 0, 5500, 5500}));
  EXPECT_EQ(wheel_.size(), 0u);
  advance(100000);
  EXPECT_EQ(fired_.size(), 1u);
}

TEST_F(TcpTimerWheel, ManyDeadlines_FireInTickOrder) {
  wheel_.schedule(5, 0, 5000);
  wheel_.schedule(1, 0, 1000);
  wheel_.schedule(3, 0, 3700);
  wheel_.schedule(2, 0, 3000);
  wheel_.schedule(4, 0, 4999);
  advance(10000);  // one call covers them all, slot by slot
  EXPECT_EQ(ids(), (std::vector<uint32_t>{1, 3, 2, 4, 5}));  // 3 and 2 share tick 3: filing order
}

TEST_F(TcpTimerWheel, BeyondHorizon_ParkedThenFiresOnTime) {
  const uint64_t far = 10'000'000;  // 10 s: past the 4.096 s the wheel covers
  wheel_.schedule(7, 1, far);
  for (uint64_t t = 0; t < far; t += 250000) {
    advance(t);
    ASSERT_TRUE(fired_.empty()) << t;
    ASSERT_EQ(wheel_.size(), 1u) << t;  // re-filed, never duplicated
  }
  advance(far - 1);
  EXPECT_TRUE(fired_.empty());
  advance(far);
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_EQ(fired_[0].deadline, far);
}

TEST_F(TcpTimerWheel, BeyondHorizonInOneJump_Fires) {
  wheel_.schedule(1, 0, 9'000'000);
  wheel_.schedule(2, 0, 2'000'000);
  advance(20'000'000);  // a long stall: one turn covers every slot, each entry once (in slot order)
  auto got = ids();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TcpTimerWheel, ExactlyAtHorizonEdge_Fires) {
  const uint64_t edge = (TimerWheel::kSlots - 1) * TimerWheel::kTickUs;
  wheel_.schedule(1, 0, edge);
  wheel_.schedule(2, 0, edge + TimerWheel::kTickUs);  // one tick further: parked
  advance(edge);
  EXPECT_EQ(ids(), (std::vector<uint32_t>{1}));
  advance(edge + TimerWheel::kTickUs);
  EXPECT_EQ(ids(), (std::vector<uint32_t>{1, 2}));
}

TEST_F(TcpTimerWheel, PastDeadline_FiresAtNextAdvance) {
  advance(50000);
  wheel_.schedule(1, 0, 10000);  // already due
  advance(50000);
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_EQ(fired_[0].at, 50000u);
}

TEST_F(TcpTimerWheel, StaleEntries_HandedToOwnerWhoIgnoresThem) {
  // The owner's view: the generation and deadline it filed last.
  struct Owner {
    uint32_t gen = 0;
    uint64_t deadline = 0;
    int fired = 0;
  } owner;
  owner.deadline = 3000;
  wheel_.schedule(1, owner.gen, owner.deadline);
  owner.gen = 1;  // the connection was freed and the slot reused
  owner.deadline = 8000;
  wheel_.schedule(1, owner.gen, owner.deadline);
  int stale = 0;
  auto fire = [&](uint32_t, uint32_t gen, uint64_t deadline) {
    if (gen != owner.gen || deadline != owner.deadline) {
      ++stale;
      return;
    }
    ++owner.fired;
  };
  wheel_.advance(5000, fire);
  EXPECT_EQ(stale, 1);
  EXPECT_EQ(owner.fired, 0);
  wheel_.advance(9000, fire);
  EXPECT_EQ(owner.fired, 1);
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TcpTimerWheel, FireReschedules_IntoLaterSlot) {
  int count = 0;
  wheel_.schedule(1, 0, 1000);
  auto fire = [&](uint32_t id, uint32_t gen, uint64_t deadline) {
    ++count;
    if (count < 5) wheel_.schedule(id, gen, deadline + 1000);
  };
  wheel_.advance(10000, fire);  // each re-filed entry is reached in the same call
  EXPECT_EQ(count, 5);
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TcpTimerWheel, SameSlotAsNow_NotFiredEarly) {
  advance(7200);
  wheel_.schedule(1, 0, 7900);  // in the current tick, later than now
  advance(7500);
  EXPECT_TRUE(fired_.empty());
  advance(7899);
  EXPECT_TRUE(fired_.empty());
  advance(7900);
  EXPECT_EQ(ids(), (std::vector<uint32_t>{1}));
}

TEST_F(TcpTimerWheel, RandomDeadlines_EachFiresOnceNotEarlyNotLate) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> deadline(300);
  for (uint32_t i = 0; i < deadline.size(); ++i) {
    deadline[i] = 1000 + rng() % 12'000'000;  // up to three turns of the wheel
    wheel_.schedule(i, 0, deadline[i]);
  }
  std::vector<int> count(deadline.size(), 0);
  uint64_t now = 0;
  while (now < 13'000'000) {
    now += 1 + rng() % 20000;
    wheel_.advance(now, [&](uint32_t id, uint32_t, uint64_t d) {
      ++count[id];
      EXPECT_EQ(d, deadline[id]);
      EXPECT_LE(d, now) << id;              // never early
      EXPECT_GT(d + 20001, now) << id;      // at the first advance past the deadline
    });
  }
  for (uint32_t i = 0; i < deadline.size(); ++i) EXPECT_EQ(count[i], 1) << i;
  EXPECT_EQ(wheel_.size(), 0u);
}

// ---- NewReno (RFC 5681, RFC 6582) ------------------------------------------------------------

constexpr uint32_t kMss = 1460;

TEST(TcpNewReno, Init_InitialWindowAndInfiniteSsthresh) {
  NewReno cc;
  cc.init(kMss, 10 * kMss);
  EXPECT_EQ(cc.cwnd(), 14600u);
  EXPECT_EQ(cc.ssthresh(), CongestionControl::kInfinite);
  EXPECT_EQ(cc.mss(), kMss);
  EXPECT_EQ(cc.name(), "newreno");
}

TEST(TcpNewReno, SlowStart_GrowsByMinAckedMss) {
  NewReno cc;
  cc.init(kMss, 2 * kMss);
  cc.on_ack(kMss, 2 * kMss, 0);
  EXPECT_EQ(cc.cwnd(), 3 * kMss);
  cc.on_ack(500, 2 * kMss, 0);
  EXPECT_EQ(cc.cwnd(), 3 * kMss + 500);
  cc.on_ack(10 * kMss, 10 * kMss, 0);  // a stretch ACK: at most one SMSS (RFC 3465, L = 1)
  EXPECT_EQ(cc.cwnd(), 4 * kMss + 500);
}

TEST(TcpNewReno, CongestionAvoidance_OneMssPerWindowAcked) {
  NewReno cc;
  cc.init(kMss, 10 * kMss);
  cc.on_rto(8 * kMss);  // ssthresh 4 SMSS, cwnd 1 SMSS
  EXPECT_EQ(cc.ssthresh(), 4 * kMss);
  EXPECT_EQ(cc.cwnd(), kMss);
  for (int i = 0; i < 3; ++i) cc.on_ack(kMss, kMss, 0);  // slow start up to ssthresh
  EXPECT_EQ(cc.cwnd(), 4 * kMss);
  // Congestion avoidance: 4 SMSS acknowledged grow it by one SMSS.
  for (int i = 0; i < 3; ++i) cc.on_ack(kMss, 4 * kMss, 0);
  EXPECT_EQ(cc.cwnd(), 4 * kMss);
  cc.on_ack(kMss, 4 * kMss, 0);
  EXPECT_EQ(cc.cwnd(), 5 * kMss);
  for (int i = 0; i < 4; ++i) cc.on_ack(kMss, 5 * kMss, 0);
  EXPECT_EQ(cc.cwnd(), 5 * kMss);
  cc.on_ack(kMss, 5 * kMss, 0);
  EXPECT_EQ(cc.cwnd(), 6 * kMss);
}

TEST(TcpNewReno, FastRetransmitRecovery_Rfc6582Steps) {
  NewReno cc;
  cc.init(kMss, 20 * kMss);
  cc.on_fast_retransmit(20 * kMss);  // eq. 4: ssthresh = FlightSize / 2; cwnd = ssthresh + 3 SMSS
  EXPECT_EQ(cc.ssthresh(), 10 * kMss);
  EXPECT_EQ(cc.cwnd(), 13 * kMss);
  cc.on_recovery_dupack();  // inflate by SMSS
  EXPECT_EQ(cc.cwnd(), 14 * kMss);
  cc.on_partial_ack(3 * kMss);  // deflate by the amount acked, add back SMSS
  EXPECT_EQ(cc.cwnd(), 12 * kMss);
  cc.on_partial_ack(100);  // less than SMSS acked: no add-back
  EXPECT_EQ(cc.cwnd(), 12 * kMss - 100);
  cc.on_recovery_exit(4 * kMss);  // min(ssthresh, max(FlightSize, SMSS) + SMSS)
  EXPECT_EQ(cc.cwnd(), 5 * kMss);
  cc.on_fast_retransmit(20 * kMss);
  cc.on_recovery_exit(15 * kMss);
  EXPECT_EQ(cc.cwnd(), 10 * kMss);  // ssthresh is the smaller
  cc.on_fast_retransmit(0);
  cc.on_recovery_exit(0);
  EXPECT_EQ(cc.cwnd(), 2 * kMss);  // max(0, SMSS) + SMSS
}

TEST(TcpNewReno, SmallFlight_SsthreshFloorTwoMss) {
  NewReno cc;
  cc.init(kMss, 10 * kMss);
  cc.on_fast_retransmit(kMss);
  EXPECT_EQ(cc.ssthresh(), 2 * kMss);
  EXPECT_EQ(cc.cwnd(), 5 * kMss);
  cc.on_rto(100);
  EXPECT_EQ(cc.ssthresh(), 2 * kMss);
  EXPECT_EQ(cc.cwnd(), kMss);  // the loss window
}

TEST(TcpNewReno, PartialAckLargerThanCwnd_FloorOneMss) {
  NewReno cc;
  cc.init(kMss, 2 * kMss);
  cc.on_partial_ack(10 * kMss);
  EXPECT_EQ(cc.cwnd(), kMss);
}

TEST(TcpNewReno, Factory_KnowsNewRenoOnly) {
  EXPECT_TRUE(valid_congestion_control("newreno"));
  EXPECT_FALSE(valid_congestion_control("cubic"));
  auto cc = make_congestion_control("newreno");
  ASSERT_NE(cc, nullptr);
  EXPECT_EQ(cc->name(), "newreno");
}

}  // namespace
}  // namespace dpdkstack::tcp

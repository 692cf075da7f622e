// UDP header view and checksums (RFC 768, RFC 1122 4.1.3.4), on literal
// datagrams (their checksums computed by scapy) and against a reference sum.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "wire/udp.hpp"

namespace dpdkstack::wire {
namespace {

const Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 2);
const Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 1);

// scapy: IP(src='10.0.0.2', dst='10.0.0.1')/UDP(sport=1000, dport=7)/b'hi'
std::vector<uint8_t> hi() { return {0x03, 0xe8, 0x00, 0x07, 0x00, 0x0a, 0x7f, 0x7f, 'h', 'i'}; }

// Reference: the pseudo header and the datagram as big-endian words, summed
// with end-around carry, the odd byte padded with zero (RFC 1071).
uint16_t reference(Ipv4Addr src, Ipv4Addr dst, const std::vector<uint8_t>& d) {
  uint64_t s = (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + 17 + d.size();
  for (size_t i = 0; i < d.size(); i += 2) s += (uint32_t{d[i]} << 8) | (i + 1 < d.size() ? d[i + 1] : 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

TEST(UdpView, ScapyDatagram_ParsesAndChecksumVerifies) {
  auto d = hi();
  UdpView v;
  ASSERT_EQ(UdpView::check(d.data(), d.size(), kA, kB, true, v), UdpError::kNone);
  EXPECT_EQ(v.src_port(), 1000);
  EXPECT_EQ(v.dst_port(), 7);
  EXPECT_EQ(v.length(), 10);
  EXPECT_EQ(v.payload_len(), 2u);
  EXPECT_EQ(v.payload()[0], 'h');
  EXPECT_EQ(UdpRepr::parse(v), (UdpRepr{1000, 7, 2}));
}

TEST(UdpView, OddLengthBroadcast_ScapyChecksumVerifies) {
  // scapy: IP(src='192.168.1.10', dst='192.168.1.255')/UDP(sport=68, dport=67)/bytes(range(13))
  std::vector<uint8_t> d = {0x00, 0x44, 0x00, 0x43, 0x00, 0x15, 0x50, 0xbf};
  for (uint8_t i = 0; i < 13; ++i) d.push_back(i);
  UdpView v;
  EXPECT_EQ(UdpView::check(d.data(), d.size(), Ipv4Addr::from_octets(192, 168, 1, 10),
                           Ipv4Addr::from_octets(192, 168, 1, 255), true, v),
            UdpError::kNone);
}

TEST(UdpView, EveryTruncation_Rejected) {
  auto d = hi();
  for (size_t len = 0; len < d.size(); ++len) {
    UdpView v;
    auto e = UdpView::check(d.data(), len, kA, kB, false, v);
    EXPECT_EQ(e, len < 8 ? UdpError::kTruncated : UdpError::kBadLength) << len;
  }
}

TEST(UdpView, LengthBelowHeader_BadLength) {
  auto d = hi();
  store_be16(d.data() + 4, 7);
  UdpView v;
  EXPECT_EQ(UdpView::check(d.data(), d.size(), kA, kB, false, v), UdpError::kBadLength);
}

TEST(UdpView, IpLongerThanUdpLength_PayloadIsUdpLength) {
  auto d = hi();
  d.push_back(0xee);  // trailing byte inside the IP datagram but past the UDP length
  UdpView v;
  ASSERT_EQ(UdpView::check(d.data(), d.size(), kA, kB, true, v), UdpError::kNone);
  EXPECT_EQ(v.payload_len(), 2u);
}

TEST(UdpView, ZeroChecksum_AcceptedAsNone) {
  auto d = hi();
  store_be16(d.data() + 6, 0);
  d[8] = 'X';  // would fail a real checksum
  UdpView v;
  EXPECT_EQ(UdpView::check(d.data(), d.size(), kA, kB, true, v), UdpError::kNone);
}

TEST(UdpView, EverySingleBitFlip_BadChecksumOrBadLength) {
  auto good = hi();
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    auto d = good;
    d[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    UdpView v;
    auto e = UdpView::check(d.data(), d.size(), kA, kB, true, v);
    if (bit / 8 == 4 || bit / 8 == 5) EXPECT_NE(e, UdpError::kNone) << "length bit " << bit;
    else if (bit / 8 == 6 || bit / 8 == 7) EXPECT_TRUE(e == UdpError::kBadChecksum || load_be16(d.data() + 6) == 0) << bit;
    else EXPECT_EQ(e, UdpError::kBadChecksum) << "bit " << bit;
  }
}

TEST(UdpView, WrongPseudoHeader_BadChecksum) {
  auto d = hi();
  UdpView v;
  EXPECT_EQ(UdpView::check(d.data(), d.size(), kA, Ipv4Addr::from_octets(10, 0, 0, 3), true, v),
            UdpError::kBadChecksum);
  EXPECT_EQ(UdpView::check(d.data(), d.size(), kA, kB, false, v), UdpError::kNone) << "not verified when not asked";
}

TEST(UdpRepr, Emit_MatchesScapyBytes) {
  std::vector<uint8_t> out(10);
  out[8] = 'h';
  out[9] = 'i';
  UdpRepr{1000, 7, 2}.emit(out.data(), kA, kB, true);
  EXPECT_EQ(out, hi());
}

TEST(UdpRepr, EmitWithoutChecksum_LeavesZero) {
  std::vector<uint8_t> out(10, 0);
  UdpRepr{1000, 7, 2}.emit(out.data(), kA, kB, false);
  EXPECT_EQ(load_be16(out.data() + 6), 0);
  EXPECT_EQ(load_be16(out.data() + 4), 10);
}

TEST(UdpRepr, ComputedZero_SentAsAllOnes) {
  // Search a payload whose checksum computes to 0, then check it goes out as 0xffff and verifies.
  std::mt19937 rng(768);
  for (int tries = 0; tries < 2000000; ++tries) {
    std::vector<uint8_t> d(8 + 2);
    uint16_t w = static_cast<uint16_t>(rng());
    d[8] = static_cast<uint8_t>(w >> 8);
    d[9] = static_cast<uint8_t>(w);
    UdpRepr{1, 2, 2}.emit(d.data(), kA, kB, false);
    if (transport_checksum(kA, kB, ipproto::kUdp, d.data(), d.size()) != 0) continue;
    UdpRepr{1, 2, 2}.emit(d.data(), kA, kB, true);
    EXPECT_EQ(load_be16(d.data() + 6), 0xffff);
    UdpView v;
    EXPECT_EQ(UdpView::check(d.data(), d.size(), kA, kB, true, v), UdpError::kNone);
    return;
  }
  FAIL() << "no payload with a zero checksum found";
}

TEST(TransportChecksum, RandomDatagrams_MatchReference) {
  std::mt19937 rng(1071);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> d(8 + rng() % 1500);
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    store_be16(d.data() + 4, static_cast<uint16_t>(d.size()));
    store_be16(d.data() + 6, 0);
    Ipv4Addr s(static_cast<uint32_t>(rng())), t(static_cast<uint32_t>(rng()));
    uint16_t want = reference(s, t, d);
    ASSERT_EQ(transport_checksum(s, t, ipproto::kUdp, d.data(), d.size()), want) << "size " << d.size();
    store_be16(d.data() + 6, want);
    ASSERT_EQ(transport_checksum(s, t, ipproto::kUdp, d.data(), d.size()), 0) << "verifies in place";
  }
}

}  // namespace
}  // namespace dpdkstack::wire

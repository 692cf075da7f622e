// Wire views (lib/wire/): fixed byte arrays in, field values out; Reprs
// emitted and compared byte for byte; round trips; and every truncated
// length rejected. The frames are written out as they appear on the wire.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "test_util.hpp"
#include "wire/arp.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack::wire {
namespace {

// ------------------------------------------------------------------ frames

constexpr MacAddr kHostMac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
constexpr MacAddr kStackMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr Ipv4Addr kHostIp = Ipv4Addr::from_octets(10, 0, 0, 1);
constexpr Ipv4Addr kStackIp = Ipv4Addr::from_octets(10, 0, 0, 2);

// "Who has 10.0.0.2? Tell 10.0.0.1", broadcast, padded to the 60-byte
// Ethernet minimum as a NIC delivers it (FCS stripped).
constexpr std::array<uint8_t, 60> kArpRequestFrame{{
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // dst: broadcast
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,  // src
    0x08, 0x06,                          // ethertype ARP
    0x00, 0x01,                          // htype Ethernet
    0x08, 0x00,                          // ptype IPv4
    0x06, 0x04,                          // hlen, plen
    0x00, 0x01,                          // op request
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,  // sha
    0x0a, 0x00, 0x00, 0x01,              // spa 10.0.0.1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // tha (unknown)
    0x0a, 0x00, 0x00, 0x02,              // tpa 10.0.0.2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // padding
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
}};

// "10.0.0.2 is at 02:00:00:00:00:02", the answer to the request above
// (28 bytes of ARP, unpadded).
constexpr std::array<uint8_t, 28> kArpReply{{
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
    0x00, 0x02,                          // op reply
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  // sha
    0x0a, 0x00, 0x00, 0x02,              // spa 10.0.0.2
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,  // tha
    0x0a, 0x00, 0x00, 0x01,              // tpa 10.0.0.1
}};

// ICMP echo request 10.0.0.1 -> 10.0.0.2 with the 32-byte payload Windows'
// ping sends, DF set, both checksums correct (IPv4 0x0a79, ICMP 0x4d54).
constexpr size_t kEchoIpOff = 14;
constexpr size_t kEchoIcmpOff = 34;
constexpr std::array<uint8_t, 74> kEchoRequestFrame{{
    // Ethernet
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  // dst
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,  // src
    0x08, 0x00,                          // ethertype IPv4
    // IPv4
    0x45, 0x00,              // version 4, IHL 5, tos 0
    0x00, 0x3c,              // total length 60
    0x1c, 0x46,              // ident
    0x40, 0x00,              // DF, offset 0
    0x40, 0x01,              // ttl 64, protocol ICMP
    0x0a, 0x79,              // header checksum
    0x0a, 0x00, 0x00, 0x01,  // src 10.0.0.1
    0x0a, 0x00, 0x00, 0x02,  // dst 10.0.0.2
    // ICMP
    0x08, 0x00,  // echo request, code 0
    0x4d, 0x54,  // checksum
    0x00, 0x01,  // ident
    0x00, 0x07,  // seq
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p',
    'q', 'r', 's', 't', 'u', 'v', 'w', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i',
}};
constexpr uint16_t kEchoReplyChecksum = 0x5554;  // same message with type 0

// The IPv4 header from the Wikipedia "IPv4 header checksum" example.
constexpr std::array<uint8_t, 20> kWikipediaIpHeader{{
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
}};

template <size_t N>
std::vector<uint8_t> to_vec(const std::array<uint8_t, N>& a, size_t off = 0, size_t len = N) {
  return std::vector<uint8_t>(a.begin() + static_cast<std::ptrdiff_t>(off),
                              a.begin() + static_cast<std::ptrdiff_t>(off + len));
}

std::vector<uint8_t> echo_ip() { return to_vec(kEchoRequestFrame, kEchoIpOff, 60); }
std::vector<uint8_t> echo_icmp() { return to_vec(kEchoRequestFrame, kEchoIcmpOff, 40); }

// A plain RFC 1071 reference: big-endian 16-bit words, an odd byte padded
// with zero on the right, end-around carry, complement.
uint16_t reference_checksum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (len % 2 != 0) sum += uint32_t{p[len - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// ---------------------------------------------------------------- bytes.hpp

TEST(Bytes, BigEndianLoadStore) {
  uint8_t b[4] = {0x12, 0x34, 0x56, 0x78};
  EXPECT_EQ(load_be16(b), 0x1234);
  EXPECT_EQ(load_be32(b), 0x12345678u);
  store_be16(b, 0xabcd);
  EXPECT_EQ(b[0], 0xab);
  EXPECT_EQ(b[1], 0xcd);
  store_be32(b, 0xdeadbeef);
  EXPECT_EQ(b[0], 0xde);
  EXPECT_EQ(b[1], 0xad);
  EXPECT_EQ(b[2], 0xbe);
  EXPECT_EQ(b[3], 0xef);
}

// ------------------------------------------------------------- checksum.hpp

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(b, sizeof b), 0x220d);  // ~0xddf2
}

TEST(Checksum, Rfc1071Example_SumIsByteOrderIndependent) {
  // RFC 1071 1(B): swapping the bytes of every word swaps the result.
  const uint8_t b[] = {0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6};
  EXPECT_EQ(internet_checksum(b, sizeof b), 0x0d22);
}

TEST(Checksum, Ipv4HeaderWithFieldZeroed_GivesStoredValue) {
  auto h = to_vec(kWikipediaIpHeader);
  h[10] = h[11] = 0;
  EXPECT_EQ(internet_checksum(h.data(), h.size()), 0xb861);
}

TEST(Checksum, HeaderWithChecksumFilled_SumsToZero) {
  EXPECT_EQ(internet_checksum(kWikipediaIpHeader.data(), kWikipediaIpHeader.size()), 0);
  auto ip = echo_ip();
  EXPECT_EQ(internet_checksum(ip.data(), 20), 0);
  auto icmp = echo_icmp();
  EXPECT_EQ(internet_checksum(icmp.data(), icmp.size()), 0);
}

TEST(Checksum, Empty_IsAllOnes) {
  const uint8_t b[1] = {0};
  EXPECT_EQ(internet_checksum(b, 0), 0xffff);
}

TEST(Checksum, OddLength_PadsWithZeroOnTheRight) {
  const uint8_t one[] = {0xab};
  EXPECT_EQ(internet_checksum(one, 1), 0x54ff);  // ~0xab00
  const uint8_t seven[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6};
  EXPECT_EQ(internet_checksum(seven, sizeof seven), 0x2304);
  const uint8_t eight[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0x00};
  EXPECT_EQ(internet_checksum(eight, sizeof eight), 0x2304);
}

TEST(Checksum, CarryFolding) {
  // 0xffff + 0x0001 = 0x10000 -> folds to 0x0001 -> checksum 0xfffe.
  const uint8_t b[] = {0xff, 0xff, 0x00, 0x01};
  EXPECT_EQ(internet_checksum(b, sizeof b), 0xfffe);
  // Many 0xffff words: the sum stays 0xffff, the checksum 0.
  std::vector<uint8_t> ones(1000, 0xff);
  EXPECT_EQ(internet_checksum(ones.data(), ones.size()), 0);
}

TEST(Checksum, MatchesReference_EveryLengthAndAlignment) {
  // Deterministic pseudo-random bytes (a fixed LCG, no seed from the clock).
  std::vector<uint8_t> buf(300);
  uint32_t x = 12345;
  for (auto& b : buf) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  for (size_t off = 0; off < 4; ++off)
    for (size_t len = 0; len + off <= buf.size(); ++len)
      ASSERT_EQ(internet_checksum(buf.data() + off, len), reference_checksum(buf.data() + off, len))
          << "off " << off << " len " << len;
}

// ------------------------------------------------------------- ethernet.hpp

TEST(Ethernet, Check_EveryTruncatedLengthRejected) {
  for (size_t len = 0; len < EthernetView::kHeaderLen; ++len) {
    auto buf = to_vec(kArpRequestFrame, 0, len);
    EXPECT_FALSE(EthernetView::check(buf.data(), len).has_value()) << "len " << len;
  }
  EXPECT_FALSE(EthernetView::check(nullptr, 60).has_value());
}

TEST(Ethernet, Check_HeaderOnlyAccepted) {
  auto buf = to_vec(kArpRequestFrame, 0, 14);
  auto v = EthernetView::check(buf.data(), buf.size());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->payload_len(), 0u);
  EXPECT_EQ(v->payload(), buf.data() + 14);
}

TEST(Ethernet, Parse_ArpRequestFrame) {
  auto f = to_vec(kArpRequestFrame);
  auto v = EthernetView::check(f.data(), f.size());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->dst(), MacAddr::broadcast());
  EXPECT_EQ(v->src(), kHostMac);
  EXPECT_EQ(v->ethertype(), ethertype::kArp);
  EXPECT_EQ(v->payload(), f.data() + 14);
  EXPECT_EQ(v->payload_len(), 46u);
  auto r = EthernetRepr::parse(*v);
  EXPECT_EQ(r, (EthernetRepr{MacAddr::broadcast(), kHostMac, ethertype::kArp}));
}

TEST(Ethernet, Parse_Ipv4Frame) {
  auto f = to_vec(kEchoRequestFrame);
  auto v = EthernetView::check(f.data(), f.size());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->dst(), kStackMac);
  EXPECT_EQ(v->src(), kHostMac);
  EXPECT_EQ(v->ethertype(), ethertype::kIpv4);
  EXPECT_EQ(v->payload_len(), 60u);
}

TEST(Ethernet, Emit_MatchesCapturedBytes) {
  EthernetRepr r{kStackMac, kHostMac, ethertype::kIpv4};
  std::array<uint8_t, 14> out{};
  out.fill(0xee);
  r.emit(out.data());
  EXPECT_EQ(to_vec(out), to_vec(kEchoRequestFrame, 0, 14));
}

TEST(Ethernet, Emit_WritesExactlyHeaderLen) {
  std::array<uint8_t, 20> out{};
  out.fill(0xee);
  EthernetRepr{kStackMac, kHostMac, ethertype::kArp}.emit(out.data());
  for (size_t i = 14; i < out.size(); ++i) EXPECT_EQ(out[i], 0xee) << "byte " << i;
}

TEST(Ethernet, RoundTrip) {
  const EthernetRepr r{MacAddr{{0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa}}, kStackMac, 0x86dd};
  std::array<uint8_t, 14> out{};
  r.emit(out.data());
  auto v = EthernetView::check(out.data(), out.size());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(EthernetRepr::parse(*v), r);
}

TEST(Ethernet, Setters_RewriteInPlace) {
  auto f = to_vec(kArpRequestFrame);
  auto v = EthernetView::check(f.data(), f.size());
  ASSERT_TRUE(v.has_value());
  v->set_dst(kHostMac);
  v->set_src(kStackMac);
  v->set_ethertype(ethertype::kIpv4);
  EXPECT_EQ(EthernetRepr::parse(*v), (EthernetRepr{kHostMac, kStackMac, ethertype::kIpv4}));
  EXPECT_EQ(f[12], 0x08);
  EXPECT_EQ(f[13], 0x00);
  EXPECT_EQ(f[14], 0x00);  // payload untouched
  EXPECT_EQ(f[15], 0x01);
}

// ------------------------------------------------------------------ arp.hpp

TEST(Arp, Check_EveryTruncatedLengthRejected) {
  for (size_t len = 0; len < ArpView::kLen; ++len) {
    auto buf = to_vec(kArpRequestFrame, 14, len);
    EXPECT_FALSE(ArpView::check(buf.data(), len).has_value()) << "len " << len;
  }
  EXPECT_FALSE(ArpView::check(nullptr, 28).has_value());
  auto exact = to_vec(kArpRequestFrame, 14, 28);
  EXPECT_TRUE(ArpView::check(exact.data(), exact.size()).has_value());
}

TEST(Arp, Parse_Request) {
  auto f = to_vec(kArpRequestFrame);
  auto v = ArpView::check(f.data() + 14, f.size() - 14);  // padding included
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->htype(), 1);
  EXPECT_EQ(v->ptype(), 0x0800);
  EXPECT_EQ(v->hlen(), 6);
  EXPECT_EQ(v->plen(), 4);
  EXPECT_EQ(v->op(), 1);
  EXPECT_EQ(v->sha(), kHostMac);
  EXPECT_EQ(v->spa(), kHostIp);
  EXPECT_EQ(v->tha(), MacAddr{});
  EXPECT_EQ(v->tpa(), kStackIp);

  ArpRepr r;
  ArpParseError why{};
  ASSERT_TRUE(ArpRepr::parse(*v, r, why));
  EXPECT_EQ(r, (ArpRepr{ArpOp::kRequest, kHostMac, kHostIp, MacAddr{}, kStackIp}));
}

TEST(Arp, Parse_Reply) {
  auto b = to_vec(kArpReply);
  auto v = ArpView::check(b.data(), b.size());
  ASSERT_TRUE(v.has_value());
  ArpRepr r;
  ArpParseError why{};
  ASSERT_TRUE(ArpRepr::parse(*v, r, why));
  EXPECT_EQ(r, (ArpRepr{ArpOp::kReply, kStackMac, kStackIp, kHostMac, kHostIp}));
}

TEST(Arp, Emit_Request_MatchesCapturedBytes) {
  std::array<uint8_t, 28> out{};
  ArpRepr{ArpOp::kRequest, kHostMac, kHostIp, MacAddr{}, kStackIp}.emit(out.data());
  EXPECT_EQ(to_vec(out), to_vec(kArpRequestFrame, 14, 28));
}

TEST(Arp, Emit_Reply_MatchesCapturedBytes) {
  std::array<uint8_t, 32> out{};
  out.fill(0xee);
  ArpRepr{ArpOp::kReply, kStackMac, kStackIp, kHostMac, kHostIp}.emit(out.data());
  EXPECT_EQ(to_vec(out, 0, 28), to_vec(kArpReply));
  for (size_t i = 28; i < out.size(); ++i) EXPECT_EQ(out[i], 0xee) << "wrote past kLen at " << i;
}

TEST(Arp, RoundTrip) {
  const ArpRepr reprs[] = {
      {ArpOp::kRequest, kHostMac, kHostIp, MacAddr{}, kStackIp},
      {ArpOp::kReply, kStackMac, kStackIp, kHostMac, kHostIp},
      {ArpOp::kRequest, kStackMac, kStackIp, MacAddr{}, kStackIp},  // gratuitous
      {ArpOp::kReply, MacAddr{{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54}}, Ipv4Addr(0xfffffffe),
       MacAddr::broadcast(), Ipv4Addr(0x00000001)},
  };
  for (const auto& r : reprs) {
    std::array<uint8_t, 28> out{};
    r.emit(out.data());
    auto v = ArpView::check(out.data(), out.size());
    ASSERT_TRUE(v.has_value());
    ArpRepr back;
    ArpParseError why{};
    ASSERT_TRUE(ArpRepr::parse(*v, back, why));
    EXPECT_EQ(back, r);
  }
}

TEST(Arp, Parse_UnsupportedHardwareOrProtocolRejected) {
  struct Case {
    size_t off;
    uint8_t value;
    const char* what;
  };
  const Case cases[] = {
      {0, 0x01, "htype 0x0101"}, {1, 0x06, "htype 6 (IEEE 802)"}, {2, 0x86, "ptype 0x86dd"},
      {3, 0x06, "ptype 0x0806"}, {4, 0x08, "hlen 8"},             {5, 0x10, "plen 16"},
  };
  for (const auto& c : cases) {
    auto b = to_vec(kArpReply);
    b[c.off] = c.value;
    auto v = ArpView::check(b.data(), b.size());
    ASSERT_TRUE(v.has_value()) << c.what;  // check() does not judge values
    ArpRepr r;
    ArpParseError why = ArpParseError::kBadOp;
    EXPECT_FALSE(ArpRepr::parse(*v, r, why)) << c.what;
    EXPECT_EQ(why, ArpParseError::kUnsupported) << c.what;
  }
}

TEST(Arp, Parse_BadOpRejected) {
  for (uint16_t op : {0, 3, 4, 8, 9, 0x0100, 0xffff}) {
    auto b = to_vec(kArpReply);
    store_be16(b.data() + 6, op);
    auto v = ArpView::check(b.data(), b.size());
    ASSERT_TRUE(v.has_value());
    ArpRepr r;
    ArpParseError why = ArpParseError::kUnsupported;
    EXPECT_FALSE(ArpRepr::parse(*v, r, why)) << "op " << op;
    EXPECT_EQ(why, ArpParseError::kBadOp) << "op " << op;
  }
}

// ----------------------------------------------------------------- ipv4.hpp

TEST(Ipv4, Parse_EchoRequestPacket) {
  auto b = echo_ip();
  Ipv4View v;
  ASSERT_EQ(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kNone);
  EXPECT_EQ(v.data(), b.data());
  EXPECT_EQ(v.header_len(), 20u);
  EXPECT_EQ(v.tos(), 0);
  EXPECT_EQ(v.total_length(), 60);
  EXPECT_EQ(v.ident(), 0x1c46);
  EXPECT_EQ(v.flags_frag(), 0x4000);
  EXPECT_TRUE(v.dont_fragment());
  EXPECT_FALSE(v.more_fragments());
  EXPECT_EQ(v.frag_offset_bytes(), 0);
  EXPECT_FALSE(v.is_fragment());
  EXPECT_EQ(v.ttl(), 64);
  EXPECT_EQ(v.protocol(), ipproto::kIcmp);
  EXPECT_EQ(v.checksum(), 0x0a79);
  EXPECT_EQ(v.src(), kHostIp);
  EXPECT_EQ(v.dst(), kStackIp);
  EXPECT_EQ(v.payload(), b.data() + 20);
  EXPECT_EQ(v.payload_len(), 40u);

  EXPECT_EQ(Ipv4Repr::parse(v), (Ipv4Repr{kHostIp, kStackIp, ipproto::kIcmp, 64, 0, 0x1c46, true, 40}));
}

TEST(Ipv4, Parse_WikipediaHeader) {
  auto b = to_vec(kWikipediaIpHeader);
  b.resize(0x73, 0);  // total length 115
  Ipv4View v;
  ASSERT_EQ(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kNone);
  EXPECT_EQ(v.protocol(), ipproto::kUdp);
  EXPECT_EQ(v.src(), Ipv4Addr::from_octets(192, 168, 0, 1));
  EXPECT_EQ(v.dst(), Ipv4Addr::from_octets(192, 168, 0, 199));
  EXPECT_EQ(v.payload_len(), 95u);
}

TEST(Ipv4, Emit_MatchesCapturedBytes) {
  const Ipv4Repr r{kHostIp, kStackIp, ipproto::kIcmp, 64, 0, 0x1c46, true, 40};
  std::array<uint8_t, 24> out{};
  out.fill(0xee);
  r.emit(out.data(), true);
  EXPECT_EQ(to_vec(out, 0, 20), to_vec(kEchoRequestFrame, kEchoIpOff, 20));
  for (size_t i = 20; i < out.size(); ++i) EXPECT_EQ(out[i], 0xee) << "wrote past the header at " << i;
}

TEST(Ipv4, Emit_WithoutChecksum_LeavesFieldZero) {
  const Ipv4Repr r{kHostIp, kStackIp, ipproto::kIcmp, 64, 0, 0x1c46, true, 40};
  std::array<uint8_t, 20> out{};
  out.fill(0xee);
  r.emit(out.data(), false);
  auto want = to_vec(kEchoRequestFrame, kEchoIpOff, 20);
  want[10] = want[11] = 0;
  EXPECT_EQ(to_vec(out), want);
}

TEST(Ipv4, RoundTrip) {
  const Ipv4Repr reprs[] = {
      {kHostIp, kStackIp, ipproto::kIcmp, 64, 0, 0x1c46, true, 40},
      {kStackIp, kHostIp, ipproto::kTcp, 1, 0xb8, 0xffff, false, 0},
      {Ipv4Addr(0), Ipv4Addr::broadcast(), ipproto::kUdp, 255, 0x02, 0, true, 1480},
  };
  for (const auto& r : reprs) {
    std::vector<uint8_t> buf(20 + r.payload_len, 0);
    r.emit(buf.data(), true);
    Ipv4View v;
    ASSERT_EQ(Ipv4View::check(buf.data(), buf.size(), true, v), Ipv4Error::kNone);
    EXPECT_EQ(Ipv4Repr::parse(v), r);
  }
}

TEST(Ipv4, Check_EveryLengthBelowMinimumHeader_Truncated) {
  for (size_t len = 0; len < Ipv4View::kMinHeaderLen; ++len) {
    auto b = to_vec(kEchoRequestFrame, kEchoIpOff, len);
    Ipv4View v;
    EXPECT_EQ(Ipv4View::check(b.data(), len, true, v), Ipv4Error::kTruncated) << "len " << len;
    EXPECT_EQ(Ipv4View::check(b.data(), len, false, v), Ipv4Error::kTruncated) << "len " << len;
  }
  Ipv4View v;
  EXPECT_EQ(Ipv4View::check(nullptr, 60, true, v), Ipv4Error::kTruncated);
}

TEST(Ipv4, Check_EveryLengthBelowTotalLength_BadTotalLength) {
  // The header is whole, the datagram is cut short: total_length > len.
  for (size_t len = Ipv4View::kMinHeaderLen; len < 60; ++len) {
    auto b = to_vec(kEchoRequestFrame, kEchoIpOff, len);
    Ipv4View v;
    EXPECT_EQ(Ipv4View::check(b.data(), len, true, v), Ipv4Error::kBadTotalLength) << "len " << len;
  }
}

TEST(Ipv4, Check_TotalLengthPastBuffer_BadTotalLength) {
  auto b = echo_ip();
  store_be16(b.data() + 2, 61);
  Ipv4View v;
  EXPECT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kBadTotalLength);
  store_be16(b.data() + 2, 0xffff);
  EXPECT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kBadTotalLength);
}

TEST(Ipv4, Check_TotalLengthBelowHeader_BadTotalLength) {
  for (uint16_t tl : {0, 1, 19}) {
    auto b = echo_ip();
    store_be16(b.data() + 2, tl);
    Ipv4View v;
    EXPECT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kBadTotalLength) << "tl " << tl;
  }
  // With options: 24-byte header, total length 20.
  std::vector<uint8_t> b(24, 0);
  b[0] = 0x46;
  store_be16(b.data() + 2, 20);
  Ipv4View v;
  EXPECT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kBadTotalLength);
}

TEST(Ipv4, Check_VersionNot4_BadVersion) {
  for (uint8_t version : {0, 1, 5, 6, 15}) {
    auto b = echo_ip();
    b[0] = static_cast<uint8_t>((version << 4) | 5);
    Ipv4View v;
    EXPECT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kBadVersion) << "v" << int{version};
  }
}

TEST(Ipv4, Check_IhlBelow5_BadIhl) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    auto b = echo_ip();
    b[0] = static_cast<uint8_t>(0x40 | ihl);
    Ipv4View v;
    EXPECT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kBadIhl) << "ihl " << int{ihl};
  }
}

TEST(Ipv4, Check_IhlPastBuffer_BadIhl) {
  // IHL 6 (24 bytes) in a 20-byte buffer.
  auto b = to_vec(kEchoRequestFrame, kEchoIpOff, 20);
  b[0] = 0x46;
  Ipv4View v;
  EXPECT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kBadIhl);
  // IHL 15 (60 bytes) in a 40-byte buffer.
  auto c = to_vec(kEchoRequestFrame, kEchoIpOff, 40);
  c[0] = 0x4f;
  EXPECT_EQ(Ipv4View::check(c.data(), c.size(), false, v), Ipv4Error::kBadIhl);
}

TEST(Ipv4, Check_BadChecksum_Rejected) {
  auto b = echo_ip();
  b[8] = 63;  // ttl changed without updating the checksum
  Ipv4View v;
  EXPECT_EQ(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kBadChecksum);
  auto c = echo_ip();
  c[11] ^= 0x01;  // the checksum itself damaged
  EXPECT_EQ(Ipv4View::check(c.data(), c.size(), true, v), Ipv4Error::kBadChecksum);
}

TEST(Ipv4, Check_EverySingleBitFlipInHeader_Rejected) {
  // Any one-bit error in the header is caught by some check.
  for (size_t bit = 0; bit < 20 * 8; ++bit) {
    auto b = echo_ip();
    b[bit / 8] = static_cast<uint8_t>(b[bit / 8] ^ (0x80 >> (bit % 8)));
    Ipv4View v;
    EXPECT_NE(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kNone) << "bit " << bit;
  }
}

TEST(Ipv4, Check_VerifyChecksumFalse_SkipsChecksum) {
  auto b = echo_ip();
  b[8] = 63;
  b[10] = b[11] = 0;  // as with NIC checksum offload: the field can be anything
  Ipv4View v;
  ASSERT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kNone);
  EXPECT_EQ(v.ttl(), 63);
}

TEST(Ipv4, Check_ChecksForStructureBeforeChecksum) {
  // RFC order: a short buffer is kTruncated even with a bad version.
  std::vector<uint8_t> b(10, 0x60);
  Ipv4View v;
  EXPECT_EQ(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kTruncated);
  // A bad version is reported before a bad IHL or checksum.
  auto c = echo_ip();
  c[0] = 0x61;
  EXPECT_EQ(Ipv4View::check(c.data(), c.size(), true, v), Ipv4Error::kBadVersion);
  // A bad IHL before a bad total length.
  auto d = echo_ip();
  d[0] = 0x44;
  store_be16(d.data() + 2, 1000);
  EXPECT_EQ(Ipv4View::check(d.data(), d.size(), true, v), Ipv4Error::kBadIhl);
  // A bad total length before a bad checksum.
  auto e = echo_ip();
  store_be16(e.data() + 2, 1000);
  EXPECT_EQ(Ipv4View::check(e.data(), e.size(), true, v), Ipv4Error::kBadTotalLength);
}

TEST(Ipv4, Check_EthernetPadding_ExcludedFromPayload) {
  // A 20-byte header + 8-byte ICMP in a 46-byte minimum Ethernet payload.
  const Ipv4Repr r{kHostIp, kStackIp, ipproto::kIcmp, 64, 0, 1, false, 8};
  std::vector<uint8_t> b(46, 0);
  r.emit(b.data(), true);
  Ipv4View v;
  ASSERT_EQ(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kNone);
  EXPECT_EQ(v.total_length(), 28);
  EXPECT_EQ(v.payload_len(), 8u);
}

TEST(Ipv4, Check_WithOptions_PayloadAfterOptions) {
  // IHL 6: one 4-byte option word (four NOPs), total length 28.
  std::vector<uint8_t> b = {0x46, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01,
                            0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
                            0x01, 0x01, 0x01, 0x01, 0xde, 0xad, 0xbe, 0xef};
  store_be16(b.data() + 10, internet_checksum(b.data(), 24));
  Ipv4View v;
  ASSERT_EQ(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kNone);
  EXPECT_EQ(v.header_len(), 24u);
  EXPECT_EQ(v.payload(), b.data() + 24);
  EXPECT_EQ(v.payload_len(), 4u);
  // The checksum covers the options too.
  b[21] = 0x00;
  EXPECT_EQ(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kBadChecksum);
}

TEST(Ipv4, Fragments_FlagsAndOffset) {
  auto b = echo_ip();
  Ipv4View v;
  store_be16(b.data() + 6, Ipv4View::kFlagMf | 185);  // first-but-not-last after 1480 bytes
  ASSERT_EQ(Ipv4View::check(b.data(), b.size(), false, v), Ipv4Error::kNone);
  EXPECT_TRUE(v.more_fragments());
  EXPECT_FALSE(v.dont_fragment());
  EXPECT_EQ(v.frag_offset_bytes(), 1480);
  EXPECT_TRUE(v.is_fragment());

  store_be16(b.data() + 6, 185);  // last fragment
  EXPECT_FALSE(v.more_fragments());
  EXPECT_TRUE(v.is_fragment());

  store_be16(b.data() + 6, Ipv4View::kFlagMf);  // first fragment
  EXPECT_EQ(v.frag_offset_bytes(), 0);
  EXPECT_TRUE(v.is_fragment());

  store_be16(b.data() + 6, Ipv4View::kFlagDf);
  EXPECT_FALSE(v.is_fragment());

  store_be16(b.data() + 6, Ipv4View::kOffsetMask);
  EXPECT_EQ(v.frag_offset_bytes(), 0x1fff * 8);
}

TEST(Ipv4, Setters_AndFillChecksum) {
  auto b = echo_ip();
  Ipv4View v;
  ASSERT_EQ(Ipv4View::check(b.data(), b.size(), true, v), Ipv4Error::kNone);
  v.set_ttl(63);
  v.set_src(kStackIp);
  v.set_dst(kHostIp);
  EXPECT_EQ(v.ttl(), 63);
  EXPECT_EQ(v.src(), kStackIp);
  EXPECT_EQ(v.dst(), kHostIp);
  EXPECT_NE(internet_checksum(b.data(), 20), 0);
  v.fill_checksum();
  EXPECT_EQ(internet_checksum(b.data(), 20), 0);
  std::array<uint8_t, 20> zeroed{};
  std::memcpy(zeroed.data(), b.data(), zeroed.size());
  zeroed[10] = zeroed[11] = 0;
  EXPECT_EQ(v.checksum(), reference_checksum(zeroed.data(), zeroed.size()));
  Ipv4View again;
  EXPECT_EQ(Ipv4View::check(b.data(), b.size(), true, again), Ipv4Error::kNone);
}

// ----------------------------------------------------------------- icmp.hpp

TEST(Icmp, Check_EveryTruncatedLengthRejected) {
  for (size_t len = 0; len < IcmpView::kHeaderLen; ++len) {
    auto b = to_vec(kEchoRequestFrame, kEchoIcmpOff, len);
    IcmpView v;
    EXPECT_EQ(IcmpView::check(b.data(), len, true, v), IcmpError::kTruncated) << "len " << len;
    EXPECT_EQ(IcmpView::check(b.data(), len, false, v), IcmpError::kTruncated) << "len " << len;
  }
  IcmpView v;
  EXPECT_EQ(IcmpView::check(nullptr, 40, false, v), IcmpError::kTruncated);
}

TEST(Icmp, Check_EveryTruncatedDataLength_BadChecksum) {
  // The checksum covers the data, so a message cut anywhere is caught.
  for (size_t len = IcmpView::kHeaderLen; len < 40; ++len) {
    auto b = to_vec(kEchoRequestFrame, kEchoIcmpOff, len);
    IcmpView v;
    EXPECT_EQ(IcmpView::check(b.data(), len, true, v), IcmpError::kBadChecksum) << "len " << len;
  }
}

TEST(Icmp, Parse_EchoRequest) {
  auto b = echo_icmp();
  IcmpView v;
  ASSERT_EQ(IcmpView::check(b.data(), b.size(), true, v), IcmpError::kNone);
  EXPECT_EQ(v.type(), icmptype::kEchoRequest);
  EXPECT_EQ(v.code(), 0);
  EXPECT_EQ(v.checksum(), 0x4d54);
  EXPECT_EQ(v.echo_ident(), 1);
  EXPECT_EQ(v.echo_seq(), 7);
  EXPECT_EQ(v.len(), 40u);
  EXPECT_EQ(v.data(), b.data() + 8);
  EXPECT_EQ(v.data_len(), 32u);
  EXPECT_EQ(std::memcmp(v.data(), "abcdefghijklmnopqrstuvwabcdefghi", 32), 0);

  auto e = IcmpEchoRepr::parse(v);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->request);
  EXPECT_EQ(e->ident, 1);
  EXPECT_EQ(e->seq, 7);
}

TEST(Icmp, Check_BadChecksum_Rejected) {
  auto b = echo_icmp();
  b[39] = 'j';  // last data byte changed
  IcmpView v;
  EXPECT_EQ(IcmpView::check(b.data(), b.size(), true, v), IcmpError::kBadChecksum);
  auto c = echo_icmp();
  c[3] ^= 0x10;  // the checksum itself damaged
  EXPECT_EQ(IcmpView::check(c.data(), c.size(), true, v), IcmpError::kBadChecksum);
}

TEST(Icmp, Check_VerifyChecksumFalse_SkipsChecksum) {
  auto b = echo_icmp();
  b[2] = b[3] = 0;
  IcmpView v;
  ASSERT_EQ(IcmpView::check(b.data(), b.size(), false, v), IcmpError::kNone);
  EXPECT_EQ(v.echo_seq(), 7);
}

TEST(Icmp, EchoRepr_ParseReply) {
  auto b = echo_icmp();
  b[0] = icmptype::kEchoReply;
  store_be16(b.data() + 2, kEchoReplyChecksum);
  IcmpView v;
  ASSERT_EQ(IcmpView::check(b.data(), b.size(), true, v), IcmpError::kNone);
  auto e = IcmpEchoRepr::parse(v);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->request);
  EXPECT_EQ(e->ident, 1);
  EXPECT_EQ(e->seq, 7);
}

TEST(Icmp, EchoRepr_ParseRejectsOtherTypesAndCodes) {
  struct Case {
    uint8_t type, code;
  };
  const Case cases[] = {{icmptype::kEchoRequest, 1}, {icmptype::kEchoReply, 255},
                        {icmptype::kDestUnreachable, 3}, {icmptype::kTimeExceeded, 0},
                        {13, 0} /* timestamp */};
  for (const auto& c : cases) {
    auto b = echo_icmp();
    IcmpView v;
    ASSERT_EQ(IcmpView::check(b.data(), b.size(), false, v), IcmpError::kNone);
    v.set_type(c.type);
    v.set_code(c.code);
    EXPECT_FALSE(IcmpEchoRepr::parse(v).has_value()) << "type " << int{c.type} << " code " << int{c.code};
  }
}

TEST(Icmp, EchoRepr_Emit_MatchesCapturedBytes) {
  auto b = echo_icmp();
  std::fill(b.begin(), b.begin() + 8, uint8_t{0xee});  // header garbage, data in place
  IcmpEchoRepr{true, 1, 7}.emit(b.data(), 32);
  EXPECT_EQ(b, echo_icmp());
}

TEST(Icmp, EchoRepr_Emit_Reply) {
  auto b = echo_icmp();
  IcmpEchoRepr{false, 1, 7}.emit(b.data(), 32);
  EXPECT_EQ(b[0], icmptype::kEchoReply);
  EXPECT_EQ(b[1], 0);
  EXPECT_EQ(load_be16(b.data() + 2), kEchoReplyChecksum);
}

TEST(Icmp, EchoRepr_RoundTrip_EvenAndOddDataLengths) {
  for (size_t data_len = 0; data_len <= 33; ++data_len) {
    for (bool request : {true, false}) {
      std::vector<uint8_t> b(8 + data_len);
      for (size_t i = 0; i < data_len; ++i) b[8 + i] = static_cast<uint8_t>(0xa0 + i * 7);
      const IcmpEchoRepr r{request, 0xbeef, static_cast<uint16_t>(0xfff0 + data_len)};
      r.emit(b.data(), data_len);
      IcmpView v;
      ASSERT_EQ(IcmpView::check(b.data(), b.size(), true, v), IcmpError::kNone) << "data_len " << data_len;
      auto zeroed = b;
      zeroed[2] = zeroed[3] = 0;
      EXPECT_EQ(load_be16(b.data() + 2), reference_checksum(zeroed.data(), zeroed.size()))
          << "data_len " << data_len;
      auto back = IcmpEchoRepr::parse(v);
      ASSERT_TRUE(back.has_value());
      EXPECT_EQ(back->request, r.request);
      EXPECT_EQ(back->ident, r.ident);
      EXPECT_EQ(back->seq, r.seq);
      EXPECT_EQ(v.data_len(), data_len);
    }
  }
}

TEST(Icmp, View_RewriteRequestAsReplyInPlace) {
  // What an echo responder does: flip the type, refill the checksum.
  auto b = echo_icmp();
  IcmpView v;
  ASSERT_EQ(IcmpView::check(b.data(), b.size(), true, v), IcmpError::kNone);
  v.set_type(icmptype::kEchoReply);
  v.fill_checksum();
  EXPECT_EQ(v.checksum(), kEchoReplyChecksum);
  IcmpView again;
  EXPECT_EQ(IcmpView::check(b.data(), b.size(), true, again), IcmpError::kNone);
}

TEST(Icmp, FillChecksum_OddLength) {
  std::vector<uint8_t> b = {0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01, 'x', 'y', 'z'};
  IcmpView v;
  ASSERT_EQ(IcmpView::check(b.data(), b.size(), false, v), IcmpError::kNone);
  v.fill_checksum();
  auto z = b;
  z[2] = z[3] = 0;
  EXPECT_EQ(v.checksum(), reference_checksum(z.data(), z.size()));
  EXPECT_EQ(IcmpView::check(b.data(), b.size(), true, v), IcmpError::kNone);
}

// ------------------------------------------------------- the whole frame

TEST(Frame, ParseEchoRequestLayerByLayer) {
  auto f = to_vec(kEchoRequestFrame);
  auto eth = EthernetView::check(f.data(), f.size());
  ASSERT_TRUE(eth.has_value());
  ASSERT_EQ(eth->ethertype(), ethertype::kIpv4);
  Ipv4View ip;
  ASSERT_EQ(Ipv4View::check(eth->payload(), eth->payload_len(), true, ip), Ipv4Error::kNone);
  ASSERT_EQ(ip.protocol(), ipproto::kIcmp);
  IcmpView icmp;
  ASSERT_EQ(IcmpView::check(ip.payload(), ip.payload_len(), true, icmp), IcmpError::kNone);
  auto echo = IcmpEchoRepr::parse(icmp);
  ASSERT_TRUE(echo.has_value());
  EXPECT_TRUE(echo->request);
  EXPECT_EQ(echo->seq, 7);
}

TEST(Frame, BuildEchoRequestFromReprs_MatchesCapture) {
  std::vector<uint8_t> f(74, 0);
  std::memcpy(f.data() + 42, "abcdefghijklmnopqrstuvwabcdefghi", 32);
  EthernetRepr{kStackMac, kHostMac, ethertype::kIpv4}.emit(f.data());
  Ipv4Repr{kHostIp, kStackIp, ipproto::kIcmp, 64, 0, 0x1c46, true, 40}.emit(f.data() + 14, true);
  IcmpEchoRepr{true, 1, 7}.emit(f.data() + 34, 32);
  EXPECT_EQ(f, to_vec(kEchoRequestFrame));
}

}  // namespace
}  // namespace dpdkstack::wire

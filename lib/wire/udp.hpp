// UDP headers (RFC 768, RFC 1122 4.1.3.4).
//
// Contract: UdpView::check(bytes, len, src, dst, verify, out) takes the IP
// payload (`len` bytes, the IP total length minus the header) and accepts it
// when there are at least 8 bytes, the UDP length is at least 8 and not
// past `len`, and (when asked) the checksum over the pseudo header and the
// datagram is right; a zero checksum means "none" (RFC 768) and is
// accepted. payload() then spans exactly length - 8 bytes (bytes past the
// UDP length, if the IP datagram is longer, are not the datagram's).
// UdpRepr::emit writes the header and, when asked, the checksum over the
// payload that already follows it; a computed 0 is sent as 0xffff.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/types.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack::wire {

// The RFC 768 / RFC 793 pseudo header (source, destination, zero, protocol,
// length) as a sum of 16-bit words, not folded: add it to a data sum.
inline uint32_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, uint32_t len) {
  return (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + protocol + (len & 0xffff);
}

// The checksum field value of a UDP or TCP segment (`data`, `len` bytes,
// its checksum field zero); run over a received segment with its checksum
// in place, 0 when it is intact.
// The same from `raw`, rte_raw_cksum's (or rte_raw_cksum_mbuf's) sum over
// the segment's `len` bytes: for segments spread over an mbuf chain.
inline uint16_t transport_checksum_from_raw(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, uint16_t raw, size_t len) {
  // rte_raw_cksum sums in host order; swapped back, it is the big-endian sum.
  uint32_t s = rte_be_to_cpu_16(raw);
  s += pseudo_header_sum(src, dst, protocol, static_cast<uint32_t>(len));
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

inline uint16_t transport_checksum(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, const uint8_t* data, size_t len) {
  return transport_checksum_from_raw(src, dst, protocol, rte_raw_cksum(data, len), len);
}

// The pseudo-header sum, folded but not complemented: what the checksum
// field holds when the NIC is to finish the checksum (TX L4 offload).
inline uint16_t pseudo_header_checksum(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, size_t len) {
  uint32_t s = pseudo_header_sum(src, dst, protocol, static_cast<uint32_t>(len));
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

enum class UdpError { kNone, kTruncated, kBadLength, kBadChecksum };

class UdpView {
 public:
  static constexpr size_t kHeaderLen = 8;

  UdpView() = default;

  static UdpError check(uint8_t* data, size_t len, Ipv4Addr src, Ipv4Addr dst, bool verify_checksum, UdpView& out) {
    if (data == nullptr || len < kHeaderLen) return UdpError::kTruncated;
    size_t ulen = load_be16(data + 4);
    if (ulen < kHeaderLen || ulen > len) return UdpError::kBadLength;
    if (verify_checksum && load_be16(data + 6) != 0 &&
        transport_checksum(src, dst, ipproto::kUdp, data, ulen) != 0)
      return UdpError::kBadChecksum;
    out = UdpView(data);
    return UdpError::kNone;
  }

  uint16_t src_port() const { return load_be16(p_); }
  uint16_t dst_port() const { return load_be16(p_ + 2); }
  uint16_t length() const { return load_be16(p_ + 4); }
  uint16_t checksum() const { return load_be16(p_ + 6); }
  uint8_t* payload() const { return p_ + kHeaderLen; }
  size_t payload_len() const { return length() - kHeaderLen; }
  uint8_t* data() const { return p_; }

  void set_src_port(uint16_t v) { store_be16(p_, v); }
  void set_dst_port(uint16_t v) { store_be16(p_ + 2, v); }
  void set_checksum(uint16_t v) { store_be16(p_ + 6, v); }

 private:
  explicit UdpView(uint8_t* p) : p_(p) {}
  uint8_t* p_ = nullptr;
};

struct UdpRepr {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t payload_len = 0;

  static UdpRepr parse(const UdpView& v) {
    return {v.src_port(), v.dst_port(), static_cast<uint16_t>(v.payload_len())};
  }

  // The payload (payload_len bytes) must already follow the header in `out`
  // when fill_checksum is set; otherwise the checksum is left zero (none,
  // or for the NIC to fill).
  void emit(uint8_t* out, Ipv4Addr src, Ipv4Addr dst, bool fill_checksum) const {
    uint16_t len = static_cast<uint16_t>(UdpView::kHeaderLen + payload_len);
    store_be16(out, src_port);
    store_be16(out + 2, dst_port);
    store_be16(out + 4, len);
    store_be16(out + 6, 0);
    if (!fill_checksum) return;
    uint16_t c = transport_checksum(src, dst, ipproto::kUdp, out, len);
    store_be16(out + 6, c == 0 ? 0xffff : c);  // RFC 768: a computed 0 is sent as all ones
  }
  friend bool operator==(const UdpRepr&, const UdpRepr&) = default;
};

}  // namespace dpdkstack::wire

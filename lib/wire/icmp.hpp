// ICMPv4 messages (RFC 792, RFC 1122 3.2.2, RFC 1191, RFC 1812 4.3).
//
// Contract: IcmpView::check accepts at least 8 bytes and, when asked,
// verifies the checksum over the whole message (header and data). For a
// datagram in a chain of mbufs the view covers the first segment; the
// caller verifies the checksum over the chain. IcmpErrorRepr builds the
// 8-byte header of an error message; the quoted datagram follows it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace dpdkstack::wire {

namespace icmptype {
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestUnreachable = 3;
inline constexpr uint8_t kEchoRequest = 8;
inline constexpr uint8_t kSourceQuench = 4;
inline constexpr uint8_t kRedirect = 5;
inline constexpr uint8_t kTimeExceeded = 11;
inline constexpr uint8_t kParameterProblem = 12;
inline constexpr uint8_t kTimestamp = 13;
inline constexpr uint8_t kTimestampReply = 14;

// RFC 1122 3.2.2: the error messages; the rest (echo, timestamp, info,
// address mask, router discovery) are queries and replies.
constexpr bool is_error(uint8_t type) {
  return type == kDestUnreachable || type == kSourceQuench || type == kRedirect || type == kTimeExceeded ||
         type == kParameterProblem;
}
}  // namespace icmptype

namespace icmpcode {
// Destination unreachable (type 3).
inline constexpr uint8_t kNetUnreachable = 0;
inline constexpr uint8_t kHostUnreachable = 1;
inline constexpr uint8_t kProtocolUnreachable = 2;
inline constexpr uint8_t kPortUnreachable = 3;
inline constexpr uint8_t kFragNeeded = 4;
inline constexpr uint8_t kAdminProhibited = 13;
// Time exceeded (type 11).
inline constexpr uint8_t kTtlExceeded = 0;
inline constexpr uint8_t kReassemblyExceeded = 1;
}  // namespace icmpcode

enum class IcmpError { kNone, kTruncated, kBadChecksum };

class IcmpView {
 public:
  static constexpr size_t kHeaderLen = 8;

  IcmpView() = default;

  static IcmpError check(uint8_t* data, size_t len, bool verify_checksum, IcmpView& out) {
    if (data == nullptr || len < kHeaderLen) return IcmpError::kTruncated;
    if (verify_checksum && internet_checksum(data, len) != 0) return IcmpError::kBadChecksum;
    out = IcmpView(data, len);
    return IcmpError::kNone;
  }

  uint8_t type() const { return p_[0]; }
  uint8_t code() const { return p_[1]; }
  uint16_t checksum() const { return load_be16(p_ + 2); }
  // Echo: identifier and sequence number.
  uint16_t echo_ident() const { return load_be16(p_ + 4); }
  uint16_t echo_seq() const { return load_be16(p_ + 6); }
  // Destination unreachable, code 4 (RFC 1191): the next-hop MTU.
  uint16_t next_hop_mtu() const { return load_be16(p_ + 6); }
  uint8_t* data() const { return p_ + kHeaderLen; }
  size_t data_len() const { return len_ - kHeaderLen; }
  size_t len() const { return len_; }

  void set_type(uint8_t t) { p_[0] = t; }
  void set_code(uint8_t c) { p_[1] = c; }
  void fill_checksum() {
    store_be16(p_ + 2, 0);
    store_be16(p_ + 2, internet_checksum(p_, len_));
  }

 private:
  IcmpView(uint8_t* p, size_t len) : p_(p), len_(len) {}
  uint8_t* p_ = nullptr;
  size_t len_ = 0;
};

struct IcmpEchoRepr {
  bool request = true;
  uint16_t ident = 0;
  uint16_t seq = 0;

  static std::optional<IcmpEchoRepr> parse(const IcmpView& v) {
    if (v.code() != 0) return std::nullopt;
    if (v.type() == icmptype::kEchoRequest) return IcmpEchoRepr{true, v.echo_ident(), v.echo_seq()};
    if (v.type() == icmptype::kEchoReply) return IcmpEchoRepr{false, v.echo_ident(), v.echo_seq()};
    return std::nullopt;
  }
  // Writes the 8-byte header; data of data_len bytes must already follow it
  // in `out`, since the checksum covers it.
  void emit(uint8_t* out, size_t data_len) const {
    out[0] = request ? icmptype::kEchoRequest : icmptype::kEchoReply;
    out[1] = 0;
    store_be16(out + 2, 0);
    store_be16(out + 4, ident);
    store_be16(out + 6, seq);
    store_be16(out + 2, internet_checksum(out, IcmpView::kHeaderLen + data_len));
  }
};

// The header of an error message (RFC 792): type, code, checksum, then 32
// bits that are unused but for frag needed (next-hop MTU, RFC 1191).
struct IcmpErrorRepr {
  uint8_t type = icmptype::kDestUnreachable;
  uint8_t code = 0;
  uint16_t next_hop_mtu = 0;

  // The quoted datagram (quote_len bytes) must already follow the header
  // in `out`: the checksum covers it.
  void emit(uint8_t* out, size_t quote_len) const {
    out[0] = type;
    out[1] = code;
    store_be16(out + 2, 0);
    store_be16(out + 4, 0);
    store_be16(out + 6, next_hop_mtu);
    store_be16(out + 2, internet_checksum(out, IcmpView::kHeaderLen + quote_len));
  }
};

}  // namespace dpdkstack::wire

// ICMPv4 messages (RFC 792). This issue acts on echo request/reply; the
// view is general so that errors can be added on top.
//
// Contract: IcmpView::check accepts at least 8 bytes and, when asked,
// verifies the checksum over the whole message (header and data).
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
inline constexpr uint8_t kTimeExceeded = 11;
}  // namespace icmptype

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

}  // namespace dpdkstack::wire

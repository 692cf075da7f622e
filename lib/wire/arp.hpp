// ARP for IPv4 over Ethernet (RFC 826).
//
// Contract: ArpView::check accepts a buffer of at least 28 bytes; it does not
// judge the field values (that is ArpRepr::parse's job, which accepts only
// htype 1 / ptype 0x0800 / hlen 6 / plen 4 and ops 1 and 2). Bytes past the
// 28th (Ethernet padding) are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/types.hpp"
#include "wire/bytes.hpp"

namespace dpdkstack::wire {

enum class ArpOp : uint16_t { kRequest = 1, kReply = 2 };

class ArpView {
 public:
  static constexpr size_t kLen = 28;

  static std::optional<ArpView> check(uint8_t* data, size_t len) {
    if (data == nullptr || len < kLen) return std::nullopt;
    return ArpView(data);
  }

  uint16_t htype() const { return load_be16(p_); }
  uint16_t ptype() const { return load_be16(p_ + 2); }
  uint8_t hlen() const { return p_[4]; }
  uint8_t plen() const { return p_[5]; }
  uint16_t op() const { return load_be16(p_ + 6); }
  MacAddr sha() const { return mac_at(8); }
  Ipv4Addr spa() const { return Ipv4Addr(load_be32(p_ + 14)); }
  MacAddr tha() const { return mac_at(18); }
  Ipv4Addr tpa() const { return Ipv4Addr(load_be32(p_ + 24)); }

 private:
  explicit ArpView(uint8_t* p) : p_(p) {}
  MacAddr mac_at(size_t off) const {
    MacAddr m;
    std::memcpy(m.b.data(), p_ + off, 6);
    return m;
  }
  uint8_t* p_;
};

enum class ArpParseError { kUnsupported, kBadOp };

struct ArpRepr {
  ArpOp op = ArpOp::kRequest;
  MacAddr sha;
  Ipv4Addr spa;
  MacAddr tha;
  Ipv4Addr tpa;

  // Returns the repr, or the reason the packet is not Ethernet/IPv4 ARP.
  static bool parse(const ArpView& v, ArpRepr& out, ArpParseError& why) {
    if (v.htype() != 1 || v.ptype() != 0x0800 || v.hlen() != 6 || v.plen() != 4) {
      why = ArpParseError::kUnsupported;
      return false;
    }
    if (v.op() != 1 && v.op() != 2) {
      why = ArpParseError::kBadOp;
      return false;
    }
    out = ArpRepr{static_cast<ArpOp>(v.op()), v.sha(), v.spa(), v.tha(), v.tpa()};
    return true;
  }

  // Writes exactly kLen bytes.
  void emit(uint8_t* out) const {
    store_be16(out, 1);
    store_be16(out + 2, 0x0800);
    out[4] = 6;
    out[5] = 4;
    store_be16(out + 6, static_cast<uint16_t>(op));
    std::memcpy(out + 8, sha.b.data(), 6);
    store_be32(out + 14, spa.v);
    std::memcpy(out + 18, tha.b.data(), 6);
    store_be32(out + 24, tpa.v);
  }
  friend bool operator==(const ArpRepr&, const ArpRepr&) = default;
};

}  // namespace dpdkstack::wire

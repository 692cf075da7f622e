// Ethernet II frames (IEEE 802.3 with an EtherType).
//
// Contract: EthernetView::check(bytes, len) accepts any buffer of at least 14
// bytes and returns nullopt otherwise; accessors never read past the header.
// EthernetRepr is the parsed value; emit() writes exactly kHeaderLen bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/types.hpp"
#include "wire/bytes.hpp"

namespace dpdkstack::wire {

namespace ethertype {
inline constexpr uint16_t kIpv4 = 0x0800;
inline constexpr uint16_t kArp = 0x0806;
}  // namespace ethertype

class EthernetView {
 public:
  static constexpr size_t kHeaderLen = 14;
  static constexpr size_t kMinFrameLen = 60;  // without FCS

  static std::optional<EthernetView> check(uint8_t* data, size_t len) {
    if (data == nullptr || len < kHeaderLen) return std::nullopt;
    return EthernetView(data, len);
  }

  MacAddr dst() const { return mac_at(0); }
  MacAddr src() const { return mac_at(6); }
  uint16_t ethertype() const { return load_be16(p_ + 12); }
  uint8_t* payload() const { return p_ + kHeaderLen; }
  size_t payload_len() const { return len_ - kHeaderLen; }

  void set_dst(const MacAddr& m) { std::memcpy(p_, m.b.data(), 6); }
  void set_src(const MacAddr& m) { std::memcpy(p_ + 6, m.b.data(), 6); }
  void set_ethertype(uint16_t t) { store_be16(p_ + 12, t); }

 private:
  EthernetView(uint8_t* p, size_t len) : p_(p), len_(len) {}
  MacAddr mac_at(size_t off) const {
    MacAddr m;
    std::memcpy(m.b.data(), p_ + off, 6);
    return m;
  }
  uint8_t* p_;
  size_t len_;
};

struct EthernetRepr {
  MacAddr dst;
  MacAddr src;
  uint16_t ethertype = 0;

  static EthernetRepr parse(const EthernetView& v) { return {v.dst(), v.src(), v.ethertype()}; }
  // Writes the header into a buffer of at least kHeaderLen bytes.
  void emit(uint8_t* out) const {
    std::memcpy(out, dst.b.data(), 6);
    std::memcpy(out + 6, src.b.data(), 6);
    store_be16(out + 12, ethertype);
  }
  friend bool operator==(const EthernetRepr&, const EthernetRepr&) = default;
};

}  // namespace dpdkstack::wire

// Strong value types for addresses.
//
// Contract: Ipv4Addr holds an address in host byte order (so that masks and
// comparisons read naturally); conversion to and from network order happens
// only in wire/. MacAddr is six bytes in wire order. Parsing functions take
// untrusted text and return std::nullopt on anything malformed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dpdkstack {

struct Ipv4Addr {
  uint32_t v = 0;  // host byte order

  constexpr Ipv4Addr() = default;
  constexpr explicit Ipv4Addr(uint32_t host_order) : v(host_order) {}
  static constexpr Ipv4Addr from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4Addr((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
  }
  static constexpr Ipv4Addr broadcast() { return Ipv4Addr(0xffffffffu); }

  constexpr bool is_unspecified() const { return v == 0; }
  constexpr bool is_broadcast() const { return v == 0xffffffffu; }
  constexpr bool is_multicast() const { return (v >> 28) == 0xe; }
  constexpr bool is_loopback() const { return (v >> 24) == 127; }
  friend constexpr bool operator==(Ipv4Addr, Ipv4Addr) = default;
  friend constexpr auto operator<=>(Ipv4Addr, Ipv4Addr) = default;

  std::string to_string() const;
  static std::optional<Ipv4Addr> parse(std::string_view text);
};

struct Ipv4Prefix {
  Ipv4Addr addr;
  uint8_t len = 0;

  constexpr uint32_t mask() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
  constexpr Ipv4Addr network() const { return Ipv4Addr(addr.v & mask()); }
  constexpr Ipv4Addr directed_broadcast() const { return Ipv4Addr(addr.v | ~mask()); }
  constexpr bool contains(Ipv4Addr a) const { return (a.v & mask()) == (addr.v & mask()); }
  friend constexpr bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
  // A host address of this network: inside it, and neither the network nor
  // the broadcast address (which a /31 or /32 does not reserve, RFC 3021).
  constexpr bool holds_host(Ipv4Addr a) const {
    return contains(a) && (len >= 31 || (a != network() && a != directed_broadcast()));
  }
  std::string to_string() const;
  // "a.b.c.d/len"; the address part may have host bits set (it is the
  // interface address), len in 0..32.
  static std::optional<Ipv4Prefix> parse(std::string_view text);
};

struct MacAddr {
  std::array<uint8_t, 6> b{};

  static constexpr MacAddr broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool is_broadcast() const { return *this == broadcast(); }
  constexpr bool is_multicast() const { return (b[0] & 1) != 0; }
  constexpr bool is_zero() const { return *this == MacAddr{}; }
  friend constexpr bool operator==(const MacAddr&, const MacAddr&) = default;

  std::string to_string() const;
  static std::optional<MacAddr> parse(std::string_view text);
};

}  // namespace dpdkstack

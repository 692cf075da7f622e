#include "core/types.hpp"

#include <charconv>
#include <cstdio>

namespace dpdkstack {

namespace {

// Parses a decimal number in [0, max] spanning all of `s`.
std::optional<unsigned> parse_dec(std::string_view s, unsigned max) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  // "010" is octal to inet_aton and decimal to others: refuse the ambiguity.
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::string Ipv4Addr::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", (v >> 24) & 0xff, (v >> 16) & 0xff,
                (v >> 8) & 0xff, v & 0xff);
  return buf;
}

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  uint32_t out = 0;
  for (int i = 0; i < 4; ++i) {
    auto dot = text.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
    auto part = text.substr(0, dot);
    auto n = parse_dec(part, 255);
    if (!n) return std::nullopt;
    out = (out << 8) | *n;
    text = (i < 3) ? text.substr(dot + 1) : std::string_view{};
  }
  return Ipv4Addr(out);
}

std::string Ipv4Prefix::to_string() const { return addr.to_string() + "/" + std::to_string(len); }

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = Ipv4Addr::parse(text.substr(0, slash));
  auto l = parse_dec(text.substr(slash + 1), 32);
  if (!a || !l) return std::nullopt;
  return Ipv4Prefix{*a, static_cast<uint8_t>(*l)};
}

std::string MacAddr::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02X:%02X:%02X:%02X:%02X:%02X", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return buf;
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacAddr m;
  for (int i = 0; i < 6; ++i) {
    if (i < 5 && text[i * 3 + 2] != ':') return std::nullopt;
    unsigned v = 0;
    auto first = text.data() + i * 3;
    auto [p, ec] = std::from_chars(first, first + 2, v, 16);
    if (ec != std::errc() || p != first + 2) return std::nullopt;
    m.b[i] = static_cast<uint8_t>(v);
  }
  return m;
}

}  // namespace dpdkstack

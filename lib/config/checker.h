// The configuration parser's JSON walker (private to lib/config: config.cpp
// and filters.cpp). Not installed: a ".h", like console/commands.h, so that
// every installed ".hpp" stays free of nlohmann_json's full header.
//
// Contract: Checker's checks return false and record the first complaint
// in `err` as "<JSON path>: <what was expected>, got <what was found>";
// later complaints are ignored.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/types.hpp"

namespace dpdkstack::config_detail {

using json = nlohmann::json;

inline std::string type_name(const json& j) {
  if (j.is_number_integer()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_object()) return "an object";
  if (j.is_array()) return "an array";
  return std::string("a ") + j.type_name();
}

// Walks a JSON document remembering where it is, so that every complaint
// names the path of the value it is about.
class Checker {
 public:
  std::optional<Error> err;

  bool fail(const std::string& path, const std::string& what) {
    if (!err) err = Error{path + ": " + what};
    return false;
  }

  bool object(const json& j, const std::string& path, std::initializer_list<std::string_view> keys) {
    return object(j, path, std::span<const std::string_view>(keys.begin(), keys.size()), "key");
  }

  // As above, with the allowed keys computed (`what` names them in the
  // complaint: "unknown service (expected one of: ...)").
  bool object(const json& j, const std::string& path, std::span<const std::string_view> keys,
              const std::string& what) {
    if (!j.is_object()) return fail(path, "expected an object, got " + type_name(j));
    for (auto& [k, v] : j.items()) {
      bool known = false;
      for (auto key : keys) known = known || key == k;
      if (!known) {
        std::string allowed;
        for (auto key : keys) allowed += (allowed.empty() ? "" : ", ") + std::string(key);
        return fail(path + "." + k, "unknown " + what + " (expected one of: " + allowed + ")");
      }
    }
    return true;
  }

  template <typename T>
  bool integer(const json& j, const std::string& path, int64_t lo, int64_t hi, T& out) {
    if (!j.is_number_integer())
      return fail(path, "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                            ", got " + type_name(j));
    int64_t v = j.is_number_unsigned() && j.get<uint64_t>() > uint64_t{INT64_MAX}
                    ? INT64_MAX
                    : j.get<int64_t>();
    if (v < lo || v > hi)
      return fail(path, "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                            ", got " + j.dump());
    out = static_cast<T>(v);
    return true;
  }

  bool boolean(const json& j, const std::string& path, bool& out) {
    if (!j.is_boolean()) return fail(path, "expected true or false, got " + type_name(j));
    out = j.get<bool>();
    return true;
  }

  bool string(const json& j, const std::string& path, std::string& out) {
    if (!j.is_string()) return fail(path, "expected a string, got " + type_name(j));
    out = j.get<std::string>();
    return true;
  }

  bool prefix(const json& j, const std::string& path, Ipv4Prefix& out) {
    std::string s;
    if (!string(j, path, s)) return false;
    auto p = Ipv4Prefix::parse(s);
    if (!p || p->len == 0 || p->len > 30)
      return fail(path, "expected an IPv4 address with prefix length 1..30 like \"10.0.0.1/24\", got \"" + s + "\"");
    if (p->addr.is_multicast() || p->addr.is_broadcast() || p->addr.is_unspecified() ||
        p->addr == p->network() || p->addr == p->directed_broadcast())
      return fail(path, "expected a unicast host address inside its prefix, got \"" + s + "\"");
    out = *p;
    return true;
  }

  // A route's destination: "a.b.c.d/len", len 0..32, host bits zero.
  bool network(const json& j, const std::string& path, Ipv4Prefix& out) {
    std::string s;
    if (!string(j, path, s)) return false;
    auto p = Ipv4Prefix::parse(s);
    if (!p)
      return fail(path, "expected a network prefix with length 0..32 like \"10.2.0.0/16\", got \"" + s + "\"");
    if (p->addr != p->network())
      return fail(path, "expected a network prefix with host bits zero, e.g. " +
                            Ipv4Prefix{p->network(), p->len}.to_string() + ", got \"" + s + "\"");
    out = *p;
    return true;
  }

  bool address(const json& j, const std::string& path, Ipv4Addr& out) {
    std::string s;
    if (!string(j, path, s)) return false;
    auto a = Ipv4Addr::parse(s);
    if (!a) return fail(path, "expected a dotted-quad IPv4 address like \"10.0.0.2\", got \"" + s + "\"");
    out = *a;
    return true;
  }

  bool mac(const json& j, const std::string& path, MacAddr& out) {
    std::string s;
    if (!string(j, path, s)) return false;
    auto m = MacAddr::parse(s);
    if (!m) return fail(path, "expected a MAC address like \"02:00:00:00:00:01\", got \"" + s + "\"");
    if (m->is_multicast() || m->is_zero())
      return fail(path, "expected a unicast, non-zero MAC address, got \"" + s + "\"");
    out = *m;
    return true;
  }
};

}  // namespace dpdkstack::config_detail

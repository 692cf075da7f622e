#include "config/config.hpp"

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace dpdkstack {

namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 8> kLevels = {"emerg",   "alert",  "crit", "error",
                                                     "warning", "notice", "info", "debug"};

std::string type_name(const json& j) {
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
    if (!j.is_object()) return fail(path, "expected an object, got " + type_name(j));
    for (auto& [k, v] : j.items()) {
      bool known = false;
      for (auto key : keys) known = known || key == k;
      if (!known) {
        std::string allowed;
        for (auto key : keys) allowed += (allowed.empty() ? "" : ", ") + std::string(key);
        return fail(path + "." + k, "unknown key (expected one of: " + allowed + ")");
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

bool parse_port(Checker& c, const json& j, const std::string& path, PortConfig& p) {
  if (!c.object(j, path, {"address", "mac", "mtu", "queues", "rx_desc", "tx_desc"})) return false;
  if (!j.contains("address")) return c.fail(path + ".address", "required key missing (expected \"a.b.c.d/len\")");
  if (!c.prefix(j["address"], path + ".address", p.address)) return false;
  if (j.contains("mac")) {
    MacAddr m;
    if (!c.mac(j["mac"], path + ".mac", m)) return false;
    p.mac = m;
  }
  if (j.contains("mtu") && !c.integer(j["mtu"], path + ".mtu", 68, 9216, p.mtu)) return false;
  if (j.contains("queues")) {
    uint16_t q = 0;
    if (!c.integer(j["queues"], path + ".queues", 1, 128, q)) return false;
    p.queues = q;
  }
  if (j.contains("rx_desc") && !c.integer(j["rx_desc"], path + ".rx_desc", 64, 16384, p.rx_desc)) return false;
  if (j.contains("tx_desc") && !c.integer(j["tx_desc"], path + ".tx_desc", 64, 16384, p.tx_desc)) return false;
  return true;
}

bool parse_arp(Checker& c, const json& j, const std::string& path, size_t nports, ArpConfig& a) {
  if (!c.object(j, path, {"entry_timeout_s", "retry_interval_ms", "max_requests", "pending_max",
                          "max_entries", "pending_total_max", "static"}))
    return false;
  if (j.contains("entry_timeout_s") &&
      !c.integer(j["entry_timeout_s"], path + ".entry_timeout_s", 1, 86400, a.entry_timeout_s))
    return false;
  if (j.contains("retry_interval_ms") &&
      !c.integer(j["retry_interval_ms"], path + ".retry_interval_ms", 10, 60000, a.retry_interval_ms))
    return false;
  if (j.contains("max_requests") && !c.integer(j["max_requests"], path + ".max_requests", 1, 100, a.max_requests))
    return false;
  if (j.contains("pending_max") && !c.integer(j["pending_max"], path + ".pending_max", 1, 4096, a.pending_max))
    return false;
  if (j.contains("max_entries") &&
      !c.integer(j["max_entries"], path + ".max_entries", 16, 1 << 20, a.max_entries))
    return false;
  if (j.contains("pending_total_max") &&
      !c.integer(j["pending_total_max"], path + ".pending_total_max", 1, 65536, a.pending_total_max))
    return false;
  if (j.contains("static")) {
    const auto& s = j["static"];
    if (!s.is_array()) return c.fail(path + ".static", "expected an array, got " + type_name(s));
    for (size_t i = 0; i < s.size(); ++i) {
      std::string p = path + ".static[" + std::to_string(i) + "]";
      StaticArpConfig e;
      if (!c.object(s[i], p, {"port", "ip", "mac"})) return false;
      for (auto key : {"port", "ip", "mac"})
        if (!s[i].contains(key)) return c.fail(p + "." + key, "required key missing");
      if (!c.integer(s[i]["port"], p + ".port", 0, static_cast<int64_t>(nports) - 1, e.port)) return false;
      if (!c.address(s[i]["ip"], p + ".ip", e.ip)) return false;
      if (e.ip.is_unspecified() || e.ip.is_broadcast() || e.ip.is_multicast())
        return c.fail(p + ".ip", "expected a unicast IPv4 address, got \"" + e.ip.to_string() + "\"");
      if (!c.mac(s[i]["mac"], p + ".mac", e.mac)) return false;
      a.statics.push_back(e);
    }
  }
  return true;
}

}  // namespace

uint32_t log_level_value(std::string_view name) {
  for (size_t i = 0; i < kLevels.size(); ++i)
    if (kLevels[i] == name) return static_cast<uint32_t>(i + 1);  // RTE_LOG_EMERG == 1
  return 7;
}

bool valid_log_level(std::string_view name) {
  for (auto n : kLevels)
    if (n == name) return true;
  return false;
}

Result<Config> parse_config(std::string_view text) {
  json root;
  try {
    // Configuration is read once at start, never on a packet path; the
    // parser's exception carries the byte offset we want to report.
    root = json::parse(text);
  } catch (const json::exception& e) {  // syntax, or a number out of range (1e400)
    return Error{"$: not valid JSON (" + std::string(e.what()) + ")"};
  }
  Checker c;
  Config cfg;
  if (!c.object(root, "$", {"ports", "arp", "logging"})) return *c.err;
  if (!root.contains("ports")) return Error{"$.ports: required key missing (expected an array of ports)"};
  const auto& ports = root["ports"];
  if (!ports.is_array() || ports.empty())
    return Error{"$.ports: expected a non-empty array of ports, got " +
                 (ports.is_array() ? std::string("an empty array") : type_name(ports))};
  if (ports.size() > 32) return Error{"$.ports: expected at most 32 ports, got " + std::to_string(ports.size())};
  for (size_t i = 0; i < ports.size(); ++i) {
    PortConfig p;
    if (!parse_port(c, ports[i], "$.ports[" + std::to_string(i) + "]", p)) return *c.err;
    cfg.ports.push_back(p);
  }
  for (size_t i = 0; i < cfg.ports.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (cfg.ports[i].address.addr == cfg.ports[k].address.addr)
        return Error{"$.ports[" + std::to_string(i) + "].address: address " +
                     cfg.ports[i].address.addr.to_string() + " already used by $.ports[" +
                     std::to_string(k) + "]"};
  if (root.contains("arp") && !parse_arp(c, root["arp"], "$.arp", cfg.ports.size(), cfg.arp)) return *c.err;
  if (root.contains("logging")) {
    const auto& l = root["logging"];
    if (!c.object(l, "$.logging", {"level"})) return *c.err;
    if (l.contains("level")) {
      if (!c.string(l["level"], "$.logging.level", cfg.logging.level)) return *c.err;
      if (!valid_log_level(cfg.logging.level))
        return Error{"$.logging.level: expected one of emerg, alert, crit, error, warning, notice, info, debug, got \"" +
                     cfg.logging.level + "\""};
    }
  }
  return cfg;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"$: cannot open config file '" + path + "'"};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str());
}

}  // namespace dpdkstack

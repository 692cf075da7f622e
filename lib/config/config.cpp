#include "config/config.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <sstream>
#include <utility>

#include "config/checker.h"
#include "config/filters_json.h"

namespace dpdkstack {

namespace {

using config_detail::Checker;
using config_detail::json;
using config_detail::type_name;

constexpr std::array<std::string_view, 8> kLevels = {"emerg",   "alert",  "crit", "error",
                                                     "warning", "notice", "info", "debug"};

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

std::string port_path(size_t k) { return "$.ports[" + std::to_string(k) + "]"; }

bool same_prefix(Ipv4Prefix a, Ipv4Prefix b) { return a.addr == b.addr && a.len == b.len; }

// The network a port is attached to: its connected route.
Ipv4Prefix connected_network(const PortConfig& p) { return Ipv4Prefix{p.address.network(), p.address.len}; }

// Index of the earlier route with each prefix, keyed by address and length,
// so that a long route list is checked for duplicates in n log n.
using PrefixIndex = std::map<std::pair<uint32_t, uint8_t>, size_t>;

bool parse_route(Checker& c, const json& j, const std::string& path, const std::vector<PortConfig>& ports,
                 const PrefixIndex& earlier, RouteConfig& r) {
  if (!c.object(j, path, {"prefix", "via", "port"})) return false;
  if (!j.contains("prefix"))
    return c.fail(path + ".prefix", "required key missing (expected a network prefix like \"10.2.0.0/16\")");
  if (!c.network(j["prefix"], path + ".prefix", r.prefix)) return false;
  for (size_t k = 0; k < ports.size(); ++k)
    if (same_prefix(connected_network(ports[k]), r.prefix))
      return c.fail(path + ".prefix", "expected a prefix not already routed, got \"" + r.prefix.to_string() +
                                          "\", the connected network of " + port_path(k));
  if (auto it = earlier.find({r.prefix.addr.v, r.prefix.len}); it != earlier.end())
    return c.fail(path + ".prefix", "expected a prefix not already routed, got \"" + r.prefix.to_string() +
                                        "\", already routed by $.routes[" + std::to_string(it->second) + "]");

  const bool has_via = j.contains("via");
  const bool has_port = j.contains("port");
  if (has_via && !c.address(j["via"], path + ".via", r.via)) return false;
  if (has_port && !c.integer(j["port"], path + ".port", 0, static_cast<int64_t>(ports.size()) - 1, r.port))
    return false;
  if (!has_via && !has_port)
    return c.fail(path, "expected \"via\" (a gateway), \"port\" (an on-link route) or both, got neither");
  if (r.via.is_unspecified()) {  // on-link: the destination itself is the next hop
    if (!has_port)
      return c.fail(path + ".port", "required key missing (an on-link route, via 0.0.0.0, needs a port)");
    return true;
  }

  const std::string via_text = "\"" + r.via.to_string() + "\"";
  if (r.via.is_broadcast() || r.via.is_multicast() || r.via.is_loopback())
    return c.fail(path + ".via", "expected a unicast gateway address, got " + via_text);
  for (size_t k = 0; k < ports.size(); ++k)
    if (ports[k].address.addr == r.via)
      return c.fail(path + ".via",
                    "expected a neighbour's address, got " + via_text + ", the address of " + port_path(k));
  if (!has_port) {
    std::vector<size_t> inside;
    for (size_t k = 0; k < ports.size(); ++k)
      if (ports[k].address.contains(r.via)) inside.push_back(k);
    if (inside.empty()) {
      std::string nets;
      for (const auto& p : ports) nets += (nets.empty() ? "" : ", ") + connected_network(p).to_string();
      return c.fail(path + ".via", "expected a gateway inside the network of a port (" + nets + "), got " +
                                       via_text);
    }
    if (inside.size() > 1)
      return c.fail(path + ".via", "expected a gateway inside the network of exactly one port, got " + via_text +
                                       ", inside those of " + port_path(inside[0]) + " and " +
                                       port_path(inside[1]) + " (give \"port\" to choose)");
    r.port = static_cast<uint16_t>(inside[0]);
  }
  const Ipv4Prefix net = ports[r.port].address;
  if (!net.holds_host(r.via))
    return c.fail(path + ".via", "expected a unicast host address inside the network of " + port_path(r.port) +
                                     " (" + connected_network(ports[r.port]).to_string() + "), got " + via_text);
  return true;
}

bool parse_routes(Checker& c, const json& j, const std::string& path, const std::vector<PortConfig>& ports,
                  std::vector<RouteConfig>& routes) {
  if (!j.is_array()) return c.fail(path, "expected an array of routes, got " + type_name(j));
  PrefixIndex seen;
  for (size_t i = 0; i < j.size(); ++i) {
    RouteConfig r;
    if (!parse_route(c, j[i], path + "[" + std::to_string(i) + "]", ports, seen, r)) return false;
    seen.emplace(std::make_pair(r.prefix.addr.v, r.prefix.len), i);
    routes.push_back(r);
  }
  return true;
}

bool parse_ip(Checker& c, const json& j, const std::string& path, IpConfig& ip) {
  if (!c.object(j, path, {"forwarding", "default_ttl", "max_routes", "reassembly", "pmtu"})) return false;
  if (j.contains("forwarding") && !c.boolean(j["forwarding"], path + ".forwarding", ip.forwarding)) return false;
  if (j.contains("default_ttl") && !c.integer(j["default_ttl"], path + ".default_ttl", 1, 255, ip.default_ttl))
    return false;
  if (j.contains("max_routes") && !c.integer(j["max_routes"], path + ".max_routes", 16, 1 << 20, ip.max_routes))
    return false;
  if (j.contains("reassembly")) {
    const auto& r = j["reassembly"];
    const std::string p = path + ".reassembly";
    if (!c.object(r, p, {"timeout_ms", "max_flows", "max_fragments", "max_total_fragments"})) return false;
    if (r.contains("timeout_ms") &&
        !c.integer(r["timeout_ms"], p + ".timeout_ms", 100, 600000, ip.reassembly_timeout_ms))
      return false;
    if (r.contains("max_flows") && !c.integer(r["max_flows"], p + ".max_flows", 1, 65536, ip.reassembly_max_flows))
      return false;
    if (r.contains("max_fragments") &&
        !c.integer(r["max_fragments"], p + ".max_fragments", 2, 1024, ip.reassembly_max_fragments))
      return false;
    if (r.contains("max_total_fragments") &&
        !c.integer(r["max_total_fragments"], p + ".max_total_fragments", 16, 1 << 20,
                   ip.reassembly_max_total_fragments))
      return false;
  }
  if (j.contains("pmtu")) {
    const auto& m = j["pmtu"];
    const std::string p = path + ".pmtu";
    if (!c.object(m, p, {"timeout_s", "max_entries"})) return false;
    if (m.contains("timeout_s") && !c.integer(m["timeout_s"], p + ".timeout_s", 10, 86400, ip.pmtu_timeout_s))
      return false;
    if (m.contains("max_entries") &&
        !c.integer(m["max_entries"], p + ".max_entries", 16, 1 << 20, ip.pmtu_max_entries))
      return false;
  }
  return true;
}

bool parse_icmp(Checker& c, const json& j, const std::string& path, IcmpConfig& icmp) {
  if (!c.object(j, path, {"error_rate", "error_burst"})) return false;
  if (j.contains("error_rate") &&
      !c.integer(j["error_rate"], path + ".error_rate", 0, 1000000, icmp.error_rate))
    return false;
  if (j.contains("error_burst") &&
      !c.integer(j["error_burst"], path + ".error_burst", 1, 1000000, icmp.error_burst))
    return false;
  return true;
}

bool parse_udp(Checker& c, const json& j, const std::string& path, UdpConfig& udp) {
  if (!c.object(j, path, {"max_sockets", "ephemeral_first", "ephemeral_last"})) return false;
  if (j.contains("max_sockets") && !c.integer(j["max_sockets"], path + ".max_sockets", 1, 65536, udp.max_sockets))
    return false;
  if (j.contains("ephemeral_first") &&
      !c.integer(j["ephemeral_first"], path + ".ephemeral_first", 1, 65535, udp.ephemeral_first))
    return false;
  if (j.contains("ephemeral_last") &&
      !c.integer(j["ephemeral_last"], path + ".ephemeral_last", 1, 65535, udp.ephemeral_last))
    return false;
  if (udp.ephemeral_first <= udp.ephemeral_last) return true;
  // Complain at a key the document gives; the other may be a default.
  const auto bound = [&](const char* key, uint16_t v) {
    return path + "." + key + " (" + std::to_string(v) + (j.contains(key) ? "" : ", the default") + ")";
  };
  if (j.contains("ephemeral_first"))
    return c.fail(path + ".ephemeral_first", "expected at most " + bound("ephemeral_last", udp.ephemeral_last) +
                                                 ", got " + std::to_string(udp.ephemeral_first));
  return c.fail(path + ".ephemeral_last", "expected at least " + bound("ephemeral_first", udp.ephemeral_first) +
                                              ", got " + std::to_string(udp.ephemeral_last));
}

bool parse_tcp(Checker& c, const json& j, const std::string& path, TcpConfig& t) {
  if (!c.object(j, path, {"max_connections", "mss", "snd_buf", "rcv_buf", "window_scaling", "timestamps", "sack",
                          "nodelay", "delayed_ack_ms", "rto_initial_ms", "rto_min_ms", "rto_max_ms", "max_retries",
                          "syn_retries", "time_wait_ms", "fin_wait2_ms", "initial_cwnd", "congestion_control",
                          "backlog", "syn_backlog", "ephemeral_first", "ephemeral_last"}))
    return false;
  auto num = [&](const char* key, int64_t lo, int64_t hi, auto& out) {
    return !j.contains(key) || c.integer(j[key], path + "." + key, lo, hi, out);
  };
  auto flag = [&](const char* key, bool& out) { return !j.contains(key) || c.boolean(j[key], path + "." + key, out); };
  if (!num("max_connections", 16, 1 << 22, t.max_connections) || !num("mss", 536, 9176, t.mss) ||
      !num("snd_buf", 4096, 64 << 20, t.snd_buf) || !num("rcv_buf", 4096, 64 << 20, t.rcv_buf) ||
      !flag("window_scaling", t.window_scaling) || !flag("timestamps", t.timestamps) || !flag("sack", t.sack) ||
      !flag("nodelay", t.nodelay) || !num("delayed_ack_ms", 0, 500, t.delayed_ack_ms) ||
      !num("rto_initial_ms", 10, 60000, t.rto_initial_ms) || !num("rto_min_ms", 1, 60000, t.rto_min_ms) ||
      !num("rto_max_ms", 10, 600000, t.rto_max_ms) || !num("max_retries", 1, 100, t.max_retries) ||
      !num("syn_retries", 1, 50, t.syn_retries) || !num("time_wait_ms", 0, 600000, t.time_wait_ms) ||
      !num("fin_wait2_ms", 100, 600000, t.fin_wait2_ms) || !num("initial_cwnd", 1, 100, t.initial_cwnd) ||
      !num("backlog", 1, 65535, t.backlog) || !num("syn_backlog", 1, 1 << 20, t.syn_backlog) ||
      !num("ephemeral_first", 1, 65535, t.ephemeral_first) || !num("ephemeral_last", 1, 65535, t.ephemeral_last))
    return false;
  if (j.contains("congestion_control")) {
    if (!c.string(j["congestion_control"], path + ".congestion_control", t.congestion_control)) return false;
    if (t.congestion_control != "newreno")
      return c.fail(path + ".congestion_control", "expected one of newreno, got \"" + t.congestion_control + "\"");
  }
  if (t.rto_min_ms > t.rto_max_ms)
    return c.fail(path + (j.contains("rto_min_ms") ? ".rto_min_ms" : ".rto_max_ms"),
                  "expected rto_min_ms (" + std::to_string(t.rto_min_ms) + ") <= rto_max_ms (" +
                      std::to_string(t.rto_max_ms) + ")");
  if (t.ephemeral_first > t.ephemeral_last)
    return c.fail(path + (j.contains("ephemeral_first") ? ".ephemeral_first" : ".ephemeral_last"),
                  "expected ephemeral_first (" + std::to_string(t.ephemeral_first) + ") <= ephemeral_last (" +
                      std::to_string(t.ephemeral_last) + ")");
  return true;
}

// The built-in services: adding one (tcp_echo, http, ...) is one entry here
// plus its member in ServicesConfig. Two enabled services of one protocol
// may not share a port.
enum class ServiceProtocol { udp, tcp };

struct ServiceEntry {
  std::string_view name;
  ServiceConfig ServicesConfig::*member;
  ServiceProtocol protocol;
};

constexpr std::array kServices = {
    ServiceEntry{"udp_echo", &ServicesConfig::udp_echo, ServiceProtocol::udp},
    ServiceEntry{"udp_discard", &ServicesConfig::udp_discard, ServiceProtocol::udp},
    ServiceEntry{"tcp_echo", &ServicesConfig::tcp_echo, ServiceProtocol::tcp},
    ServiceEntry{"tcp_discard", &ServicesConfig::tcp_discard, ServiceProtocol::tcp},
    ServiceEntry{"tcp_chargen", &ServicesConfig::tcp_chargen, ServiceProtocol::tcp},
    ServiceEntry{"http", &ServicesConfig::http, ServiceProtocol::tcp},
    ServiceEntry{"iperf3", &ServicesConfig::iperf3, ServiceProtocol::tcp},
};

constexpr auto kServiceNames = [] {
  std::array<std::string_view, kServices.size()> names{};
  for (size_t i = 0; i < kServices.size(); ++i) names[i] = kServices[i].name;
  return names;
}();

std::string protocol_name(ServiceProtocol p) { return p == ServiceProtocol::udp ? "UDP" : "TCP"; }

bool parse_services(Checker& c, const json& j, const std::string& path, ServicesConfig& services) {
  if (!c.object(j, path, kServiceNames, "service")) return false;
  std::array<bool, kServices.size()> port_given{};
  for (size_t i = 0; i < kServices.size(); ++i) {
    const std::string name(kServices[i].name);
    if (!j.contains(name)) continue;
    const auto& o = j[name];
    const std::string p = path + "." + name;
    ServiceConfig& svc = services.*kServices[i].member;
    if (!c.object(o, p, {"enabled", "port"})) return false;
    if (o.contains("enabled") && !c.boolean(o["enabled"], p + ".enabled", svc.enabled)) return false;
    port_given[i] = o.contains("port");
    if (port_given[i] && !c.integer(o["port"], p + ".port", 1, 65535, svc.port)) return false;
  }
  // Reported at the later service of the table, naming the earlier one,
  // unless only the earlier one's port is in the document.
  const auto service_port_path = [&](size_t i) { return path + "." + std::string(kServices[i].name) + ".port"; };
  for (size_t i = 0; i < kServices.size(); ++i) {
    const ServiceConfig& a = services.*kServices[i].member;
    if (!a.enabled) continue;
    for (size_t k = 0; k < i; ++k) {
      const ServiceConfig& b = services.*kServices[k].member;
      if (!b.enabled || kServices[k].protocol != kServices[i].protocol || b.port != a.port) continue;
      const bool at_later = port_given[i] || !port_given[k];
      const size_t here = at_later ? i : k, other = at_later ? k : i;
      return c.fail(service_port_path(here),
                    "expected a " + protocol_name(kServices[i].protocol) +
                        " port no other enabled service listens on, got " + std::to_string(a.port) +
                        ", also the port of " + service_port_path(other) +
                        (port_given[other] ? "" : " (the default)"));
    }
  }
  return true;
}

// Each enabled UDP service takes one socket of every engine's table
// (udp.max_sockets), so they must fit it.
bool check_udp_socket_count(Checker& c, const Config& cfg) {
  uint32_t n = 0;
  for (const auto& s : kServices)
    if (s.protocol == ServiceProtocol::udp && (cfg.services.*s.member).enabled) ++n;
  if (n <= cfg.udp.max_sockets) return true;
  return c.fail("$.udp.max_sockets", "expected at least " + std::to_string(n) +
                                         " (one socket per enabled UDP service), got " +
                                         std::to_string(cfg.udp.max_sockets));
}

// Connected routes (one per distinct port network; two ports on one network
// share it) plus static routes must fit the per-lcore table.
bool check_route_count(Checker& c, const Config& cfg) {
  std::vector<Ipv4Prefix> nets;
  for (const auto& p : cfg.ports) {
    const Ipv4Prefix n = connected_network(p);
    if (std::none_of(nets.begin(), nets.end(), [&](Ipv4Prefix m) { return same_prefix(m, n); })) nets.push_back(n);
  }
  const size_t total = nets.size() + cfg.routes.size();
  if (total <= cfg.ip.max_routes) return true;
  if (nets.size() <= cfg.ip.max_routes)  // the static routes are what does not fit
    return c.fail("$.routes", "expected at most " + std::to_string(cfg.ip.max_routes - nets.size()) +
                                  " routes ($.ip.max_routes " + std::to_string(cfg.ip.max_routes) + " minus " +
                                  std::to_string(nets.size()) + " connected), got " +
                                  std::to_string(cfg.routes.size()));
  return c.fail("$.ip.max_routes", "expected at least " + std::to_string(nets.size()) +
                                       " (one route per connected network of the ports), got " +
                                       std::to_string(cfg.ip.max_routes));
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
  if (!c.object(root, "$", {"ports", "routes", "ip", "icmp", "arp", "udp", "tcp", "services", "filters", "logging"})) return *c.err;
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
  if (root.contains("ip") && !parse_ip(c, root["ip"], "$.ip", cfg.ip)) return *c.err;
  if (root.contains("icmp") && !parse_icmp(c, root["icmp"], "$.icmp", cfg.icmp)) return *c.err;
  if (root.contains("routes") && !parse_routes(c, root["routes"], "$.routes", cfg.ports, cfg.routes)) return *c.err;
  if (!check_route_count(c, cfg)) return *c.err;
  if (root.contains("arp") && !parse_arp(c, root["arp"], "$.arp", cfg.ports.size(), cfg.arp)) return *c.err;
  if (root.contains("udp") && !parse_udp(c, root["udp"], "$.udp", cfg.udp)) return *c.err;
  if (root.contains("tcp") && !parse_tcp(c, root["tcp"], "$.tcp", cfg.tcp)) return *c.err;
  if (root.contains("services") && !parse_services(c, root["services"], "$.services", cfg.services)) return *c.err;
  if (!check_udp_socket_count(c, cfg)) return *c.err;
  if (root.contains("filters")) {
    auto filters = parse_filters(root["filters"], "$.filters", cfg.ports.size());
    if (!filters) return filters.error();
    cfg.filters = std::move(*filters);
  }
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

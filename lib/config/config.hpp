// The stack's configuration: one JSON document (stack.json).
//
// Contract: load_config/parse_config turn text into a fully validated Config
// or an Error whose message begins with the JSON path of the offending value
// ("$.ports[0].mtu: expected an integer in 68..9216, got 70000"). Unknown
// keys, wrong types and out-of-range values are all errors; every key and
// its default is listed in docs/CONFIG.md. The app exits with status 2 on
// any such error.
//
// Routes are checked against the ports here, so that the engine can install
// them without failing: each has a network prefix (host bits zero) that is
// neither another route's nor a port's connected network, a gateway inside
// the network of the port it leaves by (resolved from the gateway when the
// entry gives no port), and connected plus static routes fit ip.max_routes.
// Likewise services: two enabled services of one protocol never share a
// port, and the enabled UDP services fit udp.max_sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"
#include "filter/rule.hpp"

namespace dpdkstack {

struct PortConfig {
  Ipv4Prefix address;
  std::optional<MacAddr> mac;        // stack MAC; default derived from the port
  uint16_t mtu = 1500;
  std::optional<uint16_t> queues;    // default: one per worker lcore
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
};

struct StaticArpConfig {
  uint16_t port = 0;
  Ipv4Addr ip;
  MacAddr mac;
};

struct ArpConfig {
  uint32_t entry_timeout_s = 300;
  uint32_t retry_interval_ms = 1000;
  uint32_t max_requests = 3;
  uint32_t pending_max = 16;
  uint32_t max_entries = 4096;
  uint32_t pending_total_max = 1024;
  std::vector<StaticArpConfig> statics;
};

// A static route. Connected routes (one per port's network) are implied by
// `ports` and never listed here.
struct RouteConfig {
  Ipv4Prefix prefix;      // network; host bits zero (0.0.0.0/0: default route)
  Ipv4Addr via;           // gateway; 0.0.0.0 = on-link (device route)
  uint16_t port = 0;      // index into Config::ports (always resolved by the parser)
};

struct IpConfig {
  bool forwarding = true;
  uint8_t default_ttl = 64;
  uint32_t max_routes = 1024;                      // connected + static, per lcore
  uint32_t reassembly_timeout_ms = 30000;
  uint32_t reassembly_max_flows = 1024;
  uint32_t reassembly_max_fragments = 128;         // per datagram
  uint32_t reassembly_max_total_fragments = 8192;  // per lcore
  uint32_t pmtu_timeout_s = 600;
  uint32_t pmtu_max_entries = 1024;
};

struct IcmpConfig {
  uint32_t error_rate = 1000;  // ICMP errors per second per lcore (token bucket refill); 0 = never rate limited
  uint32_t error_burst = 50;   // bucket depth
};

// UDP socket tables (one per lcore).
struct UdpConfig {
  uint32_t max_sockets = 4096;       // per lcore, 1..65536
  uint16_t ephemeral_first = 49152;  // ephemeral port range, first <= last, 1..65535
  uint16_t ephemeral_last = 65535;
};

// TCP (one connection table per lcore). Times in milliseconds.
struct TcpConfig {
  uint32_t max_connections = 16384;  // per lcore, TIME-WAIT included
  uint16_t mss = 1460;               // largest MSS announced; the egress MTU minus 40 caps it
  uint32_t snd_buf = 256 * 1024;     // per connection, bytes
  uint32_t rcv_buf = 256 * 1024;
  bool window_scaling = true;        // RFC 7323
  bool timestamps = true;            // RFC 7323
  bool sack = true;                  // RFC 2018 (SACK blocks sent; SACK recovery is a later issue)
  bool nodelay = false;              // Nagle (RFC 896) on unless set
  uint32_t delayed_ack_ms = 40;
  uint32_t rto_initial_ms = 1000;
  uint32_t rto_min_ms = 200;
  uint32_t rto_max_ms = 60000;
  uint32_t max_retries = 15;
  uint32_t syn_retries = 6;
  uint32_t time_wait_ms = 60000;     // 2 MSL
  uint32_t fin_wait2_ms = 60000;
  uint32_t initial_cwnd = 10;        // segments (RFC 6928)
  std::string congestion_control = "newreno";
  uint32_t backlog = 128;            // accept queue of the built-in services' listeners
  uint32_t syn_backlog = 1024;       // half-open connections per listener
  uint16_t ephemeral_first = 49152;  // local ports of active opens
  uint16_t ephemeral_last = 65535;
};

// A built-in service: whether it runs and on which port.
struct ServiceConfig {
  bool enabled = false;
  uint16_t port = 0;  // 1..65535
};

// A new service is a member here plus one entry in the kServices table of
// config.cpp (its JSON name and protocol).
struct ServicesConfig {
  ServiceConfig udp_echo{false, 7};     // RFC 862
  ServiceConfig udp_discard{false, 9};  // RFC 863
  ServiceConfig tcp_echo{false, 7};     // RFC 862
  ServiceConfig tcp_discard{false, 9};  // RFC 863
  ServiceConfig tcp_chargen{false, 19}; // RFC 864
  ServiceConfig http{false, 80};        // HTTP/1.1: a page, /bytes/N
  ServiceConfig iperf3{false, 5201};    // iperf3's control and data protocol (TCP tests)
};

struct LoggingConfig {
  std::string level = "info";  // emerg alert crit error warning notice info debug
};

struct Config {
  std::vector<PortConfig> ports;
  std::vector<RouteConfig> routes;
  IpConfig ip;
  IcmpConfig icmp;
  ArpConfig arp;
  UdpConfig udp;
  TcpConfig tcp;
  ServicesConfig services;
  FilterConfig filters;
  LoggingConfig logging;
};

Result<Config> parse_config(std::string_view json_text);
Result<Config> load_config(const std::string& path);

// RTE_LOG_* level for a logging.level name (validated at parse time).
uint32_t log_level_value(std::string_view name);
// Whether `name` is one of the logging.level names.
bool valid_log_level(std::string_view name);

}  // namespace dpdkstack

// The configuration parser (lib/config/config.hpp): a valid document gives
// the values it names and the defaults for what it leaves out; every
// rejected document gives an error whose message begins with the JSON path
// of the offending value. One test per rejected case.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

#include "config/config.hpp"
#include "test_util.hpp"

namespace dpdkstack {
namespace {

// A document with one port whose object is `port` (the text between braces).
std::string one_port(std::string_view port) {
  return std::string(R"({"ports": [{)") + std::string(port) + "}]}";
}
// A valid single-port document plus the top-level members in `extra`.
std::string with(std::string_view extra) {
  return std::string(R"({"ports": [{"address": "10.0.0.2/24"}], )") + std::string(extra) + "}";
}

// Passes when parsing `text` fails with a message that starts with `path`
// followed by ": " (so "$.ports[0].mtu" does not also match "$.ports[0]").
::testing::AssertionResult RejectedAt(const std::string& text, const std::string& path) {
  auto r = parse_config(text);
  if (r.ok()) return ::testing::AssertionFailure() << "accepted: " << text;
  const std::string& msg = r.error().message;
  if (msg.rfind(path + ": ", 0) != 0)
    return ::testing::AssertionFailure() << "got message \"" << msg << "\", want it to start with \"" << path
                                         << ": \"";
  return ::testing::AssertionSuccess() << msg;
}

// As RejectedAt, and the message also contains `want` (what was expected).
::testing::AssertionResult RejectedWith(const std::string& text, const std::string& path, const std::string& want) {
  auto at = RejectedAt(text, path);
  if (!at) return at;
  const std::string msg = parse_config(text).error().message;
  if (msg.find(want) == std::string::npos)
    return ::testing::AssertionFailure() << "got message \"" << msg << "\", want it to contain \"" << want << "\"";
  return ::testing::AssertionSuccess() << msg;
}

// Two ports, 10.0.0.1/24 (port 0) and 10.1.1.1/24 (port 1), and the
// top-level members in `extra`.
std::string two_ports(std::string_view extra) {
  return std::string(R"({"ports": [{"address": "10.0.0.1/24"}, {"address": "10.1.1.1/24"}], )") +
         std::string(extra) + "}";
}
// two_ports() with the routes array `routes` (the text between brackets).
std::string routes(std::string_view routes) {
  return two_ports(std::string(R"("routes": [)") + std::string(routes) + "]");
}

std::string error_of(const std::string& text) {
  auto r = parse_config(text);
  return r.ok() ? std::string("<accepted>") : r.error().message;
}

// ------------------------------------------------------------------- valid

constexpr const char* kFullConfig = R"({
  "ports": [
    {
      "address": "10.0.0.2/24",
      "mac": "02:00:00:00:00:02",
      "mtu": 9000,
      "queues": 4,
      "rx_desc": 2048,
      "tx_desc": 512
    },
    {
      "address": "192.168.7.1/30"
    }
  ],
  "routes": [
    {"prefix": "10.2.0.0/16", "via": "10.0.0.1"},
    {"prefix": "0.0.0.0/0", "via": "192.168.7.2", "port": 1},
    {"prefix": "172.16.5.0/24", "port": 1},
    {"prefix": "172.16.6.7/32", "via": "0.0.0.0", "port": 0}
  ],
  "ip": {
    "forwarding": false,
    "default_ttl": 32,
    "max_routes": 2048,
    "reassembly": {"timeout_ms": 5000, "max_flows": 256, "max_fragments": 64, "max_total_fragments": 4096},
    "pmtu": {"timeout_s": 300, "max_entries": 512}
  },
  "icmp": {
    "error_rate": 100,
    "error_burst": 10
  },
  "udp": {
    "max_sockets": 1024,
    "ephemeral_first": 32768,
    "ephemeral_last": 60999
  },
  "services": {
    "udp_echo": {"enabled": true, "port": 7007},
    "udp_discard": {"enabled": true, "port": 9009}
  },
  "arp": {
    "entry_timeout_s": 60,
    "retry_interval_ms": 250,
    "max_requests": 5,
    "pending_max": 32,
    "max_entries": 1024,
    "static": [
      {"port": 1, "ip": "192.168.7.2", "mac": "52:54:00:12:34:56"},
      {"port": 0, "ip": "10.0.0.1", "mac": "52:54:00:ab:cd:ef"}
    ]
  },
  "logging": {
    "level": "debug"
  }
})";

TEST(Config, Full_EveryKeyParsed) {
  auto r = parse_config(kFullConfig);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = *r;

  ASSERT_EQ(c.ports.size(), 2u);
  const PortConfig& p0 = c.ports[0];
  EXPECT_EQ(p0.address.addr, Ipv4Addr::from_octets(10, 0, 0, 2));
  EXPECT_EQ(p0.address.len, 24);
  ASSERT_TRUE(p0.mac.has_value());
  EXPECT_EQ(*p0.mac, (MacAddr{{0x02, 0, 0, 0, 0, 0x02}}));
  EXPECT_EQ(p0.mtu, 9000);
  ASSERT_TRUE(p0.queues.has_value());
  EXPECT_EQ(*p0.queues, 4);
  EXPECT_EQ(p0.rx_desc, 2048);
  EXPECT_EQ(p0.tx_desc, 512);

  // The second port takes every default.
  const PortConfig& p1 = c.ports[1];
  EXPECT_EQ(p1.address.addr, Ipv4Addr::from_octets(192, 168, 7, 1));
  EXPECT_EQ(p1.address.len, 30);
  EXPECT_FALSE(p1.mac.has_value());
  EXPECT_EQ(p1.mtu, 1500);
  EXPECT_FALSE(p1.queues.has_value());
  EXPECT_EQ(p1.rx_desc, 1024);
  EXPECT_EQ(p1.tx_desc, 1024);

  EXPECT_EQ(c.arp.entry_timeout_s, 60u);
  EXPECT_EQ(c.arp.retry_interval_ms, 250u);
  EXPECT_EQ(c.arp.max_requests, 5u);
  EXPECT_EQ(c.arp.pending_max, 32u);
  EXPECT_EQ(c.arp.max_entries, 1024u);
  ASSERT_EQ(c.arp.statics.size(), 2u);
  EXPECT_EQ(c.arp.statics[0].port, 1);
  EXPECT_EQ(c.arp.statics[0].ip, Ipv4Addr::from_octets(192, 168, 7, 2));
  EXPECT_EQ(c.arp.statics[0].mac, (MacAddr{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}}));
  EXPECT_EQ(c.arp.statics[1].port, 0);
  EXPECT_EQ(c.arp.statics[1].ip, Ipv4Addr::from_octets(10, 0, 0, 1));
  EXPECT_EQ(c.arp.statics[1].mac, (MacAddr{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}}));

  ASSERT_EQ(c.routes.size(), 4u);
  EXPECT_EQ(c.routes[0].prefix.to_string(), "10.2.0.0/16");
  EXPECT_EQ(c.routes[0].via, Ipv4Addr::from_octets(10, 0, 0, 1));
  EXPECT_EQ(c.routes[0].port, 0);  // resolved from the gateway
  EXPECT_EQ(c.routes[1].prefix.to_string(), "0.0.0.0/0");
  EXPECT_EQ(c.routes[1].via, Ipv4Addr::from_octets(192, 168, 7, 2));
  EXPECT_EQ(c.routes[1].port, 1);
  EXPECT_EQ(c.routes[2].prefix.to_string(), "172.16.5.0/24");
  EXPECT_TRUE(c.routes[2].via.is_unspecified());  // on-link
  EXPECT_EQ(c.routes[2].port, 1);
  EXPECT_EQ(c.routes[3].prefix.to_string(), "172.16.6.7/32");
  EXPECT_TRUE(c.routes[3].via.is_unspecified());
  EXPECT_EQ(c.routes[3].port, 0);

  EXPECT_FALSE(c.ip.forwarding);
  EXPECT_EQ(c.ip.default_ttl, 32);
  EXPECT_EQ(c.ip.max_routes, 2048u);
  EXPECT_EQ(c.ip.reassembly_timeout_ms, 5000u);
  EXPECT_EQ(c.ip.reassembly_max_flows, 256u);
  EXPECT_EQ(c.ip.reassembly_max_fragments, 64u);
  EXPECT_EQ(c.ip.reassembly_max_total_fragments, 4096u);
  EXPECT_EQ(c.ip.pmtu_timeout_s, 300u);
  EXPECT_EQ(c.ip.pmtu_max_entries, 512u);
  EXPECT_EQ(c.icmp.error_rate, 100u);
  EXPECT_EQ(c.icmp.error_burst, 10u);

  EXPECT_EQ(c.udp.max_sockets, 1024u);
  EXPECT_EQ(c.udp.ephemeral_first, 32768);
  EXPECT_EQ(c.udp.ephemeral_last, 60999);
  EXPECT_TRUE(c.services.udp_echo.enabled);
  EXPECT_EQ(c.services.udp_echo.port, 7007);
  EXPECT_TRUE(c.services.udp_discard.enabled);
  EXPECT_EQ(c.services.udp_discard.port, 9009);

  EXPECT_EQ(c.logging.level, "debug");
}

TEST(Config, Minimal_DefaultsForEveryAbsentKey) {
  auto r = parse_config(R"({"ports": [{"address": "10.0.0.2/24"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = *r;
  ASSERT_EQ(c.ports.size(), 1u);
  EXPECT_EQ(c.ports[0].address.addr, Ipv4Addr::from_octets(10, 0, 0, 2));
  EXPECT_EQ(c.ports[0].address.len, 24);
  EXPECT_FALSE(c.ports[0].mac.has_value());
  EXPECT_EQ(c.ports[0].mtu, 1500);
  EXPECT_FALSE(c.ports[0].queues.has_value());
  EXPECT_EQ(c.ports[0].rx_desc, 1024);
  EXPECT_EQ(c.ports[0].tx_desc, 1024);
  EXPECT_EQ(c.arp.entry_timeout_s, 300u);
  EXPECT_EQ(c.arp.retry_interval_ms, 1000u);
  EXPECT_EQ(c.arp.max_requests, 3u);
  EXPECT_EQ(c.arp.pending_max, 16u);
  EXPECT_EQ(c.arp.max_entries, 4096u);
  EXPECT_TRUE(c.arp.statics.empty());
  EXPECT_TRUE(c.routes.empty());
  EXPECT_TRUE(c.ip.forwarding);
  EXPECT_EQ(c.ip.default_ttl, 64);
  EXPECT_EQ(c.ip.max_routes, 1024u);
  EXPECT_EQ(c.ip.reassembly_timeout_ms, 30000u);
  EXPECT_EQ(c.ip.reassembly_max_flows, 1024u);
  EXPECT_EQ(c.ip.reassembly_max_fragments, 128u);
  EXPECT_EQ(c.ip.reassembly_max_total_fragments, 8192u);
  EXPECT_EQ(c.ip.pmtu_timeout_s, 600u);
  EXPECT_EQ(c.ip.pmtu_max_entries, 1024u);
  EXPECT_EQ(c.icmp.error_rate, 1000u);
  EXPECT_EQ(c.icmp.error_burst, 50u);
  EXPECT_EQ(c.udp.max_sockets, 4096u);
  EXPECT_EQ(c.udp.ephemeral_first, 49152);
  EXPECT_EQ(c.udp.ephemeral_last, 65535);
  EXPECT_FALSE(c.services.udp_echo.enabled);
  EXPECT_EQ(c.services.udp_echo.port, 7);
  EXPECT_FALSE(c.services.udp_discard.enabled);
  EXPECT_EQ(c.services.udp_discard.port, 9);
  EXPECT_EQ(c.logging.level, "info");
}

TEST(Config, EmptySections_TakeDefaults) {
  auto r = parse_config(with(R"("arp": {"static": []}, "logging": {}, "routes": [], "ip": {"reassembly": {},
                              "pmtu": {}}, "icmp": {}, "udp": {}, "services": {"udp_echo": {}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->arp.entry_timeout_s, 300u);
  EXPECT_TRUE(r->arp.statics.empty());
  EXPECT_EQ(r->logging.level, "info");
  EXPECT_TRUE(r->routes.empty());
  EXPECT_TRUE(r->ip.forwarding);
  EXPECT_EQ(r->ip.default_ttl, 64);
  EXPECT_EQ(r->ip.reassembly_timeout_ms, 30000u);
  EXPECT_EQ(r->ip.pmtu_timeout_s, 600u);
  EXPECT_EQ(r->icmp.error_rate, 1000u);
  EXPECT_EQ(r->icmp.error_burst, 50u);
  EXPECT_EQ(r->udp.max_sockets, 4096u);
  EXPECT_EQ(r->udp.ephemeral_first, 49152);
  EXPECT_EQ(r->udp.ephemeral_last, 65535);
  EXPECT_FALSE(r->services.udp_echo.enabled);
  EXPECT_EQ(r->services.udp_echo.port, 7);
  EXPECT_FALSE(r->services.udp_discard.enabled);
  EXPECT_EQ(r->services.udp_discard.port, 9);
}

// The example of docs/CONFIG.md (and of the shipped config/stack.json).
TEST(Config, ServicesExample_Parsed) {
  auto r = parse_config(with(R"("udp": {"max_sockets": 4096, "ephemeral_first": 49152, "ephemeral_last": 65535},
                                "services": {"udp_echo": {"enabled": true, "port": 7},
                                             "udp_discard": {"enabled": true, "port": 9}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->udp.max_sockets, 4096u);
  EXPECT_TRUE(r->services.udp_echo.enabled);
  EXPECT_EQ(r->services.udp_echo.port, 7);
  EXPECT_TRUE(r->services.udp_discard.enabled);
  EXPECT_EQ(r->services.udp_discard.port, 9);
}

TEST(Config, ServiceEnabledWithoutPort_TakesDefaultPort) {
  auto r = parse_config(with(R"("services": {"udp_echo": {"enabled": true}, "udp_discard": {"enabled": true}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->services.udp_echo.enabled);
  EXPECT_EQ(r->services.udp_echo.port, 7);
  EXPECT_TRUE(r->services.udp_discard.enabled);
  EXPECT_EQ(r->services.udp_discard.port, 9);
}

TEST(Config, ServicePortWithoutEnabled_StaysDisabled) {
  auto r = parse_config(with(R"("services": {"udp_echo": {"port": 7777}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->services.udp_echo.enabled);
  EXPECT_EQ(r->services.udp_echo.port, 7777);
}

// Only enabled services listen, so a disabled one may name a taken port.
TEST(Config, DisabledServiceOnAnEnabledOnesPort_Accepted) {
  const std::string ok[] = {
      with(R"("services": {"udp_echo": {"enabled": true, "port": 7},
                           "udp_discard": {"enabled": false, "port": 7}})"),
      with(R"("services": {"udp_echo": {"enabled": false, "port": 7},
                           "udp_discard": {"enabled": true, "port": 7}})"),
      with(R"("services": {"udp_echo": {"port": 9}, "udp_discard": {"enabled": true}})"),
  };
  for (const auto& text : ok) {
    auto r = parse_config(text);
    EXPECT_TRUE(r.ok()) << text << "\n" << (r.ok() ? "" : r.error().message);
  }
}

TEST(Config, UdpServicesBoundaries_Accepted) {
  const std::string ok[] = {
      with(R"("udp": {"max_sockets": 1, "ephemeral_first": 1, "ephemeral_last": 1},
              "services": {"udp_echo": {"enabled": true, "port": 1}})"),
      with(R"("udp": {"max_sockets": 2, "ephemeral_first": 65535, "ephemeral_last": 65535},
              "services": {"udp_echo": {"enabled": true, "port": 65535},
                           "udp_discard": {"enabled": true, "port": 1}})"),
      with(R"("udp": {"max_sockets": 65536, "ephemeral_first": 1, "ephemeral_last": 65535})"),
      with(R"("udp": {"ephemeral_first": 65535})"),  // up to the default last
      with(R"("udp": {"ephemeral_last": 49152})"),   // down to the default first
  };
  for (const auto& text : ok) {
    auto r = parse_config(text);
    EXPECT_TRUE(r.ok()) << text << "\n" << (r.ok() ? "" : r.error().message);
  }
  auto r = parse_config(ok[2]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->udp.max_sockets, 65536u);
  EXPECT_EQ(r->udp.ephemeral_first, 1);
  EXPECT_EQ(r->udp.ephemeral_last, 65535);
}

// The example of docs/CONFIG.md: a gateway without a port picks the port
// whose network holds it; a port without a gateway is an on-link route.
TEST(Config, RoutesExample_PortsResolved) {
  auto r = parse_config(routes(R"({"prefix": "10.2.0.0/16", "via": "10.1.1.2"},
                                  {"prefix": "0.0.0.0/0", "via": "10.0.0.2", "port": 0},
                                  {"prefix": "192.168.5.0/24", "port": 1})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->routes.size(), 3u);
  EXPECT_EQ(r->routes[0].port, 1);
  EXPECT_EQ(r->routes[0].via, Ipv4Addr::from_octets(10, 1, 1, 2));
  EXPECT_EQ(r->routes[1].port, 0);
  EXPECT_EQ(r->routes[1].prefix.len, 0);
  EXPECT_EQ(r->routes[2].port, 1);
  EXPECT_TRUE(r->routes[2].via.is_unspecified());
}

TEST(Config, Routes_AcceptedEdgeCases) {
  const std::string ok[] = {
      // The same network as a port's with another length is another prefix.
      routes(R"({"prefix": "10.0.0.0/16", "via": "10.0.0.2"})"),
      routes(R"({"prefix": "10.0.0.0/25", "via": "10.0.0.2"})"),
      // A host route.
      routes(R"({"prefix": "10.9.9.9/32", "via": "10.1.1.254"})"),
      // Lowest and highest host of the port's network as gateways.
      routes(R"({"prefix": "10.2.0.0/16", "via": "10.0.0.2"}, {"prefix": "10.3.0.0/16", "via": "10.0.0.254"})"),
      // Explicit port agreeing with the gateway.
      routes(R"({"prefix": "10.2.0.0/16", "via": "10.1.1.2", "port": 1})"),
      // Two ports on one network: the gateway is ambiguous, "port" settles it.
      R"({"ports": [{"address": "10.0.0.1/24"}, {"address": "10.0.0.3/24"}],
          "routes": [{"prefix": "10.2.0.0/16", "via": "10.0.0.2", "port": 1}]})",
  };
  for (const auto& text : ok) {
    auto r = parse_config(text);
    EXPECT_TRUE(r.ok()) << text << "\n" << (r.ok() ? "" : r.error().message);
  }
}

TEST(Config, RoutesFillMaxRoutesExactly_Accepted) {
  // One connected + 15 static = 16 = max_routes.
  std::string rs;
  for (int i = 0; i < 15; ++i)
    rs += std::string(i ? ", " : "") + R"({"prefix": "10.)" + std::to_string(100 + i) +
          R"(.0.0/16", "via": "10.0.0.3"})";
  auto r = parse_config(with(R"("ip": {"max_routes": 16}, "routes": [)" + rs + "]"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->routes.size(), 15u);
}

TEST(Config, TwoPortsOnOneNetwork_CountedAsOneConnectedRoute) {
  std::string rs;
  for (int i = 0; i < 15; ++i)
    rs += std::string(i ? ", " : "") + R"({"prefix": "10.)" + std::to_string(100 + i) + R"(.0.0/16", "port": 0})";
  auto r = parse_config(R"({"ports": [{"address": "10.0.0.1/24"}, {"address": "10.0.0.3/24"}],
                            "ip": {"max_routes": 16}, "routes": [)" + rs + "]}");
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(Config, IpIcmpBoundaries_Accepted) {
  const std::string ok[] = {
      with(R"("ip": {"forwarding": true, "default_ttl": 1, "max_routes": 16,
                     "reassembly": {"timeout_ms": 100, "max_flows": 1, "max_fragments": 2, "max_total_fragments": 16},
                     "pmtu": {"timeout_s": 10, "max_entries": 16}},
              "icmp": {"error_rate": 0, "error_burst": 1})"),
      with(R"("ip": {"forwarding": false, "default_ttl": 255, "max_routes": 1048576,
                     "reassembly": {"timeout_ms": 600000, "max_flows": 65536, "max_fragments": 1024,
                                    "max_total_fragments": 1048576},
                     "pmtu": {"timeout_s": 86400, "max_entries": 1048576}},
              "icmp": {"error_rate": 1000000, "error_burst": 1000000})"),
  };
  for (const auto& text : ok) {
    auto r = parse_config(text);
    EXPECT_TRUE(r.ok()) << text << "\n" << (r.ok() ? "" : r.error().message);
  }
  auto r = parse_config(ok[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->icmp.error_rate, 0u);  // never rate limited
  EXPECT_EQ(r->ip.default_ttl, 1);
  auto hi = parse_config(ok[1]);
  ASSERT_TRUE(hi.ok());
  EXPECT_EQ(hi->ip.default_ttl, 255);
  EXPECT_EQ(hi->ip.max_routes, 1048576u);
}

TEST(Config, Boundaries_Accepted) {
  const char* ok[] = {
      R"({"ports": [{"address": "10.0.0.2/24", "mtu": 68, "queues": 1, "rx_desc": 64, "tx_desc": 64}]})",
      R"({"ports": [{"address": "10.0.0.2/24", "mtu": 9216, "queues": 128, "rx_desc": 16384, "tx_desc": 16384}]})",
      R"({"ports": [{"address": "10.0.0.1/30"}]})",   // lowest host of a /30
      R"({"ports": [{"address": "10.0.0.2/30"}]})",   // highest host of a /30
      R"({"ports": [{"address": "10.1.2.3/1"}]})",    // shortest prefix
      R"({"ports": [{"address": "10.0.0.2/24"}],
          "arp": {"entry_timeout_s": 1, "retry_interval_ms": 10, "max_requests": 1,
                  "pending_max": 1, "max_entries": 16}})",
      R"({"ports": [{"address": "10.0.0.2/24"}],
          "arp": {"entry_timeout_s": 86400, "retry_interval_ms": 60000, "max_requests": 100,
                  "pending_max": 4096, "max_entries": 1048576}})",
  };
  for (const char* text : ok) {
    auto r = parse_config(text);
    EXPECT_TRUE(r.ok()) << text << "\n" << (r.ok() ? "" : r.error().message);
  }
}

TEST(Config, ThirtyTwoPorts_Accepted) {
  std::string text = R"({"ports": [)";
  for (int i = 0; i < 32; ++i)
    text += std::string(i ? ", " : "") + R"({"address": "10.0.)" + std::to_string(i) + R"(.1/24"})";
  text += "]}";
  auto r = parse_config(text);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ports.size(), 32u);
}

TEST(Config, EveryLoggingLevel_Accepted) {
  for (const char* level : {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"}) {
    auto r = parse_config(with(std::string(R"("logging": {"level": ")") + level + "\"}"));
    ASSERT_TRUE(r.ok()) << level << ": " << r.error().message;
    EXPECT_EQ(r->logging.level, level);
  }
}

TEST(Config, SameSubnetOnTwoPorts_DifferentAddresses_Accepted) {
  auto r = parse_config(R"({"ports": [{"address": "10.0.0.2/24"}, {"address": "10.0.0.3/24"}]})");
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(Config, LogLevelValue_MatchesRteLogLevels) {
  EXPECT_EQ(log_level_value("emerg"), 1u);  // RTE_LOG_EMERG
  EXPECT_EQ(log_level_value("alert"), 2u);
  EXPECT_EQ(log_level_value("crit"), 3u);
  EXPECT_EQ(log_level_value("error"), 4u);
  EXPECT_EQ(log_level_value("warning"), 5u);
  EXPECT_EQ(log_level_value("notice"), 6u);
  EXPECT_EQ(log_level_value("info"), 7u);
  EXPECT_EQ(log_level_value("debug"), 8u);  // RTE_LOG_DEBUG
}

// ------------------------------------------------------- rejected: ports

TEST(Config, Mtu70000_RejectedAtPath) {
  const auto text = one_port(R"("address": "10.0.0.2/24", "mtu": 70000)");
  EXPECT_TRUE(RejectedAt(text, "$.ports[0].mtu"));
  // The example the header's contract gives, word for word.
  EXPECT_EQ(error_of(text), "$.ports[0].mtu: expected an integer in 68..9216, got 70000");
}

TEST(Config, MtuBelowMinimum_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mtu": 67)"), "$.ports[0].mtu"));
}

TEST(Config, MtuNegative_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mtu": -1500)"), "$.ports[0].mtu"));
}

TEST(Config, MtuBeyondInt64_RejectedAtPath) {
  EXPECT_TRUE(
      RejectedAt(one_port(R"("address": "10.0.0.2/24", "mtu": 18446744073709551615)"), "$.ports[0].mtu"));
}

TEST(Config, MtuString_RejectedAtPath) {
  const auto text = one_port(R"("address": "10.0.0.2/24", "mtu": "1500")");
  EXPECT_TRUE(RejectedAt(text, "$.ports[0].mtu"));
  EXPECT_NE(error_of(text).find("got a string"), std::string::npos) << error_of(text);
}

TEST(Config, MtuFloat_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mtu": 1500.0)"), "$.ports[0].mtu"));
}

TEST(Config, MtuBoolean_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mtu": true)"), "$.ports[0].mtu"));
}

TEST(Config, MtuNull_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mtu": null)"), "$.ports[0].mtu"));
}

TEST(Config, UnknownTopLevelKey_RejectedAtPath) {
  const auto text = with(R"("bogus": 1)");
  EXPECT_TRUE(RejectedAt(text, "$.bogus"));
  EXPECT_EQ(error_of(text), "$.bogus: unknown key (expected one of: ports, routes, ip, icmp, arp, udp, tcp, services, filters, logging)");
}

TEST(Config, UnknownPortKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "speed": 100)"), "$.ports[0].speed"));
}

TEST(Config, UnknownPortKeyInSecondPort_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(R"({"ports": [{"address": "10.0.0.2/24"}, {"address": "10.0.1.2/24", "MTU": 1500}]})",
                         "$.ports[1].MTU"));
}

TEST(Config, MissingPorts_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(R"({"logging": {"level": "info"}})", "$.ports"));
}

TEST(Config, EmptyDocumentObject_RejectedAtPorts) { EXPECT_TRUE(RejectedAt("{}", "$.ports")); }

TEST(Config, EmptyPortsArray_RejectedAtPath) { EXPECT_TRUE(RejectedAt(R"({"ports": []})", "$.ports")); }

TEST(Config, PortsNotAnArray_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(R"({"ports": {"address": "10.0.0.2/24"}})", "$.ports"));
}

TEST(Config, PortsString_RejectedAtPath) { EXPECT_TRUE(RejectedAt(R"({"ports": "eth0"})", "$.ports")); }

TEST(Config, MoreThan32Ports_RejectedAtPath) {
  std::string text = R"({"ports": [)";
  for (int i = 0; i < 33; ++i)
    text += std::string(i ? ", " : "") + R"({"address": "10.0.)" + std::to_string(i) + R"(.1/24"})";
  text += "]}";
  EXPECT_TRUE(RejectedAt(text, "$.ports"));
}

TEST(Config, PortNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(R"({"ports": ["10.0.0.2/24"]})", "$.ports[0]"));
}

TEST(Config, PortMissingAddress_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("mtu": 1500)"), "$.ports[0].address"));
}

TEST(Config, BadAddressText_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0/24")"), "$.ports[0].address"));
}

TEST(Config, AddressOctetOutOfRange_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.256/24")"), "$.ports[0].address"));
}

TEST(Config, AddressWithoutPrefix_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2")"), "$.ports[0].address"));
}

TEST(Config, AddressNotAString_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": 167772162)"), "$.ports[0].address"));
}

TEST(Config, Prefix0_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/0")"), "$.ports[0].address"));
}

TEST(Config, Prefix31_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/31")"), "$.ports[0].address"));
}

TEST(Config, Prefix32_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/32")"), "$.ports[0].address"));
}

TEST(Config, Prefix33_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/33")"), "$.ports[0].address"));
}

TEST(Config, NetworkAddressAsHost_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.0/24")"), "$.ports[0].address"));
}

TEST(Config, BroadcastAddressAsHost_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.255/24")"), "$.ports[0].address"));
}

TEST(Config, BroadcastAddressOfSlash30_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.3/30")"), "$.ports[0].address"));
}

TEST(Config, MulticastAddress_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "224.0.0.5/24")"), "$.ports[0].address"));
}

TEST(Config, LimitedBroadcastAddress_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "255.255.255.255/8")"), "$.ports[0].address"));
}

TEST(Config, UnspecifiedAddress_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "0.0.0.0/8")"), "$.ports[0].address"));
}

TEST(Config, MulticastMac_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mac": "01:00:5e:00:00:01")"), "$.ports[0].mac"));
}

TEST(Config, BroadcastMac_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mac": "ff:ff:ff:ff:ff:ff")"), "$.ports[0].mac"));
}

TEST(Config, ZeroMac_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mac": "00:00:00:00:00:00")"), "$.ports[0].mac"));
}

TEST(Config, MalformedMac_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mac": "02:00:00:00:00")"), "$.ports[0].mac"));
}

TEST(Config, MacWithDashes_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mac": "02-00-00-00-00-01")"), "$.ports[0].mac"));
}

TEST(Config, MacNotAString_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "mac": 2)"), "$.ports[0].mac"));
}

TEST(Config, DuplicateAddress_RejectedAtPath) {
  const std::string text = R"({"ports": [{"address": "10.0.0.2/24"}, {"address": "10.0.0.2/16"}]})";
  EXPECT_TRUE(RejectedAt(text, "$.ports[1].address"));
  EXPECT_NE(error_of(text).find("$.ports[0]"), std::string::npos) << error_of(text);
}

TEST(Config, DuplicateAddressThirdPort_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(
      R"({"ports": [{"address": "10.0.0.2/24"}, {"address": "10.0.1.2/24"}, {"address": "10.0.1.2/24"}]})",
      "$.ports[2].address"));
}

TEST(Config, Queues0_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "queues": 0)"), "$.ports[0].queues"));
}

TEST(Config, Queues129_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "queues": 129)"), "$.ports[0].queues"));
}

TEST(Config, RxDescTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "rx_desc": 63)"), "$.ports[0].rx_desc"));
}

TEST(Config, RxDescTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "rx_desc": 16385)"), "$.ports[0].rx_desc"));
}

TEST(Config, TxDescTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "tx_desc": 0)"), "$.ports[0].tx_desc"));
}

TEST(Config, TxDescTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(one_port(R"("address": "10.0.0.2/24", "tx_desc": 65536)"), "$.ports[0].tx_desc"));
}

TEST(Config, FirstErrorInDocumentOrder_Reported) {
  EXPECT_TRUE(RejectedAt(R"({"ports": [{"address": "10.0.0.2/24", "mtu": 1, "queues": 0},
                                       {"address": "bad"}]})",
                         "$.ports[0].mtu"));
}

// --------------------------------------------------------- rejected: arp

TEST(Config, ArpNotAnObject_RejectedAtPath) { EXPECT_TRUE(RejectedAt(with(R"("arp": [])"), "$.arp")); }

TEST(Config, ArpUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"timeout": 5})"), "$.arp.timeout"));
}

TEST(Config, ArpEntryTimeout0_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"entry_timeout_s": 0})"), "$.arp.entry_timeout_s"));
}

TEST(Config, ArpEntryTimeoutTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"entry_timeout_s": 86401})"), "$.arp.entry_timeout_s"));
}

TEST(Config, ArpRetryIntervalTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"retry_interval_ms": 9})"), "$.arp.retry_interval_ms"));
}

TEST(Config, ArpMaxRequests0_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"max_requests": 0})"), "$.arp.max_requests"));
}

TEST(Config, ArpPendingMax0_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"pending_max": 0})"), "$.arp.pending_max"));
}

TEST(Config, ArpMaxEntriesTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"max_entries": 15})"), "$.arp.max_entries"));
}

TEST(Config, ArpMaxEntriesTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"max_entries": 1048577})"), "$.arp.max_entries"));
}

TEST(Config, ArpStaticNotAnArray_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": {"port": 0}})"), "$.arp.static"));
}

TEST(Config, ArpStaticEntryNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": ["10.0.0.1"]})"), "$.arp.static[0]"));
}

TEST(Config, ArpStaticMissingIp_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": [{"port": 0, "mac": "02:00:00:00:00:01"}]})"),
                         "$.arp.static[0].ip"));
}

TEST(Config, ArpStaticMissingPort_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": [{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01"}]})"),
                         "$.arp.static[0].port"));
}

TEST(Config, ArpStaticMissingMac_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": [{"port": 0, "ip": "10.0.0.1"}]})"), "$.arp.static[0].mac"));
}

TEST(Config, ArpStaticUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(
      with(R"("arp": {"static": [{"port": 0, "ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 5}]})"),
      "$.arp.static[0].vlan"));
}

TEST(Config, ArpStaticPortOutOfRange_RejectedAtPath) {
  // One port configured: port 1 does not exist.
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": [{"port": 1, "ip": "10.0.0.1", "mac": "02:00:00:00:00:01"}]})"),
                         "$.arp.static[0].port"));
}

TEST(Config, ArpStaticPortNegative_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": [{"port": -1, "ip": "10.0.0.1", "mac": "02:00:00:00:00:01"}]})"),
                         "$.arp.static[0].port"));
}

TEST(Config, ArpStaticBadIp_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": [{"port": 0, "ip": "10.0.0.1/24", "mac": "02:00:00:00:00:01"}]})"),
                         "$.arp.static[0].ip"));
}

TEST(Config, ArpStaticMulticastMac_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": [{"port": 0, "ip": "10.0.0.1", "mac": "03:00:00:00:00:01"}]})"),
                         "$.arp.static[0].mac"));
}

TEST(Config, ArpStaticErrorInSecondEntry_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("arp": {"static": [{"port": 0, "ip": "10.0.0.1", "mac": "02:00:00:00:00:01"},
                                                    {"port": 0, "ip": "10.0.0.3", "mac": "nope"}]})"),
                         "$.arp.static[1].mac"));
}

// ----------------------------------------------------- rejected: logging

TEST(Config, LoggingLevelUnknown_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("logging": {"level": "verbose"})"), "$.logging.level"));
}

TEST(Config, LoggingLevelWrongCase_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("logging": {"level": "DEBUG"})"), "$.logging.level"));
}

TEST(Config, LoggingLevelNotAString_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("logging": {"level": 7})"), "$.logging.level"));
}

TEST(Config, LoggingNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("logging": "debug")"), "$.logging"));
}

TEST(Config, LoggingUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedAt(with(R"("logging": {"level": "info", "file": "/tmp/x"})"), "$.logging.file"));
}

// ------------------------------------------------------ rejected: routes

TEST(Config, RoutesNotAnArray_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(two_ports(R"("routes": {"prefix": "10.2.0.0/16"})"), "$.routes",
                           "expected an array of routes, got an object"));
}

TEST(Config, RouteNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"("10.2.0.0/16 via 10.0.0.2")"), "$.routes[0]", "expected an object"));
}

TEST(Config, RouteUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "gateway": "10.0.0.2"})"), "$.routes[0].gateway",
                           "unknown key (expected one of: prefix, via, port)"));
}

TEST(Config, RouteMissingPrefix_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"via": "10.0.0.2"})"), "$.routes[0].prefix",
                           "required key missing (expected a network prefix"));
}

TEST(Config, RoutePrefixNotAString_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": 16, "via": "10.0.0.2"})"), "$.routes[0].prefix",
                           "expected a string, got an integer"));
}

TEST(Config, RoutePrefixMalformed_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0/16", "via": "10.0.0.2"})"), "$.routes[0].prefix",
                           "expected a network prefix with length 0..32"));
}

TEST(Config, RoutePrefixWithoutLength_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0", "via": "10.0.0.2"})"), "$.routes[0].prefix",
                           "expected a network prefix with length 0..32"));
}

TEST(Config, RoutePrefixLength33_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/33", "via": "10.0.0.2"})"), "$.routes[0].prefix",
                           "expected a network prefix with length 0..32"));
}

TEST(Config, RoutePrefixHostBitsSet_RejectedAtPath) {
  const auto text = routes(R"({"prefix": "10.2.0.1/16", "via": "10.0.0.2"})");
  EXPECT_TRUE(RejectedAt(text, "$.routes[0].prefix"));
  EXPECT_EQ(error_of(text),
            R"($.routes[0].prefix: expected a network prefix with host bits zero, e.g. 10.2.0.0/16, got "10.2.0.1/16")");
}

TEST(Config, RouteDefaultPrefixHostBitsSet_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.0.0.2/0", "via": "10.0.0.2"})"), "$.routes[0].prefix",
                           "host bits zero, e.g. 0.0.0.0/0"));
}

TEST(Config, RouteNeitherViaNorPort_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16"})"), "$.routes[0]",
                           R"(expected "via" (a gateway), "port" (an on-link route) or both)"));
}

TEST(Config, RouteOnLinkViaZeroWithoutPort_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "0.0.0.0"})"), "$.routes[0].port",
                           "needs a port"));
}

TEST(Config, RouteViaMalformed_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "10.0.0"})"), "$.routes[0].via",
                           "expected a dotted-quad IPv4 address"));
}

TEST(Config, RouteViaWithPrefixLength_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "10.0.0.2/24"})"), "$.routes[0].via",
                           "expected a dotted-quad IPv4 address"));
}

TEST(Config, RouteViaNotAString_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": 167772162})"), "$.routes[0].via",
                           "expected a string"));
}

TEST(Config, RouteViaMulticast_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "224.0.0.1", "port": 0})"),
                           "$.routes[0].via", "expected a unicast gateway address"));
}

TEST(Config, RouteViaLimitedBroadcast_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "255.255.255.255"})"), "$.routes[0].via",
                           "expected a unicast gateway address"));
}

TEST(Config, RouteViaOwnAddress_RejectedAtPath) {
  const auto text = routes(R"({"prefix": "10.2.0.0/16", "via": "10.1.1.1"})");
  EXPECT_TRUE(RejectedWith(text, "$.routes[0].via", "expected a neighbour's address"));
  EXPECT_NE(error_of(text).find("the address of $.ports[1]"), std::string::npos) << error_of(text);
}

TEST(Config, RouteViaOwnAddressWithPort_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "10.0.0.1", "port": 0})"),
                           "$.routes[0].via", "expected a neighbour's address"));
}

TEST(Config, RouteViaOutsideEveryPort_RejectedAtPath) {
  const auto text = routes(R"({"prefix": "10.2.0.0/16", "via": "10.9.9.9"})");
  EXPECT_TRUE(RejectedAt(text, "$.routes[0].via"));
  EXPECT_EQ(error_of(text), "$.routes[0].via: expected a gateway inside the network of a port (10.0.0.0/24, "
                            "10.1.1.0/24), got \"10.9.9.9\"");
}

TEST(Config, RouteViaOutsideGivenPort_RejectedAtPath) {
  const auto text = routes(R"({"prefix": "10.2.0.0/16", "via": "10.0.0.2", "port": 1})");
  EXPECT_TRUE(RejectedAt(text, "$.routes[0].via"));
  EXPECT_EQ(error_of(text), "$.routes[0].via: expected a unicast host address inside the network of $.ports[1] "
                            "(10.1.1.0/24), got \"10.0.0.2\"");
}

TEST(Config, RouteViaInsideTwoPorts_RejectedAtPath) {
  const auto text = R"({"ports": [{"address": "10.0.0.1/24"}, {"address": "10.0.0.3/24"}],
                        "routes": [{"prefix": "10.2.0.0/16", "via": "10.0.0.2"}]})";
  EXPECT_TRUE(RejectedWith(text, "$.routes[0].via", "expected a gateway inside the network of exactly one port"));
  EXPECT_NE(error_of(text).find("$.ports[0] and $.ports[1]"), std::string::npos) << error_of(text);
}

TEST(Config, RouteViaNetworkAddressOfPort_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "10.0.0.0"})"), "$.routes[0].via",
                           "expected a unicast host address inside the network of $.ports[0]"));
}

TEST(Config, RouteViaBroadcastAddressOfPort_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "10.1.1.255", "port": 1})"),
                           "$.routes[0].via", "expected a unicast host address inside the network of $.ports[1]"));
}

TEST(Config, RoutePortOutOfRange_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "port": 2})"), "$.routes[0].port",
                           "expected an integer in 0..1, got 2"));
}

TEST(Config, RoutePortNegative_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "port": -1})"), "$.routes[0].port",
                           "expected an integer in 0..1"));
}

TEST(Config, RoutePortNotAnInteger_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "port": "0"})"), "$.routes[0].port",
                           "expected an integer in 0..1, got a string"));
}

TEST(Config, RouteDuplicatePrefix_RejectedAtLaterOne) {
  const auto text = routes(R"({"prefix": "10.2.0.0/16", "via": "10.0.0.2"},
                              {"prefix": "10.3.0.0/16", "via": "10.0.0.2"},
                              {"prefix": "10.2.0.0/16", "via": "10.1.1.2"})");
  EXPECT_TRUE(RejectedAt(text, "$.routes[2].prefix"));
  EXPECT_EQ(error_of(text), "$.routes[2].prefix: expected a prefix not already routed, got \"10.2.0.0/16\", "
                            "already routed by $.routes[0]");
}

TEST(Config, RouteDuplicateDefaultRoute_RejectedAtLaterOne) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "0.0.0.0/0", "via": "10.0.0.2"},
                                     {"prefix": "0.0.0.0/0", "via": "10.1.1.2"})"),
                           "$.routes[1].prefix", "already routed by $.routes[0]"));
}

TEST(Config, RouteSameAsConnectedNetwork_RejectedAtPath) {
  const auto text = routes(R"({"prefix": "10.1.1.0/24", "via": "10.0.0.2"})");
  EXPECT_TRUE(RejectedAt(text, "$.routes[0].prefix"));
  EXPECT_EQ(error_of(text), "$.routes[0].prefix: expected a prefix not already routed, got \"10.1.1.0/24\", "
                            "the connected network of $.ports[1]");
}

TEST(Config, RouteErrorInSecondEntry_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(routes(R"({"prefix": "10.2.0.0/16", "via": "10.0.0.2"},
                                     {"prefix": "10.3.0.0/16", "via": "10.7.0.2"})"),
                           "$.routes[1].via", "expected a gateway inside the network of a port"));
}

TEST(Config, MoreRoutesThanMaxRoutes_RejectedAtPath) {
  // One connected + 16 static > 16.
  std::string rs;
  for (int i = 0; i < 16; ++i)
    rs += std::string(i ? ", " : "") + R"({"prefix": "10.)" + std::to_string(100 + i) +
          R"(.0.0/16", "via": "10.0.0.3"})";
  const auto text = with(R"("ip": {"max_routes": 16}, "routes": [)" + rs + "]");
  EXPECT_TRUE(RejectedAt(text, "$.routes"));
  EXPECT_EQ(error_of(text), "$.routes: expected at most 15 routes ($.ip.max_routes 16 minus 1 connected), got 16");
}

TEST(Config, MoreConnectedNetworksThanMaxRoutes_RejectedAtPath) {
  std::string text = R"({"ports": [)";
  for (int i = 0; i < 17; ++i)
    text += std::string(i ? ", " : "") + R"({"address": "10.0.)" + std::to_string(i) + R"(.1/24"})";
  text += R"(], "ip": {"max_routes": 16}})";
  EXPECT_TRUE(RejectedWith(text, "$.ip.max_routes", "expected at least 17 (one route per connected network"));
}

// ---------------------------------------------------------- rejected: ip

TEST(Config, IpNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": true)"), "$.ip", "expected an object, got a boolean"));
}

TEST(Config, IpUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"ttl": 64})"), "$.ip.ttl",
                           "unknown key (expected one of: forwarding, default_ttl, max_routes, reassembly, pmtu)"));
}

TEST(Config, IpForwardingString_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"forwarding": "yes"})"), "$.ip.forwarding",
                           "expected true or false, got a string"));
}

TEST(Config, IpForwardingInteger_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"forwarding": 1})"), "$.ip.forwarding",
                           "expected true or false, got an integer"));
}

TEST(Config, IpDefaultTtl0_RejectedAtPath) {
  const auto text = with(R"("ip": {"default_ttl": 0})");
  EXPECT_TRUE(RejectedAt(text, "$.ip.default_ttl"));
  EXPECT_EQ(error_of(text), "$.ip.default_ttl: expected an integer in 1..255, got 0");
}

TEST(Config, IpDefaultTtl256_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"default_ttl": 256})"), "$.ip.default_ttl",
                           "expected an integer in 1..255, got 256"));
}

TEST(Config, IpMaxRoutesTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"max_routes": 15})"), "$.ip.max_routes",
                           "expected an integer in 16..1048576, got 15"));
}

TEST(Config, IpMaxRoutesTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"max_routes": 1048577})"), "$.ip.max_routes",
                           "expected an integer in 16..1048576, got 1048577"));
}

TEST(Config, IpReassemblyNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": 30000})"), "$.ip.reassembly",
                           "expected an object, got an integer"));
}

TEST(Config, IpReassemblyUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"timeout": 100}})"), "$.ip.reassembly.timeout",
                           "unknown key (expected one of: timeout_ms, max_flows, max_fragments, "
                           "max_total_fragments)"));
}

TEST(Config, IpReassemblyTimeoutTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"timeout_ms": 99}})"), "$.ip.reassembly.timeout_ms",
                           "expected an integer in 100..600000, got 99"));
}

TEST(Config, IpReassemblyTimeoutTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"timeout_ms": 600001}})"), "$.ip.reassembly.timeout_ms",
                           "expected an integer in 100..600000, got 600001"));
}

TEST(Config, IpReassemblyMaxFlows0_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"max_flows": 0}})"), "$.ip.reassembly.max_flows",
                           "expected an integer in 1..65536, got 0"));
}

TEST(Config, IpReassemblyMaxFlowsTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"max_flows": 65537}})"), "$.ip.reassembly.max_flows",
                           "expected an integer in 1..65536, got 65537"));
}

TEST(Config, IpReassemblyMaxFragments1_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"max_fragments": 1}})"), "$.ip.reassembly.max_fragments",
                           "expected an integer in 2..1024, got 1"));
}

TEST(Config, IpReassemblyMaxFragmentsTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"max_fragments": 1025}})"),
                           "$.ip.reassembly.max_fragments", "expected an integer in 2..1024, got 1025"));
}

TEST(Config, IpReassemblyMaxTotalFragmentsTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"max_total_fragments": 15}})"),
                           "$.ip.reassembly.max_total_fragments", "expected an integer in 16..1048576, got 15"));
}

TEST(Config, IpReassemblyMaxTotalFragmentsTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"reassembly": {"max_total_fragments": 1048577}})"),
                           "$.ip.reassembly.max_total_fragments",
                           "expected an integer in 16..1048576, got 1048577"));
}

TEST(Config, IpPmtuNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"pmtu": []})"), "$.ip.pmtu", "expected an object, got an array"));
}

TEST(Config, IpPmtuUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"pmtu": {"timeout_ms": 600000}})"), "$.ip.pmtu.timeout_ms",
                           "unknown key (expected one of: timeout_s, max_entries)"));
}

TEST(Config, IpPmtuTimeoutTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"pmtu": {"timeout_s": 9}})"), "$.ip.pmtu.timeout_s",
                           "expected an integer in 10..86400, got 9"));
}

TEST(Config, IpPmtuTimeoutTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"pmtu": {"timeout_s": 86401}})"), "$.ip.pmtu.timeout_s",
                           "expected an integer in 10..86400, got 86401"));
}

TEST(Config, IpPmtuMaxEntriesTooSmall_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"pmtu": {"max_entries": 15}})"), "$.ip.pmtu.max_entries",
                           "expected an integer in 16..1048576, got 15"));
}

TEST(Config, IpPmtuMaxEntriesTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("ip": {"pmtu": {"max_entries": 1048577}})"), "$.ip.pmtu.max_entries",
                           "expected an integer in 16..1048576, got 1048577"));
}

// -------------------------------------------------------- rejected: icmp

TEST(Config, IcmpNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("icmp": 1000)"), "$.icmp", "expected an object, got an integer"));
}

TEST(Config, IcmpUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("icmp": {"rate": 10})"), "$.icmp.rate",
                           "unknown key (expected one of: error_rate, error_burst)"));
}

TEST(Config, IcmpErrorRateNegative_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("icmp": {"error_rate": -1})"), "$.icmp.error_rate",
                           "expected an integer in 0..1000000, got -1"));
}

TEST(Config, IcmpErrorRateTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("icmp": {"error_rate": 1000001})"), "$.icmp.error_rate",
                           "expected an integer in 0..1000000, got 1000001"));
}

TEST(Config, IcmpErrorRateFloat_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("icmp": {"error_rate": 0.5})"), "$.icmp.error_rate",
                           "expected an integer in 0..1000000, got a number"));
}

TEST(Config, IcmpErrorBurst0_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("icmp": {"error_burst": 0})"), "$.icmp.error_burst",
                           "expected an integer in 1..1000000, got 0"));
}

TEST(Config, IcmpErrorBurstTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("icmp": {"error_burst": 1000001})"), "$.icmp.error_burst",
                           "expected an integer in 1..1000000, got 1000001"));
}

// -------------------------------------------------------- rejected: udp

TEST(Config, UdpNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": 4096)"), "$.udp", "expected an object, got an integer"));
}

TEST(Config, UdpUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"sockets": 10})"), "$.udp.sockets",
                           "unknown key (expected one of: max_sockets, ephemeral_first, ephemeral_last)"));
}

TEST(Config, UdpMaxSockets0_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"max_sockets": 0})"), "$.udp.max_sockets",
                           "expected an integer in 1..65536, got 0"));
}

TEST(Config, UdpMaxSocketsTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"max_sockets": 65537})"), "$.udp.max_sockets",
                           "expected an integer in 1..65536, got 65537"));
}

TEST(Config, UdpMaxSocketsString_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"max_sockets": "4096"})"), "$.udp.max_sockets",
                           "expected an integer in 1..65536, got a string"));
}

TEST(Config, UdpEphemeralFirst0_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"ephemeral_first": 0})"), "$.udp.ephemeral_first",
                           "expected an integer in 1..65535, got 0"));
}

TEST(Config, UdpEphemeralFirstTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"ephemeral_first": 65536})"), "$.udp.ephemeral_first",
                           "expected an integer in 1..65535, got 65536"));
}

TEST(Config, UdpEphemeralFirstFloat_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"ephemeral_first": 1.5})"), "$.udp.ephemeral_first",
                           "expected an integer in 1..65535, got a number"));
}

TEST(Config, UdpEphemeralLast0_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"ephemeral_last": 0})"), "$.udp.ephemeral_last",
                           "expected an integer in 1..65535, got 0"));
}

TEST(Config, UdpEphemeralLastTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"ephemeral_last": 65536})"), "$.udp.ephemeral_last",
                           "expected an integer in 1..65535, got 65536"));
}

TEST(Config, UdpEphemeralFirstAboveLast_RejectedAtFirst) {
  EXPECT_EQ(error_of(with(R"("udp": {"ephemeral_first": 50001, "ephemeral_last": 50000})")),
            "$.udp.ephemeral_first: expected at most $.udp.ephemeral_last (50000), got 50001");
}

// Only the last is in the document: the complaint is about it, and says
// where the first came from.
TEST(Config, UdpEphemeralLastBelowDefaultFirst_RejectedAtLast) {
  EXPECT_EQ(error_of(with(R"("udp": {"ephemeral_last": 1024})")),
            "$.udp.ephemeral_last: expected at least $.udp.ephemeral_first (49152, the default), got 1024");
}

TEST(Config, UdpMaxSocketsBelowEnabledServices_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("udp": {"max_sockets": 1},
                                   "services": {"udp_echo": {"enabled": true}, "udp_discard": {"enabled": true}})"),
                           "$.udp.max_sockets", "expected at least 2 (one socket per enabled UDP service), got 1"));
}

// --------------------------------------------------- rejected: services

TEST(Config, ServicesNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": ["udp_echo"])"), "$.services", "expected an object, got an array"));
}

TEST(Config, ServicesUnknownService_RejectedListingKnownOnes) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"smtp": {"enabled": true}})"), "$.services.smtp",
                           "unknown service (expected one of: udp_echo, udp_discard, tcp_echo, tcp_discard, tcp_chargen, http, iperf3)"));
}

TEST(Config, ServiceNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"udp_echo": true})"), "$.services.udp_echo",
                           "expected an object, got a boolean"));
}

TEST(Config, ServiceUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"udp_discard": {"enabled": true, "address": "10.0.0.2"}})"),
                           "$.services.udp_discard.address", "unknown key (expected one of: enabled, port)"));
}

TEST(Config, ServiceEnabledNotABoolean_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"udp_echo": {"enabled": "yes"}})"), "$.services.udp_echo.enabled",
                           "expected true or false, got a string"));
}

TEST(Config, ServiceEnabledInteger_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"udp_discard": {"enabled": 1}})"), "$.services.udp_discard.enabled",
                           "expected true or false, got an integer"));
}

TEST(Config, ServicePort0_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"udp_echo": {"enabled": true, "port": 0}})"),
                           "$.services.udp_echo.port", "expected an integer in 1..65535, got 0"));
}

TEST(Config, ServicePortTooLarge_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"udp_discard": {"port": 65536}})"), "$.services.udp_discard.port",
                           "expected an integer in 1..65535, got 65536"));
}

TEST(Config, ServicePortNegative_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"udp_echo": {"port": -7}})"), "$.services.udp_echo.port",
                           "expected an integer in 1..65535, got -7"));
}

TEST(Config, ServicePortString_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"udp_echo": {"port": "echo"}})"), "$.services.udp_echo.port",
                           "expected an integer in 1..65535, got a string"));
}

TEST(Config, TwoEnabledUdpServicesOnOnePort_RejectedNamingBoth) {
  EXPECT_EQ(error_of(with(R"("services": {"udp_echo": {"enabled": true, "port": 5000},
                                          "udp_discard": {"enabled": true, "port": 5000}})")),
            "$.services.udp_discard.port: expected a UDP port no other enabled service listens on, got 5000, "
            "also the port of $.services.udp_echo.port");
}

// udp_discard takes its default 9; the complaint goes to the port the
// document gives.
TEST(Config, EnabledUdpServiceOnAnotherOnesDefaultPort_RejectedAtGivenPort) {
  EXPECT_EQ(error_of(with(R"("services": {"udp_echo": {"enabled": true, "port": 9},
                                          "udp_discard": {"enabled": true}})")),
            "$.services.udp_echo.port: expected a UDP port no other enabled service listens on, got 9, "
            "also the port of $.services.udp_discard.port (the default)");
}

// ---------------------------------------------------- rejected: document

TEST(Config, InvalidJson_RejectedAtRoot) { EXPECT_TRUE(RejectedAt(R"({"ports": [)", "$")); }

TEST(Config, EmptyText_RejectedAtRoot) { EXPECT_TRUE(RejectedAt("", "$")); }

TEST(Config, TrailingComma_RejectedAtRoot) {
  EXPECT_TRUE(RejectedAt(R"({"ports": [{"address": "10.0.0.2/24"}],})", "$"));
}

TEST(Config, Comment_RejectedAtRoot) {
  EXPECT_TRUE(RejectedAt("// stack\n{\"ports\": [{\"address\": \"10.0.0.2/24\"}]}", "$"));
}

TEST(Config, TrailingGarbage_RejectedAtRoot) {
  EXPECT_TRUE(RejectedAt(R"({"ports": [{"address": "10.0.0.2/24"}]} x)", "$"));
}

TEST(Config, RootNotAnObject_RejectedAtRoot) {
  EXPECT_TRUE(RejectedAt(R"([{"address": "10.0.0.2/24"}])", "$"));
}

TEST(Config, TypeNamesInMessages_Grammatical) {
  // "got an object" / "got an array", as "an integer" is.
  EXPECT_EQ(error_of(R"({"ports": {}})"), "$.ports: expected a non-empty array of ports, got an object");
  EXPECT_EQ(error_of("[]"), "$: expected an object, got an array");
}

// -------------------------------------------------------------- load_config

TEST(Config, LoadMissingFile_RejectedAtRoot) {
  const std::string path = ::testing::TempDir() + "dpdkstack-no-such-config-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  auto r = load_config(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("$: ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
}

TEST(Config, LoadFile_ParsesContents) {
  const std::string path = ::testing::TempDir() + "dpdkstack-unit-config-" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out(path);
    out << kFullConfig;
  }
  auto r = load_config(path);
  std::remove(path.c_str());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ports.size(), 2u);
  EXPECT_EQ(r->logging.level, "debug");
}

TEST(Config, LoadFile_ErrorsCarryPaths) {
  const std::string path = ::testing::TempDir() + "dpdkstack-unit-config-bad-" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out(path);
    out << one_port(R"("address": "10.0.0.2/24", "mtu": 70000)");
  }
  auto r = load_config(path);
  std::remove(path.c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("$.ports[0].mtu: ", 0), 0u) << r.error().message;
}

TEST(Config, StaticArpMulticastIp_RejectedAtPath) {
  auto r = parse_config(R"({"ports": [{"address": "10.0.0.1/24"}],
                             "arp": {"static": [{"port": 0, "ip": "224.0.0.5", "mac": "02:00:00:00:00:05"}]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("$.arp.static[0].ip: ", 0), 0u) << r.error().message;
}

TEST(Config, NumberOverflow_RejectedNotAborted) {
  auto r = parse_config(R"({"ports": [{"address": "10.0.0.1/24", "mtu": 1e400}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("$: ", 0), 0u) << r.error().message;
}

TEST(Config, PendingTotalMaxOutOfRange_RejectedAtPath) {
  auto r = parse_config(R"({"ports": [{"address": "10.0.0.1/24"}], "arp": {"pending_total_max": 0}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("$.arp.pending_total_max: ", 0), 0u) << r.error().message;
}

// --------------------------------------------------- tcp and the TCP services

TEST(Config, TcpDefaults) {
  auto r = parse_config(with(R"("logging": {"level": "info"})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const TcpConfig& t = r->tcp;
  EXPECT_EQ(t.max_connections, 16384u);
  EXPECT_EQ(t.mss, 1460);
  EXPECT_EQ(t.snd_buf, 262144u);
  EXPECT_EQ(t.rcv_buf, 262144u);
  EXPECT_TRUE(t.window_scaling && t.timestamps && t.sack);
  EXPECT_FALSE(t.nodelay);
  EXPECT_EQ(t.delayed_ack_ms, 40u);
  EXPECT_EQ(t.rto_initial_ms, 1000u);
  EXPECT_EQ(t.rto_min_ms, 200u);
  EXPECT_EQ(t.rto_max_ms, 60000u);
  EXPECT_EQ(t.max_retries, 15u);
  EXPECT_EQ(t.syn_retries, 6u);
  EXPECT_EQ(t.time_wait_ms, 60000u);
  EXPECT_EQ(t.initial_cwnd, 10u);
  EXPECT_EQ(t.congestion_control, "newreno");
  EXPECT_EQ(t.backlog, 128u);
  EXPECT_FALSE(r->services.tcp_echo.enabled);
  EXPECT_EQ(r->services.tcp_echo.port, 7);
  EXPECT_EQ(r->services.tcp_chargen.port, 19);
  EXPECT_EQ(r->services.http.port, 80);
  EXPECT_EQ(r->services.iperf3.port, 5201);
}

TEST(Config, TcpAndServicesExample_Parsed) {
  auto r = parse_config(with(R"("tcp": {"max_connections": 100, "snd_buf": 65536, "rcv_buf": 131072, "nodelay": true,
                                        "rto_min_ms": 50, "max_retries": 4, "time_wait_ms": 0, "sack": false},
                                "services": {"udp_echo": {"enabled": true, "port": 7},
                                             "tcp_echo": {"enabled": true, "port": 7},
                                             "http": {"enabled": true, "port": 8080},
                                             "iperf3": {"enabled": true}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tcp.max_connections, 100u);
  EXPECT_EQ(r->tcp.rcv_buf, 131072u);
  EXPECT_TRUE(r->tcp.nodelay);
  EXPECT_FALSE(r->tcp.sack);
  EXPECT_EQ(r->tcp.time_wait_ms, 0u);
  EXPECT_TRUE(r->services.tcp_echo.enabled);  // a UDP and a TCP service may share a port number
  EXPECT_EQ(r->services.http.port, 8080);
  EXPECT_TRUE(r->services.iperf3.enabled);
}

TEST(Config, TcpNotAnObject_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("tcp": 5)"), "$.tcp", "expected an object, got an integer"));
}

TEST(Config, TcpUnknownKey_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("tcp": {"keepalive": true})"), "$.tcp.keepalive", "unknown key"));
}

TEST(Config, TcpOutOfRange_RejectedAtPath) {
  const std::pair<const char*, const char*> bad[] = {
      {R"("tcp": {"max_connections": 1})", "$.tcp.max_connections"},
      {R"("tcp": {"mss": 100})", "$.tcp.mss"},
      {R"("tcp": {"snd_buf": 100})", "$.tcp.snd_buf"},
      {R"("tcp": {"rcv_buf": 1e9})", "$.tcp.rcv_buf"},
      {R"("tcp": {"delayed_ack_ms": 501})", "$.tcp.delayed_ack_ms"},
      {R"("tcp": {"rto_min_ms": 0})", "$.tcp.rto_min_ms"},
      {R"("tcp": {"max_retries": 0})", "$.tcp.max_retries"},
      {R"("tcp": {"syn_retries": 51})", "$.tcp.syn_retries"},
      {R"("tcp": {"initial_cwnd": 0})", "$.tcp.initial_cwnd"},
      {R"("tcp": {"backlog": 0})", "$.tcp.backlog"},
      {R"("tcp": {"ephemeral_first": 0})", "$.tcp.ephemeral_first"},
      {R"("tcp": {"window_scaling": "yes"})", "$.tcp.window_scaling"},
      {R"("tcp": {"nodelay": 1})", "$.tcp.nodelay"},
  };
  for (const auto& [text, path] : bad) EXPECT_TRUE(RejectedAt(with(text), path)) << text;
}

TEST(Config, TcpUnknownCongestionControl_RejectedListingKnown) {
  EXPECT_TRUE(RejectedWith(with(R"("tcp": {"congestion_control": "cubic"})"), "$.tcp.congestion_control",
                           "expected one of newreno, got \"cubic\""));
}

TEST(Config, TcpRtoMinAboveMax_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("tcp": {"rto_min_ms": 5000, "rto_max_ms": 1000})"), "$.tcp.rto_min_ms",
                           "expected rto_min_ms (5000) <= rto_max_ms (1000)"));
  EXPECT_TRUE(RejectedWith(with(R"("tcp": {"rto_max_ms": 100})"), "$.tcp.rto_max_ms",
                           "expected rto_min_ms (200) <= rto_max_ms (100)"));
}

TEST(Config, TcpEphemeralUpsideDown_RejectedAtPath) {
  EXPECT_TRUE(RejectedWith(with(R"("tcp": {"ephemeral_first": 60000, "ephemeral_last": 50000})"),
                           "$.tcp.ephemeral_first", "expected ephemeral_first (60000) <= ephemeral_last (50000)"));
}

TEST(Config, TwoTcpServicesOnOnePort_RejectedNamingBoth) {
  EXPECT_TRUE(RejectedWith(with(R"("services": {"tcp_echo": {"enabled": true, "port": 80},
                                                "http": {"enabled": true}})"),
                           "$.services.tcp_echo.port",
                           "expected a TCP port no other enabled service listens on, got 80, also the port of "
                           "$.services.http.port (the default)"));
}

}  // namespace
}  // namespace dpdkstack

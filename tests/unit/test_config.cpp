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
  EXPECT_EQ(c.logging.level, "info");
}

TEST(Config, EmptySections_TakeDefaults) {
  auto r = parse_config(with(R"("arp": {"static": []}, "logging": {})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->arp.entry_timeout_s, 300u);
  EXPECT_TRUE(r->arp.statics.empty());
  EXPECT_EQ(r->logging.level, "info");
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
  EXPECT_NE(error_of(text).find("unknown key"), std::string::npos) << error_of(text);
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

}  // namespace
}  // namespace dpdkstack

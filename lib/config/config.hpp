// The stack's configuration: one JSON document (stack.json).
//
// Contract: load_config/parse_config turn text into a fully validated Config
// or an Error whose message begins with the JSON path of the offending value
// ("$.ports[0].mtu: expected an integer in 68..9216, got 70000"). Unknown
// keys, wrong types and out-of-range values are all errors; every key and
// its default is listed in docs/CONFIG.md. The app exits with status 2 on
// any such error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"

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

struct LoggingConfig {
  std::string level = "info";  // emerg alert crit error warning notice info debug
};

struct Config {
  std::vector<PortConfig> ports;
  ArpConfig arp;
  LoggingConfig logging;
};

Result<Config> parse_config(std::string_view json_text);
Result<Config> load_config(const std::string& path);

// RTE_LOG_* level for a logging.level name (validated at parse time).
uint32_t log_level_value(std::string_view name);
// Whether `name` is one of the logging.level names.
bool valid_log_level(std::string_view name);

}  // namespace dpdkstack

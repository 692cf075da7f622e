// The built-in iperf3 server (iperf3's own control protocol over TCP), so
// that the stock `iperf3 -c` client measures the stack: the 37-byte cookie,
// the state bytes, the JSON parameter exchange, TCP data streams (forward,
// reverse with -R, parallel with -P), and the JSON results exchange.
// One listener on every engine; a test (control connection and its data
// streams) lives on the engine that accepted its control connection, and
// data streams that RSS puts on another engine are served there.
#pragma once

#include <cstdint>

#include "config/config.hpp"
#include "core/result.hpp"

namespace dpdkstack {

class Stack;

Status start_iperf3_service(Stack& stack, uint16_t port, const TcpConfig& tcp);

}  // namespace dpdkstack

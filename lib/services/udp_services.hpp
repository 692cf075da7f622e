// The built-in UDP services: echo (RFC 862) and discard (RFC 863).
//
// Contract: start_udp_services() opens, on every engine, one wildcard
// socket per service that `cfg` enables (every address of every port, on
// the configured port), named "udp-echo" and "udp-discard" in `show udp`.
// Call it after Stack::create and before Stack::run. The services are
// ordinary applications of the UDP API (runtime/udp.hpp) and use nothing
// else:
// - echo sends every datagram's payload back to its sender from the address
//   it was sent to with Udp::echo: the received mbuf, no copy, and the
//   request's checksum (valid for the reply), so the payload is not summed
//   again. It does not answer
//   source port 0 (nowhere to answer) nor the ports of services that answer
//   themselves (7 echo, 13 daytime, 19 chargen, 37 time), which would make a
//   loop between two servers (FreeBSD inetd's check_loop); those are
//   counted as app drops. A reply the TX path refuses is counted by the
//   socket (tx_full / tx_refused) and lost, as UDP allows.
// - discard counts and frees.
// Returns an error naming the config path when a socket cannot be opened.
#pragma once

#include "config/config.hpp"
#include "core/result.hpp"

namespace dpdkstack {

class Stack;

Status start_udp_services(Stack& stack, const ServicesConfig& cfg);

}  // namespace dpdkstack

// The built-in TCP services, ordinary applications of the TCP API
// (runtime/tcp.hpp), one listener per service on every engine:
//
// - echo (RFC 862): every byte back; when the peer has sent FIN and all of
//   it has been echoed, close (so `nc -N` ends cleanly). Reading stops while
//   the send buffer is full (flow control end to end).
// - discard (RFC 863): read and drop; close after the peer's FIN.
// - chargen (RFC 864): lines of 72 printable ASCII characters (the 95
//   characters from ' ' to '~', each line starting one further), CRLF,
//   written as fast as the peer takes them; input is discarded.
// - http (HTTP/1.1, RFC 9112 subset): GET and HEAD. `/` answers a small
//   HTML page; `/bytes/N` (0 <= N <= 2^40) answers N bytes: byte i is
//   kHttpPattern[i % 64] (see below), streamed as the window allows.
//   Keep-alive by default on HTTP/1.1 (HTTP/1.0: close unless
//   "Connection: keep-alive"), "Connection: close" honoured, pipelined
//   requests answered in order, correct Content-Length. A request line or
//   header that cannot be parsed, or a head over 16 KiB: 400 and close;
//   an unknown path: 404; another method: 405 with "Allow: GET, HEAD".
// - iperf3 (services/iperf3.hpp): the iperf3 control protocol, TCP tests.
//
// start_tcp_services() opens them (after Stack::create, before run);
// errors name the config path.
#pragma once

#include <cstddef>
#include <string_view>

#include "config/config.hpp"
#include "core/result.hpp"
#include "runtime/tcp.hpp"

namespace dpdkstack {

class Stack;

// The /bytes/N body pattern: 64 bytes, repeated.
inline constexpr std::string_view kHttpPattern =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+\n";

Status start_tcp_services(Stack& stack, const ServicesConfig& services, const TcpConfig& tcp);

// Sends back what connection `h` has to read, as far as its send buffer
// takes it (reading in place; what does not fit stays unread, so the
// window closes: flow control end to end). Returns the bytes echoed.
size_t tcp_echo_readable(Tcp& tcp, TcpHandle h);

}  // namespace dpdkstack

// The built-in iperf3 server: iperf3's own control protocol over TCP, so
// that the stock `iperf3 -c` client (3.x; checked with 3.12) measures the
// stack. An ordinary application of the TCP API (runtime/tcp.hpp).
//
// Contract:
// - One listener on `port` on every engine. Each accepted connection first
//   sends the test's 37-byte cookie (36 characters and a NUL); what follows
//   decides whether it is a control connection (a new test) or a data
//   stream of the test whose cookie it carries.
// - The control protocol, one signed state byte at a time (iperf_api.h):
//   PARAM_EXCHANGE(9) and the client's parameters (4-byte big-endian
//   length, JSON), CREATE_STREAMS(10) and `parallel` data connections
//   (twice that with --bidir), TEST_START(1) and TEST_RUNNING(2), data,
//   the client's TEST_END(4), EXCHANGE_RESULTS(13), the client's results
//   JSON, ours (cpu_util_*, sender_has_retransmits, congestion_used,
//   "streams": id, bytes, retransmits, jitter, errors, packets, start_time,
//   end_time; "server_output_json" with --get-server-output),
//   DISPLAY_RESULTS(14), the client's IPERF_DONE(16). Stream ids follow
//   iperf3's own numbering (1, 3, 4, 5, ... in the order the streams come).
// - Directions: forward (the client sends; received bytes are consumed in
//   place, never copied), reverse (-R: we send as fast as the window
//   allows, stopping at -n bytes or -k blocks when given) and --bidir. -t,
//   -n, -k, -O (omit: counters restart at the first event after the omit
//   time), -P up to 128, -l, -N (nodelay on the data streams) are honoured.
//   Not honoured (accepted and ignored): -b in reverse (no pacing: the
//   service has no timer of its own), -w, -M, -C, -S, -Z, -F.
// - Counting: like iperf3, a receiving stream counts what it read by
//   TEST_END; unlike it, bytes still in flight then are counted too: when
//   there is no omit time, the results wait until each receiving stream has
//   read as many bytes as the client's results say it sent (or the stream
//   closed), so that a forward test's receiver figure equals the sender's;
//   that stream's end_time is then its last byte's arrival. A sending stream
//   counts the bytes the send buffer took; at TEST_END it is closed (FIN
//   after what is queued) as iperf3 does. Times come from the TSC;
//   cpu_util_* from getrusage(RUSAGE_THREAD) of the engine's lcore, which
//   busy-polls (so close to 100%).
// - One test at a time, stack-wide, like `iperf3 -s`: a client that comes
//   while a test runs is answered ACCESS_DENIED(-1) ("the server is busy").
//   A test with no event on any of its connections for 60 s is stale: the
//   next client replaces it (a client that vanished without FIN or RST).
// - Errors the client reports cleanly (SERVER_ERROR(-2), then i_errno and
//   errno as two 4-byte big-endian integers): UDP tests (-u) and SCTP are
//   not served (i_errno IEUNIMP: "an option you are trying to set is not
//   implemented yet"; IENOSCTP), nor parameters that do not parse or are
//   out of range. CLIENT_TERMINATE(12) (the client interrupted), a
//   control connection that closes or resets, or an unknown state byte end
//   the test: every connection of it is aborted.
// - Engines: a test lives on the engine that accepted its control
//   connection. Partial: with several engines, a data stream that RSS puts
//   on another engine is not served there: it is answered ACCESS_DENIED and
//   the test fails with SERVER_ERROR (IESTREAMCONNECT) at its next event on
//   its own engine (a client that then waits silently for TEST_START has to
//   be interrupted). The engines share one small table of running tests
//   (a mutex, taken when a connection's cookie is complete and when a test
//   starts or ends, never per packet).
// - Each test ends with one log line (rte_log, USER1, INFO):
//   "iperf3: test from A:P done: ... received N bytes, sent M bytes ...".
#pragma once

#include <cstdint>

#include "config/config.hpp"
#include "core/result.hpp"

namespace dpdkstack {

class Stack;

// Opens the listeners (after Stack::create, before run); an error names
// what failed (the caller prefixes the config path).
Status start_iperf3_service(Stack& stack, uint16_t port, const TcpConfig& tcp);

}  // namespace dpdkstack

// TCP on one engine (RFC 9293), and the application API for it.
//
// Contract:
// - Per lcore, like runtime/udp.hpp: each Engine owns one Tcp
//   (`engine.tcp()`): a connection table keyed by 4-tuple (rte_hash), the
//   listeners, a timer wheel, and the input and output paths around the
//   sans-I/O connections of tcp/connection.hpp. Every call below is made on
//   that engine's lcore (from a handler, through Engine::call, or before the
//   stack runs); none takes a lock.
// - Connections live on the lcore that receives their packets (RSS). A
//   server listens on every engine (the built-in services do); an active
//   open picks a local port whose return traffic the port's RSS brings back
//   to the calling engine (F-Stack's ff_rss_check idea).
// - Handlers (std::function) run on the engine's lcore, inside its loop:
//   on_connected (an active open completed), on_readable (data, or the
//   peer's FIN: recv() then returns 0 and at_eof() is true), on_writable
//   (send space freed after a send() that could not take everything),
//   on_closed (the connection is gone: reset, timed out, refused, or an
//   orderly end the application had not closed itself; what is left to read
//   can still be read inside the handler; the handle is invalid after it).
// - A listener queues established connections (at most `backlog`; at most
//   `syn_backlog` half-open ones; beyond, SYNs are dropped and counted) and
//   calls on_acceptable; accept() takes one, whose handlers the application
//   then sets with set_handlers() (data that arrived meanwhile is signalled
//   at once).
// - send() copies into the connection's send buffer and returns how much it
//   took (0 when full: wait for on_writable); recv() copies out; read_spans()
//   and consume() read in place. shutdown() sends FIN after the queued data
//   (half-close); close() lets go (FIN, or RST when unread data remains);
//   abort() sends RST. After close()/abort() the handle is invalid and no
//   handler runs for it again; the connection finishes on its own
//   (FIN-WAIT, TIME-WAIT) inside the table.
// - Segments are sent at the end of each loop iteration (flush), all
//   connections touched since the last one, each as far as its windows
//   allow and the egress port's TX backlog has room (what does not fit
//   waits for the next loop). The ACKs a burst of received segments owes are
//   thus coalesced into one per connection per burst (at most 32 segments),
//   as Linux's GRO does for its receive batches: RFC 5681's "at least every
//   second full-sized segment" is kept per burst, not per segment (senders
//   count bytes acknowledged, RFC 3465, so stretch ACKs do not slow them).
// - Receive checks, each failure its own drop reason: header (tcp_truncated,
//   tcp_bad_offset), checksum (tcp_bad_checksum; the NIC's verdict when
//   offered), options (tcp_bad_options), flags (tcp_bad_flags: SYN+FIN,
//   SYN+RST), broadcast destinations (tcp_broadcast). A segment for no
//   connection and no listener is answered with RST (RFC 9293 3.10.7.1)
//   unless it is one (tcp_no_socket).
#pragma once

#include <rte_hash.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/types.hpp"
#include "tcp/connection.hpp"
#include "tcp/isn.hpp"
#include "tcp/timer_wheel.hpp"
#include "udp/socket_table.hpp"

namespace dpdkstack {

class Engine;
struct IcmpErrorInfo;

using TcpEndpoint = UdpEndpoint;  // address (0.0.0.0: any of ours) and port
using TcpHandle = uint64_t;       // generation << 32 | slot; 0 is never a handle
using TcpListener = uint32_t;     // listener index + 1; 0 is never a listener
inline constexpr TcpHandle kNoTcp = 0;
inline constexpr TcpListener kNoListener = 0;

enum class TcpStatus : uint8_t {
  kOk,
  kBadHandle,        // not a connection (or listener) of this engine the application holds
  kInvalid,          // a zero address or port where one is needed
  kNotLocal,         // the local address is not one of ours
  kAddressInUse,     // listen(): the endpoint is taken
  kNoEphemeralPort,  // connect(): no free local port returns to this engine
  kTableFull,        // tcp.max_connections reached on this engine
  kNoRoute,          // connect(): no route to the destination
  kNoMemory,         // connection buffers could not be allocated
  kNotConnected,     // the connection cannot send (not established, or shut down)
};
const char* tcp_status_name(TcpStatus s);

struct TcpHandlers {
  std::function<void(TcpHandle)> on_connected;
  std::function<void(TcpHandle)> on_readable;
  std::function<void(TcpHandle)> on_writable;
  std::function<void(TcpHandle, tcp::CloseReason)> on_closed;
};

struct TcpListenOptions {
  std::string name;              // shown by `show tcp`
  uint32_t backlog = 128;        // established connections waiting for accept()
  uint32_t syn_backlog = 1024;   // half-open connections
  uint32_t snd_buf = 0;          // accepted connections' buffers, bytes (4096..64 MiB); 0: $.tcp's
  uint32_t rcv_buf = 0;
  std::function<void(TcpListener)> on_acceptable;
};

struct TcpConnectOptions {
  std::string name;
  Ipv4Addr local_addr;        // 0.0.0.0: the egress port's address
  uint16_t local_port = 0;    // 0: an ephemeral port that RSS brings back here
  uint32_t timeout_ms = 0;    // 0: the SYN retry limit decides
  uint32_t snd_buf = 0;       // this connection's buffers, bytes (4096..64 MiB); 0: $.tcp's
  uint32_t rcv_buf = 0;
};

struct TcpListenResult {
  TcpStatus status = TcpStatus::kOk;
  TcpListener listener = kNoListener;
  explicit operator bool() const { return status == TcpStatus::kOk; }
};

struct TcpConnectResult {
  TcpStatus status = TcpStatus::kOk;
  TcpHandle handle = kNoTcp;
  explicit operator bool() const { return status == TcpStatus::kOk; }
};

// One connection as `show tcp` lists it.
struct TcpConnSnapshot {
  unsigned engine = 0;
  std::string name;
  tcp::ConnectionInfo info;
  bool accepted = false;  // the application holds it
};
struct TcpListenerSnapshot {
  unsigned engine = 0;
  std::string name;
  TcpEndpoint local;
  uint32_t queued = 0, half_open = 0, backlog = 0;
  uint64_t accepted = 0, overflows = 0;
};

class Tcp {
 public:
  Tcp(Engine& engine, const TcpConfig& cfg, uint64_t isn_k0, uint64_t isn_k1);
  ~Tcp();
  Tcp(const Tcp&) = delete;
  Tcp& operator=(const Tcp&) = delete;
  // The connection table's memory (rte_hash); before the engine runs.
  Status init(unsigned engine_index, int socket);

  TcpListenResult listen(TcpEndpoint local, TcpListenOptions opts);
  TcpStatus close_listener(TcpListener l);
  // The next established connection of the listener; kNoTcp when none waits.
  TcpHandle accept(TcpListener l);
  TcpConnectResult connect(TcpEndpoint remote, TcpHandlers handlers, TcpConnectOptions opts = {});
  TcpStatus set_handlers(TcpHandle h, TcpHandlers handlers);

  size_t send(TcpHandle h, const void* data, size_t len);
  size_t recv(TcpHandle h, void* out, size_t len);
  std::array<tcp::ByteRing::Span, 2> read_spans(TcpHandle h) const;
  void consume(TcpHandle h, size_t n);
  size_t readable(TcpHandle h) const;
  size_t send_space(TcpHandle h) const;
  bool at_eof(TcpHandle h) const;
  TcpStatus shutdown(TcpHandle h);
  TcpStatus close(TcpHandle h);
  TcpStatus abort(TcpHandle h);
  TcpStatus set_nodelay(TcpHandle h, bool on);
  const tcp::Connection* connection(TcpHandle h) const;
  // The endpoints of a connection the application holds.
  bool endpoints(TcpHandle h, TcpEndpoint& local, TcpEndpoint& remote) const;

  size_t size() const { return live_; }
  void snapshot(std::vector<TcpConnSnapshot>& conns, std::vector<TcpListenerSnapshot>& listeners,
                unsigned engine_index) const;

  // The engine's side (not for applications).
  // `steered`: another engine found no connection for it and handed it
  // over (it is not handed on again).
  void input(uint16_t port, rte_mbuf* m, uint32_t off, uint32_t len, Ipv4Addr src, Ipv4Addr dst, bool to_broadcast,
             bool steered = false);
  void icmp_error(const IcmpErrorInfo& e);
  void run_timers();
  void flush();
  // Connections (and listeners) closed at shutdown, without sending.
  void clear();

 private:
  struct FlowKey {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
  };
  struct Slot {
    std::unique_ptr<tcp::Connection> conn;
    uint32_t gen = 1;  // never 0: slot 0 with generation 0 would be kNoTcp
    bool used = false;
    bool app = false;         // the application holds it (active open, or accepted)
    bool queued = false;      // established, in its listener's accept queue
    bool dirty = false;       // on the flush list
    bool in_dispatch = false;
    bool half_open = false;   // counted in its listener's half_open
    uint8_t pending = 0;      // events not yet delivered
    uint32_t listener = 0;    // TcpListener it came from (passive), 0 for active
    uint64_t wheel_deadline = 0;
    uint64_t connect_deadline = 0;
    std::string name;
    TcpHandlers handlers;
  };
  struct Listener {
    bool used = false;
    TcpEndpoint local;
    TcpListenOptions opts;
    std::vector<uint32_t> queue;  // slots, oldest first
    uint32_t half_open = 0;
    uint64_t accepted = 0, overflows = 0;
  };

  Slot* slot_of(TcpHandle h);
  const Slot* slot_of(TcpHandle h) const;
  TcpHandle handle_of(uint32_t idx) const { return (uint64_t{slots_[idx].gen} << 32) | idx; }
  int32_t alloc_slot();
  void free_slot(uint32_t idx);
  Listener* find_listener(Ipv4Addr dst, uint16_t port);
  bool flow_add(const tcp::Tuple& t, uint32_t idx);
  void flow_del(const tcp::Tuple& t);
  int32_t flow_lookup(const tcp::Tuple& t) const;
  // The connection's settings: $.tcp, the MSS for the route to `remote`,
  // and the buffer sizes asked for (0: $.tcp's; clamped to 4096..64 MiB).
  tcp::Settings settings_for(Ipv4Addr remote, uint32_t snd_buf = 0, uint32_t rcv_buf = 0) const;
  uint64_t now_us() const;
  // After the connection in `idx` changed: events delivered, timers filed,
  // put on the flush list, released when done.
  void after(uint32_t idx);
  void deliver(uint32_t idx);
  void mark_dirty(uint32_t idx);
  void schedule(uint32_t idx);
  void transmit(uint32_t idx);
  bool emit(const tcp::Tuple& t, const tcp::OutSegment& seg, const tcp::Connection* c);
  void send_reset(const tcp::Tuple& t, uint32_t seq, uint32_t ack, uint8_t flags);
  void listen_input(Listener& l, const tcp::Tuple& t, const tcp::Segment& seg);
  bool pick_port(Ipv4Addr laddr, Ipv4Addr raddr, uint16_t rport, uint16_t& out);
  // A segment no connection here matched goes to the engine RSS makes its
  // owner, when that is another (true: handed over).
  bool steer(uint16_t port, rte_mbuf* m, const tcp::Tuple& t);

  Engine& engine_;
  TcpConfig cfg_;
  tcp::IsnGenerator isn_;
  rte_hash* flows_ = nullptr;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
  std::vector<Listener> listeners_;
  std::unordered_map<uint16_t, std::vector<uint32_t>> listen_ports_;  // port -> listener indices
  std::vector<uint32_t> dirty_;
  std::deque<uint32_t> time_wait_;  // slots in TIME-WAIT, oldest first (recycled when the table is full)
  tcp::TimerWheel wheel_;
  uint64_t tsc_per_us_ = 1;
  uint16_t ephemeral_next_ = 0;
  std::vector<uint8_t> scratch_;     // a chained (reassembled) segment's payload, made contiguous
  unsigned engine_index_ = 0;
};

}  // namespace dpdkstack

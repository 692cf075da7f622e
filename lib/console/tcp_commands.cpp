// The console's TCP commands: show tcp, show tcp stats, and the stack as a
// TCP client (tcp connect/send/recv/close/abort/list). See docs/CONSOLE.md.
//
// A connection the console opens lives on engine 0 (or the engine RSS
// brings its answers to) and is an ordinary
// client of the TCP API; its record (ConsoleTcpConn) is written by the
// handlers on the engine's lcore and read by the console only through
// Engine::call, which runs on that lcore too: no locks, no races.
#include <rte_cycles.h>

#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <thread>

#include "console/console.hpp"
#include "console/format.h"
#include "runtime/stack.hpp"
#include "services/tcp_services.hpp"

namespace dpdkstack {

namespace {

std::string endpoint(Ipv4Addr a, uint16_t p) { return a.to_string() + ":" + std::to_string(p); }

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 15) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

constexpr size_t kTextKeep = 64 * 1024;

}  // namespace

// One connection opened from the console.
struct ConsoleTcpConn {
  unsigned id = 0;
  unsigned engine = 0;  // where the connection lives
  TcpHandle handle = kNoTcp;
  std::string target;
  std::string mode;          // text, echo, discard, send
  uint64_t to_send = 0;      // send mode: bytes of the /bytes/N pattern still to queue
  uint64_t sent_total = 0;   // bytes queued for sending
  uint64_t received = 0;     // bytes read
  std::string text;          // text mode: what came, not yet shown (at most kTextKeep)
  bool connected = false, peer_closed = false, closed = false, local_closed = false;
  std::string reason;
};

namespace {

void pump(Tcp& tcp, ConsoleTcpConn& c) {
  TcpHandle h = c.handle;
  if (c.closed || c.local_closed) return;
  if (c.mode == "echo") {
    size_t n = tcp_echo_readable(tcp, h);
    c.received += n;
    c.sent_total += n;
  } else {
    for (;;) {
      auto spans = tcp.read_spans(h);
      if (spans[0].len == 0) break;
      size_t n = spans[0].len;
      if (c.mode == "text" && c.text.size() < kTextKeep)
        c.text.append(reinterpret_cast<const char*>(spans[0].data), std::min(n, kTextKeep - c.text.size()));
      c.received += n;
      tcp.consume(h, n);
    }
  }
  if (c.mode == "send") {
    const std::string_view pat = kHttpPattern;
    while (c.to_send != 0) {
      size_t at = static_cast<size_t>(c.sent_total % pat.size());
      char buf[4096];
      size_t want = static_cast<size_t>(std::min<uint64_t>(c.to_send, sizeof buf));
      for (size_t i = 0; i < want; ++i) buf[i] = pat[(at + i) % pat.size()];
      size_t n = tcp.send(h, buf, want);
      c.to_send -= n;
      c.sent_total += n;
      if (n < want) break;
    }
    if (c.to_send == 0) {  // all queued: FIN after it
      tcp.shutdown(h);
      if (tcp.at_eof(h)) {
        c.local_closed = true;
        tcp.close(h);
        return;
      }
    }
  }
  if (tcp.at_eof(h)) {
    c.peer_closed = true;
    if (c.mode == "echo" || c.mode == "discard") {  // the peer is done and so are we
      c.local_closed = true;
      tcp.close(h);
    }
  }
}

}  // namespace

std::string Console::show_tcp() {
  bool complete = true;
  auto st = stack_.tcp_state(&complete);
  const LcoreCounters sum = stack_.total_counters();
  size_t tw = 0;
  for (const auto& c : st.connections) tw += c.info.state == tcp::kTimeWait;
  std::string out;
  appendf(out, "  TCP: %zu connections (%zu in TIME-WAIT), CurrEstab %" PRIu64 ", %zu listeners\n",
          st.connections.size(), tw, sum.tcp_curr_estab, st.listeners.size());
  if (!st.listeners.empty()) {
    appendf(out, "  %-3s %-21s %-14s %7s %9s %8s %10s %10s\n", "Eng", "Listening", "Name", "Queued", "HalfOpen",
            "Backlog", "Accepted", "Overflows");
    for (const auto& l : st.listeners)
      appendf(out, "  %-3u %-21s %-14s %7u %9u %8u %10" PRIu64 " %10" PRIu64 "\n", l.engine,
              endpoint(l.local.addr, l.local.port).c_str(), l.name.c_str(), l.queued, l.half_open, l.backlog,
              l.accepted, l.overflows);
  }
  if (!st.connections.empty())
    appendf(out, "  %-3s %-12s %-21s %-21s %s\n", "Eng", "State", "Local", "Remote", "Name");
  for (const auto& c : st.connections) {
    const auto& i = c.info;
    appendf(out, "  %-3u %-12s %-21s %-21s %s\n", c.engine, std::string(tcp::state_name(i.state)).c_str(),
            endpoint(i.tuple.laddr, i.tuple.lport).c_str(), endpoint(i.tuple.raddr, i.tuple.rport).c_str(),
            c.name.empty() ? (c.accepted ? "-" : "(not accepted)") : c.name.c_str());
    // Sequence numbers relative to the ISN/IRS, as ss and Wireshark show them.
    appendf(out,
            "      snd_una %u snd_nxt %u rcv_nxt %u snd_wnd %u rcv_wnd %u wscale %s%u,%u mss %u peer_mss %u%s%s\n",
            i.snd_una - i.iss, i.snd_nxt - i.iss, i.rcv_nxt - i.irs, i.snd_wnd, i.rcv_wnd, i.wscale_ok ? "" : "off ",
            i.snd_wscale, i.rcv_wscale, i.mss, i.peer_mss, i.ts_ok ? " ts" : "", i.sack_ok ? " sack" : "");
    appendf(out,
            "      cwnd %u ssthresh %u srtt %.3fms rttvar %.3fms rto %.0fms retrans %u/%u bytes_in %" PRIu64
            " bytes_out %" PRIu64 " segs_in %" PRIu64 " segs_out %" PRIu64 " queued snd %zu rcv %zu ooo %zu%s%s\n",
            i.cwnd, i.ssthresh, static_cast<double>(i.srtt_us) / 1000.0, static_cast<double>(i.rttvar_us) / 1000.0,
            static_cast<double>(i.rto_us) / 1000.0, i.retries, i.retransmits, i.bytes_in, i.bytes_out, i.segs_in,
            i.segs_out, i.snd_queued, i.rcv_queued, i.ooo_bytes, i.in_recovery ? " recovery" : "",
            i.persist ? " persist" : "");
  }
  if (!complete) appendf(out, "  (an engine did not answer: its connections are missing)\n");
  return out;
}

std::string Console::show_tcp_stats() {
  const LcoreCounters s = stack_.total_counters();
  std::string out;
  appendf(out, "  RFC 4022 MIB:\n");
  for (const auto& [name, v] : tcp_mib(s)) appendf(out, "    %-14s %" PRIu64 "\n", name, v);
  appendf(out, "  Events:\n");
#define X(name, text)                                                           \
  if (std::string_view(#name).substr(0, 4) == "tcp_" && s.name != 0)           \
    appendf(out, "    %-22s %-12" PRIu64 " %s\n", #name, s.name, text);
  DPDKSTACK_COUNTERS(X)
#undef X
  appendf(out, "  Drops:\n");
  for (size_t r = 0; r < kDropReasonCount; ++r) {
    auto name = drop_reason_name(static_cast<DropReason>(r));
    if (name.substr(0, 4) != "tcp_") continue;
    appendf(out, "    %-22s %" PRIu64 "\n", std::string(name).c_str(), s.drops[r]);
  }
  return out;
}

// tcp connect <ip> <port> [text|echo|discard|send <bytes>] | tcp send <id> <text> |
// tcp recv <id> | tcp close <id> | tcp abort <id> | tcp list
std::string Console::tcp_command(const std::vector<std::string>& w, std::string_view line) {
  const char* usage =
      "Usage: tcp connect <ip> <port> [text|echo|discard|send <bytes>] | tcp send <id> <text> | tcp recv <id> |\n"
      "       tcp close <id> | tcp abort <id> | tcp list\n";
  if (w.size() < 2) return usage;
  // Runs `fn(tcp, conn)` on the connection's engine and waits for it.
  auto on_engine = [&](const std::shared_ptr<ConsoleTcpConn>& c, std::function<void(Tcp&, ConsoleTcpConn&)> fn) {
    return stack_.engines()[c->engine]->call([c, fn](Engine& en) { fn(en.tcp(), *c); });
  };
  auto find = [&](const std::string& id) -> std::shared_ptr<ConsoleTcpConn> {
    uint64_t n = 0;
    if (!parse_u64(id, n)) return nullptr;
    for (auto& c : tcp_conns_)
      if (c->id == n) return c;
    return nullptr;
  };
  if (w[1] == "connect") {
    if (w.size() < 4) return usage;
    auto ip = Ipv4Addr::parse(w[2]);
    uint64_t port = 0;
    if (!ip || !parse_u64(w[3], port) || port == 0 || port > 65535) return usage;
    auto c = std::make_shared<ConsoleTcpConn>();
    c->mode = w.size() >= 5 ? w[4] : "text";
    if (c->mode == "send") {
      if (w.size() != 6 || !parse_u64(w[5], c->to_send)) return usage;
    } else if ((c->mode != "text" && c->mode != "echo" && c->mode != "discard") || w.size() != (w.size() >= 5 ? 5u : 4u)) {
      return usage;
    }
    c->id = next_tcp_id_++;
    c->target = endpoint(*ip, static_cast<uint16_t>(port));
    TcpStatus status = TcpStatus::kOk;
    TcpEndpoint remote{*ip, static_cast<uint16_t>(port)};
    // The handlers hold the record (a shared_ptr): it outlives the console's list if need be.
    // Engine 0 first; when RSS brings no local port of this peer back to it
    // (a hash over addresses only), the engine it does bring them to.
    auto open_on = [&](Engine& target) {
    target.call([c, remote, &status](Engine& en) {
      Tcp& tcp = en.tcp();
      TcpHandlers hs;
      hs.on_connected = [&tcp, c](TcpHandle) {
        c->connected = true;
        pump(tcp, *c);
      };
      hs.on_readable = [&tcp, c](TcpHandle) { pump(tcp, *c); };
      hs.on_writable = [&tcp, c](TcpHandle) { pump(tcp, *c); };
      hs.on_closed = [&tcp, c](TcpHandle h, tcp::CloseReason why) {
        if (c->mode == "text") {  // what is left to read is still readable here
          for (const auto& sp : tcp.read_spans(h)) {
            c->received += sp.len;
            if (c->text.size() < kTextKeep)
              c->text.append(reinterpret_cast<const char*>(sp.data), std::min(sp.len, kTextKeep - c->text.size()));
          }
        }
        c->closed = true;
        c->reason = std::string(tcp::close_reason_name(why));
      };
      TcpConnectOptions o;
      o.name = "console-" + std::to_string(c->id);
      auto r = tcp.connect(remote, std::move(hs), o);
      status = r.status;
      c->handle = r.handle;
      c->engine = en.index();
    });
    };
    for (auto& candidate : stack_.engines()) {
      open_on(*candidate);
      if (status != TcpStatus::kNoEphemeralPort) break;
    }
    if (status != TcpStatus::kOk) return "tcp connect: " + std::string(tcp_status_name(status)) + "\n";
    tcp_conns_.push_back(c);
    // Wait (at most 3 s) for the handshake, keeping a single-lcore engine polling.
    uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc();
    bool connected = false, closed = false;
    std::string reason;
    while (rte_rdtsc() - start < 3 * hz) {
      on_engine(c, [&](Tcp&, ConsoleTcpConn& cc) {
        connected = cc.connected;
        closed = cc.closed;
        reason = cc.reason;
      });
      if (connected || closed) break;
      if (stack_.single_lcore()) stack_.engines()[c->engine]->poll_once();
      else std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (connected)
      return "Connection " + std::to_string(c->id) + " to " + c->target + " established (" + c->mode + ")\n";
    if (closed) return "Connection " + std::to_string(c->id) + " to " + c->target + " failed: " + reason + "\n";
    return "Connection " + std::to_string(c->id) + " to " + c->target + " still connecting (see tcp list)\n";
  }
  if (w[1] == "list" && w.size() == 2) {
    std::string out;
    appendf(out, "  %-4s %-21s %-8s %-12s %12s %12s  %s\n", "Id", "Remote", "Mode", "State", "Sent", "Received",
            "Note");
    for (auto& c : tcp_conns_) {
      ConsoleTcpConn copy;
      on_engine(c, [&copy](Tcp&, ConsoleTcpConn& cc) {
        copy = cc;
        copy.text.clear();
      });
      std::string state = copy.closed ? "closed" : copy.local_closed ? "closing" : copy.connected ? "established"
                                                                                                   : "connecting";
      appendf(out, "  %-4u %-21s %-8s %-12s %12" PRIu64 " %12" PRIu64 "  %s%s\n", copy.id, copy.target.c_str(),
              copy.mode.c_str(), state.c_str(), copy.sent_total, copy.received, copy.reason.c_str(),
              copy.peer_closed ? " (peer sent FIN)" : "");
    }
    return out;
  }
  if (w.size() < 3) return usage;
  auto c = find(w[2]);
  if (c == nullptr) return "No console connection " + w[2] + " (see tcp list)\n";
  std::string out;
  if (w[1] == "send") {
    // The text is the rest of the line after the id, sent with a newline.
    size_t at = line.find(w[2], line.find("send") + 4) + w[2].size();
    std::string text = at < line.size() ? std::string(line.substr(at)) : std::string();
    while (!text.empty() && text.front() == ' ') text.erase(0, 1);
    text += "\n";
    size_t sent = 0;
    bool ok = false;
    on_engine(c, [&](Tcp& tcp, ConsoleTcpConn& cc) {
      if (cc.closed || cc.local_closed) return;
      ok = true;
      sent = tcp.send(cc.handle, text.data(), text.size());
      cc.sent_total += sent;
    });
    if (!ok) return "Connection " + w[2] + " is closed\n";
    return "Sent " + std::to_string(sent) + " of " + std::to_string(text.size()) + " bytes\n";
  }
  if (w[1] == "recv" && w.size() == 3) {
    std::string text;
    bool closed = false, peer = false;
    on_engine(c, [&](Tcp&, ConsoleTcpConn& cc) {
      text = std::move(cc.text);
      cc.text.clear();
      closed = cc.closed;
      peer = cc.peer_closed;
    });
    out = text;
    if (!text.empty() && text.back() != '\n') out += "\n";
    if (peer || closed) out += "(the peer has closed its side)\n";
    return out;
  }
  if ((w[1] == "close" || w[1] == "abort") && w.size() == 3) {
    bool abort = w[1] == "abort";
    bool ok = false;
    on_engine(c, [&](Tcp& tcp, ConsoleTcpConn& cc) {
      if (cc.closed || cc.local_closed) return;
      ok = true;
      cc.local_closed = true;
      if (abort) tcp.abort(cc.handle);
      else tcp.close(cc.handle);
    });
    return ok ? "Connection " + w[2] + (abort ? " reset\n" : " closing\n") : "Connection " + w[2] + " is closed\n";
  }
  return usage;
}

}  // namespace dpdkstack

#include "services/tcp_services.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>

#include "runtime/engine.hpp"
#include "runtime/stack.hpp"
#include "services/iperf3.hpp"

namespace dpdkstack {

namespace {

// Accept everything the listener queued, giving each connection the
// handlers `make(tcp, handle)` returns.
template <typename Make>
TcpListenOptions accepting(Tcp& tcp, std::string name, const TcpConfig& cfg, Make make) {
  TcpListenOptions o;
  o.name = std::move(name);
  o.backlog = cfg.backlog;
  o.syn_backlog = cfg.syn_backlog;
  o.on_acceptable = [&tcp, make](TcpListener l) {
    for (TcpHandle h = tcp.accept(l); h != kNoTcp; h = tcp.accept(l)) tcp.set_handlers(h, make(tcp, h));
  };
  return o;
}

// ---- echo ------------------------------------------------------------------------------

void echo_pump(Tcp& tcp, TcpHandle h) {
  tcp_echo_readable(tcp, h);
  if (tcp.at_eof(h)) tcp.close(h);  // all echoed and the peer is done: FIN after the data
}

TcpHandlers echo_handlers(Tcp& tcp, TcpHandle) {
  TcpHandlers hs;
  hs.on_readable = [&tcp](TcpHandle h) { echo_pump(tcp, h); };
  hs.on_writable = [&tcp](TcpHandle h) { echo_pump(tcp, h); };
  return hs;
}

// ---- discard ---------------------------------------------------------------------------

TcpHandlers discard_handlers(Tcp& tcp, TcpHandle) {
  TcpHandlers hs;
  hs.on_readable = [&tcp](TcpHandle h) {
    tcp.consume(h, tcp.readable(h));
    if (tcp.at_eof(h)) tcp.close(h);
  };
  return hs;
}

// ---- chargen ---------------------------------------------------------------------------

// One full cycle of RFC 864's rotating lines: 95 lines of 72 characters and CRLF.
const std::string& chargen_cycle() {
  static const std::string cycle = [] {
    std::string s;
    for (int line = 0; line < 95; ++line) {
      for (int j = 0; j < 72; ++j) s.push_back(static_cast<char>(' ' + (line + j) % 95));
      s += "\r\n";
    }
    return s;
  }();
  return cycle;
}

TcpHandlers chargen_handlers(Tcp& tcp, TcpHandle) {
  auto pos = std::make_shared<size_t>(0);
  TcpHandlers hs;
  hs.on_writable = [&tcp, pos](TcpHandle h) {
    const std::string& c = chargen_cycle();
    for (;;) {
      size_t n = tcp.send(h, c.data() + *pos, c.size() - *pos);
      if (n == 0) break;
      *pos = (*pos + n) % c.size();
    }
  };
  hs.on_readable = [&tcp](TcpHandle h) {
    tcp.consume(h, tcp.readable(h));
    if (tcp.at_eof(h)) tcp.close(h);
  };
  return hs;
}

// ---- http ------------------------------------------------------------------------------

constexpr size_t kMaxHead = 16 * 1024;
constexpr uint64_t kMaxBytes = uint64_t{1} << 40;

const char kPage[] =
    "<!doctype html>\n<html><head><title>dpdk-stack</title></head>\n"
    "<body><h1>dpdk-stack</h1><p>A kernel-bypass TCP/IP stack on DPDK answered this page.</p>\n"
    "<p>Try <a href=\"/bytes/1000000\">/bytes/1000000</a>.</p></body></html>\n";

// kHttpPattern repeated, so that any offset has a long contiguous run.
const std::string& pattern_block() {
  static const std::string block = [] {
    std::string s;
    while (s.size() < 32 * 1024) s += kHttpPattern;
    return s;
  }();
  return block;
}

struct HttpConn {
  std::string in;         // request bytes not parsed yet
  std::string out;        // response bytes not sent yet (head, small bodies)
  uint64_t body_left = 0; // /bytes/N bytes still to send
  uint64_t body_pos = 0;
  uint64_t skip = 0;      // request body bytes to ignore
  bool close_after = false;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void respond(HttpConn& st, int code, std::string_view reason, std::string_view type, uint64_t length,
             std::string_view body, bool head_only, std::string_view extra = {}) {
  std::string h = "HTTP/1.1 " + std::to_string(code) + " " + std::string(reason) + "\r\nServer: dpdk-stack\r\n";
  if (!type.empty()) h += "Content-Type: " + std::string(type) + "\r\n";
  h += "Content-Length: " + std::to_string(length) + "\r\n";
  h += extra;
  h += st.close_after ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
  h += "\r\n";
  st.out += h;
  if (!head_only) st.out += body;
}

// Parses one request head [0, end) of st.in; queues the response.
void handle_request(HttpConn& st, std::string_view head) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  auto bad = [&] {
    st.close_after = true;
    respond(st, 400, "Bad Request", "text/plain", 12, "bad request\n", false);
  };
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return bad();
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (method.empty() || target.empty() || (version != "HTTP/1.1" && version != "HTTP/1.0")) return bad();
  bool http10 = version == "HTTP/1.0";
  bool keep = !http10, saw_close = false, saw_keep = false;
  uint64_t content_length = 0;
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    if (h.empty()) continue;
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0 || h.front() == ' ' || h.front() == '\t') return bad();
    std::string_view name = h.substr(0, colon), value = trim(h.substr(colon + 1));
    if (iequals(name, "connection")) {
      // A comma-separated token list (RFC 9110 7.6.1).
      while (!value.empty()) {
        size_t c = value.find(',');
        std::string_view tok = trim(value.substr(0, c));
        if (iequals(tok, "close")) saw_close = true;
        if (iequals(tok, "keep-alive")) saw_keep = true;
        value = c == std::string_view::npos ? std::string_view{} : value.substr(c + 1);
      }
    } else if (iequals(name, "content-length")) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), content_length);
      if (ec != std::errc() || p != value.data() + value.size()) return bad();
    } else if (iequals(name, "transfer-encoding")) {
      return bad();  // request bodies in chunks are not for this server
    }
  }
  if (saw_close) keep = false;
  else if (http10 && saw_keep) keep = true;
  st.close_after = !keep;
  st.skip = content_length;
  bool head_only = method == "HEAD";
  if (method != "GET" && !head_only) {
    respond(st, 405, "Method Not Allowed", "text/plain", 19, "method not allowed\n", false, "Allow: GET, HEAD\r\n");
    return;
  }
  if (target == "/" || target == "/index.html") {
    respond(st, 200, "OK", "text/html", sizeof kPage - 1, kPage, head_only);
    return;
  }
  constexpr std::string_view kBytes = "/bytes/";
  if (target.substr(0, kBytes.size()) == kBytes) {
    std::string_view num = target.substr(kBytes.size());
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (!num.empty() && ec == std::errc() && p == num.data() + num.size() && n <= kMaxBytes) {
      respond(st, 200, "OK", "application/octet-stream", n, {}, true);
      if (!head_only) {
        st.body_left = n;
        st.body_pos = 0;
      }
      return;
    }
  }
  respond(st, 404, "Not Found", "text/plain", 10, "not found\n", false);
}

void http_pump(Tcp& tcp, TcpHandle h, HttpConn& st) {
  for (int rounds = 0; rounds < 64; ++rounds) {
    // 1. What is queued for the client goes first.
    if (!st.out.empty()) {
      size_t n = tcp.send(h, st.out.data(), st.out.size());
      st.out.erase(0, n);
      if (!st.out.empty()) return;  // on_writable continues
    }
    if (st.body_left != 0) {
      const std::string& b = pattern_block();
      size_t at = static_cast<size_t>(st.body_pos % kHttpPattern.size());
      size_t want = static_cast<size_t>(std::min<uint64_t>(st.body_left, b.size() - at));
      size_t n = tcp.send(h, b.data() + at, want);
      st.body_left -= n;
      st.body_pos += n;
      if (n < want) return;
      continue;
    }
    if (st.close_after) {
      tcp.close(h);  // FIN once the response has gone
      return;
    }
    // 2. More request bytes.
    for (;;) {
      auto spans = tcp.read_spans(h);
      if (spans[0].len == 0) break;
      size_t take = spans[0].len;
      if (st.skip != 0) {
        size_t s = static_cast<size_t>(std::min<uint64_t>(st.skip, take));
        st.skip -= s;
        tcp.consume(h, s);
        continue;
      }
      take = std::min(take, kMaxHead + 4 - std::min(st.in.size(), kMaxHead + 4));
      if (take == 0) break;
      st.in.append(reinterpret_cast<const char*>(spans[0].data), take);
      tcp.consume(h, take);
    }
    // 3. A whole request head: answer it.
    size_t end = st.in.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (st.in.size() > kMaxHead) {
        st.close_after = true;
        respond(st, 400, "Bad Request", "text/plain", 12, "bad request\n", false);
        st.in.clear();
        continue;
      }
      if (tcp.at_eof(h)) tcp.close(h);  // the client is done
      return;
    }
    handle_request(st, std::string_view(st.in).substr(0, end));
    st.in.erase(0, end + 4);
    if (st.skip != 0) {  // a body that came with the head
      size_t s = static_cast<size_t>(std::min<uint64_t>(st.skip, st.in.size()));
      st.in.erase(0, s);
      st.skip -= s;
    }
  }
  // Many pipelined requests: continue at the next event.
}

TcpHandlers http_handlers(Tcp& tcp, TcpHandle) {
  auto st = std::make_shared<HttpConn>();
  TcpHandlers hs;
  hs.on_readable = [&tcp, st](TcpHandle h) { http_pump(tcp, h, *st); };
  hs.on_writable = [&tcp, st](TcpHandle h) { http_pump(tcp, h, *st); };
  return hs;
}

}  // namespace

size_t tcp_echo_readable(Tcp& tcp, TcpHandle h) {
  size_t total = 0;
  for (;;) {
    auto spans = tcp.read_spans(h);
    size_t space = tcp.send_space(h);
    if (spans[0].len == 0 || space == 0) break;
    size_t n = tcp.send(h, spans[0].data, std::min(spans[0].len, space));
    if (n == 0) break;
    tcp.consume(h, n);
    total += n;
  }
  return total;
}

Status start_tcp_services(Stack& stack, const ServicesConfig& cfg, const TcpConfig& tcp_cfg) {
  struct Service {
    const char* name;
    const char* path;
    const ServiceConfig& conf;
    TcpHandlers (*make)(Tcp&, TcpHandle);
  };
  const Service services[] = {
      {"tcp-echo", "$.services.tcp_echo", cfg.tcp_echo, echo_handlers},
      {"tcp-discard", "$.services.tcp_discard", cfg.tcp_discard, discard_handlers},
      {"tcp-chargen", "$.services.tcp_chargen", cfg.tcp_chargen, chargen_handlers},
      {"http", "$.services.http", cfg.http, http_handlers},
  };
  for (const auto& s : services) {
    if (!s.conf.enabled) continue;
    for (auto& e : stack.engines()) {
      TcpStatus st = TcpStatus::kOk;
      e->call([&](Engine& en) {
        Tcp& tcp = en.tcp();
        st = tcp.listen({Ipv4Addr{}, s.conf.port}, accepting(tcp, s.name, tcp_cfg, s.make)).status;
      });
      if (st != TcpStatus::kOk)
        return Error{std::string(s.path) + ".port: cannot listen on TCP port " + std::to_string(s.conf.port) + " (" +
                     tcp_status_name(st) + ")"};
    }
  }
  if (cfg.iperf3.enabled) {
    if (auto st = start_iperf3_service(stack, cfg.iperf3.port, tcp_cfg); !st)
      return Error{"$.services.iperf3.port: " + st.error().message};
  }
  return ok_status();
}

}  // namespace dpdkstack

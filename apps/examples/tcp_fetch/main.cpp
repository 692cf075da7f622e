// tcp-fetch: a complete TCP client on libdpdkstack.
//
// It connects from the stack to ADDR:PORT, sends TEXT (if given; "\r" and
// "\n" escapes are understood), then writes every byte the peer sends to
// standard output (or FILE) until the peer closes, and exits 0. A refused,
// reset or timed-out connection exits 1 with the reason.
//
//   tcp-fetch [EAL options] -- -c stack.json -a ADDR -p PORT [-s TEXT] [-o FILE] [--half-close]
//
// With --half-close it sends FIN after TEXT (shutdown: "I am done
// sending"), for servers that answer once the request ends, like nc or
// the echo service.
//
// The connection lives on one engine, and all its handlers run there: on
// the first engine whose RSS brings the answers back (Tcp::connect picks a
// local port for that; with a hash over addresses only, just one engine can
// own the flow, so each engine is tried in turn).
#include <getopt.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "console/console.hpp"
#include "runtime/eal.hpp"
#include "runtime/engine.hpp"
#include "runtime/stack.hpp"
#include "runtime/tcp.hpp"

using namespace dpdkstack;

namespace {

volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

// The client's state, used on its engine's lcore only (handlers run
// there); the main thread reads `done` and the totals after it is set.
struct Fetch {
  Tcp* tcp = nullptr;
  TcpHandle conn = kNoTcp;
  std::string request;
  size_t request_sent = 0;
  bool half_close = false;
  FILE* out = stdout;
  uint64_t received = 0;
  std::string failure;  // why it ended badly, if it did
  std::atomic<bool> done{false};
};

// Queue what is left of the request; send() takes what fits in the send
// buffer and on_writable brings us back for the rest.
void send_request(Fetch& f) {
  while (f.request_sent < f.request.size()) {
    size_t n = f.tcp->send(f.conn, f.request.data() + f.request_sent, f.request.size() - f.request_sent);
    if (n == 0) return;
    f.request_sent += n;
  }
  if (f.half_close) f.tcp->shutdown(f.conn);  // FIN after the request
}

// Everything readable, in place (read_spans: no copy), then released.
void drain(Fetch& f) {
  for (;;) {
    auto spans = f.tcp->read_spans(f.conn);
    if (spans[0].len == 0) break;
    size_t n = 0;
    for (const auto& s : spans) {
      std::fwrite(s.data, 1, s.len, f.out);
      n += s.len;
    }
    f.received += n;
    f.tcp->consume(f.conn, n);
  }
  if (f.tcp->at_eof(f.conn)) {  // the peer closed: we are done too
    f.tcp->close(f.conn);
    f.done = true;
  }
}

std::string unescape(const char* s) {
  std::string out;
  for (; *s != '\0'; ++s) {
    if (s[0] == '\\' && s[1] == 'r') out += '\r', ++s;
    else if (s[0] == '\\' && s[1] == 'n') out += '\n', ++s;
    else out += *s;
  }
  return out;
}

int usage(FILE* out, int status) {
  std::fprintf(out,
               "Usage: tcp-fetch [EAL options] -- -c stack.json -a ADDR -p PORT [-s TEXT] [-o FILE] [--half-close]\n");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // EAL arguments before "--", ours after it.
  std::vector<std::string> eal_args{argv[0]}, app_args{argv[0]};
  bool after = false;
  for (int i = 1; i < argc; ++i) {
    if (!after && std::string(argv[i]) == "--") after = true;
    else (after ? app_args : eal_args).emplace_back(argv[i]);
  }
  std::string config_path, out_path;
  auto fetch = std::make_unique<Fetch>();
  std::optional<Ipv4Addr> addr;
  long port = 0;
  std::vector<char*> av;
  for (auto& a : app_args) av.push_back(a.data());
  av.push_back(nullptr);
  static const option opts[] = {{"config", required_argument, nullptr, 'c'}, {"addr", required_argument, nullptr, 'a'},
                                {"port", required_argument, nullptr, 'p'},   {"send", required_argument, nullptr, 's'},
                                {"out", required_argument, nullptr, 'o'},    {"half-close", no_argument, nullptr, 'H'},
                                {"help", no_argument, nullptr, 'h'},         {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(static_cast<int>(av.size() - 1), av.data(), "c:a:p:s:o:Hh", opts, nullptr)) != -1;) {
    switch (c) {
      case 'c': config_path = optarg; break;
      case 'a': addr = Ipv4Addr::parse(optarg); break;
      case 'p': port = std::strtol(optarg, nullptr, 10); break;
      case 's': fetch->request = unescape(optarg); break;
      case 'o': out_path = optarg; break;
      case 'H': fetch->half_close = true; break;
      case 'h': return usage(stdout, 0);
      default: return usage(stderr, 2);
    }
  }
  if (config_path.empty() || !addr || port < 1 || port > 65535) return usage(stderr, 2);
  auto cfg = load_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "tcp-fetch: config error in %s: %s\n", config_path.c_str(), cfg.error().message.c_str());
    return 2;
  }
  if (!out_path.empty() && (fetch->out = std::fopen(out_path.c_str(), "wb")) == nullptr) {
    std::perror(out_path.c_str());
    return 2;
  }
  rte_log_set_global_level(log_level_value(cfg->logging.level));
  if (eal_init(eal_args_with_memory_fallback(eal_args, "tcp-fetch")) < 0) {
    std::fprintf(stderr, "tcp-fetch: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto stack = Stack::create(*cfg, StackOptions{});
  if (!stack) {
    std::fprintf(stderr, "tcp-fetch: %s\n", stack.error().message.c_str());
    eal_cleanup();
    return stack.error().message.rfind("$", 0) == 0 ? 2 : 1;
  }
  Stack& s = **stack;

  // Connect before the engines run: call() runs the job at once, and the
  // SYN leaves at the engine's first loop.
  TcpStatus status = TcpStatus::kNoEphemeralPort;
  Fetch* f = fetch.get();
  TcpEndpoint remote{*addr, static_cast<uint16_t>(port)};
  for (auto& e : s.engines()) {
    e->call([f, remote, &status](Engine& en) {
      f->tcp = &en.tcp();
      TcpHandlers h;
      h.on_connected = [f](TcpHandle) { send_request(*f); };
      h.on_writable = [f](TcpHandle) { send_request(*f); };
      h.on_readable = [f](TcpHandle) { drain(*f); };
      // Reset, refused or timed out (an orderly end shows as at_eof in
      // on_readable first). What is left to read can still be read here.
      h.on_closed = [f](TcpHandle, tcp::CloseReason why) {
        if (why != tcp::CloseReason::kNormal) f->failure = std::string(tcp::close_reason_name(why));
        f->done = true;
      };
      TcpConnectOptions o;
      o.name = "tcp-fetch";
      o.timeout_ms = 5000;
      auto r = f->tcp->connect(remote, std::move(h), o);
      f->conn = r.handle;
      status = r.status;
    });
    if (status != TcpStatus::kNoEphemeralPort) break;
  }
  if (status != TcpStatus::kOk) {
    std::fprintf(stderr, "tcp-fetch: cannot connect to %s:%ld: %s\n", addr->to_string().c_str(), port,
                 tcp_status_name(status));
    s.shutdown();
    stack->reset();
    eal_cleanup();
    return 1;
  }
  std::printf("tcp-fetch: connecting to %s:%ld; ready\n", addr->to_string().c_str(), port);
  std::fflush(stdout);
  register_telemetry(s);  // dpdk-telemetry.py: /dpdkstack/tcp, /dpdkstack/drops, ...
  s.run([&] {             // on the main lcore, about every millisecond
    if (g_signal != 0 || f->done.load()) s.request_stop();
  });
  register_telemetry_stop();
  std::fflush(f->out);
  if (f->out != stdout) std::fclose(f->out);
  int rc = f->failure.empty() && g_signal == 0 ? 0 : 1;
  if (!f->failure.empty())
    std::fprintf(stderr, "tcp-fetch: connection to %s:%ld: %s\n", addr->to_string().c_str(), port, f->failure.c_str());
  auto pools = s.pools();
  s.shutdown();
  unsigned in_use = 0;
  for (auto* mp : pools) in_use += rte_mempool_in_use_count(mp);
  std::fprintf(stderr, "tcp-fetch: %lu bytes received; mbufs in use after shutdown: %u\n",
               static_cast<unsigned long>(f->received), in_use);
  stack->reset();
  eal_cleanup();
  return rc;
}

// udp-upper: a complete UDP application on libdpdkstack.
//
// It answers every datagram sent to UDP port PORT (default 7777), on any
// address of the stack, with the same payload upper-cased (ASCII a-z);
// datagrams from ports below 1024 (other servers) are counted, not answered.
//
//   udp-upper [EAL options] -- -c stack.json [-p PORT] [--zero-copy]
//
// By default a handler reads the payload (copy_to) and sends a new datagram
// (send_to). With --zero-copy it takes the received mbuf, upper-cases it in
// place and sends that same mbuf back (take + send_mbuf_to). It runs until
// SIGINT or SIGTERM, then prints its counts and stops cleanly.
#include <getopt.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "console/console.hpp"
#include "runtime/eal.hpp"
#include "runtime/engine.hpp"
#include "runtime/stack.hpp"
#include "runtime/udp.hpp"

using namespace dpdkstack;

namespace {

volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

// What one engine's socket needs. Each Worker is used on its engine's lcore
// only (handlers run there), so it needs no lock.
struct Worker {
  Udp* udp = nullptr;
  UdpHandle socket = kNoUdpSocket;
  uint64_t answered = 0;
  uint64_t refused = 0;                         // sends that did not go
  UdpStatus last_refusal = UdpStatus::kOk;
  uint64_t clients_gone = 0;                    // ICMP port unreachable for an answer
  std::array<uint8_t, 65507> buf{};             // the largest UDP payload
};

uint8_t upper(uint8_t c) { return c >= 'a' && c <= 'z' ? static_cast<uint8_t>(c - 'a' + 'A') : c; }

void count(Worker& w, UdpStatus st) {
  if (st == UdpStatus::kOk) {
    ++w.answered;
  } else {  // kTxFull: the NIC is not keeping up; UDP may lose it, we count it
    ++w.refused;
    w.last_refusal = st;
  }
}

// Copying: read the payload out of the mbuf, send a new datagram.
void answer_copy(Worker& w, UdpHandle s, UdpDatagram& d) {
  size_t n = d.copy_to(w.buf.data(), w.buf.size());
  for (size_t i = 0; i < n; ++i) w.buf[i] = upper(w.buf[i]);
  count(w, w.udp->send_to(s, d.from, w.buf.data(), n));
}

// Zero copy: own the received mbuf, change it in place, send it back from
// the address it was sent to. send_mbuf_to owns it whatever the status.
void answer_in_place(Worker& w, UdpHandle s, UdpDatagram& d) {
  rte_mbuf* m = d.take();
  for (rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    if (!RTE_MBUF_DIRECT(seg) || rte_mbuf_refcnt_read(seg) != 1) {  // shared data: copy instead
      uint32_t n = m->pkt_len;
      auto* p = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, n, w.buf.data()));
      for (uint32_t i = 0; i < n; ++i) w.buf[i] = upper(p[i]);
      rte_pktmbuf_free(m);
      return count(w, w.udp->send_to(s, d.from, w.buf.data(), n));
    }
  }
  for (rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    auto* p = rte_pktmbuf_mtod(seg, uint8_t*);
    for (uint16_t i = 0; i < seg->data_len; ++i) p[i] = upper(p[i]);
  }
  count(w, w.udp->send_mbuf_to(s, d.from, m, d.to.addr));
}

int usage(FILE* out, int status) {
  std::fprintf(out, "Usage: udp-upper [EAL options] -- -c stack.json [-p PORT] [--zero-copy]\n");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  // EAL arguments before "--", ours after it.
  std::vector<std::string> eal_args{argv[0]}, app_args{argv[0]};
  bool after = false;
  for (int i = 1; i < argc; ++i) {
    if (!after && std::string(argv[i]) == "--") after = true;
    else (after ? app_args : eal_args).emplace_back(argv[i]);
  }

  std::string config_path;
  long port = 7777;
  bool zero_copy = false;
  std::vector<char*> av;
  for (auto& a : app_args) av.push_back(a.data());
  av.push_back(nullptr);
  static const option opts[] = {{"config", required_argument, nullptr, 'c'},
                                {"port", required_argument, nullptr, 'p'},
                                {"zero-copy", no_argument, nullptr, 'z'},
                                {"help", no_argument, nullptr, 'h'},
                                {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(static_cast<int>(av.size() - 1), av.data(), "c:p:zh", opts, nullptr)) != -1;) {
    switch (c) {
      case 'c': config_path = optarg; break;
      case 'p': {
        char* end = nullptr;
        port = std::strtol(optarg, &end, 10);
        if (end == optarg || *end != '\0' || port < 1 || port > 65535) {
          std::fprintf(stderr, "udp-upper: -p: expected a port in 1..65535, got '%s'\n", optarg);
          return 2;
        }
        break;
      }
      case 'z': zero_copy = true; break;
      case 'h': return usage(stdout, 0);
      default: return usage(stderr, 2);
    }
  }
  if (config_path.empty()) return usage(stderr, 2);

  // The same JSON file as dpdk-stack's (docs/CONFIG.md), fully validated.
  auto cfg = load_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "udp-upper: config error in %s: %s\n", config_path.c_str(), cfg.error().message.c_str());
    return 2;
  }

  // EAL: --in-memory when hugepages are free, else --no-huge with a warning.
  rte_log_set_global_level(log_level_value(cfg->logging.level));
  if (eal_init(eal_args_with_memory_fallback(eal_args, "udp-upper")) < 0) {
    std::fprintf(stderr, "udp-upper: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  auto stack = Stack::create(*cfg, StackOptions{});
  if (!stack) {
    std::fprintf(stderr, "udp-upper: %s\n", stack.error().message.c_str());
    eal_cleanup();
    return stack.error().message.rfind("$", 0) == 0 ? 2 : 1;
  }
  Stack& s = **stack;

  // One wildcard socket on every engine: RSS decides which engine a
  // datagram reaches, and only that engine's sockets are searched. The
  // engines are not running yet, so call() runs each job at once (so the
  // job may write to open_status on our stack).
  std::vector<std::unique_ptr<Worker>> workers;
  UdpStatus open_status = UdpStatus::kOk;
  for (auto& e : s.engines()) {
    Worker* w = workers.emplace_back(std::make_unique<Worker>()).get();
    e->call([w, port, zero_copy, &open_status](Engine& en) {
      w->udp = &en.udp();
      UdpHandlers h;
      h.on_datagram = [w, zero_copy](UdpHandle sock, UdpDatagram& d) {
        // A server must not answer another server's port: two of them
        // would bounce one datagram between them forever.
        if (d.from.port < 1024) return w->udp->count_drop(sock);
        zero_copy ? answer_in_place(*w, sock, d) : answer_copy(*w, sock, d);
      };
      // An ICMP error quoting one of our answers (RFC 1122 4.1.3.3). Port
      // unreachable (type 3, code 3): the client's socket is gone. UDP has
      // nothing to undo; a real server might forget the client here.
      h.on_error = [w](UdpHandle, const IcmpErrorInfo& err) {
        if (err.type == 3 && err.code == 3) ++w->clients_gone;
      };
      UdpOpenOptions o;
      o.name = "udp-upper";
      auto r = w->udp->open({Ipv4Addr{}, static_cast<uint16_t>(port)}, std::move(h), o);
      w->socket = r.handle;
      if (!r) open_status = r.status;
    });
  }
  if (open_status != UdpStatus::kOk) {
    std::fprintf(stderr, "udp-upper: cannot open UDP port %ld: %s\n", port, udp_status_name(open_status));
    s.shutdown();
    stack->reset();
    eal_cleanup();
    return 2;
  }
  for (const auto& p : s.context().ports)
    if (p.nb_queues != 0)
      std::printf("udp-upper: port %u (%s): %s%s%s\n", p.port_id, p.name.c_str(), p.address.to_string().c_str(),
                  p.l3 ? "" : " mac ", p.l3 ? "" : p.mac.to_string().c_str());
  std::printf("udp-upper: answering on UDP port %ld%s on %zu engine(s); ready\n", port,
              zero_copy ? " (zero copy)" : "", s.engines().size());

  register_telemetry(s);  // dpdk-telemetry.py: /dpdkstack/udp, /dpdkstack/drops, ...
  s.run([&] {             // on the main lcore, about every millisecond
    if (g_signal != 0) s.request_stop();
  });
  register_telemetry_stop();

  // The engines have stopped: call() runs directly again. Closing is
  // optional (shutdown frees everything), shown for completeness.
  for (size_t i = 0; i < workers.size(); ++i) {
    Worker* w = workers[i].get();
    s.engines()[i]->call([w, i](Engine&) {
      if (const UdpSocketStats* st = w->udp->stats(w->socket))
        std::printf("udp-upper: engine %zu: %lu received, %lu answered, %lu refused (last: %s), %lu dropped, "
                    "%lu clients gone\n",
                    i, static_cast<unsigned long>(st->rx_datagrams), static_cast<unsigned long>(w->answered),
                    static_cast<unsigned long>(w->refused), udp_status_name(w->last_refusal),
                    static_cast<unsigned long>(st->app_dropped), static_cast<unsigned long>(w->clients_gone));
      w->udp->close(w->socket);
    });
  }
  auto pools = s.pools();
  s.shutdown();  // joins the lcores, frees every mbuf the engines hold, closes the ports
  unsigned in_use = 0;
  for (auto* mp : pools) in_use += rte_mempool_in_use_count(mp);
  std::printf("udp-upper: stopped; mbufs in use after shutdown: %u\n", in_use);
  stack->reset();
  eal_cleanup();
  return 0;
}

#include "services/udp_services.hpp"

#include <string>

#include "runtime/engine.hpp"
#include "runtime/stack.hpp"

namespace dpdkstack {

namespace {

// Source ports an echo reply must not go to: servers that answer whatever
// they receive, so that two of them would bounce a datagram forever.
bool loop_port(uint16_t port) { return port == 0 || port == 7 || port == 13 || port == 19 || port == 37; }

UdpHandlers echo_handlers(Udp& udp) {
  UdpHandlers h;
  h.on_datagram = [&udp](UdpHandle s, UdpDatagram& d) {
    if (loop_port(d.from.port)) return udp.count_drop(s);
    udp.echo(s, d);  // a refusal is counted by the socket
  };
  return h;
}

UdpHandlers discard_handlers() { return {}; }  // no handler: received, counted, freed

}  // namespace

Status start_udp_services(Stack& stack, const ServicesConfig& cfg) {
  struct Service {
    const char* name;
    const char* path;
    const ServiceConfig& conf;
    bool echo;
  };
  const Service services[] = {
      {"udp-echo", "$.services.udp_echo", cfg.udp_echo, true},
      {"udp-discard", "$.services.udp_discard", cfg.udp_discard, false},
  };
  for (const auto& s : services) {
    if (!s.conf.enabled) continue;
    for (auto& e : stack.engines()) {
      UdpStatus st = UdpStatus::kOk;
      e->call([&](Engine& en) {
        Udp& udp = en.udp();
        UdpOpenOptions o;
        o.name = s.name;
        st = udp.open({Ipv4Addr{}, s.conf.port}, s.echo ? echo_handlers(udp) : discard_handlers(), o).status;
      });
      if (st != UdpStatus::kOk)
        return Error{std::string(s.path) + ".port: cannot open UDP port " + std::to_string(s.conf.port) + " (" +
                     udp_status_name(st) + ")"};
    }
  }
  return ok_status();
}

}  // namespace dpdkstack

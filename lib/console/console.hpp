// The operator's console (testpmd-style) and the telemetry endpoints.
//
// Contract: Console::execute(line) runs one command and returns its output
// as text; the interactive front end (rte_cmdline on stdin/stdout), the
// periodic stats printer and the tests all go through it, so every surface
// shows the same figures. Commands and their output are documented in
// docs/CONSOLE.md. Nothing here runs on an engine's lcore except in the
// single-lcore case, where it is called from the engine's loop between
// bursts and never blocks (input is polled); the one command that waits,
// `ping`, keeps that engine polling while it waits.
#pragma once

#include <rte_ethdev.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct cmdline;

namespace dpdkstack {

class Stack;

class Console {
 public:
  explicit Console(Stack& stack);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Runs one command line; sets `quit` on quit/exit.
  std::string execute(std::string_view line, bool& quit);
  // What --stats-period prints: port stats, lcores and drops.
  std::string stats_tables();

  // Interactive front end on stdin/stdout. poll() feeds whatever input is
  // ready to rte_cmdline without blocking; it returns false once the user
  // quit or stdin reached end of file.
  bool open_interactive();
  bool poll();
  void close_interactive();
  void mark_quit() { quit_ = true; }

 private:
  std::string port_stats(uint16_t port);
  std::string port_xstats(uint16_t port);
  std::string port_info(uint16_t port);
  std::string arp_table(size_t engine);
  std::string lcores();
  std::string drops();
  std::string mempool();
  std::string route_table();
  std::string route_command(const std::vector<std::string>& w);
  std::string ip_state();
  std::string udp_state();
  std::string filter_table();
  std::string filter_command(const std::vector<std::string>& w, std::string_view line);
  std::string filter_command_work(const std::vector<std::string>& w, std::string_view line);
  std::string off_engine(const std::function<std::string()>& fn);
  std::string ping(const std::vector<std::string>& w);
  std::string show_tcp();
  std::string show_tcp_stats();
  std::string tcp_command(const std::vector<std::string>& w, std::string_view line);
  std::string help();

  struct Last {
    uint64_t tsc = 0;
    rte_eth_stats stats{};
  };
  Stack& stack_;
  std::vector<Last> last_;                 // per port, for rates "since last show"
  std::vector<std::pair<uint64_t, uint64_t>> last_loops_;  // per engine: tsc, loops
  std::vector<std::shared_ptr<struct ConsoleTcpConn>> tcp_conns_;  // opened by `tcp connect`
  unsigned next_tcp_id_ = 1;
  struct cmdline* cl_ = nullptr;
  bool tty_ = false;
  bool quit_ = false;
};

// Registers /dpdkstack/* telemetry commands (see docs/CONSOLE.md).
void register_telemetry(Stack& stack);
// Makes the endpoints answer an error from now on (the stack is going away).
void register_telemetry_stop();

}  // namespace dpdkstack

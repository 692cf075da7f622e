#include "services/iperf3.hpp"

#include <rte_cycles.h>
#include <rte_log.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/engine.hpp"
#include "runtime/stack.hpp"

namespace dpdkstack {

namespace {

using json = nlohmann::json;

// ---- iperf3's wire constants (src/iperf.h, src/iperf_api.h) ----------------------------

constexpr size_t kCookieSize = 37;  // COOKIE_SIZE: 36 characters and a NUL

// Control states: one signed byte on the control connection.
constexpr int8_t kStateTestStart = 1;
constexpr int8_t kStateTestRunning = 2;
constexpr int8_t kStateTestEnd = 4;
constexpr int8_t kStateParamExchange = 9;
constexpr int8_t kStateCreateStreams = 10;
constexpr int8_t kStateClientTerminate = 12;
constexpr int8_t kStateExchangeResults = 13;
constexpr int8_t kStateDisplayResults = 14;
constexpr int8_t kStateIperfDone = 16;
constexpr int8_t kStateAccessDenied = -1;
constexpr int8_t kStateServerError = -2;

// i_errno values the client turns into its message (iperf_strerror).
constexpr int32_t kIeNumStreams = 6;       // "number of parallel streams too large"
constexpr int32_t kIeBlockSize = 7;        // "block size too large"
constexpr int32_t kIeOmit = 12;            // "bogus value for --omit"
constexpr int32_t kIeUnimp = 13;           // "an option you are trying to set is not implemented yet"
constexpr int32_t kIeNoSctp = 18;          // "no SCTP support available"
constexpr int32_t kIeRecvParams = 114;     // "unable to receive parameters from client"
constexpr int32_t kIeStreamConnect = 203;  // "unable to connect stream"

constexpr uint64_t kMaxStreams = 128;              // MAX_STREAMS
constexpr uint64_t kMaxBlockSize = 1024 * 1024;    // MAX_BLOCKSIZE
constexpr uint64_t kMaxOmit = 600;                 // MAX_OMIT_TIME, seconds
constexpr uint64_t kDefaultBlockSize = 128 * 1024;  // DEFAULT_TCP_BLKSIZE

// ---- this server's own limits -----------------------------------------------------------

constexpr size_t kMaxJson = 256 * 1024;  // one parameters or results message
constexpr int kMaxJsonDepth = 16;        // nesting; iperf3's messages use 3
constexpr size_t kMaxPending = 256;      // connections per engine still sending their cookie
constexpr uint64_t kStaleSeconds = 60;   // a test with no event for this long gives way
constexpr size_t kBlock = 64 * 1024;     // the bytes a sending stream repeats

void log_info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rte_vlog(RTE_LOG_INFO, RTE_LOGTYPE_USER1, fmt, ap);
  va_end(ap);
}

uint32_t get_be32(const char* p) {
  auto b = [p](int i) { return static_cast<uint32_t>(static_cast<uint8_t>(p[i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// Bracket nesting of a JSON text stays within `max` (strings skipped): a
// hostile message cannot make the parser or the destructor recurse deep.
bool nesting_ok(std::string_view text, int max) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// A non-negative number member of `j` into `out`; absent leaves `out`.
// False when present but not such a number.
bool field_u64(const json& j, const char* key, uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (it->is_number_unsigned()) {
    out = it->get<uint64_t>();
  } else if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    if (v < 0) return false;
    out = static_cast<uint64_t>(v);
  } else if (it->is_number_float()) {
    double d = it->get<double>();
    if (!(d >= 0 && d < 1.8e19)) return false;
    out = static_cast<uint64_t>(d);
  } else {
    return false;
  }
  return true;
}

struct CpuMark {
  uint64_t tsc = 0;
  double user = 0, sys = 0;  // seconds of this thread (the engine's lcore)
};

CpuMark cpu_mark() {
  CpuMark m;
  m.tsc = rte_rdtsc();
  rusage ru{};
  if (getrusage(RUSAGE_THREAD, &ru) == 0) {
    m.user = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
    m.sys = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
  }
  return m;
}

// No event on a test since `last` (TSC, maybe read on another core: a
// `last` a little ahead of `now` is not stale).
bool is_stale(uint64_t now, uint64_t last, uint64_t stale_tsc) { return now > last && now - last >= stale_tsc; }

// ---- the running tests, shared by the engines ------------------------------------------

struct RunningTest {
  std::string cookie;
  unsigned engine = 0;
  std::atomic<uint64_t> last_activity{0};  // TSC of the test's last event
  std::atomic<bool> split{false};          // one of its data streams came to another engine
  bool ended = false;                      // under TestTable's mutex
};

// Stack-wide one test at a time (like `iperf3 -s`), which engine holds
// it, and the cookies of the last few tests that ended (a data connection
// that comes late is refused, not taken for a new test). Taken when a
// connection's cookie is complete and when a test starts or ends: never
// per packet.
class TestTable {
 public:
  static constexpr size_t kRecent = 16;

  struct Found {
    unsigned engine = 0;
    bool ended = false;
    std::shared_ptr<RunningTest> test;  // null when none has the cookie
  };
  Found find(const std::string& cookie) {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& t : tests_)
      if (t->cookie == cookie) return {t->engine, t->ended, t};
    return {};
  }
  // A new test for `engine`, unless a live one runs on another engine (the
  // caller has ended its own). Null when busy.
  std::shared_ptr<RunningTest> try_start(const std::string& cookie, unsigned engine, uint64_t now,
                                         uint64_t stale_tsc) {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& t : tests_)
      if (!t->ended && t->engine != engine &&
          !is_stale(now, t->last_activity.load(std::memory_order_relaxed), stale_tsc))
        return nullptr;
    auto t = std::make_shared<RunningTest>();
    t->cookie = cookie;
    t->engine = engine;
    t->last_activity.store(now, std::memory_order_relaxed);
    tests_.push_back(t);
    return t;
  }
  // The test is over; its cookie is remembered among the last kRecent.
  void end(RunningTest* t) {
    std::lock_guard<std::mutex> g(mu_);
    t->ended = true;
    size_t ended = 0;
    for (auto& x : tests_) ended += x->ended ? 1 : 0;
    for (auto it = tests_.begin(); ended > kRecent && it != tests_.end();) {
      if ((*it)->ended) {
        it = tests_.erase(it);  // oldest first
        --ended;
      } else {
        ++it;
      }
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::shared_ptr<RunningTest>> tests_;  // oldest first
};

// ---- one engine's server ---------------------------------------------------------------

enum class Phase : uint8_t {
  kParams,         // PARAM_EXCHANGE sent: waiting for the parameters
  kCreateStreams,  // CREATE_STREAMS sent: waiting for the data connections
  kRunning,        // TEST_RUNNING sent: data until the client's TEST_END
  kClientResults,  // EXCHANGE_RESULTS sent: waiting for the client's results
  kDrain,          // the client's results in: receiving streams read what was in flight
  kDisplay,        // our results and DISPLAY_RESULTS sent: waiting for IPERF_DONE
};

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kParams: return "PARAM_EXCHANGE";
    case Phase::kCreateStreams: return "CREATE_STREAMS";
    case Phase::kRunning: return "TEST_RUNNING";
    case Phase::kClientResults: return "EXCHANGE_RESULTS";
    case Phase::kDrain: return "EXCHANGE_RESULTS";
    case Phase::kDisplay: return "DISPLAY_RESULTS";
  }
  return "?";
}

struct Params {
  bool udp = false, sctp = false;
  uint64_t omit = 0, duration = 0, bytes = 0, blocks = 0;
  uint64_t len = kDefaultBlockSize, parallel = 1;
  bool reverse = false, bidir = false, nodelay = false, server_output = false;
};

struct Stream {
  TcpHandle h = kNoTcp;  // kNoTcp once closed
  int id = 0;            // iperf3's numbering: 1, 3, 4, 5, ...
  bool sender = false;   // we send on it
  uint64_t bytes = 0;    // moved since `start` (the end of the omit time restarts it)
  uint64_t total = 0;    // moved since TEST_START
  uint64_t start = 0, end = 0;  // TSC
  uint32_t retrans_base = 0, retrans = 0;
  uint64_t peer_bytes = 0;  // the client's count for this stream (its results)
  bool peer_known = false;
  size_t block_pos = 0;
  TcpEndpoint local, remote;
};

struct Test {
  TcpHandle ctrl = kNoTcp;
  std::string cookie;
  std::shared_ptr<RunningTest> entry;
  TcpEndpoint local, remote;
  Phase phase = Phase::kParams;
  Params p;
  std::string in, out;  // control bytes not parsed yet / not sent yet
  std::vector<Stream> streams;
  size_t expected = 0;  // data connections the parameters ask for
  uint64_t start = 0, end = 0, omit_end = 0;
  bool omitting = false;
  uint64_t sent = 0, send_limit = 0;  // every sending stream together; limit 0: none (-t)
  CpuMark cpu0;
  std::array<double, 3> cpu{};  // total, user, system (percent)
};

class Iperf3Server : public std::enable_shared_from_this<Iperf3Server> {
 public:
  Iperf3Server(Tcp& tcp, unsigned engine, std::shared_ptr<TestTable> table, const TcpConfig& cfg, uint64_t hz)
      : tcp_(tcp), engine_(engine), table_(std::move(table)), congestion_(cfg.congestion_control), hz_(hz),
        block_(kBlock) {
    uint64_t x = 0x9e3779b97f4a7c15ull ^ engine;  // any bytes will do; xorshift, not zeros
    for (auto& b : block_) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b = static_cast<uint8_t>(x);
    }
  }

  // The handlers of a connection just accepted.
  TcpHandlers handlers_for(TcpHandle h) {
    // Too many connections still owing their cookie: the oldest goes, so
    // that idle connections cannot lock clients out.
    while (pending_ >= kMaxPending && !pending_order_.empty()) {
      TcpHandle old = pending_order_.front();
      pending_order_.pop_front();
      auto it = conns_.find(old);
      if (it == conns_.end() || it->second.role != Role::kCookie) continue;
      conns_.erase(it);
      --pending_;
      tcp_.abort(old);
    }
    conns_[h] = Conn{};
    ++pending_;
    pending_order_.push_back(h);
    if (pending_order_.size() > 2 * kMaxPending) {  // drop handles that got their cookie long ago
      std::erase_if(pending_order_, [this](TcpHandle x) {
        auto it = conns_.find(x);
        return it == conns_.end() || it->second.role != Role::kCookie;
      });
    }
    auto self = shared_from_this();
    TcpHandlers hs;
    hs.on_readable = [self](TcpHandle x) { self->readable(x); };
    hs.on_writable = [self](TcpHandle x) { self->writable(x); };
    hs.on_closed = [self](TcpHandle x, tcp::CloseReason r) { self->closed(x, r); };
    return hs;
  }

 private:
  enum class Role : uint8_t { kCookie, kControl, kStream };
  struct Conn {
    Role role = Role::kCookie;
    std::string cookie;  // kCookie: what came of it so far
    size_t stream = 0;   // kStream: index in test_->streams
  };

  double seconds(uint64_t tsc) const { return static_cast<double>(tsc) / static_cast<double>(hz_); }
  uint64_t stale_tsc() const { return kStaleSeconds * hz_; }

  // ---- events ----

  void readable(TcpHandle h) {
    auto it = conns_.find(h);
    if (it == conns_.end()) {
      tcp_.consume(h, tcp_.readable(h));
      return;
    }
    switch (it->second.role) {
      case Role::kCookie: cookie_input(h); break;
      case Role::kControl:
        if (touch()) control_input();
        break;
      case Role::kStream: {
        size_t i = it->second.stream;
        if (touch()) stream_input(i);
        break;
      }
    }
  }

  void writable(TcpHandle h) {
    auto it = conns_.find(h);
    if (it == conns_.end() || it->second.role == Role::kCookie) return;
    if (!touch()) return;
    if (it->second.role == Role::kControl) flush_ctrl();
    else pump(it->second.stream);
  }

  void closed(TcpHandle h, tcp::CloseReason why) {
    auto it = conns_.find(h);
    if (it == conns_.end()) return;
    Conn c = std::move(it->second);
    conns_.erase(it);
    switch (c.role) {
      case Role::kCookie: --pending_; break;
      case Role::kControl:
        test_->ctrl = kNoTcp;
        abort_test("control connection %s", std::string(tcp::close_reason_name(why)).c_str());
        break;
      case Role::kStream: {
        Stream& s = test_->streams[c.stream];
        // What is left to read can still be read in this handler.
        if (!s.sender) count_received(s, tcp_.readable(h));
        tcp_.consume(h, tcp_.readable(h));
        s.h = kNoTcp;
        if (touch()) maybe_send_results();
        break;
      }
    }
  }

  // ---- the cookie every connection starts with ----

  void cookie_input(TcpHandle h) {
    Conn& c = conns_[h];
    while (c.cookie.size() < kCookieSize) {
      auto spans = tcp_.read_spans(h);
      if (spans[0].len == 0) break;
      size_t take = std::min(spans[0].len, kCookieSize - c.cookie.size());
      c.cookie.append(reinterpret_cast<const char*>(spans[0].data), take);
      tcp_.consume(h, take);
    }
    if (c.cookie.size() < kCookieSize) {
      if (tcp_.at_eof(h)) {
        --pending_;
        conns_.erase(h);
        tcp_.close(h);
      }
      return;
    }
    std::string cookie = std::move(c.cookie);
    --pending_;
    classify(h, cookie);
  }

  // A complete cookie: a data stream of our test, a stream of a test on
  // another engine, a new test, or one too many.
  void classify(TcpHandle h, const std::string& cookie) {
    uint64_t now = rte_rdtsc();
    if (test_ && cookie == test_->cookie) {
      if (test_->phase == Phase::kCreateStreams && test_->streams.size() < test_->expected && touch()) {
        add_stream(h);
        return;
      }
      deny(h);
      return;
    }
    if (auto found = table_->find(cookie); found.test) {
      if (!found.ended) {
        // Partial (see iperf3.hpp): RSS put this stream on another engine.
        found.test->split.store(true, std::memory_order_relaxed);
        log_info("iperf3: engine %u: a data stream of a test on engine %u came here; it is refused\n", engine_,
                 found.engine);
      }
      deny(h);  // or a data connection of a test that has ended
      return;
    }
    if (test_) {
      if (!is_stale(now, test_->entry->last_activity.load(std::memory_order_relaxed), stale_tsc())) {
        deny(h);
        return;
      }
      abort_test("stale (no event for %llu s), replaced by a new client",
                 static_cast<unsigned long long>(kStaleSeconds));
    }
    auto entry = table_->try_start(cookie, engine_, now, stale_tsc());
    if (!entry) {
      deny(h);
      return;
    }
    start_test(h, cookie, std::move(entry));
  }

  // ACCESS_DENIED, as iperf3 answers a client while a test runs.
  void deny(TcpHandle h) {
    conns_.erase(h);
    const char b = static_cast<char>(kStateAccessDenied);
    tcp_.send(h, &b, 1);
    close_conn(h);
  }

  // close() sends RST when unread data remains: read it first, for a FIN.
  void close_conn(TcpHandle h) {
    tcp_.consume(h, tcp_.readable(h));
    tcp_.close(h);
  }

  // ---- the control connection ----

  void start_test(TcpHandle h, const std::string& cookie, std::shared_ptr<RunningTest> entry) {
    test_ = std::make_unique<Test>();
    Test& t = *test_;
    t.ctrl = h;
    t.cookie = cookie;
    t.entry = std::move(entry);
    tcp_.endpoints(h, t.local, t.remote);
    conns_[h].role = Role::kControl;
    tcp_.set_nodelay(h, true);  // state bytes go at once
    send_state(kStateParamExchange);
    control_input();
  }

  void send_state(int8_t s) {
    test_->out.push_back(static_cast<char>(s));
    flush_ctrl();
  }

  void send_json(const json& j) {
    std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
    put_be32(test_->out, static_cast<uint32_t>(text.size()));
    test_->out += text;
    flush_ctrl();
  }

  void flush_ctrl() {
    Test& t = *test_;
    if (t.ctrl == kNoTcp) return;
    while (!t.out.empty()) {
      size_t n = tcp_.send(t.ctrl, t.out.data(), t.out.size());
      if (n == 0) break;  // on_writable continues
      t.out.erase(0, n);
    }
  }

  void control_input() {
    TcpHandle h = test_->ctrl;
    for (;;) {
      auto spans = tcp_.read_spans(h);
      if (spans[0].len == 0) break;
      if (test_->in.size() >= kMaxJson + 8) {
        abort_test("control message too long");
        return;
      }
      size_t take = std::min(spans[0].len, kMaxJson + 8 - test_->in.size());
      test_->in.append(reinterpret_cast<const char*>(spans[0].data), take);
      tcp_.consume(h, take);
    }
    size_t pos = 0;
    while (pos < test_->in.size()) {
      Phase ph = test_->phase;
      if (ph == Phase::kParams || ph == Phase::kClientResults) {
        // A JSON message: 4-byte big-endian length, then the text.
        if (test_->in.size() - pos < 4) break;
        uint32_t len = get_be32(test_->in.data() + pos);
        if (len > kMaxJson) {
          if (ph == Phase::kParams) server_error(kIeRecvParams, "parameters too long");
          else abort_test("results too long");
          return;
        }
        if (test_->in.size() - pos - 4 < len) break;
        std::string text = test_->in.substr(pos + 4, len);
        pos += 4 + len;
        if (ph == Phase::kParams) params_in(text);
        else results_in(text);
      } else {
        control_byte(static_cast<int8_t>(test_->in[pos++]));
      }
      if (!test_ || test_->ctrl != h) return;  // the test ended
    }
    test_->in.erase(0, pos);
    if (tcp_.at_eof(h)) abort_test("the client closed the control connection in %s", phase_name(test_->phase));
  }

  void control_byte(int8_t b) {
    Phase ph = test_->phase;
    if (b == kStateClientTerminate) return abort_test("the client terminated");
    if (b == kStateTestStart) return;  // iperf3's server ignores it too
    if (b == kStateTestEnd && ph == Phase::kRunning) return test_end();
    if (b == kStateIperfDone && ph == Phase::kDisplay) return finish();
    abort_test("unexpected control message %d in %s", b, phase_name(ph));
  }

  // PARAM_EXCHANGE: the client's parameters (iperf_api.c send_parameters).
  void params_in(const std::string& text) {
    if (!nesting_ok(text, kMaxJsonDepth)) return server_error(kIeRecvParams, "parameters nested too deep");
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return server_error(kIeRecvParams, "parameters are not a JSON object");
    Params p;
    p.udp = j.contains("udp");
    p.sctp = j.contains("sctp");
    p.reverse = j.contains("reverse");
    p.bidir = j.contains("bidirectional");
    p.nodelay = j.contains("nodelay");
    p.server_output = j.contains("get_server_output");
    if (!field_u64(j, "omit", p.omit) || !field_u64(j, "time", p.duration) || !field_u64(j, "num", p.bytes) ||
        !field_u64(j, "blockcount", p.blocks) || !field_u64(j, "len", p.len) || !field_u64(j, "parallel", p.parallel))
      return server_error(kIeRecvParams, "a parameter is not a non-negative number");
    // UDP and SCTP tests are not served (iperf3.hpp).
    if (p.udp) return server_error(kIeUnimp, "UDP tests are not served");
    if (p.sctp) return server_error(kIeNoSctp, "SCTP tests are not served");
    if (p.parallel == 0 || p.parallel > kMaxStreams) return server_error(kIeNumStreams, "parallel out of range");
    if (p.len == 0 || p.len > kMaxBlockSize) return server_error(kIeBlockSize, "len out of range");
    if (p.omit > kMaxOmit) return server_error(kIeOmit, "omit out of range");
    Test& t = *test_;
    t.p = p;
    t.expected = static_cast<size_t>(p.bidir ? 2 * p.parallel : p.parallel);
    // -n, or -k blocks of -l bytes (saturated: a limit nobody reaches).
    t.send_limit = p.bytes != 0 ? p.bytes : (p.blocks > UINT64_MAX / p.len ? UINT64_MAX : p.blocks * p.len);
    t.phase = Phase::kCreateStreams;
    send_state(kStateCreateStreams);
  }

  // ---- data streams ----

  void add_stream(TcpHandle h) {
    Test& t = *test_;
    size_t k = t.streams.size();
    Stream s;
    s.h = h;
    s.id = k == 0 ? 1 : static_cast<int>(k) + 2;  // iperf_add_stream's numbering
    // --bidir: the client's sending streams come first (we receive on them).
    s.sender = t.p.bidir ? k >= t.p.parallel : t.p.reverse;
    tcp_.endpoints(h, s.local, s.remote);
    if (t.p.nodelay) tcp_.set_nodelay(h, true);
    t.streams.push_back(s);
    Conn& c = conns_[h];
    c.role = Role::kStream;
    c.stream = k;
    if (t.streams.size() == t.expected) test_start();
    if (test_ && k < test_->streams.size() && test_->streams[k].h == h) stream_input(k);
  }

  void test_start() {
    Test& t = *test_;
    uint64_t now = rte_rdtsc();
    t.start = now;
    for (auto& s : t.streams) {
      s.start = now;
      if (s.sender)
        if (const auto* c = tcp_.connection(s.h)) s.retrans_base = c->info(0).retransmits;
    }
    if (t.p.omit != 0) {
      t.omitting = true;
      t.omit_end = now + t.p.omit * hz_;
    }
    t.cpu0 = cpu_mark();
    t.phase = Phase::kRunning;
    send_state(kStateTestStart);
    send_state(kStateTestRunning);
    for (size_t i = 0; i < t.streams.size(); ++i) pump(i);
  }

  // The end of the omit time (-O): counters start again, as iperf3's
  // omit timer does; noticed at the first event after it.
  void restart_counters(uint64_t now) {
    Test& t = *test_;
    t.omitting = false;
    for (auto& s : t.streams) {
      s.bytes = 0;
      s.start = now;
      if (s.sender && s.h != kNoTcp)
        if (const auto* c = tcp_.connection(s.h)) s.retrans_base = c->info(0).retransmits;
    }
  }

  bool counting() const {
    Phase ph = test_->phase;
    return ph == Phase::kRunning || ph == Phase::kClientResults || ph == Phase::kDrain;
  }

  void count_received(Stream& s, size_t n) {
    if (n == 0 || !counting()) return;
    s.bytes += n;
    s.total += n;
    if (test_->phase != Phase::kRunning) s.end = std::max(s.end, rte_rdtsc());  // in flight at TEST_END
  }

  void stream_input(size_t i) {
    Stream& s = test_->streams[i];
    size_t n = tcp_.readable(s.h);
    if (!s.sender) count_received(s, n);
    tcp_.consume(s.h, n);  // discarded in place, never copied
    if (tcp_.at_eof(s.h)) {
      conns_.erase(s.h);
      tcp_.close(s.h);
      s.h = kNoTcp;
    }
    if (n != 0 || s.h == kNoTcp) maybe_send_results();
  }

  // A sending stream: as much as the send buffer takes (on_writable goes on).
  void pump(size_t i) {
    Test& t = *test_;
    Stream& s = t.streams[i];
    if (t.phase != Phase::kRunning || !s.sender || s.h == kNoTcp) return;
    for (;;) {
      size_t want = kBlock - s.block_pos;
      if (t.send_limit != 0) {
        if (t.sent >= t.send_limit) return;  // -n / -k reached
        want = static_cast<size_t>(std::min<uint64_t>(want, t.send_limit - t.sent));
      }
      size_t n = tcp_.send(s.h, block_.data() + s.block_pos, want);
      s.bytes += n;
      s.total += n;
      t.sent += n;
      s.block_pos = (s.block_pos + n) % kBlock;
      if (n < want) return;
    }
  }

  // ---- the end ----

  // The client's TEST_END (iperf_server_api.c): counters stop; sending
  // streams close (FIN after what is queued); EXCHANGE_RESULTS.
  void test_end() {
    Test& t = *test_;
    for (size_t i = 0; i < t.streams.size(); ++i)
      if (!t.streams[i].sender && t.streams[i].h != kNoTcp) {
        Stream& s = t.streams[i];
        size_t n = tcp_.readable(s.h);
        count_received(s, n);
        tcp_.consume(s.h, n);
      }
    uint64_t now = rte_rdtsc();
    t.end = now;
    for (auto& s : t.streams) {
      s.end = now;
      if (!s.sender || s.h == kNoTcp) continue;
      if (const auto* c = tcp_.connection(s.h)) s.retrans = c->info(0).retransmits - s.retrans_base;
      conns_.erase(s.h);
      close_conn(s.h);
      s.h = kNoTcp;
    }
    CpuMark m = cpu_mark();
    double wall = seconds(m.tsc - t.cpu0.tsc);
    if (wall > 0) {
      t.cpu[1] = 100.0 * (m.user - t.cpu0.user) / wall;
      t.cpu[2] = 100.0 * (m.sys - t.cpu0.sys) / wall;
      t.cpu[0] = t.cpu[1] + t.cpu[2];
    }
    t.phase = Phase::kClientResults;
    send_state(kStateExchangeResults);
  }

  // The client's results: its count of each stream.
  void results_in(const std::string& text) {
    json j;
    if (nesting_ok(text, kMaxJsonDepth)) j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return abort_test("the client's results are not a JSON object");
    auto streams = j.find("streams");
    if (streams != j.end() && streams->is_array()) {
      for (const auto& js : *streams) {
        if (!js.is_object()) continue;
        uint64_t id = 0, bytes = 0;
        if (!js.contains("id") || !field_u64(js, "id", id) || !js.contains("bytes") || !field_u64(js, "bytes", bytes))
          continue;
        for (auto& s : test_->streams)
          if (static_cast<uint64_t>(s.id) == id) {
            s.peer_bytes = bytes;
            s.peer_known = true;
          }
      }
    }
    test_->phase = Phase::kDrain;
    maybe_send_results();
  }

  // Our results once every receiving stream has read what the client says
  // it sent (or closed); without the client's count (omit time), at once.
  void maybe_send_results() {
    if (!test_ || test_->phase != Phase::kDrain) return;
    Test& t = *test_;
    if (t.p.omit == 0)
      for (const auto& s : t.streams)
        if (!s.sender && s.h != kNoTcp && s.peer_known && s.total < s.peer_bytes) return;
    send_json(results_json());
    send_state(kStateDisplayResults);
    t.phase = Phase::kDisplay;
    for (auto& s : t.streams) {
      if (s.h == kNoTcp) continue;
      conns_.erase(s.h);
      close_conn(s.h);
      s.h = kNoTcp;
    }
    log_summary();
  }

  // IPERF_DONE: the client is done.
  void finish() { release_test(false); }

  // iperf_api.c send_results, and the server's own view when asked for.
  json results_json() const {
    const Test& t = *test_;
    bool receiver_only = !t.p.reverse && !t.p.bidir;
    json streams = json::array();
    for (const auto& s : t.streams) {
      json js;
      js["id"] = s.id;
      js["bytes"] = s.bytes;
      js["retransmits"] = s.sender ? static_cast<int64_t>(s.retrans) : int64_t{-1};
      js["jitter"] = 0;
      js["errors"] = 0;
      js["packets"] = 0;
      js["start_time"] = 0;
      js["end_time"] = seconds(s.end > s.start ? s.end - s.start : 0);
      streams.push_back(std::move(js));
    }
    json j;
    j["cpu_util_total"] = t.cpu[0];
    j["cpu_util_user"] = t.cpu[1];
    j["cpu_util_system"] = t.cpu[2];
    j["sender_has_retransmits"] = receiver_only ? -1 : 1;
    j["congestion_used"] = congestion_;
    j["streams"] = std::move(streams);
    if (t.p.server_output) j["server_output_json"] = server_view();
    return j;
  }

  // What the server measured, in the shape of iperf3's own JSON output
  // (start, intervals, end): --get-server-output shows it.
  json server_view() const {
    const Test& t = *test_;
    json connected = json::array();
    json end_streams = json::array();
    uint64_t sent = 0, received = 0, retrans = 0;
    double sent_secs = 0, recv_secs = 0;
    for (const auto& s : t.streams) {
      connected.push_back({{"socket", s.id},
                           {"local_host", s.local.addr.to_string()},
                           {"local_port", s.local.port},
                           {"remote_host", s.remote.addr.to_string()},
                           {"remote_port", s.remote.port}});
      double secs = seconds(s.end > s.start ? s.end - s.start : 0);
      json one = {{"socket", s.id}, {"start", 0}, {"end", secs}, {"seconds", secs}, {"bytes", s.bytes},
                  {"bits_per_second", secs > 0 ? static_cast<double>(s.bytes) * 8 / secs : 0.0},
                  {"sender", s.sender}};
      if (s.sender) {
        one["retransmits"] = s.retrans;
        sent += s.bytes;
        retrans += s.retrans;
        sent_secs = std::max(sent_secs, secs);
      } else {
        received += s.bytes;
        recv_secs = std::max(recv_secs, secs);
      }
      end_streams.push_back({{s.sender ? "sender" : "receiver", std::move(one)}});
    }
    auto sum = [](uint64_t bytes, double secs, bool sender) {
      return json{{"start", 0}, {"end", secs}, {"seconds", secs}, {"bytes", bytes},
                  {"bits_per_second", secs > 0 ? static_cast<double>(bytes) * 8 / secs : 0.0}, {"sender", sender}};
    };
    json end = {{"streams", std::move(end_streams)},
                {"cpu_utilization_percent",
                 {{"host_total", t.cpu[0]}, {"host_user", t.cpu[1]}, {"host_system", t.cpu[2]}}},
                {"congestion_used", congestion_}};
    if (t.p.reverse || t.p.bidir) {
      end["sum_sent"] = sum(sent, sent_secs, true);
      end["sum_sent"]["retransmits"] = retrans;
    }
    if (!t.p.reverse || t.p.bidir) end["sum_received"] = sum(received, recv_secs, false);
    json start = {
        {"version", "dpdk-stack iperf3 service"},
        {"system_info", "dpdk-stack engine " + std::to_string(engine_)},
        {"accepted_connection", {{"host", t.remote.addr.to_string()}, {"port", t.remote.port}}},
        {"connected", std::move(connected)},
        {"test_start",
         {{"protocol", "TCP"}, {"num_streams", t.p.parallel}, {"blksize", t.p.len}, {"omit", t.p.omit},
          {"duration", t.p.duration}, {"bytes", t.p.bytes}, {"blocks", t.p.blocks}, {"reverse", t.p.reverse ? 1 : 0},
          {"tos", 0}}}};
    return {{"start", std::move(start)}, {"intervals", json::array()}, {"end", std::move(end)}};
  }

  void log_summary() const {
    const Test& t = *test_;
    uint64_t received = 0, sent = 0, end = t.end;
    for (const auto& s : t.streams) {
      (s.sender ? sent : received) += s.bytes;
      end = std::max(end, s.end);
    }
    double secs = seconds(end > t.start ? end - t.start : 0);
    double mbit = secs > 0 ? static_cast<double>(received + sent) * 8 / secs / 1e6 : 0;
    log_info("iperf3: test from %s:%u done: %s, %zu stream(s), received %llu bytes, sent %llu bytes in %.3f s "
             "(%.1f Mbit/s)\n",
             t.remote.addr.to_string().c_str(), t.remote.port,
             t.p.bidir ? "bidirectional" : (t.p.reverse ? "reverse" : "forward"), t.streams.size(),
             static_cast<unsigned long long>(received), static_cast<unsigned long long>(sent), secs, mbit);
  }

  // SERVER_ERROR, i_errno, errno (0): the client prints iperf_strerror(i_errno).
  void server_error(int32_t ierr, const char* why) {
    log_info("iperf3: test from %s:%u refused: %s\n", test_->remote.addr.to_string().c_str(), test_->remote.port, why);
    test_->out.push_back(static_cast<char>(kStateServerError));
    put_be32(test_->out, static_cast<uint32_t>(ierr));
    put_be32(test_->out, 0);
    flush_ctrl();
    release_test(true);
  }

  __attribute__((format(printf, 2, 3))) void abort_test(const char* fmt, ...) {
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    log_info("iperf3: test from %s:%u aborted: %s\n", test_->remote.addr.to_string().c_str(), test_->remote.port, why);
    if (test_->ctrl != kNoTcp) {
      conns_.erase(test_->ctrl);
      tcp_.abort(test_->ctrl);
      test_->ctrl = kNoTcp;
    }
    release_test(true);
  }

  // Lets go of every connection of the test: data streams reset when
  // `failed`, closed otherwise; the control connection closed (FIN after
  // what is queued, such as a SERVER_ERROR).
  void release_test(bool failed) {
    Test& t = *test_;
    for (auto& s : t.streams) {
      if (s.h == kNoTcp) continue;
      conns_.erase(s.h);
      if (failed) tcp_.abort(s.h);
      else close_conn(s.h);
      s.h = kNoTcp;
    }
    if (t.ctrl != kNoTcp) {
      conns_.erase(t.ctrl);
      close_conn(t.ctrl);
      t.ctrl = kNoTcp;
    }
    table_->end(t.entry.get());
    test_.reset();
  }

  // Every event of the test's connections: it is alive; a stream that went
  // to another engine fails it; the omit time ends. False when the test
  // is over.
  bool touch() {
    if (!test_) return false;
    uint64_t now = rte_rdtsc();
    test_->entry->last_activity.store(now, std::memory_order_relaxed);
    if (test_->entry->split.load(std::memory_order_relaxed)) {
      server_error(kIeStreamConnect, "a data stream came to another engine (RSS); tests are served on one engine");
      return false;
    }
    if (test_->omitting && test_->phase == Phase::kRunning && now >= test_->omit_end) restart_counters(now);
    return true;
  }

  Tcp& tcp_;
  unsigned engine_;
  std::shared_ptr<TestTable> table_;
  std::string congestion_;
  uint64_t hz_;
  std::vector<uint8_t> block_;
  std::unordered_map<TcpHandle, Conn> conns_;
  size_t pending_ = 0;                   // conns_ still in Role::kCookie
  std::deque<TcpHandle> pending_order_;  // accept order of (maybe former) kCookie connections
  std::unique_ptr<Test> test_;
};

// Accept everything the listener queued (tcp_services.cpp's accepting()).
TcpListenOptions accepting(Tcp& tcp, const TcpConfig& cfg, std::shared_ptr<Iperf3Server> srv) {
  TcpListenOptions o;
  o.name = "iperf3";
  o.backlog = cfg.backlog;
  o.syn_backlog = cfg.syn_backlog;
  o.on_acceptable = [&tcp, srv](TcpListener l) {
    for (TcpHandle h = tcp.accept(l); h != kNoTcp; h = tcp.accept(l)) tcp.set_handlers(h, srv->handlers_for(h));
  };
  return o;
}

}  // namespace

Status start_iperf3_service(Stack& stack, uint16_t port, const TcpConfig& tcp_cfg) {
  auto table = std::make_shared<TestTable>();
  uint64_t hz = rte_get_tsc_hz();
  for (auto& e : stack.engines()) {
    TcpStatus st = TcpStatus::kOk;
    e->call([&](Engine& en) {
      Tcp& tcp = en.tcp();
      auto srv = std::make_shared<Iperf3Server>(tcp, en.index(), table, tcp_cfg, hz);
      st = tcp.listen({Ipv4Addr{}, port}, accepting(tcp, tcp_cfg, std::move(srv))).status;
    });
    if (st != TcpStatus::kOk)
      return Error{"cannot listen on TCP port " + std::to_string(port) + " (" + tcp_status_name(st) + ")"};
  }
  return ok_status();
}

}  // namespace dpdkstack

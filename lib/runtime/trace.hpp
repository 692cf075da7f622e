// Packet trace: one line per layer step, like a teaching stack prints it.
//
// Contract: the engine holds a Trace* that is null unless --trace FILE was
// given, so tracing off costs one predicted branch per step. Lines go to one
// FILE shared by the lcores; stdio serialises whole fprintf calls, so lines
// never interleave. This is a debugging aid, not a data-path facility.
#pragma once

#include <cstdarg>
#include <cstdio>

namespace dpdkstack {

class Trace {
 public:
  explicit Trace(FILE* f) : f_(f) {}
  ~Trace() {
    if (f_) std::fclose(f_);
  }
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  __attribute__((format(printf, 3, 4))) void line(unsigned lcore, const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::fprintf(f_, "lcore%u %s\n", lcore, buf);
    std::fflush(f_);
  }

 private:
  FILE* f_;
};

}  // namespace dpdkstack

// The console's text helper (private to lib/console; not installed).
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>

namespace dpdkstack {

// printf onto the end of `out` (a line at most 1 KiB).
__attribute__((format(printf, 2, 3))) inline void appendf(std::string& out, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  out += buf;
}

}  // namespace dpdkstack

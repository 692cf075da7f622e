// A timing wheel for per-connection deadlines (Varghese and Lauck's
// scheme 4, one level), with lazy cancellation.
//
// Contract:
// - Time in microseconds; one slot per tick (1 ms), kSlots slots: a
//   deadline further away than the wheel turns is parked in the last slot
//   it can reach and re-inserted when that slot comes round.
// - schedule(id, gen, deadline) files an entry; entries are never removed:
//   advance() hands each due entry to `fire(id, gen, deadline)`, and the
//   owner decides whether the entry still stands (its connection still has
//   that generation and that deadline) or is stale (ignored). An owner
//   avoids piling up entries by scheduling only when its deadline moves
//   earlier than the one already filed (a later deadline is re-filed when
//   the earlier entry fires).
// - advance(now, fire) runs every slot from the last call up to now, each
//   due entry once; `fire` may schedule again (into later slots).
// - No allocation once the slots' vectors have grown to their working
//   size. Sans-I/O: no clock inside.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace dpdkstack::tcp {

class TimerWheel {
 public:
  static constexpr size_t kSlots = 4096;  // 4.096 s at 1 ms
  static constexpr uint64_t kTickUs = 1000;

  struct Entry {
    uint32_t id = 0;
    uint32_t gen = 0;
    uint64_t deadline = 0;
  };

  explicit TimerWheel(uint64_t now = 0) : tick_(now / kTickUs) {}

  void schedule(uint32_t id, uint32_t gen, uint64_t deadline) {
    uint64_t t = deadline / kTickUs;
    if (t < tick_) t = tick_;
    if (t >= tick_ + kSlots) t = tick_ + kSlots - 1;
    slots_[t % kSlots].push_back({id, gen, deadline});
    ++size_;
  }

  template <typename Fire>
  void advance(uint64_t now, Fire&& fire) {
    uint64_t until = now / kTickUs;
    // After a long stall, one turn covers every slot.
    if (until > tick_ + kSlots) tick_ = until - kSlots;
    for (; tick_ <= until; ++tick_) {
      auto& slot = slots_[tick_ % kSlots];
      if (slot.empty()) continue;
      scratch_.swap(slot);
      size_ -= scratch_.size();
      for (const Entry& e : scratch_) {
        if (e.deadline > now) {
          schedule(e.id, e.gen, e.deadline);  // not yet: parked past the wheel's reach
          continue;
        }
        fire(e.id, e.gen, e.deadline);
      }
      scratch_.clear();
    }
    tick_ = until;  // the current slot may still take entries due within this tick
  }

  size_t size() const { return size_; }

 private:
  std::array<std::vector<Entry>, kSlots> slots_;
  std::vector<Entry> scratch_;
  uint64_t tick_ = 0;
  size_t size_ = 0;
};

}  // namespace dpdkstack::tcp

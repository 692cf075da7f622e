#include "ip/route_table.hpp"

#include <rte_errno.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace dpdkstack {

namespace {

// rte_lpm keeps the name in RTE_LPM_NAMESIZE bytes, NUL included.
constexpr size_t kMaxNameLen = RTE_LPM_NAMESIZE - 1;
// rte_lpm's next hop is 24 bits wide, and it is our slot index.
constexpr uint32_t kMaxRoutes = uint32_t{1} << 24;
// A tbl8 group (256 entries, 1 KiB) is taken by every /24 that holds a route
// longer than /24. One per route is never short; beyond 65536 groups (64 MiB,
// as much as tbl24 itself) a table that large would more likely be mostly
// short prefixes, and add() says plainly when the groups run out.
constexpr uint32_t kMinTbl8s = 256;
constexpr uint32_t kMaxTbl8s = 65536;

bool valid_network(Ipv4Prefix p) { return p.len <= 32 && p.addr == p.network(); }

std::string host_bits_error(Ipv4Prefix p) {
  if (p.len > 32) return "route " + p.addr.to_string() + "/" + std::to_string(p.len) + ": prefix length above 32";
  return "route " + p.to_string() + ": host bits set (expected a network prefix, e.g. " +
         Ipv4Prefix{p.network(), p.len}.to_string() + ")";
}

}  // namespace

RouteTable::RouteTable(std::string name, uint32_t max_routes, rte_lpm* lpm)
    : name_(std::move(name)), max_routes_(max_routes), lpm_(lpm), slots_(max_routes), in_use_(max_routes, 0) {
  free_.reserve(max_routes);
  // Popped from the back: slot 0 is used first.
  for (uint32_t i = max_routes; i > 0; --i) free_.push_back(i - 1);
}

RouteTable::~RouteTable() { rte_lpm_free(lpm_); }

Result<std::unique_ptr<RouteTable>> RouteTable::create(const std::string& name, uint32_t max_routes,
                                                       int socket_id) {
  if (name.empty() || name.size() > kMaxNameLen)
    return Error{"route table '" + name + "': name must be 1.." + std::to_string(kMaxNameLen) + " characters"};
  if (max_routes == 0 || max_routes > kMaxRoutes)
    return Error{"route table '" + name + "': max_routes must be 1.." + std::to_string(kMaxRoutes) + ", got " +
                 std::to_string(max_routes)};
  rte_lpm_config cfg{};
  cfg.max_rules = max_routes;
  cfg.number_tbl8s = std::clamp(max_routes, kMinTbl8s, kMaxTbl8s);
  cfg.flags = 0;
  rte_lpm* lpm = rte_lpm_create(name.c_str(), socket_id, &cfg);
  if (lpm == nullptr)
    return Error{"route table '" + name + "': rte_lpm_create(max_rules " + std::to_string(cfg.max_rules) +
                 ", tbl8s " + std::to_string(cfg.number_tbl8s) + ") failed: " + rte_strerror(rte_errno)};
  return std::unique_ptr<RouteTable>(new RouteTable(name, max_routes, lpm));
}

uint32_t RouteTable::find_slot(Ipv4Prefix prefix) const {
  if (prefix.len == 0) return default_slot_;
  uint32_t slot = 0;
  if (rte_lpm_is_rule_present(lpm_, prefix.addr.v, prefix.len, &slot) == 1) return slot;
  return kNoSlot;
}

Status RouteTable::add(const Route& r) {
  if (!valid_network(r.prefix)) return Error{host_bits_error(r.prefix)};
  if (find_slot(r.prefix) != kNoSlot) {
    const Route& old = slots_[find_slot(r.prefix)];
    return Error{"route " + r.prefix.to_string() + ": already present (" + route_kind_name(old.kind) +
                 " route); delete it first"};
  }
  if (free_.empty())
    return Error{"route " + r.prefix.to_string() + ": table full (max_routes " + std::to_string(max_routes_) +
                 ")"};
  const uint32_t slot = free_.back();
  if (r.prefix.len != 0) {
    int rc = rte_lpm_add(lpm_, r.prefix.addr.v, r.prefix.len, slot);
    if (rc < 0) {
      // The rules table holds max_routes rules, so -ENOSPC here means the
      // tbl8 groups (one per /24 holding a route longer than /24) ran out.
      std::string why = rc == -ENOSPC && r.prefix.len > 24 ? "out of tbl8 groups for routes longer than /24"
                                                           : rte_strerror(-rc);
      return Error{"route " + r.prefix.to_string() + ": rte_lpm_add failed: " + why};
    }
  } else {
    default_slot_ = slot;
  }
  free_.pop_back();
  slots_[slot] = r;
  in_use_[slot] = 1;
  ++size_;
  return ok_status();
}

Status RouteTable::del(Ipv4Prefix prefix) {
  if (!valid_network(prefix)) return Error{host_bits_error(prefix)};
  const uint32_t slot = find_slot(prefix);
  if (slot == kNoSlot) return Error{"route " + prefix.to_string() + ": no such route"};
  if (slots_[slot].kind == RouteKind::kConnected)
    return Error{"route " + prefix.to_string() + ": is a connected route (of port " +
                 std::to_string(slots_[slot].port) + ") and cannot be deleted"};
  if (prefix.len != 0) {
    int rc = rte_lpm_delete(lpm_, prefix.addr.v, prefix.len);
    if (rc < 0) return Error{"route " + prefix.to_string() + ": rte_lpm_delete failed: " + rte_strerror(-rc)};
  } else {
    default_slot_ = kNoSlot;
  }
  in_use_[slot] = 0;
  slots_[slot] = Route{};
  free_.push_back(slot);
  --size_;
  return ok_status();
}

std::vector<Route> RouteTable::routes() const {
  std::vector<Route> out;
  out.reserve(size_);
  for (size_t i = 0; i < slots_.size(); ++i)
    if (in_use_[i]) out.push_back(slots_[i]);
  std::sort(out.begin(), out.end(), [](const Route& a, const Route& b) {
    if (a.prefix.len != b.prefix.len) return a.prefix.len > b.prefix.len;
    return a.prefix.addr < b.prefix.addr;
  });
  return out;
}

}  // namespace dpdkstack

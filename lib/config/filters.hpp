// The filter table's configuration ($.filters of stack.json, issue 5): the
// JSON text of rules, parsed into the rule model of filter/rule.hpp and
// formatted back. One parser serves the start (parse_config), the console's
// `filter reload` (load_config of the re-read file; parse_filters, declared
// in the private config/filters_json.h, does the "filters" object) and
// `filter add <json>` (parse_filter_rule).
//
// Contract:
// - Every error's message begins with the JSON path of the offending value
//   under the caller's `path` ("$.filters.rules[3].sport: expected lo <= hi,
//   got [90, 80]"; "rule.sport: ..." for parse_filter_rule(..., "rule", ...)).
//   Unknown keys, wrong types, out-of-range values and keys that do not fit
//   the rest of the rule (a port range without proto tcp or udp, in_port on
//   the output hook, reject_with without action reject, ...) are all errors.
//   docs/CONFIG.md (## filters) lists every key, default and constraint.
// - parse_filters also enforces the table's limits: at most kMaxFilterRules
//   rules and at most kMaxCountRulesPerHook `count` rules per hook (the error
//   names the first rule beyond the limit). parse_filter_rule checks one
//   rule alone; a caller adding it to a table checks those limits itself.
// - format_filter_rule gives one line of JSON (keys in a fixed order, values
//   at their defaults left out) that parse_filter_rule reads back to an equal
//   rule, for every rule the parsers can produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "filter/rule.hpp"

namespace dpdkstack {

inline constexpr uint32_t kMaxFilterRatePps = 10'000'000;  // rate.pps: 1..this
inline constexpr uint32_t kMaxFilterRateBurst = 1'000'000; // rate.burst: 1..this
inline constexpr size_t kMaxFilterCommentBytes = 200;

// rate.burst when the rule gives only pps: one second's worth, capped at
// kMaxFilterRateBurst.
constexpr uint32_t default_filter_rate_burst(uint32_t pps) {
  return pps < kMaxFilterRateBurst ? pps : kMaxFilterRateBurst;
}

// One rule from text (console `filter add <json>`): `path` prefixes every
// error, so that with "rule" they read "rule.sport: ...".
Result<FilterRule> parse_filter_rule(std::string_view json_text, const std::string& path, size_t nports);

// The JSON text of a rule (for `show filter` and round trips):
// parse_filter_rule(format_filter_rule(r), ...) == r.
std::string format_filter_rule(const FilterRule& r);

}  // namespace dpdkstack

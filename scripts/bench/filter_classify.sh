#!/usr/bin/env bash
# Filter classification microbenchmark: TSC cycles per FilterTable::classify
# (one key per call, as the engine calls it) with 1, 100, 1000 and 10,000
# rules, beside rte_acl's batched search (32 keys per call) and the peer, a
# plain first-match scan of the same rules. Pinned to core 1.
#   scripts/bench/filter_classify.sh [keys per round] [rounds]
# BUILD=<dir> runs an already configured build directory instead of ./build
# (rebuilt with ninja first); BIN=<path to bench-filter-classify> runs that
# binary as it is, building nothing (e.g. a copy taken while others rebuild).
# Writes bench-results/filter_classify-<UTC>.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/../.."
KEYS=${1:-2000000}
ROUNDS=${2:-5}
BUILD=${BUILD:-build}
BIN=${BIN:-}
if [[ -n "$BIN" ]]; then
  [[ -x "$BIN" ]] || { echo "filter_classify: no executable at BIN=$BIN" >&2; exit 1; }
elif [[ "$BUILD" == build ]]; then
  scripts/build >/dev/null; BIN=$BUILD/tests/bench-filter-classify
else
  ninja -C "$BUILD" >/dev/null; BIN=$BUILD/tests/bench-filter-classify
fi
mkdir -p bench-results
OUT=bench-results/filter_classify-$(date -u +%Y%m%dT%H%M%SZ).json
# The program's EAL runtime directory (/var/run/dpdk/fltbench<its pid>) stays behind
# after it exits: remove the one this run made, also on failure or Ctrl-C.
before=$(ls -d /var/run/dpdk/fltbench* 2>/dev/null || true)
cleanup() {
  local d
  for d in /var/run/dpdk/fltbench*; do
    [[ -d $d && $'\n'$before$'\n' != *$'\n'$d$'\n'* ]] && rm -rf "$d"
  done
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
timeout 600 taskset -c 1 "$BIN" "$KEYS" "$ROUNDS" >"$OUT"
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| rules | classify cycles/key | Mkeys/s (1 core) | burst of 32, cycles/key | linear scan cycles/key "
      "| classify / linear | rte_acl contexts | build ms |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['rules']} | {r['classify_cycles']:.0f} | {r['classify_mpps']:.1f} | {r['burst32_cycles_per_key']:.0f} | "
          f"{r['linear_scan_cycles']:.0f} | {r['ratio_classify_over_linear']:.3f} | {r['acl_contexts']} | "
          f"{r['build_ms']:.0f} |")
PY
echo "wrote $OUT"

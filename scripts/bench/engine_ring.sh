#!/usr/bin/env bash
# Engine microbenchmark: the stack's own cycles per packet on a net_ring port
# (no syscalls), against a bare l2fwd-style MAC-swap loop on the same port in
# the same process (the forwarding ceiling). Pinned to core 1.
#   scripts/bench/engine_ring.sh [packets per run] [rounds]
# Writes bench-results/engine_ring-<UTC>.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/../.."
PACKETS=${1:-2000000}
ROUNDS=${2:-5}
scripts/build >/dev/null
mkdir -p bench-results
OUT=bench-results/engine_ring-$(date -u +%Y%m%dT%H%M%SZ).json
timeout 300 taskset -c 1 build/tests/bench-engine-ring "$PACKETS" "$ROUNDS" >"$OUT"
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| case | dpdk-stack cycles/pkt | bare MAC-swap cycles/pkt | stack / bare | stack Mpps (1 core) |")
print("|---|---|---|---|---|")
for r in rows:
    if "stack_cycles_per_pkt" in r:
        print(f"| {r['case']} | {r['stack_cycles_per_pkt']:.0f} | {r['bare_cycles_per_pkt']:.0f} | "
              f"{r['ratio_stack_over_bare_cycles']:.1f} | {r['stack_mpps']:.1f} |")
reasm = [r for r in rows if "stack_cycles_per_datagram" in r]
if reasm:
    print()
    print("| case | dpdk-stack cycles/datagram | cycles/fragment | bare MAC-swap cycles/fragment | stack / bare |")
    print("|---|---|---|---|---|")
    for r in reasm:
        print(f"| {r['case']} | {r['stack_cycles_per_datagram']:.0f} | {r['stack_cycles_per_fragment']:.0f} | "
              f"{r['bare_cycles_per_fragment']:.0f} | {r['ratio_stack_over_bare_cycles']:.1f} |")
PY
echo "wrote $OUT"

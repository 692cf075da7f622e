#!/usr/bin/python3
"""Turn the raw outputs of icmp_arp.sh into JSON, a table with ratios, and a PNG.

usage: icmp_arp_report.py WORK_DIR OUT.json

WORK_DIR holds meta.env and r<round>/<target>/{ping_lat.txt, ping_flood.txt,
ping_flood_l32.txt, arping.txt, arp_w1.json, arp_w32.json, telemetry.jsonl,
server.log}.  Writes OUT.json, OUT.md (the tables, for docs/PERFORMANCE.md) and,
when matplotlib is importable, OUT.png; prints the tables.
"""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (bars, kv, md_table, pyplot, read, round_dirs, save_png, spread,  # noqa: E402
                          testpmd_cycles, tsc_hz_from_meta, write_outputs)

TARGET_ORDER = ["stack_tap", "testpmd_tap", "stack_afpacket", "testpmd_afpacket",
                "kernel_veth_core1", "kernel_veth"]
TARGET_LABEL = {
    "stack_tap": "dpdk-stack, net_tap",
    "testpmd_tap": "testpmd icmpecho, net_tap",
    "stack_afpacket": "dpdk-stack, net_af_packet/veth",
    "testpmd_afpacket": "testpmd icmpecho, net_af_packet/veth",
    "kernel_veth_core1": "Linux, veth, RPS to core 1",
    "kernel_veth": "Linux, veth, same core",
}
# (key, label, unit, higher_is_better)
METRICS = [
    ("icmp_rtt_avg_us", "ICMP RTT avg (ping -i 0.002)", "us", False),
    ("icmp_flood_pps", "ICMP rate, 1 in flight (ping -f)", "pps", True),
    ("icmp_flood32_pps", "ICMP rate, 32 in flight (ping -f -l 32)", "pps", True),
    ("arp_rtt_avg_us", "ARP RTT avg (arping -W 0.002)", "us", False),
    ("arp_w1_rtt_avg_us", "ARP RTT avg (raw socket, 1 in flight)", "us", False),
    ("arp_w1_pps", "ARP rate, 1 in flight (raw socket)", "pps", True),
    ("arp_w32_pps", "ARP rate, 32 in flight (raw socket)", "pps", True),
    ("cycles_per_pkt", "busy TSC cycles / packet received", "cycles", False),
]
PEERS = ["kernel_veth_core1", "kernel_veth"]
CEILING = {"stack_tap": "testpmd_tap", "stack_afpacket": "testpmd_afpacket"}

PING_SUM = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received.*?time (\d+)ms")
PING_RTT = re.compile(r"rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms")
PING_T = re.compile(r"icmp_seq=\d+ ttl=\d+ time=([\d.]+) ms")
ARPING_SUM = re.compile(r"(\d+) packets transmitted, (\d+) packets received")
ARPING_T = re.compile(r"time=([\d.]+) (usec|msec|sec)")


def parse_ping(text):
    if not text:
        return None
    m = PING_SUM.search(text)
    if not m:
        return None
    tx, rx, ms = int(m.group(1)), int(m.group(2)), int(m.group(3))
    r = {"transmitted": tx, "received": rx, "loss_pct": 100.0 * (tx - rx) / max(tx, 1),
         "elapsed_ms": ms, "pps": rx / (ms / 1000.0) if ms > 0 else None}
    m = PING_RTT.search(text)
    if m:
        r["rtt_us"] = dict(zip(["min", "avg", "max", "mdev"], (float(x) * 1000 for x in m.groups())))
        t = sorted(float(x) * 1000 for x in PING_T.findall(text))  # per-reply lines, without -q
        if t:
            r["rtt_us"]["p50"] = t[len(t) // 2]
            r["rtt_us"]["p99"] = t[max(int(len(t) * 0.99) - 1, 0)]
    return r


def parse_arping(text):
    if not text:
        return None
    m = ARPING_SUM.search(text)
    if not m:
        return None
    tx, rx = int(m.group(1)), int(m.group(2))
    scale = {"usec": 1.0, "msec": 1e3, "sec": 1e6}
    t = sorted(float(v) * scale[u] for v, u in ARPING_T.findall(text))
    r = {"transmitted": tx, "received": rx, "loss_pct": 100.0 * (tx - rx) / max(tx, 1)}
    if t:
        r["rtt_us"] = {"min": t[0], "avg": statistics.fmean(t), "p50": t[len(t) // 2],
                       "p99": t[max(int(len(t) * 0.99) - 1, 0)], "max": t[-1],
                       "mdev": statistics.pstdev(t)}
    return r


def parse_json(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def sum_lcores(snap, key):
    return sum(int(v.get(key, 0)) for v in (snap.get("lcores") or {}).values())


def parse_telemetry(text):
    """Per-phase and whole-run busy cycles per received packet, and the TSC rate."""
    if not text:
        return None
    snaps = [json.loads(l) for l in text.splitlines() if l.strip()]
    if len(snaps) < 2:
        return None
    phases = {}
    for a, b in zip(snaps, snaps[1:]):
        drx = sum_lcores(b, "rx_packets") - sum_lcores(a, "rx_packets")
        dbusy = sum_lcores(b, "busy_cycles") - sum_lcores(a, "busy_cycles")
        phases[b["label"]] = {"rx_packets": drx, "tx_packets": sum_lcores(b, "tx_packets") - sum_lcores(a, "tx_packets"),
                              "busy_cycles": dbusy,
                              "cycles_per_pkt": dbusy / drx if drx else None}
    first, last = snaps[0], snaps[-1]
    drx = sum_lcores(last, "rx_packets") - sum_lcores(first, "rx_packets")
    dbusy = sum_lcores(last, "busy_cycles") - sum_lcores(first, "busy_cycles")
    dtotal = sum_lcores(last, "total_cycles") - sum_lcores(first, "total_cycles")
    dt = (last["t_mono_ns"] - first["t_mono_ns"]) / 1e9
    return {"phases": phases, "rx_packets": drx, "busy_cycles": dbusy,
            "cycles_per_pkt": dbusy / drx if drx else None,
            "busy_fraction": dbusy / dtotal if dtotal else None,
            # total_cycles counts TSC ticks of the one engine's loop over wall time
            "tsc_hz_estimate": dtotal / dt if dt > 0 else None,
            "counters_end": last.get("counters")}


def parse_server_log(text):
    if not text:
        return None
    r = testpmd_cycles(text)
    m = re.search(r"mbufs in use after shutdown: (\d+)", text)
    if m:
        r["mbufs_in_use_after_shutdown"] = int(m.group(1))
    r["warnings"] = [l for l in text.splitlines() if "warning" in l.lower()][:5]
    return r


def contention(env, meta):
    """Reasons to distrust a run on this shared machine (empty list: none seen)."""
    why = []
    quiet = float(meta.get("quiet_pct") or 25)
    for core in ("core0", "core1"):
        v = env.get(f"{core}_busy_pct_before")
        if v and float(v) >= quiet:
            why.append(f"{core} {v}% busy before the run")
    for k in ("foreign_dpdk_before", "foreign_dpdk_after"):
        if env.get(k):
            why.append(f"other DPDK pollers running ({k.split('_')[-1]}: pids {env[k]})")
    psi = env.get("cpu_pressure_share")
    if psi and float(psi) > 0.10:
        why.append(f"tasks waited for a CPU {float(psi):.0%} of the time (PSI)")
    wait = env.get("server_runq_wait_share")
    if wait and float(wait) > 0.05:
        why.append(f"the server waited for its core {float(wait):.0%} of the time")
    return why


def flatten(run, target):
    """The headline numbers of one target in one round."""
    v = {}
    pl, pf, p32 = run.get("ping_lat"), run.get("ping_flood"), run.get("ping_flood_l32")
    if pl and "rtt_us" in pl:
        v["icmp_rtt_avg_us"] = pl["rtt_us"]["avg"]
    if pf:
        v["icmp_flood_pps"] = pf["pps"]
    if p32:
        v["icmp_flood32_pps"] = p32["pps"]
    ar = run.get("arping")
    if ar and "rtt_us" in ar:
        v["arp_rtt_avg_us"] = ar["rtt_us"]["avg"]
    w1, w32 = run.get("arp_w1"), run.get("arp_w32")
    if w1:
        v["arp_w1_pps"] = w1["pps"]
        if "rtt_us" in w1:
            v["arp_w1_rtt_avg_us"] = w1["rtt_us"]["avg"]
    if w32:
        v["arp_w32_pps"] = w32["pps"]
    tel, srv = run.get("telemetry"), run.get("server") or {}
    if tel and tel.get("cycles_per_pkt"):
        v["cycles_per_pkt"] = tel["cycles_per_pkt"]
    elif srv.get("cycles_per_pkt"):
        v["cycles_per_pkt"] = srv["cycles_per_pkt"]
    # ping -l 32 stops once it has COUNT replies, with up to 32 requests still in
    # flight; those are not losses
    if p32:
        p32["loss_pct_beyond_preload"] = 100.0 * max(0, p32["transmitted"] - p32["received"] - 32) / max(p32["transmitted"], 1)
    losses = [x["loss_pct"] for x in (pl, pf, ar, w1, w32) if x] + ([p32["loss_pct_beyond_preload"]] if p32 else [])
    v["max_loss_pct"] = max(losses) if losses else None
    return v


def fmt(x, unit=""):
    if x is None:
        return "n/a"
    if unit == "pps":
        return f"{x / 1000:.1f}k"
    if unit == "us":
        return f"{x:.1f}"
    if unit == "cycles":
        return f"{x:,.0f}"
    if unit == "ratio":
        return f"{x:.2f}"
    return f"{x:.3g}"


def main():
    work, out_json = sys.argv[1], sys.argv[2]
    meta = kv(read(os.path.join(work, "meta.env")))
    rounds = round_dirs(work)
    raw = {}
    for rd in rounds:
        for target in sorted(os.listdir(os.path.join(work, rd))):
            d = os.path.join(work, rd, target)
            run = {
                "ping_lat": parse_ping(read(os.path.join(d, "ping_lat.txt"))),
                "ping_flood": parse_ping(read(os.path.join(d, "ping_flood.txt"))),
                "ping_flood_l32": parse_ping(read(os.path.join(d, "ping_flood_l32.txt"))),
                "arping": parse_arping(read(os.path.join(d, "arping.txt"))),
                "arp_w1": parse_json(read(os.path.join(d, "arp_w1.json"))),
                "arp_w32": parse_json(read(os.path.join(d, "arp_w32.json"))),
                "telemetry": parse_telemetry(read(os.path.join(d, "telemetry.jsonl"))),
                "server": parse_server_log(read(os.path.join(d, "server.log"))),
            }
            if run["server"] is not None and not any(run[k] for k in ("ping_lat", "ping_flood", "arping")):
                run["server_log_tail"] = (read(os.path.join(d, "server.log")) or "").splitlines()[-30:]
            env = kv(read(os.path.join(d, "env.txt")))
            run["env"] = env
            run["contention"] = contention(env, meta)
            run["headline"] = flatten(run, target)
            raw.setdefault(target, []).append(run)

    targets = [t for t in TARGET_ORDER if t in raw] + sorted(t for t in raw if t not in TARGET_ORDER)
    summary = {}
    for t in targets:
        clean = [r for r in raw[t] if not r["contention"]]
        use = clean or raw[t]
        s = {"rounds_total": len(raw[t]), "rounds_uncontended": len(clean),
             "rounds_used": "uncontended only" if clean else "all (every round was contended)"}
        for key, *_ in METRICS + [("max_loss_pct",)]:
            vals = [r["headline"][key] for r in use if r["headline"].get(key) is not None]
            if vals:
                s[key] = spread(vals)
        summary[t] = s

    def med(t, key):
        return summary.get(t, {}).get(key, {}).get("median")

    ratios = {}
    for t in targets:
        if not t.startswith("stack_"):
            continue
        for peer in PEERS + [CEILING.get(t)]:
            if peer is None or peer not in summary:
                continue
            ratios.setdefault(t, {})[peer] = {
                key: (med(t, key) / med(peer, key) if med(t, key) and med(peer, key) else None)
                for key, *_ in METRICS}

    tsc_hz = tsc_hz_from_meta(meta)
    if tsc_hz is None:
        mhz = [r["server"]["tsc_mhz"] for t in targets for r in raw[t] if (r.get("server") or {}).get("tsc_mhz")]
        tsc_hz = statistics.median(mhz) * 1e6 if mhz else None
    for t in targets:
        for r in raw[t]:
            tel = r.get("telemetry")
            if tel and tsc_hz and tel.get("tsc_hz_estimate"):
                # share of wall time inside Engine::poll_once (total_cycles); the rest is
                # the control callback and loop overhead (or preemption)
                tel["loop_share_of_wall"] = tel["tsc_hz_estimate"] / tsc_hz
    phase_cycles = {}
    for t in targets:
        per = {}
        for r in raw[t]:
            for ph, v in ((r.get("telemetry") or {}).get("phases") or {}).items():
                if v.get("cycles_per_pkt"):
                    per.setdefault(ph, []).append(v["cycles_per_pkt"])
        if per:
            phase_cycles[t] = {ph: statistics.median(v) for ph, v in per.items()}

    # ---- tables ----
    cols = [(k, lbl, unit) for k, lbl, unit, _ in METRICS]
    short = {"icmp_rtt_avg_us": "ICMP RTT avg µs", "icmp_flood_pps": "ICMP pps 1-in-flight",
             "icmp_flood32_pps": "ICMP pps 32-in-flight", "arp_rtt_avg_us": "ARP RTT avg µs (arping)",
             "arp_w1_rtt_avg_us": "ARP RTT avg µs (raw)", "arp_w1_pps": "ARP pps 1-in-flight",
             "arp_w32_pps": "ARP pps 32-in-flight", "cycles_per_pkt": "cycles/pkt"}
    rows = []
    for t in targets:
        row = [TARGET_LABEL.get(t, t)]
        for k, _, unit in cols:
            row.append(fmt(med(t, k), unit))
        loss = med(t, "max_loss_pct")
        row.append("n/a" if loss is None else f"{loss:.1f}%")
        row.append(f"{summary[t]['rounds_uncontended']}/{summary[t]['rounds_total']}")
        rows.append(row)
    t1 = md_table(["target (median of rounds)"] + [short[k] for k, *_ in cols] + ["worst loss", "quiet rounds"], rows)
    rrows = []
    for t, per in ratios.items():
        for peer, vals in per.items():
            rrows.append([f"{TARGET_LABEL.get(t, t)} / {TARGET_LABEL.get(peer, peer)}"]
                         + [fmt(vals.get(k), "ratio") for k, *_ in cols])
    t2 = md_table(["ratio"] + [short[k] for k, *_ in cols], rrows)
    prow = []
    phase_names = ["ping_lat", "ping_flood", "ping_flood_l32", "arping", "arp_w1", "arp_w32"]
    for t, per in phase_cycles.items():
        prow.append([TARGET_LABEL.get(t, t)] + [fmt(per.get(ph), "cycles") for ph in phase_names])
    t3 = md_table(["dpdk-stack cycles/pkt by phase"] + phase_names, prow) if prow else ""
    lrows = []
    for t in targets:
        use = [r for r in raw[t] if not r["contention"]] or raw[t]
        row = [TARGET_LABEL.get(t, t)]
        for src in ("ping_lat", "arping"):
            for k in ("min", "p50", "avg", "p99", "max", "mdev"):
                vals = [r[src]["rtt_us"][k] for r in use if r.get(src) and "rtt_us" in r[src]]
                row.append(fmt(statistics.median(vals), "us") if vals else "n/a")
        lrows.append(row)
    t4 = md_table(["latency detail, µs (median of rounds)"] + [f"ping {k}" for k in ("min", "p50", "avg", "p99", "max", "mdev")]
                  + [f"arping {k}" for k in ("min", "p50", "avg", "p99", "max", "sd")], lrows)
    notes = ("Rates are replies per second; for RTTs and cycles/pkt lower is better. "
             "Ratio = stack / peer: above 1 means the stack has the higher number "
             "(better for pps, worse for µs and cycles).")
    tsc_note = (f"TSC {tsc_hz / 1e6:.0f} MHz: 10,000 cycles = {1e4 / tsc_hz * 1e6:.2f} µs." if tsc_hz else "")
    cont = [f"- {t} round {i + 1}: " + "; ".join(r["contention"]) for t in targets
            for i, r in enumerate(raw[t]) if r["contention"]]
    if cont:
        tsc_note += ("\n\nContended runs (left out of the medians when a target has a quiet round):\n"
                     + "\n".join(cont))
    md = "\n\n".join(x for x in [t1, t2, t4, t3, notes, tsc_note] if x) + "\n"

    result = {"benchmark": "icmp_arp", "meta": meta, "metrics": {k: {"label": l, "unit": u, "higher_is_better": h}
                                                                  for k, l, u, h in METRICS},
              "targets": {t: TARGET_LABEL.get(t, t) for t in targets},
              "summary_median": summary, "ratios_stack_over_peer": ratios,
              "stack_cycles_per_pkt_by_phase": phase_cycles, "tsc_hz_estimate": tsc_hz, "runs": raw}
    base = write_outputs(out_json, result, md)

    # ---- plot ----
    plt = pyplot()
    if plt is None:
        return 0
    colors = {"stack": "tab:blue", "testpmd": "tab:gray", "kernel": "tab:orange"}
    fig, axes = plt.subplots(2, 4, figsize=(18, 8))
    for ax, (k, lbl, unit, hib) in zip(axes.flat, METRICS):
        bars(ax, [(TARGET_LABEL.get(t, t).replace(", ", "\n"), summary[t].get(k), colors.get(t.split("_")[0], "tab:green"))
                  for t in targets], 1000.0 if unit == "pps" else 1.0, fontsize=6, rotation=30, ha="right")
        ax.set_title(f"{lbl}\n({'k' if unit == 'pps' else ''}{unit}, {'higher' if hib else 'lower'} is better)", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    fig.suptitle(f"ICMP echo and ARP: dpdk-stack vs Linux vs testpmd ({meta.get('date_utc', '')}, "
                 f"median of {len(rounds)} rounds, bars = min..max)", fontsize=10)
    save_png(fig, base)
    return 0


if __name__ == "__main__":
    sys.exit(main())

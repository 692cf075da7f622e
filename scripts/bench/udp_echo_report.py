#!/usr/bin/python3
"""Turn the raw outputs of udp_echo.sh into JSON, markdown tables and a PNG.

usage: udp_echo_report.py WORK_DIR OUT.json

WORK_DIR holds meta.env and r<round>/<payload>/<responder>/{env.txt, samples.jsonl,
gen.log, rsp.log, and snmp.txt (kernel) or telemetry.jsonl (stack)}.  samples.jsonl has
the "start" and "end" lines of forward_sample.py around the measured window.  Writes
OUT.json, OUT.md (the tables) and, when matplotlib is importable, OUT.png; prints the
tables.
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (bars, kv, md_table, pyplot, read, round_dirs, save_png, spread,  # noqa: E402
                          tsc_hz_from_meta, write_outputs)
# The window arithmetic that forward.sh's report already does the same way.
from forward_report import (contention, cpu_shares, fmt, fmt_pps, jsonl, parse_telemetry,  # noqa: E402
                            parse_testpmd)

RSP_ORDER = ["kernel", "kernel_norps", "stack", "testpmd"]
RSP_LABEL = {"kernel": "Linux, rx softirq on core 1 (RPS)", "kernel_norps": "Linux, rx softirq on core 0 (no RPS)",
             "stack": "dpdk-stack udp_echo", "testpmd": "testpmd macswap (ceiling)"}
PLOT_LABEL = {"kernel": "Linux\nRPS→core 1", "kernel_norps": "Linux\nno RPS", "stack": "dpdk-stack",
              "testpmd": "testpmd macswap\n(ceiling)"}
LINKS = {"gen": "veth-gen", "rsp": "veth-rsp"}
ECHOED_ALL_PCT = 99.0  # echoed at least this share of what was offered: the generator set the pace
SERVER_COUNTS = re.compile(r"received=(\d+) sent=(\d+) send_errors=(\d+) recv_calls=(\d+)")


def link(sample, name):
    for k, v in sample["links"].items():
        if k.endswith(":" + LINKS[name]):
            return v
    return {}


def parse_samples(samples):
    by = {s["label"]: s for s in samples}
    a, b = by.get("start"), by.get("end")
    if not a or not b:
        return None
    dt = (b["t_mono_ns"] - a["t_mono_ns"]) / 1e9

    def d(name, key):
        return link(b, name).get(key, 0) - link(a, name).get(key, 0)

    offered = d("gen", "tx_packets") + d("gen", "tx_dropped")
    echoed = d("rsp", "tx_packets")
    r = {"window_s": dt, "offered_packets": offered, "echoed_packets": echoed,
         "returned_packets": d("gen", "rx_packets"),
         "offered_pps": offered / dt, "echoed_pps": echoed / dt, "returned_pps": d("gen", "rx_packets") / dt,
         "echoed_pct": 100.0 * echoed / offered if offered else None,
         "links_delta": {n: {k: link(b, n).get(k, 0) - link(a, n).get(k, 0) for k in link(b, n)} for n in LINKS},
         "cpu": {c: cpu_shares(a, b, c) for c in ("cpu0", "cpu1")},
         "softnet_dropped_delta": [y["dropped"] - x["dropped"] for x, y in zip(a["softnet"], b["softnet"])],
         "cpu_pressure_share": (b["psi_some_us"] - a["psi_some_us"]) / 1e6 / dt if dt > 0 else None}
    procs = {}
    for name in ("gen", "rsp"):
        x, y = (a.get("procs") or {}).get(name), (b.get("procs") or {}).get(name)
        if x and y and dt > 0:
            procs[name] = {"oncpu_share": (y["oncpu_ns"] - x["oncpu_ns"]) / 1e9 / dt,
                           "runq_wait_share": (y["runq_ns"] - x["runq_ns"]) / 1e9 / dt,
                           "utime_ticks": y["utime"] - x["utime"], "stime_ticks": y["stime"] - x["stime"]}
    r["procs"] = procs
    # user time on each core that was not ours (the generator's sending lcore on core 0,
    # the responder on core 1; both processes' other threads sleep)
    r["foreign_user_share"] = {}
    for cpu, own in (("cpu0", "gen"), ("cpu1", "rsp")):
        x, y = a["cpu"].get(cpu), b["cpu"].get(cpu)
        if not x or not y:
            continue
        dtot = sum(y) - sum(x)
        duser = (y[0] - x[0]) + (y[1] - x[1])
        mine = procs.get(own, {}).get("utime_ticks", 0)
        r["foreign_user_share"][cpu] = max(0.0, (duser - mine) / dtot) if dtot > 0 else None
    return r


def parse_snmp(text):
    """The Udp: lines of /proc/net/snmp in rsp at "start" and "end": their differences."""
    snaps, label = {}, None
    for line in (text or "").splitlines():
        if line.startswith("label="):
            label = line[6:]
        elif line.startswith("Udp:") and label:
            snaps.setdefault(label, []).append(line.split()[1:])
    out = {}
    for lbl in ("start", "end"):
        rows = snaps.get(lbl)
        if not rows or len(rows) < 2:
            return None
        out[lbl] = dict(zip(rows[0], (int(v) for v in rows[1])))
    return {k: out["end"][k] - out["start"].get(k, 0) for k in out["end"]}


def main():
    work, out_json = sys.argv[1], sys.argv[2]
    meta = kv(read(os.path.join(work, "meta.env")))
    tsc_hz = tsc_hz_from_meta(meta)
    rounds = round_dirs(work)
    raw = {}  # raw[payload][responder] = [run, ...]
    for rd in rounds:
        for size in sorted(os.listdir(os.path.join(work, rd)), key=int):
            for rsp in sorted(os.listdir(os.path.join(work, rd, size))):
                d = os.path.join(work, rd, size, rsp)
                env = kv(read(os.path.join(d, "env.txt")))
                run = {"round": int(rd[1:]), "env": env, "status": env.get("status", "unknown")}
                s = parse_samples(jsonl(read(os.path.join(d, "samples.jsonl"))))
                run["link"] = s
                run["generator"] = parse_testpmd(read(os.path.join(d, "gen.log")))
                rlog = read(os.path.join(d, "rsp.log")) or ""
                if tsc_hz is None:  # testpmd prints the TSC rate with --record-core-cycles
                    for c in (run["generator"] or {}, parse_testpmd(rlog) or {}):
                        if c.get("tsc_mhz"):
                            tsc_hz = c["tsc_mhz"] * 1e6
                if rsp == "testpmd":
                    run["responder"] = parse_testpmd(rlog)
                if rsp.startswith("kernel"):
                    run["udp_mib_delta"] = parse_snmp(read(os.path.join(d, "snmp.txt")))
                    m = SERVER_COUNTS.search(rlog)
                    if m:  # the echo server's own counts, whole run
                        run["server_counts"] = dict(zip(("received", "sent", "send_errors", "recv_calls"),
                                                        (int(g) for g in m.groups())))
                if rsp == "stack":
                    run["telemetry"] = parse_telemetry(jsonl(read(os.path.join(d, "telemetry.jsonl"))))
                    run["stack_config"] = env.get("stack_config")
                    rej = read(os.path.join(d, "rsp-rejected.log"))
                    if rej:
                        run["stack_rejected_config"] = [l for l in rej.splitlines() if "error" in l][:3]
                if run["status"] != "ok" or s is None:
                    run["responder_log_tail"] = rlog.splitlines()[-20:]
                    run["generator_log_tail"] = (read(os.path.join(d, "gen.log")) or "").splitlines()[-20:]
                run["raw_s"] = s
                raw.setdefault(size, {}).setdefault(rsp, []).append(run)

    # headlines (after the loop: the TSC rate may come from any testpmd log)
    for size in raw:
        for rsp in raw[size]:
            for run in raw[size][rsp]:
                s = run.pop("raw_s")
                h = {"echoed_pps": s["echoed_pps"] if s else 0.0,
                     "offered_pps": s["offered_pps"] if s else None,
                     "returned_pps": s["returned_pps"] if s else None,
                     "echoed_pct": s["echoed_pct"] if s else None}
                if s:
                    h["echoed_gbit_s"] = s["echoed_pps"] * (int(size) + 42) * 8 / 1e9
                    c1 = s["cpu"].get("cpu1")
                    if c1:
                        ours = c1["busy"] - (s["foreign_user_share"].get("cpu1") or 0.0)
                        h["cpu1_busy"], h["cpu1_softirq"], h["cpu1_ours"] = c1["busy"], c1["softirq"], ours
                        if tsc_hz and s["echoed_packets"] > 0:
                            # every cycle core 1 was busy, less other processes' user time, per
                            # echoed datagram (a busy-polling responder alone on the core is always
                            # busy: this is then TSC Hz / rate; for Linux it is the softirq,
                            # system and user time of the echo path)
                            h["cpu1_cycles_per_echo"] = ours * s["window_s"] * tsc_hz / s["echoed_packets"]
                        if tsc_hz and s["offered_packets"] > 0:  # the same per datagram offered (echoed or not)
                            h["cpu1_cycles_per_offered"] = ours * s["window_s"] * tsc_hz / s["offered_packets"]
                    mib = run.get("udp_mib_delta")
                    if mib and s["offered_packets"]:
                        h["socket_drop_pct"] = 100.0 * mib.get("RcvbufErrors", 0) / s["offered_packets"]
                tel = run.get("telemetry")
                if tel and tel.get("busy_cycles_per_tx_pkt"):
                    h["own_cycles_per_echo"] = tel["busy_cycles_per_tx_pkt"]
                rs = run.get("responder") or {}
                if rs.get("cycles_per_pkt"):
                    h["own_cycles_per_echo"] = rs["cycles_per_pkt"]
                run["contention"] = contention(run["env"], s)
                if h["echoed_pct"] is not None:
                    h["generator_bound"] = 1.0 if h["echoed_pct"] >= ECHOED_ALL_PCT and h["echoed_pps"] > 0 else 0.0
                run["headline"] = h

    sizes = sorted(raw, key=int)
    rsps = [x for x in RSP_ORDER if any(x in raw[s] for s in sizes)]
    keys = ["echoed_pps", "offered_pps", "returned_pps", "echoed_pct", "echoed_gbit_s", "cpu1_busy", "cpu1_ours",
            "cpu1_softirq", "cpu1_cycles_per_echo", "cpu1_cycles_per_offered", "own_cycles_per_echo", "socket_drop_pct", "generator_bound"]
    # Rounds used for a size: those in which no run of that size saw contention; if there
    # are none, all rounds (and the notes say so).  Same set for every responder, so the
    # medians and the per-round ratios compare runs from the same moments.
    used_rounds = {}
    for s in sizes:
        rs = sorted({r["round"] for x in rsps for r in raw[s].get(x, [])})
        quiet = [n for n in rs if all(not r["contention"] for x in rsps for r in raw[s].get(x, []) if r["round"] == n)]
        used_rounds[s] = {"rounds": quiet or rs, "uncontended": bool(quiet), "rounds_total": len(rs)}
    summary = {}
    for s in sizes:
        for x in rsps:
            allruns = raw[s].get(x, [])
            runs = [r for r in allruns if r["round"] in used_rounds[s]["rounds"]]
            e = {"rounds": len(allruns), "rounds_used": [r["round"] for r in runs],
                 "rounds_uncontended": sum(1 for r in allruns if not r["contention"])}
            for k in keys:
                vals = [r["headline"][k] for r in runs if r["headline"].get(k) is not None]
                if vals:
                    e[k] = spread(vals)
            e["statuses"] = sorted({r["status"] for r in runs})
            if x == "stack":
                e["stack_configs"] = sorted({r.get("stack_config") or "none" for r in runs})
            summary.setdefault(s, {})[x] = e

    def med(s, x, k):
        return summary.get(s, {}).get(x, {}).get(k, {}).get("median")

    def pps_of(s, x, n):
        for r in raw[s].get(x, []):
            if r["round"] == n:
                return r["headline"]["echoed_pps"]
        return None

    ratios = {}  # median over the used rounds of the ratio within each round
    for s in sizes:
        ratios[s] = {}
        for peer in ("kernel", "kernel_norps", "testpmd"):
            per = []
            for n in used_rounds[s]["rounds"]:
                a, b = pps_of(s, "stack", n), pps_of(s, peer, n)
                if a is not None and b:
                    per.append(a / b)
            ratios[s][f"stack_over_{peer}"] = statistics.median(per) if per else None
            ratios[s][f"stack_over_{peer}_per_round"] = per

    # ---- tables ----
    def cell(s, x):  # "≥" when the responder echoed all the generator offered (a lower bound)
        if x not in summary[s]:
            return "–"
        v = med(s, x, "echoed_pps")
        nosvc = any(c.startswith("without") for c in summary[s][x].get("stack_configs", []))
        return (("≥" if (med(s, x, "generator_bound") or 0) >= 0.5 else "") + fmt_pps(v)
                + (" (built without the echo service)" if nosvc else ""))

    t1 = md_table(["UDP payload bytes", "frame bytes", "Linux (RPS→core 1) echo/s", "Linux (no RPS) echo/s",
                   "dpdk-stack echo/s", "testpmd macswap echo/s", "stack / Linux (RPS)", "stack / Linux (no RPS)",
                   "stack / testpmd"],
                  [[s, str(int(s) + 42), cell(s, "kernel"), cell(s, "kernel_norps"), cell(s, "stack"),
                    cell(s, "testpmd"), fmt(ratios[s]["stack_over_kernel"], ".2f"),
                    fmt(ratios[s]["stack_over_kernel_norps"], ".2f"), fmt(ratios[s]["stack_over_testpmd"], ".2f")]
                   for s in sizes])
    rows = []
    for s in sizes:
        for x in rsps:
            e = summary[s].get(x)
            if not e:
                continue
            ep = e.get("echoed_pps", {})
            pct = med(s, x, "cpu1_ours")
            rows.append([s, RSP_LABEL[x], fmt_pps(ep.get("median")), f"{fmt_pps(ep.get('min'))}..{fmt_pps(ep.get('max'))}",
                         fmt_pps(med(s, x, "offered_pps")), fmt(med(s, x, "echoed_pct"), ".0f"),
                         fmt_pps(med(s, x, "returned_pps")),
                         fmt(None if pct is None else 100 * pct, ".0f"),
                         fmt(med(s, x, "cpu1_cycles_per_echo"), ",.0f"), fmt(med(s, x, "own_cycles_per_echo"), ",.0f"),
                         fmt(med(s, x, "socket_drop_pct"), ".0f") if x.startswith("kernel") else "–",
                         f"{e['rounds_uncontended']}/{e['rounds']}", ",".join(e["statuses"])])
    t2 = md_table(["UDP payload bytes", "responder", "echo/s (median)", "min..max", "offered/s", "echoed % of offered",
                   "returned/s (veth-gen rx)", "core 1 busy % (ours)", "core 1 cycles/echo", "own cycles/echo",
                   "socket drops % of offered", "uncontended runs", "status"], rows)
    contended = [s for s in sizes if not used_rounds[s]["uncontended"]]
    notes = [f"Median over the rounds in which no run of that payload size saw contention (all {len(rounds)} rounds "
             f"when every round did{': ' + ', '.join(contended) + ' bytes' if contended else ''}); "
             f"{meta.get('duration_s', '?')} s windows. echo/s = frames veth-rsp sent per second (the replies); "
             f"offered = frames veth-gen put on the link; returned = frames veth-gen received. ≥: the responder "
             f"echoed at least {ECHOED_ALL_PCT:g}% of what the generator offered, so its rate is a lower bound "
             "(generator-bound). Ratios: median of the ratios within each round; > 1: the stack echoes more."]
    notes.append("core 1 busy % (ours) = core 1's busy share less other processes' user time; core 1 cycles/echo = "
                 "that share x TSC x window / echoed datagrams (a busy-polling responder is always busy, so for the "
                 "DPDK responders it is TSC Hz / rate; for Linux it is the softirq, system and user time of the echo "
                 "path on core 1). Own cycles/echo (TSC, so preemption counts): dpdk-stack telemetry busy_cycles / "
                 "tx_packets over the window; testpmd --record-core-cycles (whole run, cycles of bursts that "
                 "received packets / packets). Socket drops: the kernel's UDP RcvbufErrors (the echo server's "
                 "socket buffer was full) over the window.")
    if tsc_hz:
        notes.append(f"TSC {tsc_hz / 1e6:.0f} MHz.")
    cfgs = {c for s in sizes for c in summary[s].get("stack", {}).get("stack_configs", [])}
    if any(c and c.startswith("without") for c in cfgs):
        notes.append("**dpdk-stack ran WITHOUT the UDP echo service**: this build rejects `$.services` in the config, "
                     "so it was started without it (same port and address) and echoes nothing.")
    fails = [f"- {s} bytes, {x}, round {r['round']}: {r['status']}" for s in sizes for x in rsps
             for r in raw[s].get(x, []) if r["status"] != "ok"]
    if fails:
        notes.append("Runs that did not complete (counted as 0 echoes):\n" + "\n".join(fails))
    cont = [f"- {s} bytes, {x}, round {r['round']}: " + "; ".join(r["contention"]) for s in sizes for x in rsps
            for r in raw[s].get(x, []) if r["contention"]]
    if cont:
        notes.append("Possible contention:\n" + "\n".join(cont))
    md = "\n\n".join([t1, t2] + notes) + "\n"

    result = {"benchmark": "udp_echo", "meta": meta, "tsc_hz": tsc_hz, "responders": {x: RSP_LABEL[x] for x in rsps},
              "rounds_used": used_rounds, "summary_median": summary, "ratios": ratios, "runs": raw}
    base = write_outputs(out_json, result, md)

    # ---- plot ----
    plt = pyplot()
    if plt is None:
        return 0
    colors = {"kernel": "tab:orange", "kernel_norps": "moccasin", "stack": "tab:blue", "testpmd": "tab:gray"}
    fig, axes = plt.subplots(1, len(sizes), figsize=(max(7, 5.5 * len(sizes)), 4.4), squeeze=False)
    for ax, s in zip(axes[0], sizes):
        drawn = [x for x in rsps if summary[s].get(x, {}).get("echoed_pps")]
        vals = bars(ax, [(PLOT_LABEL[x], summary[s][x]["echoed_pps"], colors[x]) for x in drawn], 1e3, fontsize=8)
        ax.set_title(f"{s}-byte UDP payloads: echoes per second, thousands\n(higher is better; ≥: echoed all offered)",
                     fontsize=9)
        for i, (v, x) in enumerate(zip(vals, drawn)):
            bound = (med(s, x, "generator_bound") or 0) >= 0.5
            ax.text(i + 0.42, v, ("≥" if bound else "") + f"{v:.0f}", ha="right", va="bottom", fontsize=8)
    fig.suptitle(f"UDP echo over net_af_packet/veth, {meta.get('date_utc', '')}\n"
                 f"median of {len(rounds)} rounds, bars = min..max", fontsize=9)
    save_png(fig, base)
    return 0


if __name__ == "__main__":
    sys.exit(main())

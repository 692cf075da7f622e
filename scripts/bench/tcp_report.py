#!/usr/bin/python3
"""Turn the raw outputs of tcp.sh into JSON, markdown tables and a PNG.

usage: tcp_report.py WORK_DIR OUT.json

WORK_DIR holds meta.env, page.html (the stack's GET /) and r<round>/<target>/ with
env.txt, <phase>.out (wrk's text or iperf3's JSON), samples.jsonl (forward_sample.py
lines "<phase>.start" and "<phase>.end"), ticks.txt (this shell's children's utime and
stime at the same points: the client tools), snmp.txt (the Tcp MIB of each namespace)
and, for the stack, telemetry.jsonl.  Writes OUT.json, OUT.md (the tables) and, when
matplotlib is importable, OUT.png; prints the tables.
"""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (bars, kv, md_table, pyplot, read, round_dirs, save_png, spread,  # noqa: E402
                          tsc_hz_from_meta, write_outputs)
from forward_report import contention, cpu_shares, fmt, fmt_pps, jsonl, parse_telemetry  # noqa: E402

TARGET_ORDER = ["stack_tap", "stack_afpacket", "kernel", "kernel_mtu"]
TARGET_LABEL = {"stack_tap": "dpdk-stack, net_tap", "stack_afpacket": "dpdk-stack, net_af_packet/veth",
                "kernel": "Linux, veth, RPS→core 1", "kernel_mtu": "Linux, veth, RPS→core 1, TSO/GSO off"}
PLOT_LABEL = {"stack_tap": "stack\nnet_tap", "stack_afpacket": "stack\naf_packet", "kernel": "Linux\nveth",
              "kernel_mtu": "Linux veth\nTSO/GSO off"}
COLORS = {"stack_tap": "tab:cyan", "stack_afpacket": "tab:blue", "kernel": "tab:orange", "kernel_mtu": "moccasin"}
PHASE_ORDER = ["wrk_ka", "wrk_close", "iperf_fwd", "iperf_rev", "iperf_p4"]
PHASE_LABEL = {"wrk_ka": "HTTP keep-alive req/s", "wrk_close": "HTTP Connection: close req/s",
               "iperf_fwd": "iperf3 forward Gbit/s", "iperf_rev": "iperf3 -R Gbit/s", "iperf_p4": "iperf3 -P N Gbit/s"}
RATIOS = [("stack_tap", "kernel"), ("stack_afpacket", "kernel"), ("stack_tap", "kernel_mtu"),
          ("stack_afpacket", "kernel_mtu")]
MSS_PAYLOAD = 1448        # payload of a full segment: MTU 1500 less IPv4, TCP and the timestamp option
CLIENT_BOUND_CPU0 = 0.95  # core 0 (the client) at least this busy while
SERVER_IDLE = 0.90        # the server was busy less than this: the client set the pace

WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_REQS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m),")
WRK_ERR = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_LAT = re.compile(r"^\s+Latency\s+([\d.]+)(us|ms|s)\s", re.M)
WRK_PCT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk(text):
    m = WRK_RPS.search(text or "")
    if not m:
        return None
    r = {"rps": float(m.group(1)), "non_2xx": 0,
         "errors": dict.fromkeys(("connect", "read", "write", "timeout"), 0)}
    m = WRK_REQS.search(text)
    if m:
        r["requests"], r["duration_s"] = int(m.group(1)), float(m.group(2)) * UNIT_S[m.group(3)]
    m = WRK_ERR.search(text)
    if m:
        r["errors"] = dict(zip(("connect", "read", "write", "timeout"), (int(g) for g in m.groups())))
    m = WRK_NON2XX.search(text)
    if m:
        r["non_2xx"] = int(m.group(1))
    r["errors_total"] = sum(r["errors"].values())
    m = WRK_LAT.search(text)
    if m:
        r["latency_avg_ms"] = float(m.group(1)) * UNIT_S[m.group(2)] * 1e3
    for pct, v, unit in WRK_PCT.findall(text):
        r[f"latency_p{pct}_ms"] = float(v) * UNIT_S[unit] * 1e3
    return r


def parse_iperf(text):
    try:
        d = json.loads(text or "")
    except ValueError:
        return None
    end = d.get("end") or {}
    rcv, snd = end.get("sum_received") or {}, end.get("sum_sent") or {}
    r = {"error": d.get("error"), "gbit_s": rcv.get("bits_per_second", 0) / 1e9,
         "sent_gbit_s": snd.get("bits_per_second", 0) / 1e9, "bytes_received": rcv.get("bytes", 0),
         "seconds": rcv.get("seconds"), "retransmits": snd.get("retransmits"),
         "streams": len(end.get("streams") or []), "reverse": (d.get("start") or {}).get("test_start", {}).get("reverse")}
    if r["error"]:
        r["gbit_s"] = 0.0
    return r


def parse_ticks(text):
    out = {}
    for line in (text or "").splitlines():
        p = line.split()
        if len(p) == 3:
            out[p[0]] = (int(p[1]), int(p[2]))
    return out


def parse_snmp(text):
    """{(label, namespace side): {field: value}} from the "label=L ns=S" blocks of snmp.txt."""
    out, key, head = {}, None, None
    for line in (text or "").splitlines():
        if line.startswith("label="):
            f = dict(x.split("=", 1) for x in line.split())
            key, head = (f["label"], f.get("ns")), None
        elif line.startswith("Tcp:") and key:
            if head is None:
                head = line.split()[1:]
            else:
                out[key] = dict(zip(head, (int(v) for v in line.split()[1:])))
    return out


def delta(a, b, keys):
    return {k: b.get(k, 0) - a.get(k, 0) for k in keys}


def phase_figures(phase, target, files, tsc_hz, env, meta):
    """Everything measured of one phase of one target in one round."""
    samples = {s["label"]: s for s in files["samples"]}
    a, b = samples.get(f"{phase}.start"), samples.get(f"{phase}.end")
    out = files["out"].get(phase)
    client = parse_wrk(out) if phase.startswith("wrk") else parse_iperf(out)
    r = {"client": client, "rc": env.get(f"{phase}_rc")}
    if not a or not b:
        r.update(headline={"rate": 0.0}, contention=[])
        return r
    dt = (b["t_mono_ns"] - a["t_mono_ns"]) / 1e9
    cpu = {c: cpu_shares(a, b, c) for c in ("cpu0", "cpu1")}
    procs = {}
    for name in (b.get("procs") or {}):
        x, y = (a.get("procs") or {}).get(name), b["procs"].get(name)
        if x and y:
            procs[name] = {"oncpu_share": (y["oncpu_ns"] - x["oncpu_ns"]) / 1e9 / dt,
                           "runq_wait_share": (y["runq_ns"] - x["runq_ns"]) / 1e9 / dt,
                           "utime_ticks": y["utime"] - x["utime"], "stime_ticks": y["stime"] - x["stime"]}
    ticks = files["ticks"]
    t0, t1 = ticks.get(f"{phase}.start"), ticks.get(f"{phase}.end")
    client_utime = t1[0] - t0[0] if t0 and t1 else 0
    # User time on a core that was not ours: core 1 holds the server (the stack's engine; nginx's
    # worker or iperf3 -s), core 0 the client and the server's other threads (EAL's, which take
    # net_tap's signals): what the server ran beyond core 1's user time ran on core 0.
    user = {c: (b["cpu"][c][0] - a["cpu"][c][0]) + (b["cpu"][c][1] - a["cpu"][c][1])
            for c in ("cpu0", "cpu1") if c in a["cpu"] and c in b["cpu"]}
    tot = {c: sum(b["cpu"][c]) - sum(a["cpu"][c]) for c in user}
    server_utime = sum(p["utime_ticks"] for p in procs.values())
    own = {"cpu1": server_utime, "cpu0": client_utime + max(0, server_utime - user.get("cpu1", 0))}
    foreign = {c: max(0.0, (user[c] - own[c]) / tot[c]) for c in user if tot[c] > 0}
    link = next(iter(b["links"].values()), {})
    link0 = next(iter(a["links"].values()), {})
    r.update(window_s=dt, cpu=cpu, procs=procs, client_utime_ticks=client_utime, foreign_user_share=foreign,
             client_link=delta(link0, link, link.keys()),
             cpu_pressure_share=(b["psi_some_us"] - a["psi_some_us"]) / 1e6 / dt if dt > 0 else None)
    h = {"core0_busy": (cpu["cpu0"] or {}).get("busy"), "core1_busy": (cpu["cpu1"] or {}).get("busy")}
    if target.startswith("stack"):
        tel = {s["label"]: s for s in files["telemetry"]}
        ta, tb = tel.get(f"{phase}.start"), tel.get(f"{phase}.end")
        if ta and tb:
            w = parse_telemetry([dict(ta, label="start"), dict(tb, label="end")]) or {}
            w.pop("counters_end", None)
            w["window_s"] = (tb["t_mono_ns"] - ta["t_mono_ns"]) / 1e9
            w["counters"] = {k: v for k, v in delta(ta["counters"], tb["counters"], tb["counters"]).items() if v}
            r["telemetry"] = w
            segs = w["counters"].get("tcp_in_segs", 0) + w["counters"].get("tcp_out_segs", 0)
            h.update(server_busy=w.get("busy_fraction"), server_cycles=w.get("busy_cycles"), segments=segs,
                     segments_per_s=segs / w["window_s"] if w["window_s"] > 0 else None,
                     in_segs=w["counters"].get("tcp_in_segs", 0), out_segs=w["counters"].get("tcp_out_segs", 0),
                     server_retrans_segs=w["counters"].get("tcp_retrans_segs", 0),
                     stack_drops=w["counters"].get("drops_total", 0))
            if segs and w.get("total_cycles"):
                h["core_cycles_per_segment"] = w["total_cycles"] / segs
        # (the run-queue wait of its threads is kept, not judged: EAL's threads, which take
        # net_tap's signals on core 0, wait there behind the client)
        r["server_runq_wait_share"] = sum(p["runq_wait_share"] for p in procs.values())
    else:
        sa, sb = files["snmp"].get((f"{phase}.start", "s")), files["snmp"].get((f"{phase}.end", "s"))
        if sa and sb:
            d = delta(sa, sb, sb.keys())
            r["server_tcp_mib"] = d
            # Segments as the wire carries them: Linux counts OutSegs per MSS-sized segment of a
            # TSO/GSO packet, but InSegs per packet received (a 64 KB GSO packet that crossed the
            # veth whole counts 1), so the server's input is taken from the client's OutSegs.
            ca, cb = files["snmp"].get((f"{phase}.start", "c")), files["snmp"].get((f"{phase}.end", "c"))
            c = delta(ca, cb, cb.keys()) if ca and cb else {}
            ins, outs = max(d["InSegs"], c.get("OutSegs", 0)), max(d["OutSegs"], c.get("InSegs", 0))
            h.update(server_busy=h["core1_busy"], segments=ins + outs, segments_per_s=(ins + outs) / dt,
                     in_segs=ins, out_segs=outs, server_retrans_segs=d["RetransSegs"])
            if tsc_hz and h["core1_busy"] is not None:
                h["server_cycles"] = h["core1_busy"] * dt * tsc_hz
    ca, cb = files["snmp"].get((f"{phase}.start", "c")), files["snmp"].get((f"{phase}.end", "c"))
    if ca and cb:
        r["client_tcp_mib"] = delta(ca, cb, cb.keys())
    if h.get("server_cycles") and h.get("segments"):
        h["cycles_per_segment"] = h["server_cycles"] / h["segments"]
    if client and phase.startswith("wrk"):
        h.update(rate=client["rps"], errors=client["errors_total"] + client["non_2xx"],
                 latency_p50_ms=client.get("latency_p50_ms"), latency_p99_ms=client.get("latency_p99_ms"))
        if h.get("server_cycles") and client.get("requests"):
            h["cycles_per_request"] = h["server_cycles"] / client["requests"]
    elif client:
        h.update(rate=client["gbit_s"], retransmits=client["retransmits"])
        if h.get("server_cycles") and client["bytes_received"]:
            h["cycles_per_full_segment"] = h["server_cycles"] / (client["bytes_received"] / MSS_PAYLOAD)
    else:
        h["rate"] = 0.0
    if h.get("core0_busy") is not None and h.get("server_busy") is not None:
        h["client_bound"] = 1.0 if h["core0_busy"] >= CLIENT_BOUND_CPU0 and h["server_busy"] < SERVER_IDLE else 0.0
    r["headline"] = h
    why = contention(env, r)
    quiet = float(meta.get("quiet_pct") or 25)
    for core in ("core0", "core1"):
        v = env.get(f"{core}_busy_pct_before")
        if v and v != "na" and float(v) >= quiet:
            why.append(f"{core} {v}% busy before the target started")
    r["contention"] = why
    return r


def load_run(d):
    files = {"samples": jsonl(read(os.path.join(d, "samples.jsonl"))),
             "telemetry": jsonl(read(os.path.join(d, "telemetry.jsonl"))),
             "ticks": parse_ticks(read(os.path.join(d, "ticks.txt"))),
             "snmp": parse_snmp(read(os.path.join(d, "snmp.txt"))),
             "out": {p: read(os.path.join(d, f"{p}.out")) for p in PHASE_ORDER}}
    return files


def main():
    work, out_json = sys.argv[1], sys.argv[2]
    meta = kv(read(os.path.join(work, "meta.env")))
    tsc_hz = tsc_hz_from_meta(meta)
    rounds = round_dirs(work)
    phases = [p for p in PHASE_ORDER if p in meta.get("phases", " ".join(PHASE_ORDER)).split()]
    m = re.search(r"PARALLEL=(\d+)", meta.get("command", ""))
    PHASE_LABEL["iperf_p4"] = f"iperf3 -P {m.group(1) if m else 'N'} Gbit/s"
    raw = {}  # raw[target] = [run, ...]
    for rd in rounds:
        for t in sorted(os.listdir(os.path.join(work, rd))):
            d = os.path.join(work, rd, t)
            env = kv(read(os.path.join(d, "env.txt")))
            files = load_run(d)
            run = {"round": int(rd[1:]), "env": env, "status": env.get("status", "unknown"),
                   "phases": {p: phase_figures(p, t, files, tsc_hz, env, meta) for p in phases}}
            for p in phases:
                run["phases"][p]["server_died"] = env.get(f"died_{p}") == "1"
            if run["status"] != "ok":
                run["server_log_tail"] = (read(os.path.join(d, "srv.log")) or "").splitlines()[-20:]
            raw.setdefault(t, []).append(run)
    targets = [t for t in TARGET_ORDER if t in raw]

    # Rounds used for a phase: those in which no target's run of that phase saw contention
    # (all rounds when there are none), the same rounds for every target.
    used = {}
    for p in phases:
        rs = sorted({r["round"] for t in targets for r in raw[t]})
        quiet = [n for n in rs if all(not r["phases"][p]["contention"] for t in targets for r in raw[t] if r["round"] == n)]
        used[p] = {"rounds": quiet or rs, "uncontended": bool(quiet), "rounds_total": len(rs)}
    keys = ["rate", "core0_busy", "core1_busy", "server_busy", "segments_per_s", "cycles_per_segment",
            "core_cycles_per_segment", "cycles_per_request", "cycles_per_full_segment", "errors", "latency_p50_ms",
            "latency_p99_ms", "retransmits", "server_retrans_segs", "stack_drops", "client_bound"]
    summary = {}
    for p in phases:
        for t in targets:
            runs = [r for r in raw[t] if r["round"] in used[p]["rounds"]]
            died = [r["round"] for r in runs if r["phases"][p]["server_died"]]
            statuses = sorted({"server died" if r["phases"][p]["server_died"] else r["status"] for r in runs})
            runs = [r for r in runs if not r["phases"][p]["server_died"]]  # the figures of runs that finished
            e = {"rounds_used": [r["round"] for r in runs], "server_died_in_rounds": died,
                 "rounds_uncontended": sum(1 for r in raw[t] if not r["phases"][p]["contention"]),
                 "rounds": len(raw[t]), "statuses": statuses}
            for k in keys:
                vals = [r["phases"][p]["headline"][k] for r in runs if r["phases"][p]["headline"].get(k) is not None]
                if vals:
                    e[k] = spread(vals)
            summary.setdefault(p, {})[t] = e

    def med(p, t, k):
        return summary.get(p, {}).get(t, {}).get(k, {}).get("median")

    def per_round(p, t, k, n):
        for r in raw.get(t, []):
            if r["round"] == n and not r["phases"][p]["server_died"]:
                return r["phases"][p]["headline"].get(k)
        return None

    ratios = {}  # the median over the used rounds of the ratio within each round
    for p in phases:
        ratios[p] = {}
        for k in ("rate", "cycles_per_segment"):
            for s, l in RATIOS:
                if s not in raw or l not in raw:
                    continue
                per = [x / y for x, y in ((per_round(p, s, k, n), per_round(p, l, k, n)) for n in used[p]["rounds"])
                       if x is not None and y]
                ratios[p][f"{k}:{s}/{l}"] = {"median": statistics.median(per) if per else None, "per_round": per}

    # ---- tables ----
    def rate_fmt(p, v):
        if v is None:
            return "n/a"
        return fmt_pps(v) if p.startswith("wrk") else f"{v:.2f}"

    def rate_cell(p, t):  # the median; ≥ when client-bound; † with the runs in which the server died
        e = summary[p][t]
        died = len(e["server_died_in_rounds"])
        return (("≥" if (med(p, t, "client_bound") or 0) >= 0.5 else "") + rate_fmt(p, med(p, t, "rate"))
                + (f" †{died}/{died + len(e['rounds_used'])}" if died else ""))

    ratio_cols = [(s, l) for s, l in RATIOS if s in raw and l in raw]
    short = {"stack_tap": "tap", "stack_afpacket": "af_packet", "kernel": "Linux", "kernel_mtu": "Linux TSO/GSO off"}
    t1 = md_table(["measure"] + [TARGET_LABEL[t] for t in targets] + [f"{short[s]} / {short[l]}" for s, l in ratio_cols],
                  [[PHASE_LABEL[p]] + [rate_cell(p, t) for t in targets]
                   + [fmt(ratios[p].get(f"rate:{s}/{l}", {}).get("median"), ".2f") for s, l in ratio_cols]
                   for p in phases])
    rows = []
    for p in phases:
        for t in targets:
            e = summary[p][t]
            rt = e.get("rate", {})
            per = ("cycles_per_request", "cyc/req") if p.startswith("wrk") else ("cycles_per_full_segment", "cyc/1448 B")
            rows.append([p, TARGET_LABEL[t], rate_cell(p, t),
                         f"{rate_fmt(p, rt.get('min'))}..{rate_fmt(p, rt.get('max'))}",
                         fmt_pps(med(p, t, "segments_per_s")),
                         fmt(None if med(p, t, "server_busy") is None else 100 * med(p, t, "server_busy"), ".0f"),
                         fmt(None if med(p, t, "core0_busy") is None else 100 * med(p, t, "core0_busy"), ".0f"),
                         fmt(med(p, t, "cycles_per_segment"), ",.0f"),
                         fmt(med(p, t, per[0]), ",.0f") + f" {per[1]}",
                         f"{e['rounds_uncontended']}/{e['rounds']}"])
    t2 = md_table(["phase", "server", "rate (median)", "min..max", "TCP segments/s (server in+out)",
                   "server busy %", "client core 0 busy %", "server cycles/segment", "server cycles per unit",
                   "uncontended runs"], rows)
    rows = []
    for p in phases:
        for t in targets:
            e = summary[p][t]
            if p.startswith("wrk"):
                extra = [fmt(med(p, t, "latency_p50_ms"), ".2f"), fmt(med(p, t, "latency_p99_ms"), ".2f"),
                         fmt(e.get("errors", {}).get("max"), ".0f"), "–"]
            else:
                extra = ["–", "–", "–", fmt(e.get("retransmits", {}).get("max"), ".0f")]
            rows.append([p, TARGET_LABEL[t]] + extra + [fmt(e.get("server_retrans_segs", {}).get("max"), ".0f"),
                                                        fmt(e.get("stack_drops", {}).get("max"), ".0f") if t.startswith("stack") else "–",
                                                        ",".join(e["statuses"])])
    t3 = md_table(["phase", "server", "wrk p50 ms", "wrk p99 ms", "wrk errors + non-2xx (max)",
                   "iperf3 sender retransmits (max)", "server RetransSegs (max)", "stack drops (max)", "status"], rows)
    contended = [p for p in phases if not used[p]["uncontended"]]
    notes = [f"Medians over the rounds in which no target's run of that phase saw contention (all {len(rounds)} "
             f"rounds when every round did{': ' + ', '.join(contended) if contended else ''}); "
             f"{meta.get('duration_s', '?')} s per phase. Ratios: the median of the ratios within each round; "
             "> 1: the stack is faster. ≥: the client's core was at least 95% busy while the server was less than 90% "
             "busy, so the figure is a lower bound of what the server can do (client-bound).",
             "Server busy %: dpdk-stack's busy_cycles / total_cycles from its telemetry (the TSC cycles of poll loops "
             "that received packets; the core itself is always busy-polling); Linux: core 1's busy share (/proc/stat: "
             "nginx or iperf3 -s and, through RPS, their receive softirq). Server cycles/segment: those busy cycles "
             "over the server's TCP segments in + out (the stack's tcp_in_segs + tcp_out_segs; for Linux its OutSegs and, "
             "for its input, the client's OutSegs: both count a TSO/GSO packet as the MSS-sized segments it carries, "
             "while Linux's InSegs counts a 64 KB packet that crossed the veth whole as one). "
             f"cyc/1448 B: the same cycles per {MSS_PAYLOAD} bytes of payload received by the receiving side."]
    sizes = {t: sorted({r["env"].get("response_bytes") for r in raw[t] if r["env"].get("response_bytes")}) for t in targets}
    same = all(r["env"].get("page_identical") == "1" for t in targets for r in raw[t] if r["status"] == "ok")
    notes.append(f"GET / body: the stack's {meta.get('page_bytes', '?')}-byte page, {'identical' if same else 'NOT identical'} "
                 "from every server; whole response (status line, headers, body): "
                 + ", ".join(f"{TARGET_LABEL[t]} {'/'.join(sizes[t]) or '?'} bytes" for t in targets) + ".")
    if tsc_hz:
        notes.append(f"TSC {tsc_hz / 1e6:.0f} MHz.")
    died = [f"- {t}, round {r['round']}: the server died during {p} (it was started again for the phases left)"
            for t in targets for r in raw[t] for p in phases if r["phases"][p]["server_died"]]
    fails = [f"- {t}, round {r['round']}: {r['status']}" for t in targets for r in raw[t] if r["status"] != "ok"]
    if died:
        notes.append("†k/n: the server died in k of the n runs of that phase; the figures are the medians of the "
                     "runs that finished.\n" + "\n".join(died))
    if fails:
        notes.append("Runs that did not complete (their missing phases count as 0):\n" + "\n".join(fails))
    cont = [f"- {p}, {t}, round {r['round']}: " + "; ".join(r["phases"][p]["contention"]) for p in phases for t in targets
            for r in raw[t] if r["phases"][p]["contention"]]
    if cont:
        notes.append("Possible contention:\n" + "\n".join(cont))
    md = "\n\n".join([t1, t2, t3] + notes) + "\n"

    result = {"benchmark": "tcp", "meta": meta, "tsc_hz": tsc_hz, "targets": {t: TARGET_LABEL[t] for t in targets},
              "phases": {p: PHASE_LABEL[p] for p in phases}, "rounds_used": used, "summary_median": summary,
              "ratios": ratios, "runs": raw}
    base = write_outputs(out_json, result, md)

    # ---- plot: one panel a phase (rates), and the server's cycles per segment of the bulk phases ----
    plt = pyplot()
    if plt is None:
        return 0
    bulk = [p for p in phases if p.startswith("iperf")]
    n = len(phases) + (1 if bulk else 0)
    cols = min(3, n)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(4.6 * cols, 3.9 * ((n + cols - 1) // cols)),
                             squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax, p in zip(flat, phases):
        scale = 1e3 if p.startswith("wrk") else 1.0
        drawn = [t for t in targets if summary[p][t].get("rate")]
        vals = bars(ax, [(PLOT_LABEL[t], summary[p][t]["rate"], COLORS[t]) for t in drawn], scale, fontsize=7)
        died = [f"{PLOT_LABEL[t].replace(chr(10), ' ')} died in {len(summary[p][t]['server_died_in_rounds'])}"
                for t in targets if summary[p][t]["server_died_in_rounds"]]
        ax.set_title(PHASE_LABEL[p].replace("req/s", "thousand req/s") + "\n(higher is better"
                     + ("; " + ", ".join(died) + f" of {len(rounds)} runs" if died else "") + ")", fontsize=8)
        for i, v in enumerate(vals):
            ax.text(i + 0.42, v, f"{v:.0f}" if scale > 1 else f"{v:.2f}", ha="right", va="bottom", fontsize=7)
    if bulk:
        ax = flat[len(phases)]
        width = 0.8 / len(bulk)
        for j, p in enumerate(bulk):
            xs = [i + (j - (len(bulk) - 1) / 2) * width for i in range(len(targets))]
            ys = [med(p, t, "cycles_per_segment") or 0 for t in targets]
            ax.bar(xs, ys, width, label=p.replace("iperf_", ""), color=["tab:blue", "tab:orange", "tab:green"][j % 3])
        ax.set_xticks(range(len(targets)))
        ax.set_xticklabels([PLOT_LABEL[t] for t in targets], fontsize=7)
        ax.set_title("server busy TSC cycles per TCP segment\n(in + out; lower is better)", fontsize=9)
        ax.legend(fontsize=7)
    for ax in flat[n:]:
        ax.set_visible(False)
    fig.suptitle(f"TCP: dpdk-stack vs Linux, {meta.get('date_utc', '')}; median of {len(rounds)} rounds, "
                 "bars = min..max", fontsize=9)
    save_png(fig, base)
    return 0


if __name__ == "__main__":
    sys.exit(main())

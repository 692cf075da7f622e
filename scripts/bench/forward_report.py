#!/usr/bin/python3
"""Turn the raw outputs of forward.sh into JSON, markdown tables and a PNG.

usage: forward_report.py WORK_DIR OUT.json

WORK_DIR holds meta.env and r<round>/<case>/<forwarder>/{env.txt, samples.jsonl,
telemetry.jsonl, gen.log, fwd.log}, where <case> is the frame size ("64"), or the frame
size and the number of filter rules ("64-n1000") when forward.sh ran with RULES.
samples.jsonl has the "start" and "end" lines of forward_sample.py around the measured
window.  Writes OUT.json, OUT.md (the tables) and, when matplotlib is importable,
OUT.png; prints the tables.
"""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (bars, kv, md_table, pyplot, read, round_dirs, save_png, spread,  # noqa: E402
                          testpmd_cycles, tsc_hz_from_meta, write_outputs)

FWD_ORDER = ["kernel", "testpmd", "stack"]
FWD_LABEL = {"kernel": "Linux ip_forward", "testpmd": "testpmd io (ceiling)", "stack": "dpdk-stack"}
LINKS = {"src": "veth-src", "fa": "veth-fa", "fb": "veth-fb", "dst": "veth-dst"}
CPU_FIELDS = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
ACCUM = re.compile(r"Accumulated forward statistics for all ports.*?"
                   r"RX-packets: (\d+)\s+RX-dropped: (\d+)\s+RX-total: (\d+).*?"
                   r"TX-packets: (\d+)\s+TX-dropped: (\d+)\s+TX-total: (\d+)", re.S)


def case_key(case):
    """(frame size, filter rules or -1) of a case directory name: "64" or "64-n1000"."""
    size, _, n = case.partition("-n")
    return int(size), int(n) if n else -1


def case_label(case):
    size, n = case_key(case)
    return f"{size} bytes" + (f", {n} rule{'' if n == 1 else 's'}" if n >= 0 else "")


def jsonl(text):
    out = []
    for line in (text or "").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def link(sample, name):
    for k, v in sample["links"].items():
        if k.endswith(":" + LINKS[name]):
            return v
    return {}


def cpu_shares(a, b, cpu):
    x, y = a["cpu"].get(cpu), b["cpu"].get(cpu)
    if not x or not y:
        return None
    d = dict(zip(CPU_FIELDS, (j - i for i, j in zip(x, y))))
    tot = sum(d.values())
    if tot <= 0:
        return None
    return {"busy": (tot - d["idle"] - d["iowait"]) / tot, "user": (d["user"] + d["nice"]) / tot,
            "system": d["system"] / tot, "softirq": (d["softirq"] + d["irq"]) / tot, "steal": d["steal"] / tot}


def parse_samples(samples):
    by = {s["label"]: s for s in samples}
    a, b = by.get("start"), by.get("end")
    if not a or not b:
        return None
    dt = (b["t_mono_ns"] - a["t_mono_ns"]) / 1e9

    def d(name, key):
        return link(b, name).get(key, 0) - link(a, name).get(key, 0)

    offered = d("src", "tx_packets") + d("src", "tx_dropped")
    fwd = d("dst", "rx_packets")
    r = {"window_s": dt, "offered_packets": offered, "forwarded_packets": fwd,
         "offered_pps": offered / dt, "forwarded_pps": fwd / dt,
         "loss_pct": 100.0 * (offered - fwd) / offered if offered else None,
         "links_delta": {n: {k: link(b, n).get(k, 0) - link(a, n).get(k, 0) for k in link(b, n)} for n in LINKS},
         "cpu": {c: cpu_shares(a, b, c) for c in ("cpu0", "cpu1")},
         "softnet_dropped_delta": [y["dropped"] - x["dropped"] for x, y in zip(a["softnet"], b["softnet"])],
         "cpu_pressure_share": (b["psi_some_us"] - a["psi_some_us"]) / 1e6 / dt if dt > 0 else None}
    # our processes: on-CPU and run-queue wait shares of the window
    procs = {}
    for name in ("gen", "fwd"):
        x, y = (a.get("procs") or {}).get(name), (b.get("procs") or {}).get(name)
        if x and y and dt > 0:
            procs[name] = {"oncpu_share": (y["oncpu_ns"] - x["oncpu_ns"]) / 1e9 / dt,
                           "runq_wait_share": (y["runq_ns"] - x["runq_ns"]) / 1e9 / dt,
                           "utime_ticks": y["utime"] - x["utime"], "stime_ticks": y["stime"] - x["stime"]}
    r["procs"] = procs
    # user time on each core that was not ours: the generator's sending lcore is the only
    # user-mode work of ours on core 0, the DPDK forwarder's lcore the only one on core 1
    # (both processes' other threads sleep); the kernel forwarder has none
    r["foreign_user_share"] = {}
    for cpu, own in (("cpu0", "gen"), ("cpu1", "fwd")):
        x, y = a["cpu"].get(cpu), b["cpu"].get(cpu)
        if not x or not y:
            continue
        dtot = sum(y) - sum(x)
        duser = (y[0] - x[0]) + (y[1] - x[1])
        mine = procs.get(own, {}).get("utime_ticks", 0)
        r["foreign_user_share"][cpu] = max(0.0, (duser - mine) / dtot) if dtot > 0 else None
    # where the offered frames went: src -> fa (backlog drops), fa -> fb (forwarder), fb -> dst
    r["lost_before_forwarder"] = d("src", "tx_dropped")
    r["lost_in_forwarder"] = d("fa", "rx_packets") - d("fb", "tx_packets") - d("fb", "tx_dropped")
    r["lost_after_forwarder"] = d("fb", "tx_dropped")
    return r


def parse_telemetry(snaps):
    by = {s["label"]: s for s in snaps}
    a, b = by.get("start"), by.get("end")
    if not a or not b or not a.get("lcores") or not b.get("lcores"):
        return None

    def tot(s, k):
        return sum(v.get(k, 0) for v in s["lcores"].values())

    r = {k: tot(b, k) - tot(a, k) for k in ("loops", "busy_loops", "busy_cycles", "total_cycles",
                                             "rx_packets", "tx_packets", "drops")}
    r["busy_cycles_per_rx_pkt"] = r["busy_cycles"] / r["rx_packets"] if r["rx_packets"] else None
    r["busy_cycles_per_tx_pkt"] = r["busy_cycles"] / r["tx_packets"] if r["tx_packets"] else None
    r["busy_fraction"] = r["busy_cycles"] / r["total_cycles"] if r["total_cycles"] else None
    r["counters_end"] = b.get("counters")
    return r


def parse_testpmd(text):
    if not text:
        return None
    r = testpmd_cycles(text)
    m = ACCUM.search(text)
    if m:
        r.update(rx_packets=int(m.group(1)), rx_dropped=int(m.group(2)),
                 tx_packets=int(m.group(4)), tx_dropped=int(m.group(5)))
    return r


GEN_BOUND_LOSS_PCT = 1.0   # forwarded all but < 1% of the offered load, and
GEN_BOUND_CPU0_BUSY = 0.9  # the generator's core was busy: the generator set the pace
FOREIGN_MAX = 0.10         # other processes' user time on a core, share of the window


def contention(env, s):
    """Reasons to distrust a run on this shared machine (empty list: none seen)."""
    why = []
    foreign = " ".join(sorted({p for x in (env.get("foreign_dpdk_before"), env.get("foreign_dpdk_after"))
                               for p in (x or "").split()}, key=lambda p: int(p.split(":")[0])))
    if foreign:
        why.append(f"other DPDK processes running (pid:file-prefix {foreign})")
    for cpu, v in ((s or {}).get("foreign_user_share") or {}).items():
        if v is not None and v > FOREIGN_MAX:
            why.append(f"other processes used {v:.0%} of {cpu.replace('cpu', 'core ')}")
    return why


def fmt_pps(x):
    if x is None:
        return "n/a"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    return f"{x / 1e3:.1f}k"


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def main():
    work, out_json = sys.argv[1], sys.argv[2]
    meta = kv(read(os.path.join(work, "meta.env")))
    tsc_hz = tsc_hz_from_meta(meta)
    if tsc_hz is None:  # testpmd prints the TSC rate with --record-core-cycles
        for root, _, files in os.walk(work):
            for fn in files:
                c = testpmd_cycles(read(os.path.join(root, fn)) or "") if fn.endswith(".log") else {}
                if c:
                    tsc_hz = c["tsc_mhz"] * 1e6
                    break
            if tsc_hz:
                break
    rounds = round_dirs(work)
    raw = {}  # raw[case][fwd] = [run, ...]; a case is a frame size, or a size and a rule count
    for rd in rounds:
        for size in sorted(os.listdir(os.path.join(work, rd)), key=case_key):
            for fwd in sorted(os.listdir(os.path.join(work, rd, size))):
                d = os.path.join(work, rd, size, fwd)
                env = kv(read(os.path.join(d, "env.txt")))
                run = {"round": int(rd[1:]), "env": env, "status": env.get("status", "unknown")}
                s = parse_samples(jsonl(read(os.path.join(d, "samples.jsonl"))))
                run["link"] = s
                run["generator"] = parse_testpmd(read(os.path.join(d, "gen.log")))
                if run["generator"] and s and s.get("offered_packets"):
                    run["generator"]["note"] = "cycles_per_pkt: whole run, cycles of bursts that sent / packets sent"
                flog = read(os.path.join(d, "fwd.log"))
                if fwd == "testpmd":
                    run["forwarder"] = parse_testpmd(flog)
                if fwd == "stack":
                    run["telemetry"] = parse_telemetry(jsonl(read(os.path.join(d, "telemetry.jsonl"))))
                    run["stack_config"] = env.get("stack_config")
                    rej = read(os.path.join(d, "fwd-rejected.log"))
                    if rej:
                        run["stack_rejected_config"] = [l for l in rej.splitlines() if "error" in l][:3]
                if run["status"] != "ok" or s is None:
                    run["forwarder_log_tail"] = (flog or "").splitlines()[-20:]
                    run["generator_log_tail"] = (read(os.path.join(d, "gen.log")) or "").splitlines()[-20:]
                # headline: forwarded pps, 0 when the forwarder did not run or forwarded nothing
                h = {"forwarded_pps": s["forwarded_pps"] if s else 0.0,
                     "offered_pps": s["offered_pps"] if s else None,
                     "loss_pct": s["loss_pct"] if s else None}
                if s:
                    h["gbit_s"] = s["forwarded_pps"] * case_key(size)[0] * 8 / 1e9
                    c1 = s["cpu"].get("cpu1")
                    if c1:
                        h["cpu1_busy"] = c1["busy"]
                        h["cpu1_softirq"] = c1["softirq"]
                        ours = c1["busy"] - (s["foreign_user_share"].get("cpu1") or 0.0)
                        h["cpu1_ours"] = ours
                        if tsc_hz and s["forwarded_packets"] > 0:
                            # every cycle core 1 was busy, less other processes' user time, per
                            # forwarded packet (a busy-polling forwarder alone on the core is
                            # always busy: this is then TSC Hz / rate)
                            h["cpu1_cycles_per_pkt"] = ours * s["window_s"] * tsc_hz / s["forwarded_packets"]
                tel = run.get("telemetry")
                if tel and tel.get("busy_cycles_per_tx_pkt"):
                    h["own_cycles_per_pkt"] = tel["busy_cycles_per_tx_pkt"]
                fw = run.get("forwarder") or {}
                if fw.get("cycles_per_pkt"):
                    h["own_cycles_per_pkt"] = fw["cycles_per_pkt"]
                if env.get("nft_accept_rule_packets"):
                    run["nft_accept_rule_packets"] = int(env["nft_accept_rule_packets"])
                if env.get("nft_load_s"):
                    run["nft_load_s"] = int(env["nft_load_s"])
                run["contention"] = contention(env, s)
                c0 = (s or {}).get("cpu", {}).get("cpu0")
                if c0:
                    h["cpu0_busy"] = c0["busy"]
                if s and s["loss_pct"] is not None:
                    # the generator's core saturated too: a forwarder that falls behind slows the
                    # generator down instead of losing frames (the af_packet PMD waits in poll()
                    # for a free TX ring slot, and a slot comes free only when the kernel has
                    # freed its skb, i.e. once the forwarder took it), so no loss alone is not enough
                    h["generator_bound"] = 1.0 if (s["loss_pct"] < GEN_BOUND_LOSS_PCT and s["forwarded_pps"] > 0
                                                   and (c0 is None or c0["busy"] >= GEN_BOUND_CPU0_BUSY)) else 0.0
                run["headline"] = h
                raw.setdefault(size, {}).setdefault(fwd, []).append(run)

    sizes = sorted(raw, key=case_key)  # the cases
    rules_mode = any(case_key(s)[1] >= 0 for s in sizes)
    if rules_mode and meta.get("nft_set") == "1":
        FWD_LABEL["kernel"] = "Linux ip_forward, nftables set"
    fwds = [f for f in FWD_ORDER if any(f in raw[s] for s in sizes)]
    keys = ["forwarded_pps", "offered_pps", "loss_pct", "gbit_s", "cpu0_busy", "cpu1_busy", "cpu1_ours", "cpu1_softirq",
            "cpu1_cycles_per_pkt", "own_cycles_per_pkt", "generator_bound"]
    # Rounds used for a case: those in which no run of that case saw contention; if there
    # are none, all rounds (and the table says so).  Same set for every forwarder, so the
    # medians and the per-round ratios compare runs from the same moments.
    used_rounds = {}
    for s in sizes:
        rs = sorted({r["round"] for f in fwds for r in raw[s].get(f, [])})
        quiet = [n for n in rs if all(not r["contention"] for f in fwds for r in raw[s].get(f, []) if r["round"] == n)]
        used_rounds[s] = {"rounds": quiet or rs, "uncontended": bool(quiet), "rounds_total": len(rs)}
    summary = {}
    for s in sizes:
        for f in fwds:
            allruns = raw[s].get(f, [])
            runs = [r for r in allruns if r["round"] in used_rounds[s]["rounds"]]
            e = {"rounds": len(allruns), "rounds_used": [r["round"] for r in runs],
                 "rounds_uncontended": sum(1 for r in allruns if not r["contention"])}
            for k in keys:
                vals = [r["headline"][k] for r in runs if r["headline"].get(k) is not None]
                if vals:
                    e[k] = spread(vals)
            e["statuses"] = sorted({r["status"] for r in runs})
            if f == "stack":
                e["stack_configs"] = sorted({r.get("stack_config") or "none" for r in runs})
            summary.setdefault(s, {})[f] = e

    def med(s, f, k):
        return summary.get(s, {}).get(f, {}).get(k, {}).get("median")

    def pps_of(s, f, n):
        for r in raw[s].get(f, []):
            if r["round"] == n:
                return r["headline"]["forwarded_pps"]
        return None

    ratios = {}  # median over the used rounds of the ratio within each round
    for s in sizes:
        ratios[s] = {}
        for peer in ("kernel", "testpmd"):
            per = []
            for n in used_rounds[s]["rounds"]:
                a, b = pps_of(s, "stack", n), pps_of(s, peer, n)
                if a is not None and b:
                    per.append(a / b)
            ratios[s][f"stack_over_{peer}"] = statistics.median(per) if per else None
            ratios[s][f"stack_over_{peer}_per_round"] = per

    # ---- tables ----
    def cell(s, f):  # "≥" when the forwarder kept up with the generator (lower bound)
        v = med(s, f, "forwarded_pps")
        nofwd = any(c.startswith("without") for c in summary[s].get(f, {}).get("stack_configs", []))
        return (("≥" if med(s, f, "generator_bound") and med(s, f, "generator_bound") >= 0.5 else "") + fmt_pps(v)
                + (" (built without forwarding)" if nofwd else ""))

    if not rules_mode:
        t1 = md_table(["frame bytes", "kernel pps", "testpmd pps", "stack pps", "stack / kernel", "stack / testpmd"],
                      [[s, cell(s, "kernel"), cell(s, "testpmd"), cell(s, "stack"),
                        fmt(ratios[s]["stack_over_kernel"], ".2f"),
                        fmt(ratios[s]["stack_over_testpmd"], ".2f")] for s in sizes])
    else:  # one row per frame size and rule count; the cost of the rules beside N = 0
        def base(s, f, k):  # the median of k for f at N = 0 of the same frame size
            z = f"{case_key(s)[0]}-n0"
            return med(z, f, k) if z in summary else None

        def plus(s, f, k):
            v, b = med(s, f, k), base(s, f, k)
            return None if v is None or b is None else v - b

        t1 = md_table(["frame bytes", "rules", "kernel pps", "stack pps", "stack / kernel",
                       "kernel core 1 cycles/pkt", "(+ vs 0 rules)", "stack own cycles/pkt", "(+ vs 0 rules)",
                       "testpmd pps"],
                      [[str(case_key(s)[0]), str(case_key(s)[1]), cell(s, "kernel"), cell(s, "stack"),
                        fmt(ratios[s]["stack_over_kernel"], ".2f"),
                        fmt(med(s, "kernel", "cpu1_cycles_per_pkt"), ",.0f"),
                        fmt(plus(s, "kernel", "cpu1_cycles_per_pkt"), "+,.0f"),
                        fmt(med(s, "stack", "own_cycles_per_pkt"), ",.0f"),
                        fmt(plus(s, "stack", "own_cycles_per_pkt"), "+,.0f"),
                        cell(s, "testpmd") if med(s, "testpmd", "forwarded_pps") is not None else "–"]
                       for s in sizes])
    rows = []
    for s in sizes:
        for f in fwds:
            e = summary[s].get(f)
            if not e or not e["rounds"]:
                continue
            fp = e.get("forwarded_pps", {})
            rows.append(list(map(str, case_key(s) if rules_mode else [s])) + [FWD_LABEL[f], fmt_pps(fp.get("median")),
                         f"{fmt_pps(fp.get('min'))}..{fmt_pps(fp.get('max'))}",
                         fmt(med(s, f, "gbit_s"), ".2f"), fmt_pps(med(s, f, "offered_pps")),
                         fmt(None if med(s, f, "loss_pct") is None else max(0.0, med(s, f, "loss_pct")), ".1f"),
                         fmt(None if med(s, f, "cpu1_ours") is None else 100 * med(s, f, "cpu1_ours"), ".0f"),
                         fmt(None if med(s, f, "cpu1_softirq") is None else 100 * med(s, f, "cpu1_softirq"), ".0f"),
                         fmt(med(s, f, "cpu1_cycles_per_pkt"), ",.0f"), fmt(med(s, f, "own_cycles_per_pkt"), ",.0f"),
                         f"{e['rounds_uncontended']}/{e['rounds']}", ",".join(e["statuses"])])
    contended_sizes = [s for s in sizes if not used_rounds[s]["uncontended"]]
    t2 = md_table(["frame bytes"] + (["rules"] if rules_mode else []) + ["forwarder", "forwarded pps (median)", "min..max", "Gbit/s", "offered pps",
                   "loss %", "core 1 busy % (ours)", "core 1 softirq %", "core 1 cycles/pkt", "forwarder's own cycles/pkt",
                   "uncontended runs", "status"], rows)
    notes = [f"Median over the rounds in which no run of that {'frame size and rule count' if rules_mode else 'frame size'} "
             f"saw contention (all {len(rounds)} rounds when every round did"
             f"{': ' + '; '.join(case_label(c) for c in contended_sizes) if contended_sizes else ''}); "
             f"{meta.get('duration_s', '?')} s windows. Ratios: median of the ratios within each round. ≥: the forwarder passed all but < {GEN_BOUND_LOSS_PCT:g}% "
             f"of what the generator offered while the generator's core was at least {GEN_BOUND_CPU0_BUSY:.0%} busy, so its rate is "
             "a lower bound (generator-bound; a forwarder that falls behind slows the generator down through the af_packet "
             "TX ring rather than losing frames, and core 0 then idles). Frame bytes = Ethernet "
             "frame without FCS (64 -> IPv4 total length 50, 1500 -> 1486). pps = frames received by veth-dst "
             "per second; offered = frames veth-src put on the link. Ratios > 1: the stack forwards more."]
    notes.append("core 1 busy % (ours) = core 1's busy share less other processes' user time; core 1 "
                 "cycles/pkt = that share x TSC x window / forwarded packets (a busy-polling forwarder alone "
                 "on the core is always busy, so for DPDK it is TSC Hz / pps; for Linux it is the softirq and "
                 "system time of forwarding). Forwarder's own cycles/pkt (TSC, so preemption counts): "
                 "dpdk-stack telemetry busy_cycles / tx_packets over the window; testpmd --record-core-cycles "
                 "(whole run, cycles of bursts that received packets / packets).")
    if rules_mode:
        notes.append("Filter rules: " + meta.get("rule_shape", "?") + ". Rules = 0: no filter table and no nft "
                     "chain at all. (+ vs 0 rules): the median at N rules less the median at 0 rules of the same "
                     "frame size. testpmd (no filter) runs at 0 rules only.")
        acc = [(s, r["round"], r["nft_accept_rule_packets"], (r.get("link") or {}).get("forwarded_packets"))
               for s in sizes for r in raw[s].get("kernel", []) if "nft_accept_rule_packets" in r]
        if acc:
            notes.append("nft's accepting rule counted " + ", ".join(
                f"{case_label(s)} r{n}: {p:,}" for s, n, p, _ in acc) + " packets (whole run, warm-up included).")
    if tsc_hz:
        notes.append(f"TSC {tsc_hz / 1e6:.0f} MHz.")
    cfgs = {c for s in sizes for c in summary[s].get("stack", {}).get("stack_configs", [])}
    if any(c and c.startswith("without") for c in cfgs):
        notes.append("**dpdk-stack ran WITHOUT forwarding**: this build rejects `$.ip` in the config, so it "
                     "was started without it (same ports and addresses) and forwards nothing; its pps is "
                     "what reached veth-dst anyway (0).")
    fails = [f"- {case_label(s)}, {f}, round {r['round']}: {r['status']}" for s in sizes for f in fwds
             for r in raw[s].get(f, []) if r["status"] != "ok"]
    if fails:
        notes.append("Runs that did not complete (counted as 0 pps):\n" + "\n".join(fails))
    cont = [f"- {case_label(s)}, {f}, round {r['round']}: " + "; ".join(r["contention"]) for s in sizes for f in fwds
            for r in raw[s].get(f, []) if r["contention"]]
    if cont:
        notes.append("Possible contention:\n" + "\n".join(cont))
    md = "\n\n".join([t1, t2] + notes) + "\n"

    result = {"benchmark": "forward", "filter_rules_mode": rules_mode, "meta": meta, "tsc_hz": tsc_hz, "forwarders": {f: FWD_LABEL[f] for f in fwds},
              "rounds_used": used_rounds, "summary_median": summary, "ratios": ratios, "runs": raw}
    base = write_outputs(out_json, result, md)

    # ---- plot ----
    plt = pyplot()
    if plt is None:
        return 0
    colors = {"kernel": "tab:orange", "testpmd": "tab:gray", "stack": "tab:blue"}
    if rules_mode:
        plot_rules(plt, meta, rounds, sizes, summary, colors, base)
        return 0
    fig, axes = plt.subplots(1, len(sizes), figsize=(max(7, 5.5 * len(sizes)), 4.4), squeeze=False)
    for ax, s in zip(axes[0], sizes):
        vals = bars(ax, [(FWD_LABEL[f], summary[s].get(f, {}).get("forwarded_pps"), colors[f]) for f in fwds],
                    1e3, fontsize=8)
        ax.set_title(f"{s}-byte frames: forwarded kpps (higher is better)\n≥: kept up with the generator", fontsize=9)
        for i, (v, f) in enumerate(zip(vals, [f for f in fwds if summary[s].get(f, {}).get("forwarded_pps")])):
            bound = (med(s, f, "generator_bound") or 0) >= 0.5
            ax.text(i + 0.42, v, ("≥" if bound else "") + f"{v:.0f}", ha="right", va="bottom", fontsize=8)
    fig.suptitle(f"IPv4 forwarding over net_af_packet/veth, {meta.get('date_utc', '')}\n"
                 f"median of {len(rounds)} rounds, bars = min..max", fontsize=9)
    save_png(fig, base)
    return 0


def plot_rules(plt, meta, rounds, cases, summary, colors, base):
    """Per frame size: forwarded pps against the rule count (left) and cycles per packet (right)."""
    frame_sizes = sorted({case_key(c)[0] for c in cases})
    fig, axes = plt.subplots(len(frame_sizes), 2, figsize=(11, 4.2 * len(frame_sizes)), squeeze=False)
    for row, size in zip(axes, frame_sizes):
        cs = [c for c in cases if case_key(c)[0] == size]
        x = list(range(len(cs)))
        for f, key, ax, scale, label in (
                ("kernel", "forwarded_pps", row[0], 1e3,
                 "Linux + nftables" + (" (one rule on a set)" if meta.get("nft_set") == "1" else "")),
                ("stack", "forwarded_pps", row[0], 1e3, "dpdk-stack + rte_acl"),
                ("kernel", "cpu1_cycles_per_pkt", row[1], 1, "Linux: core 1 cycles/pkt"),
                ("stack", "own_cycles_per_pkt", row[1], 1, "dpdk-stack: own busy cycles/pkt"),
                ("stack", "cpu1_cycles_per_pkt", row[1], 1, "dpdk-stack: core 1 cycles/pkt")):
            pts = [(i, summary[c].get(f, {}).get(key)) for i, c in zip(x, cs)]
            pts = [(i, e) for i, e in pts if e]
            if not pts:
                continue
            ls = ":" if key == "cpu1_cycles_per_pkt" and f == "stack" else "-"
            ax.errorbar([i for i, _ in pts], [e["median"] / scale for _, e in pts],
                        yerr=[[(e["median"] - e["min"]) / scale for _, e in pts],
                              [(e["max"] - e["median"]) / scale for _, e in pts]],
                        marker="o", ls=ls, color=colors[f], capsize=3, label=label)
        for ax, title in ((row[0], f"{size}-byte frames: forwarded kpps (higher is better)"),
                          (row[1], f"{size}-byte frames: TSC cycles per forwarded packet (log)")):
            ax.set_xticks(x)
            ax.set_xticklabels([str(case_key(c)[1]) for c in cs])
            ax.set_xlabel("filter rules on the forwarding path")
            ax.set_title(title, fontsize=9)
            ax.legend(fontsize=8)
        row[0].set_yscale("log")
        row[1].set_yscale("log")
    fig.suptitle(f"IPv4 forwarding through N filter rules over net_af_packet/veth, {meta.get('date_utc', '')}\n"
                 f"median of {len(rounds)} rounds, bars = min..max", fontsize=9)
    save_png(fig, base)


if __name__ == "__main__":
    sys.exit(main())

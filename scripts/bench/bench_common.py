"""Shared by the benchmark report scripts in scripts/bench (forward_report.py,
icmp_arp_report.py): reading the raw outputs, the summary statistics, the markdown
tables, writing OUT.json/OUT.md, and the bar charts of OUT.png.

Not run by itself; the report scripts put their own directory on sys.path to import it.
"""
import json
import os
import re
import statistics

# testpmd --record-core-cycles, printed when it stops
TESTPMD_CYC = re.compile(r"CPU cycles/packet=([\d.]+) \(total cycles=(\d+) / total \w+ packets=(\d+)\) at (\d+) MHz")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def kv(text):
    """KEY=VALUE lines (meta.env, env.txt) as a dict."""
    d = {}
    for line in (text or "").splitlines():
        k, _, v = line.partition("=")
        if k:
            d[k] = v  # a later line wins (status=... is appended on failure)
    return d


def round_dirs(work):
    """The r<N> directories of WORK_DIR, in round order."""
    return sorted((d for d in os.listdir(work) if re.fullmatch(r"r\d+", d)), key=lambda d: int(d[1:]))


def tsc_hz_from_meta(meta):
    return float(meta["tsc_mhz_dmesg"]) * 1e6 if meta.get("tsc_mhz_dmesg") else None


def testpmd_cycles(text):
    """testpmd's cycles/packet line (whole run) from its log as a dict; {} without one."""
    m = TESTPMD_CYC.search(text)
    if not m:
        return {}
    return {"cycles_per_pkt": float(m.group(1)), "total_cycles": int(m.group(2)),
            "packets": int(m.group(3)), "tsc_mhz": int(m.group(4))}


def spread(vals):
    """Median, min, max and count of a non-empty list."""
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def write_outputs(out_json, result, md):
    """Writes OUT.json and OUT.md, prints the tables; returns OUT without .json."""
    with open(out_json, "w") as f:
        json.dump(result, f, indent=1)
    base = out_json[:-5] if out_json.endswith(".json") else out_json
    with open(base + ".md", "w") as f:
        f.write(md)
    print(md)
    print(f"wrote {out_json} and {base}.md")
    return base


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None (and a note) without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not available: no PNG")
        return None
    return plt


def bars(ax, items, scale, **ticklabels):
    """Bars of medians with min..max error bars on ax.  items: (label, spread or None,
    colour); entries without a spread are left out.  Values are divided by scale.
    Returns the heights of the bars drawn."""
    items = [(n, e, c) for n, e, c in items if e]
    vals = [e["median"] / scale for _, e, _ in items]
    lo = [(e["median"] - e["min"]) / scale for _, e, _ in items]
    hi = [(e["max"] - e["median"]) / scale for _, e, _ in items]
    ax.bar(range(len(vals)), vals, yerr=[lo, hi], color=[c for *_, c in items], capsize=3)
    ax.set_xticks(range(len(vals)))
    ax.set_xticklabels([n for n, *_ in items], **ticklabels)
    return vals


def save_png(fig, base):
    fig.tight_layout()
    fig.savefig(base + ".png", dpi=110)
    print(f"wrote {base}.png")

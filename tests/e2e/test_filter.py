"""The filter table ($.filters, console `show filter`, `filter reload/add/del`)
against the real binary: ping, nc, Python sockets, scapy and iperf3 from
namespaces the tests create."""
import json
import re
import subprocess
import time

import pytest

from conftest import PEER_IP, PEER_IP_B, STACK_IP, router_config, wait_listening

OTHER_IP = "10.0.0.100"  # a second address of the peer, outside 10.0.0.0/28
SERVICES = {"udp_echo": {"enabled": True, "port": 7}, "udp_discard": {"enabled": True, "port": 9}}


def config(rules, policy=None):
    f = {"rules": rules}
    if policy:
        f["policy"] = policy
    return {"ports": [{"address": f"{STACK_IP}/24"}], "services": SERVICES, "filters": f,
            "icmp": {"error_rate": 0}}


USER_RULES = [
    {"hook": "input", "proto": "icmp", "src": "10.0.0.0/28", "action": "drop", "comment": "no ping from the first 16"},
    {"hook": "input", "proto": "tcp", "dport": 23, "action": "reject"},
    {"hook": "input", "proto": "udp", "dport": 5000, "action": "reject", "reject_with": "icmp-admin-prohibited"},
]


@pytest.fixture(params=["tap", "af_packet"])
def fstack(request, make_stack):
    s = make_stack(request.param, check=True, config=config(USER_RULES), interactive=True).start()
    s.exec(["ip", "addr", "add", f"{OTHER_IP}/24", "dev", s.ifname])
    return s


def state(s):
    """show filter, parsed: rule index -> (packets, bytes)."""
    out = s.command("show filter")
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].isdigit():
            rows[int(parts[0])] = (int(parts[3]), int(parts[4]))
    return rows, out


def ping_ok(s, src, count=2):
    r = s.exec(["ping", "-c", str(count), "-W", "1", "-I", src, STACK_IP], check=False, timeout=30)
    return " 0% packet loss" in r.stdout


def test_drop_icmp_from_prefix_only(fstack):
    assert ping_ok(fstack, OTHER_IP), "ping from outside 10.0.0.0/28 must work"
    assert not ping_ok(fstack, PEER_IP), "ping from 10.0.0.2 (inside 10.0.0.0/28) must fail"
    rows, out = state(fstack)
    assert rows[0][0] >= 2, out
    assert fstack.drops()["filter_drop"] >= 2


def test_reject_tcp_port_23_connection_refused_at_once(fstack):
    t0 = time.time()
    r = fstack.exec(["nc", "-v", "-w", "3", STACK_IP, "23"], check=False, timeout=20, input="")
    assert "refused" in r.stdout.lower(), r.stdout
    assert time.time() - t0 < 2.5, "the RST must come at once, not after a timeout"
    assert fstack.counters()["filter_resets_sent"] >= 1
    assert fstack.drops()["filter_reject"] >= 1
    rows, out = state(fstack)
    assert rows[1][0] >= 1, out


def test_reject_udp_with_admin_prohibited(fstack):
    fstack.ping(count=1, extra=["-I", OTHER_IP])
    r = fstack.scapy("filter_checks.py", fstack.ifname, fstack.mac, STACK_IP, PEER_IP, "admin_prohibited", "5000")
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout
    # Other UDP ports are untouched: echo still answers.
    r = fstack.exec(["nc", "-u", "-w", "1", STACK_IP, "7"], input="still here\n", check=False, timeout=20)
    assert r.stdout == "still here\n", r.stdout


def test_console_add_del_and_bad_rules(fstack):
    out = fstack.command('filter add {"hook": "input", "proto": "udp", "dport": 7, "action": "drop"}')
    assert "added" in out.lower(), out
    r = fstack.exec(["nc", "-u", "-w", "1", STACK_IP, "7"], input="dropped?\n", check=False, timeout=20)
    assert r.stdout == "", "the new rule drops UDP to 7"
    rows, out = state(fstack)
    assert rows[3][0] >= 1, out
    out = fstack.command('filter add {"hook": "input", "proto": "udp", "dport": [90, 80], "action": "drop"}')
    assert "refused" in out.lower() and "dport" in out, out
    out = fstack.command("filter del 3")
    assert "deleted" in out.lower(), out
    r = fstack.exec(["nc", "-u", "-w", "1", STACK_IP, "7"], input="back\n", check=False, timeout=20)
    assert r.stdout == "back\n", r.stdout
    out = fstack.command("filter del 99")
    assert "no rule 99" in out.lower(), out


def test_reload_applies_new_rules_and_refuses_bad_ones(make_stack):
    s = make_stack("tap", check=True, config=config(USER_RULES), interactive=True).start()
    assert not ping_ok(s, PEER_IP)
    cfg = config(USER_RULES[1:])  # ICMP allowed again
    s.config_path.write_text(json.dumps(cfg))
    out = s.command("filter reload")
    assert "reloaded" in out.lower() and "2 rules" in out, out
    assert ping_ok(s, PEER_IP)
    bad = config(USER_RULES[1:] + [{"hook": "input", "proto": "udp", "sport": [9, 1], "action": "drop"}])
    s.config_path.write_text(json.dumps(bad))
    out = s.command("filter reload")
    assert "refused" in out.lower() and "$.filters.rules[2].sport" in out, out
    rows, out = state(s)
    assert len(rows) == 2, out  # the old table stays
    assert ping_ok(s, PEER_IP)
    assert s.counters()["filter_tables_loaded"] >= 2


def test_bad_filter_config_exits_2_naming_rule_and_field(make_stack):
    s = make_stack("tap", config=config([{"hook": "input", "proto": "tcp", "dport": 23, "action": "deny"}]))
    with pytest.raises(AssertionError) as e:
        s.start(timeout=10)
    assert "exited 2" in str(e.value) and "$.filters.rules[0].action" in str(e.value), str(e.value)


def test_rate_limit(make_stack):
    rules = [{"hook": "input", "proto": "icmp", "icmp_type": 8, "action": "rate_limit",
              "rate": {"pps": 10, "burst": 5}}]
    s = make_stack("tap", check=True, config=config(rules), interactive=True).start()
    r = s.exec(["ping", "-c", "60", "-i", "0.01", "-W", "1", STACK_IP], check=False, timeout=30)
    got = int(re.search(r"(\d+) received", r.stdout).group(1))
    assert 5 <= got <= 25, r.stdout  # the burst, then about 10 a second for ~0.6 s
    assert s.drops()["filter_rate_limited"] == 60 - got


def test_10000_rules_load_and_classify(make_stack):
    rules = []
    for i in range(10000):
        if i == 5000:
            rules.append({"hook": "input", "proto": "udp", "src": f"{PEER_IP}/32", "dport": 9, "action": "reject",
                          "reject_with": "icmp-admin-prohibited"})
        else:  # never matching the peer: other sources
            rules.append({"hook": "input", "proto": "udp", "src": f"172.{16 + i // 65536}.{(i // 256) % 256}.{i % 256}/32",
                          "dport": [1, 65535], "action": "drop"})
    rules.append({"hook": "input", "proto": "udp", "dport": 7, "src": f"{PEER_IP}/32", "action": "count"})
    s = make_stack("tap", check=True, config=config(rules), interactive=True).start(timeout=60)
    r = s.exec(["nc", "-u", "-w", "1", STACK_IP, "7"], input="through 10000 rules\n", check=False, timeout=20)
    assert r.stdout == "through 10000 rules\n", r.stdout
    s.ping(count=1)
    r = s.scapy("filter_checks.py", s.ifname, s.mac, STACK_IP, PEER_IP, "admin_prohibited", "9")
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout
    rows, out = state(s)
    assert rows[5000][0] >= 1 and rows[10000][0] >= 1, out[-2000:]
    assert sum(p for i, (p, _) in rows.items() if i not in (5000, 10000)) == 0


# ---- forward hook: two namespaces through the router ----------------------------------

def test_forward_filter_and_reload_under_iperf3(make_router):
    rules = [{"hook": "forward", "in_port": 1, "proto": "icmp", "icmp_type": 8, "action": "drop"},
             {"hook": "forward", "proto": "tcp", "dport": 5201, "action": "count"}]
    r = make_router("tap", config=router_config(filters={"rules": rules}), interactive=True).start()
    assert " 0% packet loss" in r.a.ping(PEER_IP_B, count=2).stdout  # A -> B allowed
    assert " 0% packet loss" not in r.b.ping(PEER_IP, count=2).stdout  # echo requests in on port 1: dropped
    server = r.b.popen(["iperf3", "-s", "-1", "-B", PEER_IP_B, "-p", "5201"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = None
    try:
        wait_listening(r.b.exec, 5201)
        client = r.a.popen(["iperf3", "-c", PEER_IP_B, "-p", "5201", "-t", "4", "-J", "--connect-timeout", "3000"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)
        for i in range(8):  # reloads while data flows, alternating two tables that both allow it
            cfg = router_config(filters={"rules": rules if i % 2 else rules[::-1]})
            r.config_path.write_text(json.dumps(cfg))
            out = r.command("filter reload")
            assert "reloaded" in out.lower(), out
            time.sleep(0.3)
        res, _ = client.communicate(timeout=30)
        assert server.wait(timeout=10) == 0
    finally:
        for p in (server, client):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(5)
    j = json.loads(res)
    assert client.returncode == 0 and "error" not in j, res[-2000:]
    assert j["end"]["sum_received"]["bytes"] > 0
    # Nothing of the allowed flow may be lost in the stack to a reload: the
    # only drops are the two echo requests of rule 0. (The kernels' TCP may
    # still retransmit: on this 2-core machine the stack's core is shared
    # with the kernel's work for the taps, and a few-millisecond preemption
    # overflows a tap's 1000-frame queue with or without reloads; those
    # drops are the kernel's, before the stack, and are not what this checks.)
    drops = {k: v for k, v in r.drops().items() if v}
    assert drops == {"filter_drop": 2}, (drops, j["end"]["streams"][0]["sender"])
    rows, out = state(r)
    assert rows[1][0] > 0 or rows[0][0] > 0, out  # the count rule saw the iperf3 segments (whichever index it had last)
    assert r.counters()["filter_tables_loaded"] >= 8

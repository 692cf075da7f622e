"""IPv4 beyond one link, against the real binary: reassembly and
fragmentation, routing and forwarding between two ports, ICMP errors, the
L3 tun port and the stack's own loopback.

Scenarios:
  router (conftest.Router): the stack in a namespace of its own; port 0 faces
    namespace A (10.0.0.2/24, route to 10.1.1.0/24 via 10.0.0.1), port 1
    faces namespace B (10.1.1.2/24, route to 10.0.0.0/24 via 10.1.1.1). The
    endpoints of pings, TCP (nc) and iperf3 are the kernels of A and B.
  one port (conftest.Stack): the peer 10.0.0.2/24 beside the stack, on tap,
    tun or af_packet.

Crafted datagrams and fragments are built with scapy in tools/ipsend.py,
sent through the peer kernel's raw socket and every ICMP message that comes
back in a bounded window is reported; the tests assert exact types, codes,
quoted headers, payload bytes and counter deltas by name.

net_af_packet: DPDK's af_packet PMD joins a PACKET_FANOUT group with
PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles (or holds) IPv4
fragments before the PMD sees them; tests whose subject is the stack seeing
individual fragments run on tap (and tun) only, and say so.
"""
import hashlib
import json
import re
import subprocess
import time
from collections import Counter

import pytest

from conftest import PEER_IP, PEER_IP_B, STACK_IP, STACK_IP_B, payload, router_config, wait_listening

A_IP, B_IP = PEER_IP, PEER_IP_B
IP_COUNTERS = ["ipv4_forwarded", "frags_in", "reasm_ok", "frags_out", "icmp_errors_sent", "icmp_errors_in",
               "icmp_errors_rate_limited", "loopback_packets", "steered_out", "steered_in", "pmtu_updates"]
IP_DROPS = ["ipv4_ttl_exceeded", "ipv4_forwarding_disabled", "ipv4_not_forwardable", "ipv4_frag_needed",
            "ipv4_no_route", "ipv4_mtu_exceeded", "ipv4_unknown_protocol", "frag_duplicate", "frag_overlap",
            "frag_too_big", "frag_inconsistent", "frag_too_many", "frag_table_full", "frag_timeout", "frag_tiny",
            "steer_queue_full", "loopback_full"]


# ---- helpers -------------------------------------------------------------------

class Snap:
    """Counters and drops of a stack at one moment; deltas against it later."""

    def __init__(self, s):
        self.s = s
        self.c0 = s.counters()
        self.d0 = s.drops()

    # Counters: a name that did not move reads 0; the dict holds only movers.
    def counters(self):
        now = self.s.counters()
        return Counter({k: v - self.c0.get(k, 0) for k, v in now.items() if v != self.c0.get(k, 0)})

    def drops(self):
        now = self.s.drops()
        return Counter({k: v - self.d0.get(k, 0) for k, v in now.items() if v != self.d0.get(k, 0)})

    def wait(self, counters=None, drops=None, timeout=10):
        """Waits until every named counter/drop moved by at least the given
        amount; returns (counter deltas, drop deltas) as they are then."""
        deadline = time.time() + timeout
        while True:
            c, d = self.counters(), self.drops()
            ok = all(c.get(k, 0) >= v for k, v in (counters or {}).items()) and \
                all(d.get(k, 0) >= v for k, v in (drops or {}).items())
            if ok:
                return c, d
            if time.time() > deadline:
                missing = [k for k in (counters or {}) if k not in self.s.counters()] + \
                          [k for k in (drops or {}) if k not in self.s.drops()]
                raise AssertionError(f"counters {counters} / drops {drops} not reached in {timeout}s: "
                                     f"counter deltas {c}, drop deltas {d}"
                                     + (f"; names missing from telemetry: {missing}" if missing else ""))
            time.sleep(0.1)


def icmp(report, type_=None, code=None):
    return [m for m in report["icmp"] if (type_ is None or m["type"] == type_) and (code is None or m["code"] == code)]


def only_drops(d, *names):
    """The drop deltas outside `names` (expected: none)."""
    return {k: v for k, v in d.items() if k not in names}


def alive(ping_result):
    assert " 0% packet loss" in ping_result.stdout, ping_result.stdout
    assert "wrong data" not in ping_result.stdout, ping_result.stdout


def snmp_ip(exec_):
    """The Ip: line of /proc/net/snmp in a namespace, as a dict."""
    lines = [l.split() for l in exec_(["cat", "/proc/net/snmp"]).stdout.splitlines() if l.startswith("Ip:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))


def traceroute_hops(out):
    """{hop: [addresses]} and the number of unanswered probes ('*')."""
    hops, stars = {}, 0
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\d+)\s+(.*)", line)
        if m:
            hops[int(m.group(1))] = sorted(set(re.findall(r"\d+\.\d+\.\d+\.\d+", m.group(2))))
            stars += m.group(2).count("*")
    return hops, stars


def router_with(make_router, pmd, **over):
    return make_router(pmd, config=router_config(**over)).start()


def one_port(make_stack, pmd, ip=None, **kw):
    """A started one-port stack (leak-checked at teardown) with `ip` config."""
    cfg = {"ports": [{"address": f"{STACK_IP}/24"}], "icmp": {"error_rate": 0}}
    if ip:
        cfg["ip"] = ip
    s = make_stack(pmd, config=cfg, check=True, **kw).start()
    alive(s.ping(wait=3, count=1))  # both sides know each other (ARP), so nothing waits later
    return s


# ---- the router: forwarding ----------------------------------------------------------

@pytest.fixture(params=["tap", "af_packet"])
def router_pmd(request):
    """The PMD, for router tests that need a config of their own."""
    return request.param


@pytest.mark.parametrize("pmd", ["tap", "af_packet"])
def test_router_answers_on_both_ports(make_router, pmd):
    """The two-port fixture itself: each namespace reaches the stack's address
    on its own link (no forwarding involved, so no "ip" section)."""
    r = make_router(pmd, config={"ports": [{"address": f"{STACK_IP}/24"}, {"address": f"{STACK_IP_B}/24"}]}).start()
    alive(r.a.ping(STACK_IP))
    alive(r.b.ping(STACK_IP_B))
    assert r.counters()["icmp_echo_replies"] == 6


def test_ping_through_router_decrements_ttl_and_counts(router):
    alive(router.a.ping(STACK_IP, count=1))
    alive(router.b.ping(STACK_IP_B, count=1))
    snap = Snap(router)
    r = router.a.ping(B_IP, count=5)
    alive(r)
    assert len(re.findall(rf"bytes from {B_IP}: icmp_seq=\d+ ttl=63 ", r.stdout)) == 5, r.stdout
    c, d = snap.wait(counters={"ipv4_forwarded": 10})
    assert c["ipv4_forwarded"] == 10, c  # 5 requests A->B, 5 replies B->A
    assert not d, d
    r = router.b.ping(A_IP, count=3)
    alive(r)
    assert len(re.findall(rf"bytes from {A_IP}: icmp_seq=\d+ ttl=63 ", r.stdout)) == 3, r.stdout


def test_routes_telemetry_and_static_routes_carry_traffic(router_pmd, make_router):
    r = router_with(make_router, router_pmd, routes=[{"prefix": "10.9.0.0/16", "via": B_IP},
                                                     {"prefix": "0.0.0.0/0", "via": A_IP, "port": 0}])
    routes = r.routes()
    for want in ["10.0.0.0/24 port 0 connected", "10.1.1.0/24 port 1 connected",
                 "10.9.0.0/16 via 10.1.1.2 port 1 static", "0.0.0.0/0 via 10.0.0.2 port 0 static"]:
        assert want in routes, routes
    assert sorted(x for x in routes if x.endswith(" static")) == \
        ["0.0.0.0/0 via 10.0.0.2 port 0 static", "10.9.0.0/16 via 10.1.1.2 port 1 static"], routes
    # 10.9.0.1 lives on B (static route via B), 10.200.0.1 on A (default route via A).
    r.b.exec(["ip", "addr", "add", "10.9.0.1/32", "dev", "lo"])
    r.a.exec(["ip", "route", "add", "10.9.0.0/16", "via", STACK_IP])
    r.a.exec(["ip", "addr", "add", "10.200.0.1/32", "dev", "lo"])
    r.b.exec(["ip", "route", "add", "10.200.0.0/16", "via", STACK_IP_B])
    alive(r.a.ping("10.9.0.1"))
    alive(r.b.ping("10.200.0.1"))


def test_forwarding_disabled_drops_transit(router_pmd, make_router):
    r = router_with(make_router, router_pmd, ip={"forwarding": False})
    alive(r.a.ping(STACK_IP, count=1))
    snap = Snap(r)
    res = r.a.ping(B_IP, count=3)
    assert "3 packets transmitted, 0 received" in res.stdout, res.stdout
    c, d = snap.wait(drops={"ipv4_forwarding_disabled": 3})
    assert d["ipv4_forwarding_disabled"] == 3, d
    assert r.counters()["ipv4_forwarded"] == 0
    alive(r.a.ping(STACK_IP, count=2))  # local delivery still works


def test_large_datagram_fragmented_by_sender_is_forwarded(make_router):
    """tap only: the 8028-byte datagram crosses the stack as fragments (on
    af_packet the kernel would reassemble them before the PMD)."""
    r = make_router("tap").start()
    alive(r.a.ping(STACK_IP, count=1))
    snap = Snap(r)
    res = r.a.ping(B_IP, count=3, size=8000)
    alive(res)
    c, d = snap.wait(counters={"ipv4_forwarded": 36})
    assert c["ipv4_forwarded"] == 36, c  # 6 fragments each way, 3 times, forwarded as they are
    assert c.get("frags_out", 0) == 0 and c.get("reasm_ok", 0) == 0, c  # transit: not rebuilt, not re-cut
    assert not d, d


# ---- the router: ICMP errors --------------------------------------------------------

def test_ttl_1_gives_time_exceeded_from_ingress_address(router):
    alive(router.a.ping(STACK_IP, count=1))
    snap = Snap(router)
    rep = router.a.ipsend(f"echo('{B_IP}', 32, ttl=1, ident=0x77, seq=5, ipid=0x2001)", wait=3)
    assert len(rep["icmp"]) == 1, rep
    m = rep["icmp"][0]
    assert (m["src"], m["dst"], m["type"], m["code"]) == (STACK_IP, A_IP, 11, 0), m
    q = m["quote"]
    assert (q["src"], q["dst"], q["proto"], q["id"], q["frag"]) == (A_IP, B_IP, 1, 0x2001, 0), q
    assert (q["icmp_type"], q["icmp_id"], q["icmp_seq"]) == (8, 0x77, 5), q
    c, d = snap.wait(counters={"icmp_errors_sent": 1}, drops={"ipv4_ttl_exceeded": 1})
    assert d == {"ipv4_ttl_exceeded": 1}, d
    assert c["icmp_errors_sent"] == 1 and c.get("ipv4_forwarded", 0) == 0, c
    # The real tool says the same.
    res = router.a.exec(["ping", "-c", "1", "-t", "1", "-W", "2", B_IP], check=False, timeout=20)
    assert f"From {STACK_IP} icmp_seq=1 Time to live exceeded" in res.stdout, res.stdout


def test_default_ttl_applies_to_replies_and_errors(make_router):
    r = router_with(make_router, "tap", ip={"default_ttl": 77})
    res = r.a.ping(STACK_IP, count=2)
    alive(res)
    assert len(re.findall(r"ttl=77 ", res.stdout)) == 2, res.stdout
    rep = r.a.ipsend(f"echo('{B_IP}', 8, ttl=1)", wait=3)
    assert [(m["type"], m["code"], m["ttl"]) for m in rep["icmp"]] == [(11, 0, 77)], rep


@pytest.mark.parametrize("pmd", ["tap", "af_packet"])
def test_df_datagram_too_big_for_egress_gives_frag_needed(make_router, pmd):
    r = router_with(make_router, pmd, ports=[{"address": f"{STACK_IP}/24", "mtu": 1500},
                                             {"address": f"{STACK_IP_B}/24", "mtu": 1280}])
    r.b.exec(["ip", "link", "set", r.b.ifname, "mtu", "1280"])
    alive(r.a.ping(STACK_IP, count=1))
    snap = Snap(r)
    # The real tool first (the kernel of A learns the path MTU from it).
    res = r.a.exec(["ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1372", B_IP], check=False, timeout=20)
    assert f"From {STACK_IP} icmp_seq=1 Frag needed and DF set (mtu = 1280)" in res.stdout, res.stdout
    # Then exactly: 1400 bytes with DF from A to B (A forgets the path MTU it
    # just learnt, or its raw socket would refuse the datagram).
    r.a.exec(["ip", "route", "flush", "cache"])
    rep = r.a.ipsend(f"echo('{B_IP}', 1372, df=True, ipid=0x3001, ident=0x33, seq=9)", wait=3)
    assert len(rep["icmp"]) == 1, rep
    m = rep["icmp"][0]
    assert (m["src"], m["dst"], m["type"], m["code"], m["mtu"]) == (STACK_IP, A_IP, 3, 4, 1280), m
    q = m["quote"]
    assert (q["src"], q["dst"], q["id"], q["df"], q["len"]) == (A_IP, B_IP, 0x3001, True, 1400), q
    assert (q["icmp_type"], q["icmp_id"], q["icmp_seq"]) == (8, 0x33, 9), q
    c, d = snap.wait(counters={"icmp_errors_sent": 2}, drops={"ipv4_frag_needed": 2})
    assert d == {"ipv4_frag_needed": 2}, d
    assert c["icmp_errors_sent"] == 2 and c.get("ipv4_forwarded", 0) == 0, c
    # Small enough datagrams still pass with DF.
    alive(r.a.ping(B_IP, count=2, size=1252, extra=("-M", "do")))


def test_datagram_too_big_without_df_is_fragmented(make_router):
    """tap only: B answers with fragments that must cross the stack as such
    (on af_packet the kernel would reassemble them before the PMD)."""
    r = router_with(make_router, "tap", ports=[{"address": f"{STACK_IP}/24"},
                                               {"address": f"{STACK_IP_B}/24", "mtu": 1280}])
    r.b.exec(["ip", "link", "set", r.b.ifname, "mtu", "1280"])
    alive(r.a.ping(STACK_IP, count=1))
    alive(r.b.ping(STACK_IP_B, count=1))
    snap = Snap(r)
    b0, a0 = snmp_ip(r.b.exec), snmp_ip(r.a.exec)
    res = r.a.ping(B_IP, count=3, size=1372, extra=("-M", "dont"))
    alive(res)
    assert len(re.findall(rf"1380 bytes from {B_IP}: icmp_seq=\d+ ttl=63 ", res.stdout)) == 3, res.stdout
    c, d = snap.wait(counters={"frags_out": 6})
    assert c["frags_out"] == 6, c  # each 1400-byte request cut in two for the 1280 link
    assert not d, d
    b1, a1 = snmp_ip(r.b.exec), snmp_ip(r.a.exec)
    assert (b1["ReasmReqds"] - b0["ReasmReqds"], b1["ReasmOKs"] - b0["ReasmOKs"]) == (6, 3)  # B got fragments
    assert a1["ReasmOKs"] - a0["ReasmOKs"] == 3  # and B's fragmented replies reached A as fragments


def test_no_route_gives_net_unreachable(router):
    router.a.exec(["ip", "route", "add", "10.77.0.0/16", "via", STACK_IP])
    alive(router.a.ping(STACK_IP, count=1))
    snap = Snap(router)
    rep = router.a.ipsend("echo('10.77.0.1', 16, ipid=0x4101, ident=0x41, seq=1)", wait=3)
    assert [(m["src"], m["type"], m["code"]) for m in rep["icmp"]] == [(STACK_IP, 3, 0)], rep
    q = rep["icmp"][0]["quote"]
    assert (q["src"], q["dst"], q["id"], q["icmp_id"]) == (A_IP, "10.77.0.1", 0x4101, 0x41), q
    c, d = snap.wait(counters={"icmp_errors_sent": 1}, drops={"ipv4_no_route": 1})
    assert d == {"ipv4_no_route": 1}, d
    res = router.a.exec(["ping", "-c", "1", "-W", "2", "10.77.0.1"], check=False, timeout=20)
    assert f"From {STACK_IP} icmp_seq=1 Destination Net Unreachable" in res.stdout, res.stdout


def test_unresolvable_next_hop_gives_host_unreachable(router_pmd, make_router):
    # Nobody holds 10.1.1.99: after max_requests (3) ARP requests a second
    # apart, the waiting datagram is dropped and its sender told.
    r = router_with(make_router, router_pmd, arp={"max_requests": 3, "retry_interval_ms": 1000})
    alive(r.a.ping(STACK_IP, count=1))
    snap = Snap(r)
    rep = r.a.ipsend("echo('10.1.1.99', 16, ipid=0x4201, ident=0x42, seq=1)", wait=8, until=1)
    assert [(m["src"], m["dst"], m["type"], m["code"]) for m in rep["icmp"]] == [(STACK_IP, A_IP, 3, 1)], rep
    q = rep["icmp"][0]["quote"]
    assert (q["src"], q["dst"], q["id"], q["icmp_id"]) == (A_IP, "10.1.1.99", 0x4201, 0x42), q
    c, d = snap.wait(counters={"icmp_errors_sent": 1}, drops={"arp_resolve_failed": 1})
    assert d == {"arp_resolve_failed": 1}, d
    assert c["arp_requests_sent"] == 3 and c["icmp_errors_sent"] == 1, c


def test_unknown_protocol_gives_protocol_unreachable(router):
    alive(router.a.ping(STACK_IP, count=1))
    snap = Snap(router)
    rep = router.a.ipsend(f"IP(dst='{STACK_IP}', proto=253, id=0x4301)/Raw(data(24))", wait=3)
    assert [(m["src"], m["dst"], m["type"], m["code"]) for m in rep["icmp"]] == [(STACK_IP, A_IP, 3, 2)], rep
    q = rep["icmp"][0]["quote"]
    assert (q["src"], q["dst"], q["proto"], q["id"]) == (A_IP, STACK_IP, 253, 0x4301), q
    assert q["l4_hex"][:16] == payload(24)[:8].hex(), q  # at least 64 bits of the datagram quoted
    c, d = snap.wait(counters={"icmp_errors_sent": 1}, drops={"ipv4_unknown_protocol": 1})
    assert d == {"ipv4_unknown_protocol": 1}, d


def test_no_icmp_error_about_an_icmp_error(router):
    """A destination unreachable with TTL 1 is dropped silently; an echo
    request with TTL 1 sent right after it gets its time exceeded (the
    control that shows the wait was long enough)."""
    alive(router.a.ping(STACK_IP, count=1))
    snap = Snap(router)
    err = (f"IP(dst='{B_IP}', ttl=1, id=0x5001)/ICMP(type=3, code=3)/"
           f"IP(src='{B_IP}', dst='{A_IP}', proto=17, id=0x99)/UDP(sport=33434, dport=40000)")
    rep = router.a.ipsend(f"[{err}, echo('{B_IP}', 16, ttl=1, ipid=0x5002)]", wait=3)
    assert [(m["type"], m["code"], m["quote"]["id"]) for m in rep["icmp"]] == [(11, 0, 0x5002)], rep
    c, d = snap.wait(counters={"icmp_errors_sent": 1}, drops={"ipv4_ttl_exceeded": 2})
    assert d == {"ipv4_ttl_exceeded": 2}, d
    assert c["icmp_errors_sent"] == 1, c


def test_no_icmp_error_to_a_broadcast_destination(router):
    """An unknown protocol sent to the subnet broadcast is dropped silently;
    the same to the stack's address gets protocol unreachable (control)."""
    alive(router.a.ping(STACK_IP, count=1))
    snap = Snap(router)
    rep = router.a.ipsend(f"[IP(dst='10.0.0.255', proto=253, id=0x6001)/Raw(data(16)), "
                          f"IP(dst='{STACK_IP}', proto=253, id=0x6002)/Raw(data(16))]", wait=3)
    assert [(m["type"], m["code"], m["quote"]["id"]) for m in rep["icmp"]] == [(3, 2, 0x6002)], rep
    c, d = snap.wait(counters={"icmp_errors_sent": 1}, drops={"ipv4_unknown_protocol": 2})
    assert d == {"ipv4_unknown_protocol": 2}, d
    assert c["icmp_errors_sent"] == 1, c


def test_no_icmp_error_for_a_non_first_fragment(make_router):
    """tap only (af_packet's kernel would hold lone fragments). Both
    fragments have TTL 1: only the first fragment (offset 0) earns a time
    exceeded."""
    r = make_router("tap").start()
    alive(r.a.ping(STACK_IP, count=1))
    snap = Snap(r)
    rep = r.a.ipsend(f"[frag(echo('{B_IP}', 64, ttl=1, ipid=0x7001), 32), "
                     f"frag(echo('{B_IP}', 64, ttl=1, ipid=0x7002), 0, 32)]", wait=3)
    assert [(m["type"], m["code"], m["quote"]["id"], m["quote"]["frag"], m["quote"]["mf"])
            for m in rep["icmp"]] == [(11, 0, 0x7002, 0, True)], rep
    c, d = snap.wait(counters={"icmp_errors_sent": 1}, drops={"ipv4_ttl_exceeded": 2})
    assert d == {"ipv4_ttl_exceeded": 2}, d
    assert c["icmp_errors_sent"] == 1, c


def test_icmp_errors_are_rate_limited(make_router):
    r = router_with(make_router, "tap", icmp={"error_rate": 1, "error_burst": 2})
    alive(r.a.ping(STACK_IP, count=1))
    snap = Snap(r)
    rep = r.a.ipsend(f"[echo('{B_IP}', 8, ttl=1, seq=i) for i in range(10)]", wait=3)
    got = len(icmp(rep, 11, 0))
    assert got == len(rep["icmp"]), rep
    c, d = snap.wait(drops={"ipv4_ttl_exceeded": 10})
    assert d == {"ipv4_ttl_exceeded": 10}, d
    assert 2 <= got < 10, rep  # the burst, and not everything
    assert c.get("icmp_errors_sent", 0) == got, c
    assert c.get("icmp_errors_rate_limited", 0) == 10 - got, c


# ---- the router: real tools ----------------------------------------------------------

@pytest.mark.parametrize("icmp_probes", [False, True], ids=["udp", "icmp"])
def test_traceroute_shows_stack_then_destination(router, icmp_probes):
    alive(router.a.ping(STACK_IP, count=1))
    cmd = ["traceroute", "-n", "-N", "1", "-q", "2", "-w", "2", "-m", "3", *(["-I"] if icmp_probes else []), B_IP]
    res = router.a.exec(cmd, check=False, timeout=40)
    assert res.returncode == 0, res.stdout
    hops, stars = traceroute_hops(res.stdout)
    assert hops == {1: [STACK_IP], 2: [B_IP]}, res.stdout
    assert stars == 0 and "!" not in res.stdout.split("\n", 1)[1], res.stdout
    assert router.drops()["ipv4_ttl_exceeded"] == 2 and router.counters()["icmp_errors_sent"] == 2


def test_tcp_through_router_with_nc(router, tmp_path):
    """1 MiB each way between the kernels of A and B, through the stack;
    the bytes that arrive hash to the bytes sent."""
    blob = tmp_path / "blob"
    blob.write_bytes(payload(1 << 20, seed=5))
    want = hashlib.sha256(blob.read_bytes()).hexdigest()
    alive(router.a.ping(B_IP, count=1))
    for n, (src, dst) in enumerate(((router.a, router.b), (router.b, router.a))):
        port = 5001 + n
        out = tmp_path / f"recv{n}"
        with open(out, "wb") as f:
            server = dst.popen(["nc", "-n", "-l", dst.ip, str(port)], stdin=subprocess.DEVNULL, stdout=f,
                               stderr=subprocess.DEVNULL)
        client = None
        try:
            wait_listening(dst.exec, port)
            with open(blob, "rb") as f:
                client = src.popen(["nc", "-n", "-N", "-w", "10", dst.ip, str(port)], stdin=f,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, err = client.communicate(timeout=30)
            assert client.returncode == 0, err
            assert server.wait(timeout=10) == 0
        finally:
            for p in (client, server):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait(5)
        got = out.read_bytes()
        assert len(got) == 1 << 20 and hashlib.sha256(got).hexdigest() == want, f"direction {n}: {len(got)} bytes"
    assert router.counters()["ipv4_forwarded"] >= 2 * (1 << 20) // 1460


@pytest.mark.parametrize("reverse", [False, True], ids=["a_to_b", "b_to_a"])
def test_iperf3_through_router(router, reverse):
    alive(router.a.ping(B_IP, count=1))
    snap = Snap(router)
    server = router.b.popen(["iperf3", "-s", "-1", "-B", B_IP, "-p", "5201"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(router.b.exec, 5201)
        res = router.a.exec(["iperf3", "-c", B_IP, "-p", "5201", "-t", "3", "-J", "--connect-timeout", "3000",
                             *(["-R"] if reverse else [])], check=False, timeout=40)
        assert server.wait(timeout=10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(5)
    j = json.loads(res.stdout)
    assert res.returncode == 0 and "error" not in j, res.stdout[-2000:]
    received = j["end"]["sum_received"]["bytes"]
    assert 0 < received <= j["end"]["sum_sent"]["bytes"], j["end"]
    # Every byte crossed the stack, in segments of at most 1460 bytes.
    snap.wait(counters={"ipv4_forwarded": received // 1460})


# ---- the console: routes, ip, ping, loopback -------------------------------------------

def test_console_route_add_and_del(make_router):
    r = make_router("tap", interactive=True).start()
    r.b.exec(["ip", "addr", "add", "10.9.0.1/32", "dev", "lo"])
    r.b.exec(["ip", "addr", "add", "10.8.0.1/32", "dev", "lo"])
    r.a.exec(["ip", "route", "add", "10.8.0.0/15", "via", STACK_IP])
    alive(r.a.ping(STACK_IP, count=1))
    r.command("route add 10.9.0.0/16 via 10.1.1.2")
    r.command("route add 10.8.0.0/16 via 10.1.1.2 port 1")
    assert {"10.9.0.0/16 via 10.1.1.2 port 1 static", "10.8.0.0/16 via 10.1.1.2 port 1 static"} <= set(r.routes()), \
        r.routes()
    out = r.command("show route")
    for want in [r"10\.0\.0\.0/24\s.*\b0\b.*connected", r"10\.1\.1\.0/24\s.*\b1\b.*connected",
                 r"10\.9\.0\.0/16\s+(via\s+)?10\.1\.1\.2\s+(port\s+)?1\b.*static",
                 r"10\.8\.0\.0/16\s+(via\s+)?10\.1\.1\.2\s+(port\s+)?1\b.*static"]:
        assert re.search(want, out), out
    alive(r.a.ping("10.9.0.1"))
    alive(r.a.ping("10.8.0.1"))
    r.command("route del 10.9.0.0/16")
    assert not any(x.startswith("10.9.0.0/16") for x in r.routes()), r.routes()
    assert "10.9.0.0/16" not in r.command("show route")
    rep = r.a.ipsend("echo('10.9.0.1', 8)", wait=3)
    assert [(m["src"], m["type"], m["code"]) for m in rep["icmp"]] == [(STACK_IP, 3, 0)], rep
    alive(r.a.ping("10.8.0.1", count=1))
    # A gateway outside port 1's network is refused, and says so.
    out = r.command("route add 10.9.0.0/16 via 10.0.0.77 port 1")
    assert out.strip(), "a refused route must be explained"
    assert not any(x.startswith("10.9.0.0/16") for x in r.routes()), r.routes()


def test_console_ping_from_the_stack(make_router):
    """The stack's own pings: to its neighbour on port 0, and to B on port 1
    with the largest payload an unfragmented 1500-byte datagram carries; a
    payload beyond that is refused with the usage line."""
    r = make_router("tap", interactive=True).start()
    out = r.command("ping 10.0.0.2 3", expect=r"3 (packets )?transmitted, \d+ received", timeout=15)
    assert re.search(r"3 (packets )?transmitted, 3 received", out), out
    assert len(re.findall(r"bytes from 10\.0\.0\.2: icmp_seq=\d+", out)) == 3, out
    snap = Snap(r)
    out = r.command("ping 10.1.1.2 2 1472", expect=r"2 (packets )?transmitted, \d+ received", timeout=15)
    assert re.search(r"2 (packets )?transmitted, 2 received", out), out
    assert len(re.findall(r"1480 bytes from 10\.1\.1\.2: icmp_seq=\d+", out)) == 2, out
    c, d = snap.wait(counters={"rx_packets": 2})
    assert c["frags_out"] == 0 and c["ipv4_forwarded"] == 0 and c["loopback_packets"] == 0, c
    assert not d, d
    out = r.command("ping 10.1.1.2 1 1473")
    assert "Usage: ping <ip>" in out, out


def test_console_ping_own_addresses_through_loopback(make_stack):
    s = make_stack("tap", interactive=True, check=True).start()
    tx0 = re.search(r"TX-packets:\s*(\d+)", s.command("show port stats 0"))
    assert tx0, s.output()
    snap = Snap(s)
    out = s.command("ping 10.0.0.1 3", expect=r"3 (packets )?transmitted, \d+ received", timeout=15)
    assert re.search(r"3 (packets )?transmitted, 3 received", out), out
    assert len(re.findall(r"bytes from 10\.0\.0\.1: icmp_seq=\d+", out)) == 3, out
    c, d = snap.wait(counters={"loopback_packets": 6})
    assert c["loopback_packets"] == 6, c  # 3 requests, 3 replies, none on the wire
    assert c.get("tx_packets", 0) == 0 and c.get("rx_packets", 0) == 0, c
    assert not d, d
    out = s.command("ping 127.0.0.1 2", expect=r"2 (packets )?transmitted, \d+ received", timeout=15)
    assert re.search(r"2 (packets )?transmitted, 2 received", out), out
    c, d = snap.wait(counters={"loopback_packets": 10})
    assert c["loopback_packets"] == 10 and c["tx_packets"] == 0, c
    out = s.command("show port stats 0")
    tx = re.search(r"TX-packets:\s*(\d+)", out)
    assert tx and tx.group(1) == tx0.group(1), out  # the port sent nothing


def test_console_show_ip_lists_reassembly_flows(make_stack):
    s = one_port(make_stack, "tap", ip={"reassembly": {"timeout_ms": 2000}}, interactive=True)
    snap = Snap(s)
    s.ipsend(f"frag(echo('{STACK_IP}', 200, ipid=0x1111), 0, 64)", wait=0)
    snap.wait(counters={"frags_in": 1})
    out = s.command("show ip")
    assert PEER_IP in out and STACK_IP in out, out  # the waiting flow, by its addresses
    for name in ["ipv4_forwarded", "frags_in", "reasm_ok", "frags_out", "icmp_errors_sent"]:
        assert name in out, out
    snap.wait(drops={"frag_timeout": 1})
    out = s.command("show ip")
    assert PEER_IP not in out, out  # expired, gone


def test_frag_needed_to_the_stack_lowers_its_path_mtu(make_router):
    """A frag-needed quoting a datagram the stack sent (10.0.0.1 -> 10.1.1.2,
    DF) lowers the path MTU it keeps for 10.1.1.2; `show ip` lists it."""
    r = make_router("tap", interactive=True).start()
    alive(r.a.ping(STACK_IP, count=1))
    snap = Snap(r)
    quoted = f"IP(src='{STACK_IP}', dst='{B_IP}', flags='DF', id=0x55, len=1400)/ICMP(type=8, id=1, seq=1)"
    r.a.ipsend(f"IP(dst='{STACK_IP}')/ICMP(type=3, code=4, nexthopmtu=1000)/{quoted}", wait=0.5)
    c, d = snap.wait(counters={"icmp_errors_in": 1, "pmtu_updates": 1})
    assert (c["icmp_errors_in"], c["pmtu_updates"]) == (1, 1), c
    assert not d, d
    out = r.command("show ip")
    assert re.search(rf"{re.escape(B_IP)}\D+1000\b", out), out


# ---- reassembly (tap and tun: the stack must see each fragment) ------------------------

FRAG_PMDS = ["tap", "tun"]


@pytest.mark.parametrize("pmd", FRAG_PMDS)
@pytest.mark.parametrize("order", ["reverse", "shuffled"])
def test_reassembly_out_of_order(make_stack, pmd, order):
    s = one_port(make_stack, pmd)
    snap = Snap(s)
    pkts = f"frags(echo('{STACK_IP}', 1000, seed=2, ipid=0x2222, ident=0x22), 128)"
    expr = f"{pkts}[::-1]" if order == "reverse" else f"shuffled({pkts}, seed=3)"
    rep = s.ipsend(expr, wait=3)
    offsets = [p["frag"] for p in rep["sent"]]
    assert len(offsets) == 8 and offsets != sorted(offsets), rep["sent"]
    assert len(rep["icmp"]) == 1, rep
    m = rep["icmp"][0]
    assert (m["src"], m["type"], m["code"], m["id"]) == (STACK_IP, 0, 0, 0x22), m
    assert m["data_hex"] == payload(1000, seed=2).hex(), m
    c, d = snap.wait(counters={"reasm_ok": 1})
    assert (c["frags_in"], c["reasm_ok"]) == (8, 1), c
    assert not d, d
    alive(s.ping(wait=3, count=2))


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_ping_65507_bytes_gets_every_byte_back(make_stack, pmd):
    """The largest echo there is: the stack reassembles 45 fragments and cuts
    its reply into 45 again."""
    s = one_port(make_stack, pmd)
    res = s.exec(["ping", "-c", "2", "-i", "0.5", "-W", "3", "-s", "65507", STACK_IP], check=False, timeout=30)
    assert "2 packets transmitted, 2 received" in res.stdout, res.stdout
    assert "wrong data" not in res.stdout and len(re.findall(r"65515 bytes from", res.stdout)) == 2, res.stdout
    snap = Snap(s)
    rep = s.ipsend(f"frags(echo('{STACK_IP}', 65507, seed=9, ident=0x65), 1480)", wait=8, until=1)
    assert len(rep["sent"]) == 45
    m = rep["icmp"][0] if rep["icmp"] else None
    assert m and (m["type"], m["id"], m["data_len"]) == (0, 0x65, 65507), rep
    assert m["data_sha256"] == hashlib.sha256(payload(65507, seed=9)).hexdigest()
    c, d = snap.wait(counters={"reasm_ok": 1, "frags_out": 45})
    assert (c["frags_in"], c["reasm_ok"], c["frags_out"]) == (45, 1, 45), c
    assert not d, d


OVERLAPS = {
    # 72 bytes of ICMP: [0,32) and [48,72) first, then [24,48) with other
    # bytes in [24,32): the new fragment overlaps the first.
    "partial": "[frag({E}, 0, 32), frag({E}, 48), frag({E}, 24, content=b'\\xee' * 24)]",
    # [0,40) and [48,72), then [16,24) with other bytes, inside the first.
    "contained": "[frag({E}, 0, 40), frag({E}, 48), frag({E}, 16, content=b'\\xee' * 8, mf=True)]",
}


@pytest.mark.parametrize("pmd", FRAG_PMDS)
@pytest.mark.parametrize("shape", sorted(OVERLAPS))
def test_overlapping_fragments_dropped(make_stack, pmd, shape):
    """The fragment that overlaps comes last, so the whole datagram is known
    bad at once: all three fragments are dropped, counted exactly once."""
    s = one_port(make_stack, pmd)
    snap = Snap(s)
    e = f"echo('{STACK_IP}', 64, ipid=0x3333)"
    rep = s.ipsend(OVERLAPS[shape].format(E=e), wait=3)
    assert rep["icmp"] == [], rep
    c, d = snap.wait(drops={"frag_overlap": 1})
    assert not only_drops(d, "frag_overlap"), d
    assert sum(d.values()) == 3 and c["drops_total"] == 3, (c, d)
    assert c["reasm_ok"] == 0, c
    alive(s.ping(wait=3, count=2))


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_teardrop_fragments_dropped(make_stack, pmd):
    """The teardrop shape: [0,32) with MF, then a last fragment [24,28) that
    lies inside the first (and so ends the datagram before data already
    received): overlapping and inconsistent at once, either name fits, and
    both fragments go. (A first fragment of 36 bytes with MF would itself be
    malformed, RFC 791: all but the last carry multiples of 8.)"""
    s = one_port(make_stack, pmd)
    snap = Snap(s)
    e = f"echo('{STACK_IP}', 28, ipid=0x4444)"
    rep = s.ipsend(f"[frag({e}, 0, 32, mf=True), frag({e}, 24, 4, mf=False)]", wait=3)
    assert rep["icmp"] == [], rep
    c, d = snap.wait(counters={"drops_total": 2})
    assert not only_drops(d, "frag_overlap", "frag_inconsistent") and sum(d.values()) == 2, d
    assert c["reasm_ok"] == 0, c
    alive(s.ping(wait=3, count=2))


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_duplicate_fragments_counted_reply_still_comes(make_stack, pmd):
    s = one_port(make_stack, pmd)
    snap = Snap(s)
    # Every fragment but the last twice, in order: f0 f0 f1 f1 ... f6 f6 f7.
    rep = s.ipsend(f"[f for p in frags(echo('{STACK_IP}', 1000, seed=4, ipid=0x5555, ident=0x55), 128) "
                   f"for f in ([p] if not p.flags.MF else [p, p])]", wait=3)
    assert len(rep["sent"]) == 15
    assert [(m["type"], m["id"]) for m in rep["icmp"]] == [(0, 0x55)], rep
    assert rep["icmp"][0]["data_hex"] == payload(1000, seed=4).hex()
    c, d = snap.wait(counters={"reasm_ok": 1}, drops={"frag_duplicate": 7})
    assert d == {"frag_duplicate": 7}, d
    assert c["reasm_ok"] == 1, c
    alive(s.ping(wait=3, count=2))


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_tiny_fragments_reassembled(make_stack, pmd):
    s = one_port(make_stack, pmd)
    snap = Snap(s)
    rep = s.ipsend(f"frags(echo('{STACK_IP}', 64, seed=6, ipid=0x6666, ident=0x66), 8)", wait=3)
    assert len(rep["sent"]) == 9
    assert [(m["type"], m["id"]) for m in rep["icmp"]] == [(0, 0x66)], rep
    assert rep["icmp"][0]["data_hex"] == payload(64, seed=6).hex()
    c, d = snap.wait(counters={"reasm_ok": 1})
    assert (c["frags_in"], c["reasm_ok"]) == (9, 1), c
    assert not d, d


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_ping_of_death_dropped(make_stack, pmd):
    # A last fragment at offset 65512 with 100 bytes: the datagram would be
    # 65632 bytes long. The whole datagram is condemned at once (nothing
    # waits for the 30 s timeout: the teardown finds every mbuf back).
    s = one_port(make_stack, pmd)
    snap = Snap(s)
    e = f"echo('{STACK_IP}', 1472, ipid=0x7777)"
    rep = s.ipsend(f"[frag({e}, 0, 1480, mf=True), frag({e}, 65512, content=data(100), mf=False)]", wait=3)
    assert rep["icmp"] == [], rep
    c, d = snap.wait(drops={"frag_too_big": 2})
    assert d == {"frag_too_big": 2}, d
    assert c["reasm_ok"] == 0, c
    alive(s.ping(wait=3, count=2))


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_too_many_fragments_dropped(make_stack, pmd):
    s = one_port(make_stack, pmd, ip={"reassembly": {"max_fragments": 4, "timeout_ms": 500}})
    snap = Snap(s)
    rep = s.ipsend(f"frags(echo('{STACK_IP}', 64, ipid=0x7878), 8)", wait=3)
    assert icmp(rep, 0) == [], rep
    # Nine fragments, all dropped and counted once: too many, or (those
    # after the condemned ones) expired without a first fragment.
    c, d = snap.wait(counters={"drops_total": 9}, drops={"frag_too_many": 1})
    assert not only_drops(d, "frag_too_many", "frag_timeout") and sum(d.values()) == 9, d
    assert c["reasm_ok"] == 0 and c["icmp_errors_sent"] == 0, c
    alive(s.ping(wait=3, count=2))


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_reassembly_table_full_refuses_new_flows(make_stack, pmd):
    # One flow at most: while datagram X waits for its last fragment, all of
    # datagram Y is refused; once X expired, Y is answered.
    s = one_port(make_stack, pmd, ip={"reassembly": {"max_flows": 1, "timeout_ms": 1000}})
    snap = Snap(s)
    y = f"frags(echo('{STACK_IP}', 200, ipid=0x7902, ident=0x79), 64)"
    rep = s.ipsend(f"[frag(echo('{STACK_IP}', 200, ipid=0x7901), 0, 64)] + {y}", wait=0.5)
    assert icmp(rep, 0) == [], rep
    c, d = snap.wait(drops={"frag_table_full": 4, "frag_timeout": 1})
    assert d == {"frag_table_full": 4, "frag_timeout": 1}, d  # all of Y refused; X expired
    rep = s.ipsend(y, wait=5, until=1)
    assert [(m["type"], m["id"]) for m in icmp(rep, 0)] == [(0, 0x79)], rep


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_missing_last_fragment_times_out_with_icmp(make_stack, pmd):
    s = one_port(make_stack, pmd, ip={"reassembly": {"timeout_ms": 500}})
    snap = Snap(s)
    e = f"echo('{STACK_IP}', 200, ipid=0x8888, ident=0x88, seq=3)"
    rep = s.ipsend(f"[frag({e}, 0, 64), frag({e}, 64, 64)]", wait=5, until=2)
    assert len(rep["icmp"]) == 1, rep
    m = rep["icmp"][0]
    assert (m["src"], m["dst"], m["type"], m["code"]) == (STACK_IP, PEER_IP, 11, 1), m
    q = m["quote"]
    assert (q["src"], q["dst"], q["id"], q["frag"], q["mf"]) == (PEER_IP, STACK_IP, 0x8888, 0, True), q
    assert (q["icmp_type"], q["icmp_id"], q["icmp_seq"]) == (8, 0x88, 3), q
    c, d = snap.wait(counters={"icmp_errors_sent": 1}, drops={"frag_timeout": 2})
    assert d == {"frag_timeout": 2}, d
    assert c["icmp_errors_sent"] == 1 and c["frags_in"] == 2, c
    alive(s.ping(wait=3, count=2))


@pytest.mark.parametrize("pmd", FRAG_PMDS)
def test_missing_first_fragment_times_out_silently(make_stack, pmd):
    s = one_port(make_stack, pmd, ip={"reassembly": {"timeout_ms": 500}})
    snap = Snap(s)
    e = f"echo('{STACK_IP}', 200, ipid=0x9999)"
    rep = s.ipsend(f"[frag({e}, 64, 64), frag({e}, 128)]", wait=2.5)
    assert rep["icmp"] == [], rep
    c, d = snap.wait(drops={"frag_timeout": 2})
    assert d == {"frag_timeout": 2}, d
    assert c["icmp_errors_sent"] == 0 and c["frags_in"] == 2, c
    alive(s.ping(wait=3, count=2))


# ---- the L3 tun port -------------------------------------------------------------------

def test_tun_port_answers_ping_without_arp(make_stack):
    s = make_stack("tun", check=True).start()
    res = s.ping(wait=3, count=3)
    alive(res)
    assert len(re.findall(rf"bytes from {STACK_IP}: icmp_seq=\d+ ttl=64 ", res.stdout)) == 3, res.stdout
    c = s.counters()
    assert c["icmp_echo_replies"] == 3 and c["arp_requests_sent"] == 0 and c["arp_in"] == 0, c
    assert sum(s.drops().values()) == 0, s.drops()
    res = s.exec(["ping", "-c", "2", "-W", "2", "-s", "1472", "-M", "do", STACK_IP], check=False, timeout=20)
    alive(res)


def test_telemetry_names_ip_counters_and_drops(make_stack):
    """Every counter and drop reason the IP layer adds is published by name,
    and the old catch-all "ipv4_fragment" is gone."""
    s = make_stack("tap", check=True).start()
    c, d = s.counters(), s.drops()
    assert [k for k in IP_COUNTERS if k not in c] == [], sorted(c)
    assert [k for k in IP_DROPS if k not in d] == [], sorted(d)
    assert "ipv4_fragment" not in d
    assert isinstance(s.routes(), list) and "10.0.0.0/24 port 0 connected" in s.routes()

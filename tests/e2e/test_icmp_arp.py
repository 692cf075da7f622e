"""ARP and ICMP echo against the real binary on net_tap and net_af_packet."""
import json
import re
import subprocess
import time

import pytest

from conftest import BINARY, PEER_IP, PY, STACK_IP, TOOLS


def test_ping_every_size_echoes_payload(stack):
    # 0..1472 bytes of ICMP data: every size the 1500-byte MTU allows.
    r = stack.scapy("echo_sizes.py", stack.ifname, PEER_IP, STACK_IP, stack.mac, "0", "1472", timeout=120)
    assert r.returncode == 0 and "ok 1473" in r.stdout, r.stdout


def test_ping_tool_gets_replies(stack):
    r = stack.ping(count=5, size=1472)
    assert " 0% packet loss" in r.stdout, r.stdout
    assert stack.counters()["icmp_echo_replies"] >= 5


def test_echo_with_ip_options_answered_without_them(stack):
    # ping -R asks for a record-route option; the reply comes back without
    # options (RFC 1122 3.2.2.6 would have us reverse source routes).
    r = stack.exec(["ping", "-R", "-c", "2", "-W", "1", STACK_IP], check=False, timeout=20)
    assert " 0% packet loss" in r.stdout, r.stdout


def test_ping_flood_no_loss(stack):
    r = stack.exec(["ping", "-f", "-c", "10000", "-W", "1", "-w", "60", STACK_IP], check=False, timeout=90)
    assert "10000 packets transmitted, 10000 received" in r.stdout, r.stdout


def test_arping_gets_replies_with_stack_mac(stack):
    r = stack.exec(["arping", "-c", "3", "-i", stack.ifname, STACK_IP], check=False, timeout=20)
    assert r.returncode == 0, r.stdout
    assert len(re.findall(stack.mac, r.stdout.lower())) >= 3, r.stdout
    assert stack.mac != stack.peer_mac(), "stack and kernel side must not share a MAC"


def test_stack_learns_peer_mac_from_request(stack):
    assert PEER_IP not in stack.arp()
    stack.ping(count=1)
    entry = stack.wait_for(lambda: stack.arp().get(PEER_IP), what="ARP entry for the peer")
    assert entry.split()[0].lower() == stack.peer_mac()
    assert "reachable" in entry


def test_stack_resolves_unknown_next_hop(stack):
    # The peer knows the stack statically, so it never sends a request: the
    # stack must resolve the peer itself before its echo reply can leave.
    stack.exec(["ip", "neigh", "replace", STACK_IP, "lladdr", stack.mac, "dev", stack.ifname, "nud", "permanent"])
    before = stack.counters()["arp_requests_sent"]
    r = stack.ping(count=2)
    assert " 0% packet loss" in r.stdout, r.stdout
    assert stack.counters()["arp_requests_sent"] > before
    assert stack.arp()[PEER_IP].split()[0].lower() == stack.peer_mac()


def test_unanswered_resolution_gives_up_and_frees(stack):
    # The peer ignores every ARP request (arp_ignore=8), so the stack's three
    # requests go unanswered: the waiting echo replies are dropped and counted.
    stack.exec(["sysctl", "-qw", f"net.ipv4.conf.{stack.ifname}.arp_ignore=8"])
    stack.exec(["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=8"])
    stack.exec(["ip", "neigh", "replace", STACK_IP, "lladdr", stack.mac, "dev", stack.ifname, "nud", "permanent"])
    before = stack.counters()["arp_requests_sent"]
    stack.ping(count=2, extra=("-i", "0.5"))
    drops = stack.wait_for(lambda: stack.drops()["arp_resolve_failed"] >= 2 and stack.drops(), timeout=8,
                           what="arp_resolve_failed")
    assert drops["arp_resolve_failed"] == 2
    assert stack.counters()["arp_requests_sent"] - before == 3  # max_requests
    assert PEER_IP not in stack.arp()


def test_pending_queue_is_bounded(make_stack):
    s = make_stack("tap", config={"ports": [{"address": f"{STACK_IP}/24"}],
                                  "arp": {"pending_max": 4, "retry_interval_ms": 1000}}).start()
    base = s.mbufs_in_use()
    s.exec(["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=8"])
    s.exec(["sysctl", "-qw", f"net.ipv4.conf.{s.ifname}.arp_ignore=8"])
    s.exec(["ip", "neigh", "replace", STACK_IP, "lladdr", s.mac, "dev", s.ifname, "nud", "permanent"])
    s.exec(["ping", "-c", "10", "-i", "0.01", "-W", "1", STACK_IP], check=False)
    d = s.wait_for(lambda: s.drops()["arp_resolve_failed"] >= 4 and s.drops(), timeout=8, what="give-up")
    assert d["arp_pending_full"] == 6 and d["arp_resolve_failed"] == 4, d
    s.wait_for(lambda: s.mbufs_in_use() == base, what="mbufs back")
    assert s.stop() == 0


def test_gratuitous_arp_on_start(make_stack):
    s = make_stack("af_packet")
    cap = s.tmp / "garp.pcap"
    tcpdump = s.popen_in_ns(["tcpdump", "-i", s.ifname, "-n", "-U", "-w", str(cap), "arp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # tcpdump says "listening on" once its socket is bound.
        deadline = time.time() + 10
        line = ""
        while time.time() < deadline and "listening" not in line:
            line = tcpdump.stderr.readline()
        s.start()
        time.sleep(1)
    finally:
        tcpdump.terminate()
        tcpdump.wait(10)
    out = subprocess.run(["tcpdump", "-r", str(cap), "-n", "-e"], capture_output=True, text=True).stdout
    # A request from us, for us, to everyone (RFC 5227 announcement).
    assert re.search(rf"{s.mac}.*ff:ff:ff:ff:ff:ff.*request who-has {STACK_IP} tell {STACK_IP}", out.lower()), out
    assert s.stop() == 0


def test_static_arp_entry_from_config(make_stack):
    s = make_stack("tap", config={"ports": [{"address": f"{STACK_IP}/24"}],
                                  "arp": {"static": [{"port": 0, "ip": "10.0.0.9", "mac": "02:11:22:33:44:55"}]}})
    s.start()
    assert s.arp()["10.0.0.9"] == "02:11:22:33:44:55 static port0"
    assert s.stop() == 0


MALFORMED = json.loads(subprocess.run([PY, str(TOOLS / "malformed.py"), "--list"], capture_output=True,
                                      text=True).stdout or "{}")


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_frame_dropped_and_counted(stack, kind):
    reason = MALFORMED[kind]
    if kind == "ip_fragment" and stack.pmd == "af_packet":
        # DPDK's af_packet PMD joins a PACKET_FANOUT group with
        # PACKET_FANOUT_FLAG_DEFRAG: the kernel reassembles (or holds) fragments
        # before the PMD sees them, so a lone fragment never reaches the stack.
        pytest.skip("net_af_packet: the kernel defragments before the PMD (PACKET_FANOUT_FLAG_DEFRAG)")
    stack.ping(count=1)  # the stack knows the peer; nothing else is pending
    before = stack.drops()
    r = stack.scapy("malformed.py", stack.ifname, stack.mac, STACK_IP, PEER_IP, kind, "5")
    assert r.returncode == 0, r.stdout
    after = stack.wait_for(lambda: stack.drops()[reason] >= before[reason] + 5 and stack.drops(),
                           what=f"{reason} += 5")
    assert after[reason] - before[reason] == 5
    others = {k: after[k] - before[k] for k in after if k != reason and after[k] != before[k]}
    assert not others, f"unexpected drops: {others}"
    r = stack.ping(count=2)
    assert " 0% packet loss" in r.stdout, "stack must still answer after malformed input"


def test_small_mtu_from_config(make_stack):
    # mtu 1280 in the config: a 1280-byte datagram is answered, a larger one
    # (which the peer, at the same MTU, must fragment) is not answered whole.
    s = make_stack("tap", config={"ports": [{"address": f"{STACK_IP}/24", "mtu": 1280}]}).start()
    s.exec(["ip", "link", "set", s.ifname, "mtu", "1280"])
    r = s.exec(["ping", "-c", "3", "-i", "0.2", "-W", "1", "-M", "do", "-s", "1252", STACK_IP], check=False, timeout=20)
    assert " 0% packet loss" in r.stdout, r.stdout
    r = s.exec(["ping", "-c", "1", "-W", "1", "-M", "do", "-s", "1253", STACK_IP], check=False, timeout=20)
    assert r.returncode != 0  # the peer refuses to send it with DF
    assert s.stop() == 0
    assert "mtu 1280" in s.output()


def test_mtu_beyond_pmd_limit_exits_2_naming_path(make_stack):
    # net_tap receives frames of at most 1522 bytes, whatever max_mtu says.
    s = make_stack("tap", config={"ports": [{"address": f"{STACK_IP}/24", "mtu": 9000}]}, peer_setup=False)
    p = subprocess.run(["ip", "netns", "exec", s.ns, str(BINARY), *s.eal, "--", *s.app], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 2, p.stderr
    assert "$.ports[0].mtu: expected 68..1504" in p.stderr, p.stderr

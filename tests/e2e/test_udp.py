"""UDP (RFC 768) and the built-in UDP services (echo RFC 862, discard RFC
863) against the real binary, driven by nc -u, Python sockets in the peer's
namespace and scapy."""
import hashlib
import json
import subprocess

import pytest

from conftest import PEER_IP, PY, STACK_IP, TOOLS

UDP_CONFIG = {
    "ports": [{"address": f"{STACK_IP}/24"}],
    "services": {"udp_echo": {"enabled": True, "port": 7}, "udp_discard": {"enabled": True, "port": 9}},
}
UDP_CLIENT = TOOLS / "udp_client.py"


@pytest.fixture(params=["tap", "af_packet"])
def udp_stack(request, make_stack):
    """A started stack running udp echo on 7 and discard on 9, leak-checked at teardown."""
    return make_stack(request.param, check=True, config=UDP_CONFIG).start()


def sockets(s):
    """The stack's UDP sockets by name, counters summed over engines."""
    out = {}
    for v in s.telemetry.query("/dpdkstack/udp").values():
        t = out.setdefault(v["name"], {})
        for k, n in v.items():
            if isinstance(n, int):
                t[k] = t.get(k, 0) + n
    return out


def client(s, *args, timeout=60):
    r = s.exec([PY, str(UDP_CLIENT), *args], check=False, timeout=timeout)
    assert r.returncode == 0, r.stdout
    return json.loads(r.stdout)


def test_nc_echo_round_trip(udp_stack):
    lines = "".join(f"line {i} of the echo test\n" for i in range(5))
    r = udp_stack.exec(["nc", "-u", "-w", "2", STACK_IP, "7"], input=lines, check=False, timeout=20)
    assert r.stdout == lines, r.stdout
    echo = sockets(udp_stack)["udp-echo"]
    assert echo["rx_bytes"] == len(lines) and echo["tx_bytes"] == len(lines)
    assert echo["rx_datagrams"] == echo["tx_datagrams"] >= 1


def test_nc_discard_counted(udp_stack):
    r = udp_stack.exec(["nc", "-u", "-w", "1", STACK_IP, "9"], input="dropped\n", check=False, timeout=20)
    assert r.stdout == ""
    udp_stack.wait_for(lambda: sockets(udp_stack)["udp-discard"]["rx_bytes"] == 8, what="8 bytes discarded")
    assert sockets(udp_stack)["udp-discard"]["tx_datagrams"] == 0


def test_many_source_ports_each_get_their_own_echo(udp_stack):
    res = client(udp_stack, "many", STACK_IP, "7", "300")
    assert res["answered"] == 300 and res["wrong"] == 0, res
    assert sockets(udp_stack)["udp-echo"]["tx_datagrams"] >= 300


def test_echo_every_size_up_to_the_mtu(udp_stack):
    res = client(udp_stack, "sizes", STACK_IP, "7", "0", "1472")
    assert res["answered"] == 1473 and res["wrong"] == 0, res


def test_closed_port_gives_port_unreachable(udp_stack):
    before = udp_stack.drops()["udp_no_socket"]
    # A connected socket: the kernel turns the ICMP error into ECONNREFUSED.
    res = client(udp_stack, "refused", STACK_IP, "5555")
    assert res["refused"], res
    # nc -v -u probes the port with two writes: the second fails with
    # ECONNREFUSED once the ICMP error came back, and nc exits 1 (against an
    # open port it reports "succeeded" and exits 0, checked on the echo port).
    probe = "(echo one; sleep 0.5) | nc -v -u -w 1 {} {}"
    r = udp_stack.exec(["sh", "-c", probe.format(STACK_IP, 5555)], check=False, timeout=20)
    assert r.returncode == 1 and "succeeded" not in r.stdout, r.stdout
    r = udp_stack.exec(["sh", "-c", probe.format(STACK_IP, 7)], check=False, timeout=20)
    assert r.returncode == 0 and "succeeded" in r.stdout, r.stdout
    assert udp_stack.drops()["udp_no_socket"] >= before + 2
    assert udp_stack.counters()["icmp_errors_sent"] >= 2


def test_port_unreachable_quotes_the_datagram(udp_stack):
    udp_stack.ping(count=1)
    r = udp_stack.scapy("udp_checks.py", udp_stack.ifname, udp_stack.mac, STACK_IP, PEER_IP, "unreachable")
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout


def test_bad_checksum_dropped_zero_checksum_echoed(udp_stack):
    udp_stack.ping(count=1)
    before = udp_stack.drops()["udp_bad_checksum"]
    r = udp_stack.scapy("udp_checks.py", udp_stack.ifname, udp_stack.mac, STACK_IP, PEER_IP, "checksum")
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout
    assert udp_stack.drops()["udp_bad_checksum"] == before + 3


def test_no_port_unreachable_for_broadcast(udp_stack):
    udp_stack.ping(count=1)
    r = udp_stack.scapy("udp_checks.py", udp_stack.ifname, udp_stack.mac, STACK_IP, PEER_IP, "broadcast")
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout


def test_show_udp_lists_services(make_stack):
    s = make_stack("tap", check=True, config=UDP_CONFIG, interactive=True).start()
    s.exec(["nc", "-u", "-w", "1", STACK_IP, "7"], input="x\n", check=False, timeout=20)
    out = s.command("show udp", expect="Sockets")
    assert "udp-echo" in out and "udp-discard" in out and "*:7" in out and "*:9" in out, out


@pytest.mark.parametrize("pmd", ["tap", "tun"])
def test_60000_byte_datagram_echoed_whole(make_stack, pmd):
    """Fragmented both ways (MTU 1500): reassembled by the stack, echoed in
    41 fragments, reassembled by the kernel. (net_af_packet is left out: the
    kernel reassembles before the PMD, see test_ip.py.)"""
    s = make_stack(pmd, check=True, config=UDP_CONFIG).start()
    res = client(s, "big", STACK_IP, "7", "60000", "3")
    assert res["answered"] == 3 and res["wrong"] == 0, res
    assert s.counters()["reasm_ok"] >= 3 and s.counters()["frags_out"] >= 3 * 41

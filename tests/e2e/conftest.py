"""Fixtures for end-to-end tests: the real dpdk-stack binary on a real PMD
(net_tap, net_tun, or net_af_packet on a veth) inside a network namespace the
test creates, driven by real tools (ping, arping, traceroute, nc, iperf3,
scapy, tcpdump).

Fixtures:
  make_stack(pmd, ...)   one port; the peer (10.0.0.2/24) shares the stack's namespace
  stack                  make_stack on tap and af_packet, started, leak-checked
  make_router(pmd, ...)  two ports; the stack in a namespace of its own, port 0's
                         peer 10.0.0.2/24 in namespace A, port 1's 10.1.1.2/24 in B
  router                 make_router on tap and af_packet with forwarding on

Every namespace, link, process and runtime directory a test creates is
removed in the fixture's teardown, also when the test fails. Processes are
ended by the PID we started. Traffic only goes to addresses inside these
namespaces.
"""
import copy
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("DPDK_STACK_BIN", ROOT / "build" / "apps" / "dpdk-stack"))
PY = "/usr/bin/python3"  # Debian's python, which has python3-scapy
TOOLS = Path(__file__).resolve().parent / "tools"
_counter = itertools.count()

STACK_IP = "10.0.0.1"
PEER_IP = "10.0.0.2"
PROMPT = "dpdk-stack> "
# The router scenario: port 0 faces namespace A, port 1 namespace B.
STACK_IP_B = "10.1.1.1"
PEER_IP_B = "10.1.1.2"
NET_A = "10.0.0.0/24"
NET_B = "10.1.1.0/24"


def payload(n, seed=1):
    """The deterministic payload tools/ipsend.py's data(n, seed) builds."""
    return random.Random(seed).randbytes(n)


def merged(base, over):
    """base with over's keys merged in, recursively for dicts (lists replace)."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def router_config(**over):
    """The two-port router config: forwarding on, ICMP errors unlimited (tests
    count them), with `over` merged in (e.g. ip={"reassembly": {...}})."""
    base = {"ports": [{"address": f"{STACK_IP}/24"}, {"address": f"{STACK_IP_B}/24"}],
            "ip": {"forwarding": True}, "icmp": {"error_rate": 0}}
    return merged(base, over)


def sh(cmd, check=True, timeout=60, **kw):
    """Runs a command (list), returns CompletedProcess with text output."""
    return subprocess.run(cmd, check=check, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def wait_link(exec_, ifname, timeout=5):
    """Waits until the interface exists (the PMD creates it before "; ready",
    but the netlink view may lag)."""
    deadline = time.time() + timeout
    while exec_(["ip", "link", "show", ifname], check=False).returncode != 0:
        if time.time() > deadline:
            raise AssertionError(f"interface {ifname} did not appear in {timeout}s")
        time.sleep(0.1)


def wait_listening(exec_, port, timeout=10):
    """Waits until a TCP socket listens on `port` in the namespace exec_ runs in."""
    deadline = time.time() + timeout
    while f":{port} " not in exec_(["ss", "-Htln"], check=False).stdout:
        if time.time() > deadline:
            raise AssertionError(f"nothing listening on TCP port {port} after {timeout}s")
        time.sleep(0.1)


def ipsend(exec_, expr, wait=2.0, until=None, timeout=60):
    """Runs tools/ipsend.py (scapy) in a namespace: sends the datagrams `expr`
    builds and returns its JSON report: {"sent": [...], "icmp": [...]} where
    "icmp" lists every ICMP message that arrived within `wait` seconds (or
    until `until` of them arrived)."""
    args = [PY, str(TOOLS / "ipsend.py"), "--wait", str(wait)]
    if until is not None:
        args += ["--until", str(until)]
    r = exec_([*args, expr], check=False, timeout=timeout)
    assert r.returncode == 0, r.stdout
    return json.loads(r.stdout.strip().splitlines()[-1])


class Peer:
    """A kernel host in a namespace the test created, holding one address."""

    def __init__(self, ns, ifname, ip, gateway):
        self.ns, self.ifname, self.ip, self.gateway = ns, ifname, ip, gateway

    def exec(self, cmd, **kw):
        return sh(["ip", "netns", "exec", self.ns, *cmd], **kw)

    def popen(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns, *cmd], **kw)

    def ping(self, dst, count=3, size=56, extra=(), timeout=30, wait=3):
        return self.exec(["ping", "-c", str(count), "-s", str(size), "-W", str(wait), "-i", "0.2", *extra, dst],
                         check=False, timeout=timeout)

    def ipsend(self, expr, **kw):
        return ipsend(self.exec, expr, **kw)

    def mac(self):
        return self.exec(["cat", f"/sys/class/net/{self.ifname}/address"]).stdout.strip().lower()


class Telemetry:
    """Client for the EAL telemetry socket (the protocol dpdk-telemetry.py speaks)."""

    def __init__(self, prefix):
        self.path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"

    def query(self, cmd):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        try:
            s.connect(self.path)
            json.loads(s.recv(16384).decode())  # hello
            s.send(cmd.encode())
            data = json.loads(s.recv(1 << 20).decode())
        finally:
            s.close()
        return data[cmd.split(",")[0]]


class Stack:
    """One running dpdk-stack and the namespace that holds its peer."""

    def __init__(self, pmd, config=None, lcores=None, extra_app_args=(), interactive=False,
                 tmp_path=None, peer_setup=True, eal_extra=(), binary=None):
        if lcores is None:  # the stack on CPU 1, the tools on CPU 0, where there are two
            lcores = "1" if (os.cpu_count() or 1) >= 2 else "0"
        n = next(_counter)
        self.id = f"{os.getpid() % 100000}x{n}"
        self.ns = f"dst{self.id}"
        self.prefix = f"dst{self.id}"
        self.pmd = pmd
        self.tmp = Path(tmp_path)
        self.proc = None
        self.log_path = self.tmp / "stack.log"
        self.config = config or {"ports": [{"address": f"{STACK_IP}/24"}]}
        self.config_path = self.tmp / "stack.json"
        self.config_path.write_text(json.dumps(self.config))
        sh(["ip", "netns", "add", self.ns])
        self.exec(["ip", "link", "set", "lo", "up"])
        # No IPv6 chatter (router solicitations, MLD) on the test links: it
        # would only add eth_not_for_us counts that the tests check exactly.
        for key in ("all", "default"):
            self.exec(["sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"])
        if pmd == "tap":
            self.ifname = f"t{self.id}"[:15]
            vdev = f"net_tap0,iface={self.ifname}"
        elif pmd == "tun":  # L3: no Ethernet header, no ARP
            self.ifname = f"u{self.id}"[:15]
            vdev = f"net_tun0,iface={self.ifname}"
        elif pmd == "af_packet":
            self.ifname = f"v{self.id}"[:15]
            self.stack_if = f"w{self.id}"[:15]
            self.exec(["ip", "link", "add", self.ifname, "type", "veth", "peer", "name", self.stack_if])
            self.exec(["ip", "link", "set", self.stack_if, "up"])
            self.exec(["ip", "link", "set", self.ifname, "up"])
            # As for the router below: the peer's kernel must send finished
            # checksums (a veth hands CHECKSUM_PARTIAL packets to AF_PACKET
            # as they are, and the PMD cannot tell) and MTU-sized frames.
            self.exec(["ethtool", "-K", self.ifname, "tx", "off", "tso", "off", "gso", "off"])
            vdev = f"net_af_packet0,iface={self.stack_if}"
        elif pmd.startswith("vdev:"):  # any other PMD, no peer interface
            self.ifname = None
            vdev = pmd[len("vdev:"):]
            peer_setup = False
        else:
            raise ValueError(pmd)
        self.eal = ["-l", lcores, "--no-pci", "--file-prefix", self.prefix, f"--vdev={vdev}", *eal_extra]
        self.app = ["-c", str(self.config_path), *extra_app_args]
        self.interactive = interactive
        self.peer_setup = peer_setup
        self.binary = Path(binary) if binary is not None else BINARY  # another application of the library
        self.telemetry = Telemetry(self.prefix)
        self.mac = None

    def exec(self, cmd, **kw):
        return sh(["ip", "netns", "exec", self.ns, *cmd], **kw)

    def popen_in_ns(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns, *cmd], **kw)

    def start(self, timeout=20):
        self._run(timeout)
        if self.peer_setup:
            self._setup_peer()
        self.wait_telemetry()
        self.baseline_mbufs = self.mbufs_in_use()
        return self

    def _setup_peer(self):
        if self.pmd in ("tap", "tun"):
            wait_link(self.exec, self.ifname)
        self.exec(["ip", "addr", "add", f"{PEER_IP}/24", "dev", self.ifname])
        self.exec(["ip", "link", "set", self.ifname, "up"])

    def _run(self, timeout):
        """Starts the process and waits for "; ready"."""
        self.log = open(self.log_path, "w")
        cmd = ["ip", "netns", "exec", self.ns, str(self.binary), *self.eal, "--", *self.app]
        if self.interactive:
            cmd.append("-i")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE if self.interactive else subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = self.output()
            if "; ready" in out:
                break
            if self.proc.poll() is not None:
                raise AssertionError(f"dpdk-stack exited {self.proc.returncode}:\n{out}")
            time.sleep(0.1)
        else:
            raise AssertionError(f"dpdk-stack not ready in {timeout}s:\n{self.output()}")
        m = re.search(r"mac ([0-9A-F:]{17})", self.output())
        self.mac = m.group(1).lower() if m else None

    def wait_telemetry(self, timeout=10):
        deadline = time.time() + timeout
        while True:
            try:
                self.telemetry.query("/dpdkstack/counters")
                return
            except (OSError, ValueError, KeyError):
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def output(self):
        return self.log_path.read_text() if self.log_path.exists() else ""

    def peer_mac(self):
        out = self.exec(["cat", f"/sys/class/net/{self.ifname}/address"]).stdout.strip()
        return out.lower()

    def drops(self):
        return self.telemetry.query("/dpdkstack/drops")

    def counters(self):
        return self.telemetry.query("/dpdkstack/counters")

    def mbufs_in_use(self):
        return self.telemetry.query("/dpdkstack/mempool")["in_use"]

    def arp(self, engine=None):
        """{ip: "<MAC> <state> port<N>"} from one engine's replica (default 0)."""
        cmd = "/dpdkstack/arp" if engine is None else f"/dpdkstack/arp,{engine}"
        entries = self.telemetry.query(cmd)
        return {e.split(" ", 1)[0]: e.split(" ", 1)[1] for e in entries}

    def wait_for(self, pred, timeout=5, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def ping(self, count=3, size=56, extra=(), timeout=30, wait=1):
        return self.exec(["ping", "-c", str(count), "-s", str(size), "-W", str(wait), "-i", "0.2", *extra, STACK_IP],
                         check=False, timeout=timeout)

    def scapy(self, script, *args, timeout=60):
        return self.exec([PY, str(TOOLS / script), *args], check=False, timeout=timeout)

    def ipsend(self, expr, **kw):
        """tools/ipsend.py from the peer's side (the stack's namespace here)."""
        return ipsend(self.exec, expr, **kw)

    def routes(self):
        return self.telemetry.query("/dpdkstack/routes")

    def command(self, line, expect=None, timeout=10):
        """Writes one console line (interactive=True) and returns what the
        console printed after echoing it: up to its next prompt, or, with
        `expect` (a regex), everything printed after the echo once it matches
        (for commands that report later, like ping)."""
        start = len(self.output())
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        echo = line + "\n"
        deadline = time.time() + timeout
        while True:
            new = self.output()[start:]
            i = new.find(echo)
            if i >= 0:
                after = new[i + len(echo):]
                if expect is None and PROMPT in after:
                    return after.split(PROMPT, 1)[0]
                if expect is not None and re.search(expect, after):
                    return after
            if self.proc.poll() is not None:
                raise AssertionError(f"dpdk-stack exited {self.proc.returncode} after {line!r}:\n{new}")
            if time.time() > deadline:
                raise AssertionError(f"{line!r}: no {'prompt' if expect is None else repr(expect)} "
                                     f"in {timeout}s:\n{new}")
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the stack; returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        if self.interactive and self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("dpdk-stack did not stop within %ss of signal %s" % (timeout, sig))

    def cleanup(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
        finally:
            if hasattr(self, "log"):
                self.log.close()
            sh(["ip", "netns", "del", self.ns], check=False)
            shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
            for f in Path("/dev/hugepages").glob(f"{self.prefix}*") if Path("/dev/hugepages").is_dir() else []:
                f.unlink(missing_ok=True)


class Router(Stack):
    """dpdk-stack with two ports, in a namespace of its own (self.ns): port 0
    faces namespace A (self.a, 10.0.0.2/24, route to 10.1.1.0/24 via
    10.0.0.1), port 1 faces namespace B (self.b, 10.1.1.2/24, route to
    10.0.0.0/24 via 10.1.1.1).

    tap: the stack creates both taps in its namespace; they are moved to A and
    B (the PMD keeps its file descriptor, which is all its data path uses).
    af_packet: two veth pairs, the stack's ends in its namespace."""

    def __init__(self, pmd, config=None, **kw):
        super().__init__("vdev:none", config=config or router_config(), **kw)
        self.pmd = pmd
        self.peer_setup = True
        self.ifname = None
        ns_a, ns_b = f"dsa{self.id}", f"dsb{self.id}"
        self.peer_namespaces = [ns_a, ns_b]
        try:
            for ns in self.peer_namespaces:
                sh(["ip", "netns", "add", ns])
                sh(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"])
                for key in ("all", "default"):
                    sh(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"])
            vdevs = []
            if pmd == "tap":
                names = [f"ta{self.id}"[:15], f"tb{self.id}"[:15]]
                vdevs = [f"net_tap{i},iface={n}" for i, n in enumerate(names)]
                self.stack_ifs = names
            elif pmd == "af_packet":
                names = [f"va{self.id}"[:15], f"vb{self.id}"[:15]]
                self.stack_ifs = [f"wa{self.id}"[:15], f"wb{self.id}"[:15]]
                for name, stack_if, ns in zip(names, self.stack_ifs, self.peer_namespaces):
                    self.exec(["ip", "link", "add", stack_if, "type", "veth", "peer", "name", name])
                    self.exec(["ip", "link", "set", name, "netns", ns])
                    self.exec(["ip", "link", "set", stack_if, "up"])
                vdevs = [f"net_af_packet{i},iface={n}" for i, n in enumerate(self.stack_ifs)]
            else:
                raise ValueError(pmd)
            self.a = Peer(ns_a, names[0], PEER_IP, STACK_IP)
            self.b = Peer(ns_b, names[1], PEER_IP_B, STACK_IP_B)
            self.eal = [a for a in self.eal if not a.startswith("--vdev=")] + [f"--vdev={v}" for v in vdevs]
        except BaseException:
            self.cleanup()
            raise

    def _setup_peer(self):
        if self.pmd == "tap":
            for name, peer in zip(self.stack_ifs, (self.a, self.b)):
                wait_link(self.exec, name)
                self.exec(["ip", "link", "set", name, "netns", peer.ns])
        for peer, other_net in ((self.a, NET_B), (self.b, NET_A)):
            if self.pmd == "af_packet":
                # A veth passes checksum-less and GSO (up to 64 KiB) TCP
                # segments to its peer as they are; the PMD would read them
                # so. Make the kernels send finished, MTU-sized frames.
                peer.exec(["ethtool", "-K", peer.ifname, "tx", "off", "tso", "off", "gso", "off"])
            peer.exec(["ip", "addr", "add", f"{peer.ip}/24", "dev", peer.ifname])
            peer.exec(["ip", "link", "set", peer.ifname, "up"])
            peer.exec(["ip", "route", "add", other_net, "via", peer.gateway])

    def cleanup(self):
        try:
            super().cleanup()
        finally:
            for ns in self.peer_namespaces:
                sh(["ip", "netns", "del", ns], check=False)


def check_clean_stop(s):
    """The leak checks every e2e test ends with: mbufs in use back at the
    count the stack started with, SIGTERM stops it with status 0, and nothing
    is left in use at shutdown."""
    s.wait_for(lambda: s.mbufs_in_use() == s.baseline_mbufs, timeout=10,
               what=f"mbufs in use back to {s.baseline_mbufs}")
    rc = s.stop()
    assert rc == 0, s.output()
    assert "mbufs in use after shutdown: 0" in s.output(), s.output()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def make_stack(tmp_path, request):
    """Factory: make_stack(pmd="tap", ..., check=False) -> Stack (not
    started). With check=True, a stack still running after a passed test gets
    the leak checks of check_clean_stop at teardown."""
    stacks = []
    checked = []

    def make(pmd="tap", check=False, **kw):
        d = tmp_path / f"s{len(stacks)}"
        d.mkdir()
        s = Stack(pmd, tmp_path=d, **kw)
        stacks.append(s)
        if check:
            checked.append(s)
        return s

    yield make
    try:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.passed:
            for s in checked:
                if s.proc is not None and s.proc.poll() is None:
                    check_clean_stop(s)
    finally:
        for s in stacks:
            s.cleanup()


@pytest.fixture(params=["tap", "af_packet"])
def stack(request, make_stack):
    """A started stack on each PMD, with the peer at 10.0.0.2/24 in its namespace.
    On teardown: mbufs in use are back at their starting count, SIGTERM stops it
    with status 0, and nothing leaked at shutdown."""
    s = make_stack(request.param).start()
    s.baseline_mbufs = s.mbufs_in_use()
    yield s
    if s.proc.poll() is None:
        check_clean_stop(s)


@pytest.fixture
def make_router(tmp_path, request):
    """Factory: make_router(pmd="tap", config=router_config(), ...) -> Router
    (not started). At teardown, a router still running after a passed test
    gets the leak checks of check_clean_stop; every namespace, link and
    process is removed in any case."""
    routers = []

    def make(pmd="tap", **kw):
        d = tmp_path / f"r{len(routers)}"
        d.mkdir()
        r = Router(pmd, tmp_path=d, **kw)
        routers.append(r)
        return r

    yield make
    try:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.passed:
            for r in routers:
                if r.proc is not None and r.proc.poll() is None:
                    check_clean_stop(r)
    finally:
        for r in routers:
            r.cleanup()


@pytest.fixture(params=["tap", "af_packet"])
def router(request, make_router):
    """A started two-port router (router_config()) on each PMD."""
    return make_router(request.param).start()

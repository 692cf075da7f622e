"""Fixtures for end-to-end tests: the real dpdk-stack binary on a real PMD
(net_tap, or net_af_packet on a veth) inside a network namespace the test
creates, driven by real tools (ping, arping, scapy, tcpdump).

Every namespace, link, process and runtime directory a test creates is
removed in the fixture's teardown, also when the test fails. Processes are
ended by the PID we started. Traffic only goes to addresses inside these
namespaces.
"""
import itertools
import json
import os
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


def sh(cmd, check=True, timeout=60, **kw):
    """Runs a command (list), returns CompletedProcess with text output."""
    return subprocess.run(cmd, check=check, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


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
                 tmp_path=None, peer_setup=True, eal_extra=()):
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
        elif pmd == "af_packet":
            self.ifname = f"v{self.id}"[:15]
            self.stack_if = f"w{self.id}"[:15]
            self.exec(["ip", "link", "add", self.ifname, "type", "veth", "peer", "name", self.stack_if])
            self.exec(["ip", "link", "set", self.stack_if, "up"])
            self.exec(["ip", "link", "set", self.ifname, "up"])
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
        self.telemetry = Telemetry(self.prefix)
        self.mac = None

    def exec(self, cmd, **kw):
        return sh(["ip", "netns", "exec", self.ns, *cmd], **kw)

    def popen_in_ns(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns, *cmd], **kw)

    def start(self, timeout=20):
        self.log = open(self.log_path, "w")
        cmd = ["ip", "netns", "exec", self.ns, str(BINARY), *self.eal, "--", *self.app]
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
        if self.peer_setup:
            if self.pmd == "tap":
                for _ in range(50):  # the PMD creates the tap before it reports ready
                    if self.exec(["ip", "link", "show", self.ifname], check=False).returncode == 0:
                        break
                    time.sleep(0.1)
            self.exec(["ip", "addr", "add", f"{PEER_IP}/24", "dev", self.ifname])
            self.exec(["ip", "link", "set", self.ifname, "up"])
        self.wait_telemetry()
        return self

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

    def ping(self, count=3, size=56, extra=(), timeout=30):
        return self.exec(["ping", "-c", str(count), "-s", str(size), "-W", "1", "-i", "0.2", *extra, STACK_IP],
                         check=False, timeout=timeout)

    def scapy(self, script, *args, timeout=60):
        return self.exec([PY, str(TOOLS / script), *args], check=False, timeout=timeout)

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


@pytest.fixture
def make_stack(tmp_path):
    stacks = []

    def make(pmd="tap", **kw):
        d = tmp_path / f"s{len(stacks)}"
        d.mkdir()
        s = Stack(pmd, tmp_path=d, **kw)
        stacks.append(s)
        return s

    yield make
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
        s.wait_for(lambda: s.mbufs_in_use() == s.baseline_mbufs, timeout=10,
                   what=f"mbufs in use back to {s.baseline_mbufs}")
        rc = s.stop()
        assert rc == 0, s.output()
        assert "mbufs in use after shutdown: 0" in s.output(), s.output()

"""The application developer's path, end to end: the complete example of
docs/API.md (which must be apps/examples/udp_upper/main.cpp, byte for byte)
is built with its own meson.build against libdpdkstack as `meson install`
installs it (headers, static library, dpdkstack.pc found with pkg-config),
then run on a tap port in a namespace, where a Python socket and nc -u get
their datagrams back upper-cased, and SIGTERM stops it cleanly."""
import difflib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import PY, ROOT, STACK_IP, check_clean_stop

BUILD = ROOT / "build"  # where scripts/build builds, as conftest's BINARY
EXAMPLE = ROOT / "apps" / "examples" / "udp_upper"
TCP_EXAMPLE = ROOT / "apps" / "examples" / "tcp_fetch"
installed_tcp_fetch = []  # set by the installed fixture
API_MD = ROOT / "docs" / "API.md"
MARKER = "<!-- example: apps/examples/udp_upper/main.cpp -->"
CONFIG = {"ports": [{"address": f"{STACK_IP}/24"}]}

# Run in the stack's namespace (the peer's side): sends each payload from one
# socket and reports what came back.
CLIENT = r"""
import json, socket, sys
ip, port = sys.argv[1], int(sys.argv[2])
payloads = [b"hello, World!", bytes(range(256)), b"", b"z" * 1472,
            b"Mixed Case 123 xyz; " * 200,  # 4000 bytes: fragmented both ways
            "caf\u00e9 \u00fcber".encode()]  # only ASCII a-z change
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((ip, port))
out = {"answered": 0, "wrong": []}
for i, p in enumerate(payloads):
    s.send(p)
    try:
        r = s.recv(65535)
    except socket.timeout:
        out["wrong"].append([i, "no answer"])
        continue
    if r == p.upper():
        out["answered"] += 1
    else:
        out["wrong"].append([i, r[:40].hex()])
print(json.dumps(out))
"""
N_PAYLOADS = 6


def extract_example(text):
    """The fenced cpp block right after MARKER in docs/API.md."""
    m = re.search(re.escape(MARKER) + r"\n```cpp\n(.*?\n)```\n", text, re.S)
    assert m, f"docs/API.md has no ```cpp block right after the line {MARKER}"
    return m.group(1)


def run(cmd, **kw):
    r = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} exited {r.returncode}:\n{r.stdout}"
    return r.stdout


def test_api_md_example_is_the_example_source():
    doc = extract_example(API_MD.read_text())
    src = (EXAMPLE / "main.cpp").read_text()
    if doc != src:
        diff = "".join(difflib.unified_diff(src.splitlines(True), doc.splitlines(True),
                                            "apps/examples/udp_upper/main.cpp", "docs/API.md example"))
        pytest.fail("the complete example in docs/API.md differs from apps/examples/udp_upper/main.cpp:\n" + diff)


@pytest.fixture(scope="module")
def installed():
    """`meson install --destdir` of the build the tests use, and udp-upper
    built from the docs/API.md text with the example's own meson.build
    against that installed copy. Yields (destdir, prefix, binary)."""
    if not (BUILD / "build.ninja").exists():
        pytest.fail(f"{BUILD} is not configured: run scripts/build first")
    tmp = Path(tempfile.mkdtemp(prefix="dpdkstack-example."))
    try:
        dest = tmp / "dest"
        # --no-rebuild: scripts/test (or the developer) built it already.
        run(["meson", "install", "-C", str(BUILD), "--destdir", str(dest), "--no-rebuild", "--quiet"])
        pcs = list(dest.rglob("pkgconfig/dpdkstack.pc"))
        assert len(pcs) == 1, f"expected one dpdkstack.pc under {dest}, found {pcs}"
        pc = pcs[0].read_text()
        prefix = re.search(r"^prefix=(.*)$", pc, re.M).group(1)
        # The .pc names the real prefix; point it at the staged copy. (Not
        # PKG_CONFIG_SYSROOT_DIR: pkgconf would prefix libdpdk's paths too.)
        pcdir = tmp / "pkgconfig"
        pcdir.mkdir()
        (pcdir / "dpdkstack.pc").write_text(pc.replace(f"prefix={prefix}\n", f"prefix={dest}{prefix}\n", 1))
        # The application's source tree: the text of docs/API.md and the
        # example's meson.build, outside this repository.
        src = tmp / "udp-upper"
        src.mkdir()
        (src / "main.cpp").write_text(extract_example(API_MD.read_text()))
        shutil.copy(EXAMPLE / "meson.build", src / "meson.build")
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PKG_CONFIG_PATH": str(pcdir), "HOME": str(tmp)}
        out = run(["meson", "setup", str(tmp / "bld")], cwd=src, env=env)
        assert re.search(r"Run-time dependency dpdkstack found: YES", out), out
        run(["ninja", "-C", str(tmp / "bld")], env=env)
        # The TCP example, from its own directory, the same way.
        tsrc = tmp / "tcp-fetch"
        tsrc.mkdir()
        for f in ("main.cpp", "meson.build"):
            shutil.copy(TCP_EXAMPLE / f, tsrc / f)
        run(["meson", "setup", str(tmp / "tbld")], cwd=tsrc, env=env)
        run(["ninja", "-C", str(tmp / "tbld")], env=env)
        installed_tcp_fetch.append(tmp / "tbld" / "tcp-fetch")
        yield dest, prefix, tmp / "bld" / "udp-upper"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_install_tree(installed):
    dest, prefix, _ = installed
    root = dest / prefix.lstrip("/")
    inc = root / "include" / "dpdkstack"
    headers = sorted(p.relative_to(ROOT / "lib") for p in (ROOT / "lib").rglob("*.hpp"))
    missing = [str(h) for h in headers if not (inc / h).is_file()]
    assert not missing, f"public headers not installed (lib/meson.build install_headers): {missing}"
    assert (root / "bin" / "dpdk-stack").is_file()
    libs = list(root.rglob("libdpdkstack.a"))
    assert len(libs) == 1, libs
    pc = next(root.rglob("pkgconfig/dpdkstack.pc")).read_text()
    assert re.search(r"^Cflags: -I\$\{includedir\}/dpdkstack$", pc, re.M), pc
    assert re.search(r"^Requires: libdpdk$", pc, re.M), pc
    assert re.search(r"^Libs: -L\$\{libdir\} -ldpdkstack -pthread$", pc, re.M), pc


def test_bad_config_exits_2_naming_the_path(installed, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"ports": [{"address": f"{STACK_IP}/24", "mtu": 70000}]}))
    r = subprocess.run([str(installed[2]), "--", "-c", str(bad)], text=True, timeout=30,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert r.returncode == 2, r.stdout
    assert "config error in" in r.stdout and "$.ports[0].mtu" in r.stdout, r.stdout


@pytest.mark.parametrize("mode", ["copy", "zero-copy"])
def test_example_answers_upper_cased(installed, make_stack, mode):
    port = 7777 if mode == "copy" else 9999
    args = () if mode == "copy" else ("-p", str(port), "--zero-copy")
    s = make_stack("tap", binary=installed[2], config=CONFIG, extra_app_args=args).start()
    assert f"answering on UDP port {port}" in s.output(), s.output()

    r = s.exec([PY, "-c", CLIENT, STACK_IP, str(port)], check=False, timeout=60)
    assert r.returncode == 0, r.stdout
    res = json.loads(r.stdout)
    assert res == {"answered": N_PAYLOADS, "wrong": []}, res

    r = s.exec(["nc", "-u", "-w", "2", STACK_IP, str(port)], input="hello from nc\n", check=False, timeout=20)
    assert r.stdout == "HELLO FROM NC\n", r.stdout

    # From a port nothing listens on in the namespace: the answer comes back
    # as ICMP port unreachable, which reaches the socket's on_error. From a
    # privileged (server) port: not answered, counted as an app drop.
    s.ipsend(f"[IP(dst='{STACK_IP}')/UDP(sport=40999, dport={port})/b'gone', "
             f"IP(dst='{STACK_IP}')/UDP(sport=53, dport={port})/b'server']", wait=0.5)

    def sock():
        """The socket, named in `show udp` / telemetry, counters summed over engines."""
        socks = [v for v in s.telemetry.query("/dpdkstack/udp").values() if v["name"] == "udp-upper"]
        assert socks, s.telemetry.query("/dpdkstack/udp")
        return {k: sum(v[k] for v in socks) for k in ("rx_datagrams", "tx_datagrams", "icmp_errors", "app_dropped")}

    def settled():
        c = sock()
        return c if c["icmp_errors"] == 1 and c["app_dropped"] == 1 else None

    total = N_PAYLOADS + 3  # the client's, nc's, and the two above
    st = s.wait_for(settled, what="one ICMP error and one app drop")
    assert st["rx_datagrams"] == total and st["tx_datagrams"] == total - 1, st

    check_clean_stop(s)  # mbufs back, SIGTERM -> exit 0, nothing in use at shutdown
    assert re.search(rf"engine 0: {total} received, {total - 1} answered, 0 refused \(last: ok\), 1 dropped, "
                     r"1 clients gone", s.output()), s.output()


def test_tcp_fetch_example_downloads_from_nc(installed, make_stack, tmp_path):
    """apps/examples/tcp_fetch, built against the installed library: the
    stack connects out to nc -l in the namespace, sends a line, and writes
    what nc sends (3 MB) byte for byte."""
    data = tmp_path / "data"
    data.write_bytes(bytes(range(256)) * 12000)
    got = tmp_path / "got"
    s = make_stack("tap", binary=installed_tcp_fetch[0], config=CONFIG,
                   extra_app_args=("-a", "10.0.0.2", "-p", "8888", "-s", "hello\\n", "-o", str(got)))
    srv = s.popen_in_ns(["nc", "-N", "-l", "8888"], stdin=open(data, "rb"), stdout=subprocess.PIPE, text=True)
    try:
        s.start()  # its first SYN may go before the peer has its address: the retransmission finds it
        assert s.proc.wait(30) == 0, s.output()
        assert srv.wait(10) == 0
        assert srv.stdout.read() == "hello\n"
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait(5)
    assert got.read_bytes() == data.read_bytes()
    assert "3072000 bytes received; mbufs in use after shutdown: 0" in s.output(), s.output()

"""Every snippet of the shared hostile corpus runs in the sandbox and none succeeds.

Each snippet's `detect` list names how a success would show (see shared/hostile/README.md); all
of them are checked, plus, for every snippet, the stdout marker, marker files, the wall-clock
deadline and that the engine still runs `print(6*7)`. Late markers (threads, finalizers, daemons)
are checked once at the end, after waiting for them.
"""

from __future__ import annotations

import glob
import json
import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
from conftest import HOSTILE, program_processes

from engine.sandbox import Sandbox

SNIPPETS = json.loads(HOSTILE.read_text(encoding="utf-8"))
BY_ID = {s["id"]: s for s in SNIPPETS}
PROBE = BY_ID["z_probe_state"]["code"] if "z_probe_state" in BY_ID else None
# A probe that stays in the fast tier (the corpus probe imports, so it runs in the strict tier).
FAST_PROBE = (
    "print(sorted([2, 1]) == [1, 2], 3 + 4 == int('7'), len(str(123)), "
    "sum(range(5)), repr(max([1, 5, 2])), isinstance(1, int))"
)
FAST_PROBE_OUT = "True True 3 10 5 True\n"
WALL_MARGIN = 1.0  # seconds on top of the sandbox's own deadline (2 busy cores, shared)
LATE_WAIT = 5.0
# The engine keeps an "expected answer" in memory; no program may find it (h80).
EXPECTED_CANARY = "".join(["ALTLAS_EXPECTED", "_CANARY", ":42"])
_late_ids: list[str] = []


def _markers(sid: str) -> list[str]:
    return glob.glob(f"/tmp/altlas_pwned_{sid}*") + glob.glob(f"/dev/shm/altlas_pwned_{sid}*")


def _cleanup(sid: str) -> None:
    for path in _markers(sid):
        Path(path).unlink(missing_ok=True)
    canary = Path(f"/tmp/altlas_canary_{sid}")
    if canary.is_dir():
        for p in sorted(canary.rglob("*"), reverse=True):
            p.unlink() if not p.is_dir() else p.rmdir()
        canary.rmdir()
    elif canary.exists() or canary.is_symlink():
        canary.unlink()


class _Listeners:
    """TCP and UDP listeners on 127.0.0.1:9 that record what arrives."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.error = ""
        self.stop = threading.Event()
        try:
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.tcp.bind(("127.0.0.1", 9))
            self.tcp.listen(16)
            self.tcp.settimeout(0.1)
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 9))
            self.udp.settimeout(0.1)
        except OSError as e:
            self.error = f"cannot listen on 127.0.0.1:9: {e}"
            return
        self.threads = [
            threading.Thread(target=self._tcp_loop, daemon=True),
            threading.Thread(target=self._udp_loop, daemon=True),
        ]
        for t in self.threads:
            t.start()

    def _tcp_loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            conn.settimeout(1.0)
            try:
                while data := conn.recv(4096):
                    self.received += data
            except OSError:
                pass
            conn.close()

    def _udp_loop(self) -> None:
        while not self.stop.is_set():
            try:
                self.received += self.udp.recv(65536)
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        if not self.error:
            for t in self.threads:
                t.join(2)
            self.tcp.close()
            self.udp.close()


@pytest.fixture(scope="module")
def listeners() -> _Listeners:
    ls = _Listeners()
    yield ls
    ls.close()


@pytest.fixture(scope="module", autouse=True)
def _expected_in_engine_memory() -> list[str]:
    holder = [EXPECTED_CANARY, {"expected": EXPECTED_CANARY}]
    yield holder


@pytest.mark.parametrize("sid", sorted(BY_ID))
def test_snippet_does_not_breach(sid: str, sb: Sandbox, listeners: _Listeners) -> None:
    snip = BY_ID[sid]
    detect = set(snip["detect"])
    _cleanup(sid)
    canary = Path(f"/tmp/altlas_canary_{sid}")
    if snip.get("canary") == "file":
        canary.write_text("canary")
        canary.chmod(0o644)
    elif snip.get("canary") == "dir":
        (canary / "sub").mkdir(parents=True)
        (canary / "sub" / "f").write_text("canary")
    if detect & {"net_listener", "net_listener_udp"} and listeners.error:
        pytest.skip(listeners.error)
    received_before = len(listeners.received)
    timeout = sb.config.timeout
    try:
        t0 = time.monotonic()
        res = sb.run_many([snip["code"]])[0]
        wall = time.monotonic() - t0
        problems = []
        if f"ALTLAS_PWNED:{sid}" in res.stdout or "ALTLAS_PWNED" in res.stdout:
            problems.append(f"stdout shows the attack: {res.stdout[:200]!r}")
        if _markers(sid):
            problems.append(f"marker files: {_markers(sid)}")
        if wall > timeout + 0.1 + WALL_MARGIN:
            problems.append(f"result after {wall:.2f}s")
        if res.status not in ("ok", "error", "timeout", "killed", "rejected"):
            problems.append(f"bad status {res.status!r}")
        if "canary_file_missing" in detect and not canary.is_file():
            problems.append("canary file missing")
        if "canary_mode_changed" in detect and canary.exists():
            if stat.S_IMODE(canary.stat().st_mode) != 0o644:
                problems.append("canary mode changed")
        if "canary_dir_missing" in detect and not (canary / "sub" / "f").is_file():
            problems.append("canary dir damaged")
        if "status_not_pass" in detect and res.status == "ok":
            problems.append(f"status ok: {res}")
        if "output_cap" in detect and len(res.stdout.encode()) > sb.config.max_output:
            problems.append(f"output {len(res.stdout)} chars over the cap")
        if "disk" in detect:
            root = sb.processes()["root_dir"]
            if root and os.listdir(root):
                problems.append(f"files left in the sandbox root: {os.listdir(root)}")
            if Path("altlas_big.bin").exists() or Path("/tmp/altlas_big.bin").exists():
                problems.append("disk fill file exists")
        left = program_processes(sb)  # checked for every snippet, not only "survivors"
        if left:
            problems.append(f"processes left by the program: {sorted(left)}")
        if detect & {"net_listener", "net_listener_udp"}:
            time.sleep(0.2)
            if sid.encode() in listeners.received[received_before:]:
                problems.append("listener received the id")
        alive = sb.run_many(["print(6*7)"])[0]
        if alive.stdout != "42\n" or alive.status != "ok":
            problems.append(f"engine not alive afterwards: {alive}")
        if PROBE is not None:
            probe = sb.run_many([PROBE])[0]
            if probe.stdout != "clean\n":
                problems.append(f"strict probe after the snippet: {probe}")
        fast = sb.run_many([FAST_PROBE])[0]
        if fast.stdout != FAST_PROBE_OUT:
            problems.append(f"fast probe after the snippet: {fast}")
        if "marker_late" in detect:
            _late_ids.append(sid)
        assert not problems, f"{sid} ({snip['threat']}): {res}\n" + "\n".join(problems)
    finally:
        if "marker_late" not in detect:
            _cleanup(sid)


def test_probes_detect_tampering(sb: Sandbox) -> None:
    """The probes can fail: run them against tampered state in plain programs (no sandbox
    needed for the check itself, the tampering stays inside one strict-tier child)."""
    assert PROBE is not None
    tampered = "import builtins\nbuiltins.ALTLAS_PLANT = True\n" + PROBE
    res = sb.run_many([tampered])[0]
    assert "ALTLAS_PWNED:z_probe_state builtins" in res.stdout
    fast = sb.run_many(["sorted = reversed\n" + FAST_PROBE])[0]
    assert fast.stdout != FAST_PROBE_OUT


def test_whole_corpus_in_one_batch_mixed_with_normal_programs(sb: Sandbox) -> None:
    """As the trainer would send it: hostile and normal programs interleaved in one call."""
    codes: list[str] = []
    expected: dict[int, str] = {}
    for k, snip in enumerate(SNIPPETS):
        expected[len(codes)] = f"{k * 7}\n"
        codes.append(f"print({k} * 7)")
        codes.append(snip["code"])
    codes.append(FAST_PROBE)
    codes.append(PROBE or "print('clean')")
    t0 = time.monotonic()
    res = sb.run_many(codes)
    wall = time.monotonic() - t0
    try:
        assert len(res) == len(codes)
        for i, out in expected.items():
            assert (res[i].status, res[i].stdout) == ("ok", out), (i, res[i])
        assert not [r for r in res if "ALTLAS_PWNED" in r.stdout]
        assert not [s["id"] for s in SNIPPETS if _markers(s["id"])]
        assert res[-2].stdout == FAST_PROBE_OUT and res[-1].stdout == "clean\n"
        assert not program_processes(sb)
        # every program has its own deadline; the strict tier runs them one after another
        assert wall < len(SNIPPETS) * (sb.config.timeout + 0.1) + WALL_MARGIN
    finally:
        for s in SNIPPETS:
            if "marker_late" not in s["detect"]:
                _cleanup(s["id"])


def test_no_late_markers_and_nothing_on_the_wire(listeners: _Listeners) -> None:
    """Last in this module, after all snippets ran: daemons, threads and finalizers had time
    to act; none did."""
    late = [s["id"] for s in SNIPPETS if "marker_late" in s["detect"]]
    time.sleep(LATE_WAIT)
    found = {sid: _markers(sid) for sid in late if _markers(sid)}
    wire = [s["id"] for s in SNIPPETS if s["id"].encode() in listeners.received]
    for sid in late:
        _cleanup(sid)
    assert not found, f"late markers: {found}"
    assert not wire, f"listener on 127.0.0.1:9 received: {wire}"

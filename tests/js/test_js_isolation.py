"""Isolation layers of the node workers, each checked on its own from outside (/proc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.languages.javascript import JSRunner, find_node
from engine.languages.javascript.runner import LAUNCHER

pytestmark = pytest.mark.skipif(find_node() is None, reason="node is not installed")
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@root_only
def test_describe_full(js: JSRunner) -> None:
    d = js.describe()
    assert d["level"] == "full", d
    assert d["uid_drop"] and d["chroot"] and d["seccomp"] and d["no_new_privs"]
    assert d["namespaces"] == {"net": True, "ipc": True, "uts": True}


@root_only
def test_each_worker_has_its_own_uid_and_a_minimal_root(js: JSRunner) -> None:
    uids = set()
    for w in js.pool:
        status = Path(f"/proc/{w.proc.pid}/status").read_text()
        uid = int(next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1])
        uids.add(uid)
        assert uid != 0 and w.uid == uid
        assert sorted(os.listdir(f"/proc/{w.proc.pid}/root")) == [
            "lib",
            "lib64",
            "usr",
            "worker.js",
        ]
    assert len(uids) == len(js.pool)


def test_rlimits(js: JSRunner) -> None:
    limits = Path(f"/proc/{js.pool[0].proc.pid}/limits").read_text()
    row = {ln[:26].strip(): ln[26:].split() for ln in limits.splitlines()[1:]}
    assert row["Max open files"][0] == "64"
    assert row["Max file size"][0] == "4096"
    assert row["Max core file size"][0] == "0"
    assert row["Max processes"][0] == "64"
    assert int(row["Max address space"][0]) == (js.cfg.memory_mb + 2048) * 1024 * 1024


PROBE_JS = r"""
const cp = require('child_process');
const net = require('net');
const out = {};
try { out.spawn = cp.spawnSync('/bin/true').error ? 'blocked' : 'ran'; } catch (e) { out.spawn = 'blocked'; }
try { process.kill(1, 0); out.kill_other = 'sent'; } catch (e) { out.kill_other = 'blocked'; }
// socket() fails with EPERM under the filter; without it the connection is merely refused.
const s = net.connect(9, '127.0.0.1');
const done = (code) => { out.inet = code === 'EPERM' ? 'blocked' : 'created';
                         console.log(JSON.stringify(out)); process.exit(0); };
s.on('error', (e) => done(e.code));
s.on('connect', () => done('connected'));
"""


def _launch_probe(tmp_path: Path, seccomp: bool) -> dict[str, str]:
    script = tmp_path / "probe.js"
    script.write_text(PROBE_JS)
    node = find_node()
    assert node is not None
    settings = {
        "node": node, "script": str(script), "args": [], "root": None, "uid": None, "gid": None,
        "memory_mb": 256, "nofile": 64, "nproc": 4096, "seccomp": seccomp, "namespaces": False,
        "marker_fd": None,
    }  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_seccomp_layer_alone(tmp_path: Path) -> None:
    # Node with its full API (no vm, no chroot, no uid drop): only the filter stands in the way.
    assert _launch_probe(tmp_path, seccomp=True) == {
        "spawn": "blocked",
        "inet": "blocked",
        "kill_other": "blocked",
    }
    # ...and the same probe without the filter gets through, so the check above can fail.
    assert _launch_probe(tmp_path, seccomp=False) == {
        "spawn": "ran",
        "inet": "created",
        "kill_other": "sent",
    }

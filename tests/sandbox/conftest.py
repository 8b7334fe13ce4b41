"""Fixtures for the sandbox tests: one Sandbox per module, process inspection helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
# A copy of the shared corpus (../shared/hostile/): the tests never depend on /work/shared.
HOSTILE = REPO / "tests" / "data" / "hostile" / "hostile_snippets.json"


@pytest.fixture(scope="module")
def secret_env() -> Iterator[None]:
    """The engine's environment holds a secret the programs must not see."""
    old = os.environ.get("ALTLAS_SECRET")
    os.environ["ALTLAS_SECRET"] = "canary"
    yield
    if old is None:
        os.environ.pop("ALTLAS_SECRET", None)
    else:
        os.environ["ALTLAS_SECRET"] = old


@pytest.fixture(scope="module")
def sb(secret_env: None) -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


def proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, real uid) for every live process (zombies excluded)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as f:
                fields = dict(line.split(b":", 1) for line in f.read().splitlines() if b":" in line)
            if fields[b"State"].split()[0] in (b"Z", b"X"):
                continue
            table[int(entry.name)] = (
                int(fields[b"PPid"].split()[0]),
                int(fields[b"Uid"].split()[0]),
            )
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return table


def descendants(pid: int, table: dict[int, tuple[int, int]]) -> set[int]:
    out: set[int] = set()
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        for child, (ppid, _) in table.items():
            if ppid == p and child not in out:
                out.add(child)
                frontier.append(child)
    return out


def program_processes(box: Sandbox) -> set[int]:
    """Processes started by programs: below the zygote, or running as a sandbox uid other than
    the fast workers themselves."""
    info = box.processes()
    table = proc_table()
    found: set[int] = set()
    if info["zygote"] is not None:
        below = descendants(info["zygote"], table)
        # The zygote itself sits below the `unshare` wrapper when a pid namespace is used.
        below = {p for p in below if table[p][0] != info["zygote"] or not _is_zygote(p)}
        found |= below
    if info["uids"] is not None:
        lo, hi = info["uids"]
        fast = set(info["fast"])
        found |= {p for p, (_, uid) in table.items() if lo <= uid < hi and p not in fast}
    return found


def _is_zygote(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"entry.py\0zygote" in f.read()
    except OSError:
        return False

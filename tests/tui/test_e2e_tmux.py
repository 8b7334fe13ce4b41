"""End to end in a real terminal (tmux): the TUI at 120x40 and 80x24, attach/detach to a headless
run, and SIGHUP (the terminal closing) saving the state.

Runs `python -m altlas_tui.cli` with this interpreter and this checkout on PYTHONPATH, so it
tests the code under test, not whatever `altlas-tui` script is installed.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
pytest.importorskip("engine.controller")

ROOT = Path(__file__).resolve().parents[2]
CLI = f"{shlex.quote(sys.executable)} -m altlas_tui.cli"
# A COLUMNS/LINES inherited from the test runner would override the pane's real size.
UNSET_SIZE = "unset COLUMNS LINES; "


class Tmux:
    def __init__(self, home: Path, size: tuple[int, int] = (120, 40)) -> None:
        self.socket = f"altlas-e2e-{uuid.uuid4().hex[:8]}"
        self.home = home
        self.size = size

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        return out.stdout

    def _env(self) -> list[str]:
        pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        return ["-e", f"ALTLAS_HOME={self.home}", "-e", "ALTLAS_TRAIN_BATCH_SIZE=32",
                "-e", f"PYTHONPATH={pythonpath}"]  # fmt: skip

    def start(self, command: str) -> None:
        w, h = self.size
        command = UNSET_SIZE + command
        self.run("new-session", "-d", "-x", str(w), "-y", str(h), *self._env(), command)
        self.run("resize-window", "-t", ":0", "-x", str(w), "-y", str(h))  # pin it (manual)

    def window(self, command: str) -> None:
        self.run("new-window", *self._env(), UNSET_SIZE + command)
        w, h = self.size
        self.run("resize-window", "-x", str(w), "-y", str(h))  # the new (current) window

    def screen(self, history: bool = False, target: str = "") -> str:
        return self.run(
            "capture-pane", "-p", *(["-t", target] if target else []),
            *(["-S", "-"] if history else []),
        )  # fmt: skip

    def keys(self, *keys: str, target: str = "") -> None:
        self.run("send-keys", *(["-t", target] if target else []), *keys)

    def wait(
        self, text: str, timeout: float = 60.0, history: bool = False, target: str = ""
    ) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen(history, target)
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(
            f"{text!r} not on screen after {timeout} s:\n{self.screen(history, target)}"
        )

    def kill(self) -> None:
        self.run("kill-server")


def _tui_alive(home: Path) -> bool:
    """Is a process of this test (its ALTLAS_HOME) still running?"""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            env = (proc / "environ").read_bytes()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if f"ALTLAS_HOME={home}".encode() in env.split(b"\0") and b"altlas_tui" in cmdline:
            return True
    return False


def history(home: Path) -> list[dict]:
    env = dict(os.environ, ALTLAS_HOME=str(home), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "altlas_tui.cli", "history", "--json"],
                         capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    return json.loads(out.stdout)


def test_tui_in_tmux_pause_hint_switch_task_and_quit(tmp_path):
    tmux = Tmux(tmp_path)
    tmux.start(f"{CLI} --task add_two_numbers; echo EXIT=$?; sleep 60")
    try:
        tmux.wait("● RUNNING")
        tmux.wait("attempts/s")
        tmux.keys("p")
        tmux.wait("PAUSED")
        tmux.keys("h")
        tmux.keys("t")
        tmux.wait("AltLAS · Tasks")
        tmux.keys("Down", "Enter")  # the row after the current task
        tmux.wait("task basic_loop", timeout=60)
        tmux.keys("q")
        screen = tmux.wait("EXIT=0", timeout=90, history=True)
    finally:
        tmux.kill()
    assert "Task            basic_loop" in screen  # the run summary on the way out
    assert "Task            add_two_numbers" in screen  # ...and the task left before it
    assert "State saved" in screen
    checkpoints = tmp_path / "data" / "checkpoints"
    saved = {p.stem for p in checkpoints.iterdir()} if checkpoints.is_dir() else set()
    assert {"add_two_numbers", "basic_loop"} <= saved, saved


def test_80x24_help_scrolls_and_footer_keeps_help_and_quit(tmp_path):
    tmux = Tmux(tmp_path, (80, 24))
    tmux.start(f"{CLI} --task add_two_numbers; echo EXIT=$?; sleep 60")
    try:
        screen = tmux.wait("RUNNING")
        footer = screen.rstrip("\n").splitlines()[-1]
        assert "? Help" in footer and "q Quit" in footer and "Screens" in footer, footer
        header = screen.splitlines()[0]
        assert "add_two_numbers" in header and "att" in header and "best" in header, header
        tmux.keys("?")
        tmux.wait("AltLAS TUI — keys")
        tmux.keys("End")
        tmux.wait("command palette")  # the last lines of the help are reachable
        tmux.wait("Sweeps screen: newer sweep")
        # Escape alone (a key right after it would read as Alt+key): until the help is gone
        deadline = time.monotonic() + 30
        while "Escape close" in tmux.screen() and time.monotonic() < deadline:
            tmux.keys("Escape")
            time.sleep(1.0)
        for key, title in (("2", "Tokens"), ("3", "Model"), ("4", "Hints"), ("6", "Log")):
            tmux.keys(key)
            screen = tmux.wait(f" {title} ")
            assert "q Quit" in screen.rstrip("\n").splitlines()[-1]
        tmux.keys("q")
        tmux.wait("EXIT=0", timeout=90, history=True)
    finally:
        tmux.kill()


def test_attach_to_headless_train_detach_and_it_finishes(tmp_path):
    tmux = Tmux(tmp_path, (80, 24))
    tmux.start(f"{CLI} train --task basic_loop --max-attempts 3000; echo TRAIN_EXIT=$?; sleep 60")
    try:
        tmux.wait("att ·", target=":0")  # the progress bar is moving
        tmux.window(f"{CLI} attach; echo ATTACH_EXIT=$?; sleep 60")
        tmux.wait("attached to train", target=":1")
        tmux.wait("basic_loop", target=":1")
        tmux.keys("p", target=":1")
        tmux.wait("PAUSED", target=":1")
        tmux.keys("p", target=":1")
        tmux.wait("RUNNING", target=":1")
        tmux.keys("q", target=":1")
        screen = tmux.wait("ATTACH_EXIT=0", target=":1", history=True)
        assert "Detached from the run" in screen
        # plain `altlas-tui` while the run is live offers to attach instead of refusing
        tmux.window(f"{CLI}; echo PLAIN_EXIT=$?; sleep 60")
        tmux.wait("Attach to it? [Y/n]", target=":2")
        tmux.keys("Enter", target=":2")
        tmux.wait("attached to train", target=":2")
        tmux.keys("q", target=":2")
        tmux.wait("PLAIN_EXIT=0", target=":2", history=True)
        screen = tmux.wait("TRAIN_EXIT=0", target=":0", timeout=240, history=True)
    finally:
        tmux.kill()
    runs = history(tmp_path)
    assert runs[-1]["outcome"] in ("budget", "solved") and runs[-1]["attempts"] > 0


def test_sighup_in_the_tui_saves_once_and_records_interrupted(tmp_path):
    tmux = Tmux(tmp_path, (80, 24))
    tmux.start(f"{CLI} --task basic_loop; sleep 60")
    try:
        tmux.wait("RUNNING")
        tmux.wait("best 0.", timeout=60)
        deadline = time.monotonic() + 60
        while " 0 att" in tmux.screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        tmux.run("kill-window", "-t", ":0")  # the terminal goes away: SIGHUP
        deadline = time.monotonic() + 60
        runs: list[dict] = []
        while time.monotonic() < deadline:
            runs = history(tmp_path)
            if runs and runs[-1]["outcome"] != "running":
                break
            time.sleep(0.5)
    finally:
        tmux.kill()
    assert runs and runs[-1]["outcome"] == "interrupted", runs
    # and the process is gone (Textual's shutdown could hang on the vanished terminal)
    deadline = time.monotonic() + 30
    while _tui_alive(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _tui_alive(tmp_path)
    assert (tmp_path / "data" / "checkpoints" / "basic_loop.pt").exists()
    logs = "".join(p.read_text() for p in (tmp_path / "log").glob("*.log"))
    assert "SIGHUP received" in logs
    assert logs.count("checkpoint (exit)") == 1  # saved exactly once

"""End to end: the real `altlas-tui` in tmux — pause, hint, task picker, switch, quit, state saved."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(shutil.which("altlas-tui") is None, reason="altlas-tui is not installed"),
]
pytest.importorskip("engine.controller")


class Tmux:
    def __init__(self, home: Path) -> None:
        self.socket = f"altlas-e2e-{uuid.uuid4().hex[:8]}"
        self.home = home

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        return out.stdout

    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-x", "120", "-y", "40", "-e", f"ALTLAS_HOME={self.home}",
                 "-e", "ALTLAS_TRAIN_BATCH_SIZE=32", command)  # fmt: skip

    def screen(self, history: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-S", "-"] if history else []))

    def keys(self, *keys: str) -> None:
        self.run("send-keys", *keys)

    def wait(self, text: str, timeout: float = 60.0, history: bool = False) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen(history)
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on screen after {timeout} s:\n{self.screen(history)}")

    def kill(self) -> None:
        self.run("kill-server")


def test_tui_in_tmux_pause_hint_switch_task_and_quit(tmp_path):
    tmux = Tmux(tmp_path)
    tmux.start("altlas-tui --task add_two_numbers; echo EXIT=$?; sleep 60")
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
    checkpoints = tmp_path / "data" / "checkpoints"
    saved = {p.stem for p in checkpoints.iterdir()} if checkpoints.is_dir() else set()
    assert {"add_two_numbers", "basic_loop"} <= saved, saved

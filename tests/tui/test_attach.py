"""Attach: a run serves snapshots and commands over a Unix socket; viewers come and go."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time

import pytest

from altlas_tui.app import AltlasApp
from altlas_tui.attach import AttachError, RemoteEngine, SnapshotServer, connect
from altlas_tui.attach.protocol import encode
from engine.config import Config
from engine.control import Control
from engine.events import Event
from engine.snapshot import Snapshot

from .conftest import wait_for


class Source:
    """Stands in for the engine: a snapshot attribute and an on_event hook."""

    def __init__(self) -> None:
        self.snapshot = Snapshot(task_name="add_two_numbers", status="running", attempts=32)
        self.on_event = None


@pytest.fixture
def served(tmp_path):
    path = tmp_path / "s.sock"
    source, control = Source(), Control()
    server = SnapshotServer(path, source, control)
    source.on_event = server.publish_event
    server.start()
    yield path, source, control, server
    server.close()


def _wait(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_socket_is_owner_only_and_removed_on_close(served):
    path, _, _, server = served
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    server.close()
    assert not path.exists()


def test_viewer_gets_snapshots_events_and_steers(served):
    path, source, control, _ = served
    conn = connect(steer=True, path=path)
    assert conn.steering and conn.pid == os.getpid()
    events: list[Event] = []
    remote = RemoteEngine(conn, on_event=events.append)
    viewer_control = Control()
    thread = threading.Thread(target=remote.run, args=(viewer_control,), daemon=True)
    thread.start()
    assert _wait(lambda: remote.snapshot.attempts == 32)
    source.snapshot = Snapshot(task_name="add_two_numbers", status="running", attempts=64)
    assert _wait(lambda: remote.snapshot.attempts == 64)
    source.on_event(Event("hint", "forced hint: print(", {"text": "print("}))
    assert _wait(lambda: any(e.kind == "hint" for e in events))
    viewer_control.send("toggle_pause")
    assert _wait(lambda: any(c.kind == "toggle_pause" for c in control.drain()))
    viewer_control.stop()  # q: detach
    thread.join(5)
    assert remote.detached and not control.stopping  # the run goes on


def test_one_viewer_steers_the_others_watch(served):
    path, _, control, _ = served
    first = connect(steer=True, path=path)
    second = connect(steer=True, path=path)
    read_only = connect(steer=False, path=path)
    assert first.steering and not second.steering and not read_only.steering
    second.sock.sendall(encode({"type": "command", "kind": "pause", "arg": None}))
    read_only.sock.sendall(encode({"type": "command", "kind": "stop", "arg": None}))
    time.sleep(0.3)
    assert control.drain() == [] and not control.stopping  # neither reached the engine
    first.sock.close()  # the steering viewer leaves: the next one may steer
    time.sleep(0.3)
    third = connect(steer=True, path=path)
    assert third.steering


def test_a_viewer_that_vanishes_mid_stream_does_not_disturb_the_run(served):
    path, source, control, server = served
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.connect(str(path))
    raw.sendall(b'{"type":"hello","steer":true}\n{"type":"command","kind":"pa')  # cut short
    raw.close()
    garbage = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    garbage.connect(str(path))
    garbage.sendall(b"\x00\xffnot json\n")
    garbage.close()
    for i in range(50):  # the engine publishes on, never blocked
        source.snapshot = Snapshot(task_name="add_two_numbers", status="running", attempts=i)
    assert _wait(lambda: server.viewers == 0)
    assert connect(steer=True, path=path).steering  # the cut-off viewer released the wheel
    assert not control.stopping


def test_attach_without_a_run_says_so(tmp_path):
    with pytest.raises(AttachError, match="no run to attach to"):
        connect(path=tmp_path / "none.sock")


def test_run_end_reaches_the_viewer(served):
    path, source, _, server = served
    conn = connect(steer=False, path=path)
    remote = RemoteEngine(conn, read_only=True)
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("s", remote.run(Control())), daemon=True
    )
    thread.start()

    class Summary:
        outcome = "budget"

        def to_json(self):
            return {"task": "add_two_numbers", "seed": 0, "algo": "default", "attempts": 99}

    server.close(Summary())
    thread.join(5)
    assert remote.ended is not None and result["s"].attempts == 99
    assert result["s"].outcome == "budget"


async def test_attached_app_shows_the_remote_run_and_q_detaches(served):
    path, source, control, _ = served
    conn = connect(steer=True, path=path)
    app = AltlasApp(
        Config(),
        "add_two_numbers",
        engine_factory=lambda config, task, on_event=None, **kw: RemoteEngine(conn, on_event),
        persist_theme_choice=False,
    )
    app.attached = True
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.bridge.snapshot.attempts == 32)
        await pilot.press("p")
        await wait_for(pilot, lambda: any(c.kind == "toggle_pause" for c in control.drain()))
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert app.return_code == 0 and not control.stopping

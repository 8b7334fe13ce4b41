"""Engine + Control: commands take effect between batches; snapshots are plain data."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from engine.config import Config
from engine.control import Control
from engine.controller import Engine
from engine.snapshot import Snapshot
from engine.store import Store


def _config() -> Config:
    cfg = Config()
    cfg.train.batch_size = 32
    cfg.store.save_interval = 3600
    return cfg


def _wait(cond, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def _plain(value) -> bool:
    if isinstance(value, (int, float, str, bool, type(None))):
        return True
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    if dataclasses.is_dataclass(value):
        return all(_plain(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


@pytest.fixture
def running():
    events = []
    store = Store()
    engine = Engine(_config(), "add_two_numbers", store=store, on_event=events.append, fresh=True)
    control = Control()
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("summary", engine.run(control)), daemon=True
    )
    thread.start()
    assert _wait(lambda: engine.snapshot.attempts > 0)
    yield engine, control, events, result
    control.stop()
    thread.join(60)
    store.close()
    assert not thread.is_alive()


def test_snapshot_is_plain_data(running):
    engine, *_ = running
    assert _wait(lambda: engine.snapshot.layer_stats)
    snap = engine.snapshot
    assert isinstance(snap, Snapshot) and _plain(snap)
    assert snap.task_name == "add_two_numbers" and snap.vocab_size > 50
    assert snap.sandbox_level


def test_pause_resume(running):
    engine, control, *_ = running
    control.pause()
    assert _wait(lambda: engine.snapshot.status == "paused")
    a = engine.snapshot.attempts
    time.sleep(0.3)
    assert engine.snapshot.attempts == a
    control.toggle_pause()
    assert _wait(lambda: engine.snapshot.attempts > a)


def test_hint_reinit_save_switch_stop(running):
    engine, control, events, result = running
    control.force_hint()
    assert _wait(lambda: engine.snapshot.hints_forced == 1)
    assert engine.snapshot.hints_provided == 1 and engine.snapshot.hints[0].forced
    control.reinit()
    assert _wait(lambda: any(e.kind == "reinit" for e in events))
    control.save()
    assert _wait(lambda: any(e.kind == "checkpoint_saved" for e in events))
    control.switch_task("conditional_check")
    assert _wait(lambda: engine.snapshot.task_name == "conditional_check")
    assert any(e.kind == "task_switched" for e in events)
    control.switch_task("no_such_task")
    assert _wait(lambda: any(e.kind == "warning" for e in events))
    assert engine.snapshot.task_name == "conditional_check"
    control.stop()
    assert _wait(lambda: "summary" in result)
    assert result["summary"].task == "conditional_check"


def test_switch_back_keeps_progress():
    store = Store()
    try:
        control = Control()
        engine = Engine(_config(), "add_two_numbers", store=store, fresh=True)
        done = []

        def drive(snap):
            if snap.attempts >= 64 and not done:
                done.append(1)
                control.switch_task("conditional_check")
            elif snap.task_name == "conditional_check" and snap.attempts >= 64 and len(done) == 1:
                done.append(2)
                control.switch_task("add_two_numbers")
            elif len(done) == 2 and snap.task_name == "add_two_numbers":
                done.append(3)
                control.stop()

        engine.on_batch = drive
        engine.run(control)
        assert engine.snapshot.total_attempts >= 64 + engine.snapshot.attempts
    finally:
        store.close()


def test_engine_error_saves_the_last_good_state_and_records_error(monkeypatch):
    store = Store()
    try:
        engine = Engine(_config(), "add_two_numbers", store=store, fresh=True)
        control = Control()
        engine.on_batch = lambda snap: control.save() if snap.attempts == 64 else None
        engine.run(control, max_attempts=128)
        saved = store.load_task_state("add_two_numbers")["counters"]["total_attempts"]
        engine2 = Engine(_config(), "add_two_numbers", store=store)

        def boom(snap):
            raise RuntimeError("boom")

        engine2.on_batch = boom
        with pytest.raises(RuntimeError):
            engine2.run(Control())
        assert engine2.snapshot.status == "error"
        # the batch before the failing callback completed: it is saved, not lost
        after = store.load_task_state("add_two_numbers")["counters"]["total_attempts"]
        assert after == saved + engine2.snapshot.attempts > saved
        summary = engine2.summary()
        assert summary.outcome == "error" and "boom" in summary.error
        assert summary.state_path
        runs = sorted(store.runs.list_runs("add_two_numbers"), key=lambda r: r["id"])
        assert runs[-1]["outcome"] == "error"
    finally:
        store.close()


def test_budget_is_exact_and_an_interrupt_is_recorded_as_such():
    store = Store()
    try:
        engine = Engine(_config(), "add_two_numbers", store=store, fresh=True)
        summary = engine.run(Control(), max_attempts=50)  # batch 32: the second batch is cut
        assert summary.attempts == 50
        assert summary.outcome in ("budget", "solved")
        control = Control()
        engine2 = Engine(_config(), "add_two_numbers", store=store)
        engine2.on_batch = lambda snap: control.stop("interrupted")
        summary2 = engine2.run(control)
        assert summary2.outcome in ("interrupted", "solved")
        assert summary2.total_attempts == 50 + summary2.attempts
        assert summary2.state_path.endswith(".pt") or summary2.state_path
        runs = sorted(store.runs.list_runs("add_two_numbers"), key=lambda r: r["id"])
        assert runs[-1]["outcome"] == summary2.outcome
        assert engine2.snapshot.status == "stopped"
    finally:
        store.close()


def test_snapshot_round_trips_through_json_and_counts_cases():
    import json

    from engine.controller import case_counts
    from engine.snapshot import snapshot_from_dict, snapshot_to_dict

    engine = Engine(_config(), "add_two_numbers")
    engine.run(Control(), max_attempts=32)
    snap = engine.snapshot
    assert snap.layer_stats and snap.token_counts
    assert snapshot_from_dict(json.loads(json.dumps(snapshot_to_dict(snap)))) == snap

    class Case:
        def __init__(self, passed, hidden):
            self.passed, self.hidden = passed, hidden

    class Out:
        cases = [Case(True, False), Case(False, False), Case(True, True)]

    assert case_counts(Out()) == (1, 2, 1, 1)
    assert case_counts(object()) == (0, 0, 0, 0)

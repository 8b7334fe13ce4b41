"""Run database: WAL, buffered metrics, history rows, damaged files moved aside."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys

import pytest

from engine.store import RunDB, Store, StoreReadOnly, paths


def _summary(**kw):
    base = {
        "event": "summary", "task": "add_two_numbers", "seed": 0, "algo": "default",
        "solved": True, "attempts_to_solve": 3000, "attempts": 3200, "unique_programs": 900,
        "seconds": 12.5, "attempts_per_second": 256.0, "best_score": 1.0,
        "best_code": "print(1)", "solution": "print(1)", "hints_provided": 0,
        "total_attempts": 3200,
    }  # fmt: skip
    base.update(kw)
    return base


def test_wal_mode_and_schema():
    with Store() as store:
        assert store.runs.journal_mode() == "wal"
    conn = sqlite3.connect(paths().db_file)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "metrics", "metric_keys", "best_programs", "hints", "events"} <= tables
    assert conn.execute("SELECT value FROM info WHERE key='schema_version'").fetchone() == ("1",)


def test_metrics_are_buffered_then_written_in_bulk():
    db = RunDB(paths().db_file, flush_rows=25, flush_seconds=3600)
    reader = RunDB(paths().db_file, read_only=True)
    run = db.start_run("t", 1, "default", {"lr": 0.002})
    keys = [f"k/{i}" for i in range(10)]
    db.log_metrics(run, 128, dict.fromkeys(keys, 0.5))
    db.log_metrics(run, 256, dict.fromkeys(keys, 0.25))
    assert reader.metrics(run) == []  # still in memory
    db.log_metrics(run, 384, dict.fromkeys(keys, 0.125))  # 30 rows > 25: flushed
    rows = reader.metrics(run)
    assert len(rows) == 30
    assert rows[0] == (128, "k/0", 0.5) and rows[-1] == (384, "k/9", 0.125)
    db.log_metrics(run, 512, {"train/loss": float("nan"), "bad": "text", "n": 3})
    db.flush()
    tail = reader.metrics(run)[30:]
    assert [(s, k) for s, k, _ in tail] == [(512, "train/loss"), (512, "n")]
    assert math.isnan(tail[0][2]) and tail[1][2] == 3.0
    db.close()
    reader.close()


def test_same_key_twice_at_a_step_keeps_the_last_value():
    with Store() as store:
        run = store.runs.start_run("t", 1, "default", {})
        store.runs.log_metrics(run, 10, {"a": 1.0, "b": 2.0})
        store.runs.log_metrics(run, 10, {"a": 3.0})
        assert store.runs.metrics(run) == [(10, "a", 3.0), (10, "b", 2.0)]


def test_time_based_flush():
    db = RunDB(paths().db_file, flush_rows=10**9, flush_seconds=0.0)
    reader = RunDB(paths().db_file, read_only=True)
    run = db.start_run("t", 1, "default", {})
    db.log_metrics(run, 1, {"a": 1.0})
    assert reader.metrics(run) == [(1, "a", 1.0)]
    db.close()
    reader.close()


def test_runs_listed_oldest_first_with_filters_and_details():
    with Store() as store:
        runs = store.runs
        a = runs.start_run("add_two_numbers", 0, "default", {"lr": 0.002})
        runs.log_metrics(a, 128, {"rollout/score_max": 0.5})
        runs.log_best(a, 128, 0.5, "print(2)")
        runs.log_hint(a, 200, "use input()", True, {"best_before": 0.5, "best_after": 0.8})
        runs.log_event(a, 300, "lr_cut", "lr 0.002 -> 0.001")
        runs.end_run(a, "solved", _summary())
        b = runs.start_run("benchmark_add_two_numbers", 1, "random", {}, kind="bench")
        runs.end_run(b, "budget", _summary(solved=False, attempts_to_solve=None, seed=1))
        c = runs.start_run("reverse_string", 0, "default", {})
        runs.end_run(c, "stopped", _summary(task="reverse_string", solved=False))
        assert [r["id"] for r in runs.list_runs()] == [a, b, c]
        assert [r["id"] for r in runs.list_runs(task="add_two_numbers")] == [a, b]
        assert [r["id"] for r in runs.list_runs(task="benchmark_add_two_numbers")] == [a, b]
        assert [r["id"] for r in runs.list_runs(kind="bench")] == [b]
        first = runs.get_run(a)
        assert first["outcome"] == "solved" and first["attempts"] == 3200
        assert first["attempts_to_solve"] == 3000 and first["best_score"] == 1.0
        assert first["config"] == {"lr": 0.002} and first["seconds"] == 12.5
        assert runs.best_programs(a)[0]["code"] == "print(2)"
        hint = runs.hints(a)[0]
        assert hint["forced"] is True and hint["effect"]["best_after"] == 0.8
        assert runs.events(a)[0]["kind"] == "lr_cut"
        assert runs.get_run(999) is None
        with pytest.raises(ValueError):
            runs.end_run(c, "exploded", {})
        with pytest.raises(ValueError):
            runs.start_run("t", 0, "default", {}, kind="party")


def test_run_left_open_by_a_dead_process_becomes_interrupted():
    with Store() as store:
        run = store.runs.start_run("t", 0, "default", {}, start_step=1000)
        store.runs.log_metrics(run, 1128, {"rollout/score_max": 0.3})
        store.runs.log_metrics(run, 1256, {"rollout/score_max": 0.4})
        store.runs.log_best(run, 1256, 0.4, "print(0)")
        assert store.runs.get_run(run)["outcome"] == "running"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    conn = sqlite3.connect(paths().db_file)
    with conn:
        conn.execute("UPDATE runs SET pid = ? WHERE id = ?", (int(dead.stdout), run))
    conn.close()
    with Store() as store:
        info = store.runs.get_run(run)
        assert info["outcome"] == "interrupted"
        assert info["attempts"] == 256 and info["best_score"] == 0.4
        assert info["ended_at"] is not None
    raw = sqlite3.connect(paths().db_file).execute("SELECT outcome FROM runs").fetchone()
    assert raw == ("interrupted",)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda b: b"", "empty file"),
        (lambda b: b"this is not sqlite at all" * 50, "not an SQLite database"),
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b[:100] + bytes(len(b) - 100), "malformed"),  # header fine, pages zeroed
    ],
    ids=["empty", "garbage", "truncated", "zeroed-pages"],
)
def test_damaged_database_is_moved_aside_and_replaced(damage, reason):
    with Store() as store:
        run = store.runs.start_run("t", 0, "default", {})
        for step in range(200):
            store.runs.log_metrics(run, step, {f"k{i}": float(i) for i in range(10)})
    db = paths().db_file
    db.write_bytes(damage(db.read_bytes()))
    (db.parent / "runs.sqlite-wal").write_bytes(b"stale wal")
    damaged = db.read_bytes()
    with Store() as store:
        assert any(reason in n and "moved aside" in n for n in store.notices), store.notices
        assert store.runs.list_runs() == []
        new = store.runs.start_run("t", 0, "default", {})
        assert new == 1 and store.runs.journal_mode() == "wal"
    aside = sorted(db.parent.glob("runs.sqlite.corrupt-*"))
    assert aside[0].read_bytes() == damaged
    if reason != "malformed":  # caught by the header check before SQLite touched the -wal
        assert [p.name.endswith("-wal") for p in aside] == [False, True]
        assert aside[1].read_bytes() == b"stale wal"


def test_read_only_database_cannot_write_and_tolerates_missing_or_damaged_file():
    with Store(read_only=True) as ro:
        assert ro.runs.list_runs() == []  # no database yet
        with pytest.raises(StoreReadOnly):
            ro.runs.start_run("t", 0, "default", {})
        with pytest.raises(StoreReadOnly):
            ro.runs.log_metrics(1, 1, {"a": 1.0})
    paths().db_file.write_bytes(b"garbage" * 100)
    with Store(read_only=True) as ro:
        assert ro.runs.list_runs() == []
        assert any("cannot be read" in n for n in ro.notices)
    assert paths().db_file.read_bytes() == b"garbage" * 100  # a reader never moves files


def test_reader_sees_writer_progress_concurrently():
    with Store() as store, Store(read_only=True) as ro:
        run = store.runs.start_run("t", 0, "default", {})
        store.runs.log_metrics(run, 1, {"a": 1.0})
        store.runs.flush()
        assert ro.runs.metrics(run) == [(1, "a", 1.0)]
        assert ro.runs.get_run(run)["outcome"] == "running"
        store.runs.log_metrics(run, 2, {"a": 2.0})
        store.runs.flush()
        assert ro.runs.metrics(run)[-1] == (2, "a", 2.0)


def test_save_task_state_flushes_history_first():
    with Store() as store, Store(read_only=True) as ro:
        run = store.runs.start_run("t", 0, "default", {})
        store.runs.log_metrics(run, 5, {"a": 1.0})
        store.save_task_state("t", {"counter": 5})
        assert ro.runs.metrics(run) == [(5, "a", 1.0)]

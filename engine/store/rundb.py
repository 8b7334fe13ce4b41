"""The run history: an SQLite database (WAL) of runs, per-batch metrics, best programs, hints.

Metric keys follow Stable-Baselines3 / CleanRL (`rollout/score_mean`, `train/loss`,
`time/attempts_per_second`, ...) against a global attempt step. Writes from the training loop are
buffered in memory and committed in one transaction per flush (every `flush_rows` rows or
`flush_seconds` seconds, on save, on end_run and on close), so logging costs microseconds per batch.
A killed process loses at most the unflushed buffer; SQLite's WAL keeps the file consistent.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from engine.store.atomic import move_aside
from engine.store.checkpoints import StoreReadOnly
from engine.store.schema import (
    QUICK_CHECK_MAX_BYTES,
    SCHEMA,
    SCHEMA_VERSION,
    CorruptDatabase,
    is_corruption,
    sqlite_file_problem,
)

log = logging.getLogger("altlas.store")

OUTCOMES = frozenset({"solved", "budget", "stopped", "error", "interrupted"})
KINDS = frozenset({"train", "bench", "sweep"})


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _loads(text: str | None) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return {}


class RunDB:
    """Runs, metrics, best programs, hints and events in `runs.sqlite`. Thread-safe."""

    def __init__(
        self,
        path: Path,
        read_only: bool = False,
        notices: list[str] | None = None,
        flush_rows: int = 2000,
        flush_seconds: float = 2.0,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.notices = notices if notices is not None else []
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.dropped_rows = 0  # rows lost because a flush failed (disk full, DB damaged)
        self._mutex = threading.RLock()
        self._rows: list[tuple[int, int, str, float]] = []
        self._other: list[tuple[str, tuple]] = []
        self._touched: set[int] = set()
        self._key_ids: dict[str, int] = {}
        self._bad_keys: set[str] = set()
        self._last_flush = time.monotonic()
        self._conn: sqlite3.Connection | None = None
        self._reader_failed = False
        self._host = socket.gethostname()
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._open_writer()

    # ---- opening -------------------------------------------------------------------------

    def _warn(self, message: str) -> None:
        log.warning(message)
        self.notices.append(message)

    def _set_aside(self, reason: str) -> None:
        dest = move_aside(self.path, "corrupt", companions=("-wal", "-shm", "-journal"))
        self._warn(
            f"run database {self.path} is unusable ({reason}); moved aside to {dest.name} "
            "and started a fresh one"
        )

    def _open_writer(self) -> None:
        problem = sqlite_file_problem(self.path)
        if problem:
            self._set_aside(problem)
        try:
            self._conn = self._connect_and_init()
        except (sqlite3.DatabaseError, CorruptDatabase) as e:
            if isinstance(e, sqlite3.Error) and not is_corruption(e):
                raise
            self._set_aside(str(e))
            self._conn = self._connect_and_init()
        self._mark_interrupted()

    def _connect_and_init(self) -> sqlite3.Connection:
        existed = self.path.exists() and self.path.stat().st_size > 0
        conn = sqlite3.connect(
            self.path, timeout=10.0, check_same_thread=False, isolation_level=None
        )
        try:
            conn.row_factory = sqlite3.Row
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("run database %s: journal mode is %s, not wal", self.path, mode)
            # WAL + NORMAL: a commit survives kill -9; only a power cut can lose the last ones
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO info (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("SELECT count(*) FROM runs").fetchone()
            conn.execute("SELECT max(run_id) FROM metrics").fetchone()
            if existed and self.path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
                result = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
                if result != ["ok"]:
                    raise CorruptDatabase("quick_check: " + "; ".join(map(str, result[:3])))
        except BaseException:
            conn.close()
            raise
        return conn

    def _mark_interrupted(self) -> None:
        """Runs left open by a process that is gone (kill -9, power cut) become 'interrupted'."""
        assert self._conn is not None
        rows = self._conn.execute("SELECT id, pid, host FROM runs WHERE outcome IS NULL").fetchall()
        dead = [r["id"] for r in rows if r["host"] == self._host and not _pid_alive(r["pid"])]
        if dead:
            self._conn.executemany(
                "UPDATE runs SET outcome = 'interrupted', "
                "ended_at = coalesce(updated_at, started_at) WHERE id = ?",
                [(i,) for i in dead],
            )
            log.info("marked %d run(s) left open by a killed process as interrupted", len(dead))

    def _reader(self) -> sqlite3.Connection | None:
        """The connection to read with (opened lazily for a read-only RunDB)."""
        if self._conn is not None or not self.read_only:
            return self._conn
        if self._reader_failed or not self.path.exists():
            return None
        problem = sqlite_file_problem(self.path)
        try:
            if problem:
                raise CorruptDatabase(problem)
            conn = sqlite3.connect(
                self.path, timeout=10.0, check_same_thread=False, isolation_level=None
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only=ON")
            conn.execute("SELECT count(*) FROM runs").fetchone()
        except (sqlite3.Error, CorruptDatabase) as e:
            self._reader_failed = True
            self._warn(f"run database {self.path} cannot be read ({e}); showing no runs")
            return None
        self._conn = conn
        return conn

    def _writer(self) -> sqlite3.Connection:
        if self.read_only:
            raise StoreReadOnly("this run database is open read-only")
        if self._conn is None:
            raise RuntimeError("run database is closed")
        return self._conn

    # ---- writing -------------------------------------------------------------------------

    def start_run(
        self,
        task: str,
        seed: int,
        algo: str,
        config: dict[str, Any],
        kind: str = "train",
        start_step: int = 0,
    ) -> int:
        """Record a new run and return its id. `start_step`: the global step it resumes from."""
        if kind not in KINDS:
            raise ValueError(f"run kind must be one of {sorted(KINDS)}, got {kind!r}")
        with self._mutex:
            conn = self._writer()
            now = time.time()
            cur = conn.execute(
                "INSERT INTO runs (kind, task, seed, algo, config, start_step, started_at, "
                "updated_at, pid, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, task, seed, algo, _json(config), int(start_step), now, now, os.getpid(),
                 self._host),
            )  # fmt: skip
            assert cur.lastrowid is not None  # an INSERT always sets it
            run_id = int(cur.lastrowid)
        log.info("started run %d: %s %s seed %s algo %s", run_id, kind, task, seed, algo)
        return run_id

    def log_metrics(self, run_id: int, step: int, metrics: dict[str, float]) -> None:
        """Buffer one batch's metrics; flushed in bulk. Non-numeric values are skipped."""
        rows = []
        for key, value in metrics.items():
            try:
                rows.append((run_id, step, key, float(value)))
            except (TypeError, ValueError):
                if key not in self._bad_keys:
                    self._bad_keys.add(key)
                    log.warning("metric %r has a non-numeric value %r; skipped", key, value)
        with self._mutex:
            if self.read_only:
                raise StoreReadOnly("this run database is open read-only")
            self._rows.extend(rows)
            self._touched.add(run_id)
            due = (
                len(self._rows) >= self.flush_rows
                or time.monotonic() - self._last_flush >= self.flush_seconds
            )
        if due:
            self.flush()

    def _queue(self, run_id: int, sql: str, params: tuple) -> None:
        with self._mutex:
            if self.read_only:
                raise StoreReadOnly("this run database is open read-only")
            self._other.append((sql, params))
            self._touched.add(run_id)

    def log_best(self, run_id: int, step: int, score: float, code: str) -> None:
        """A new best program of the run."""
        self._queue(
            run_id,
            "INSERT INTO best_programs (run_id, step, score, code, at) VALUES (?, ?, ?, ?, ?)",
            (run_id, step, float(score), code, time.time()),
        )

    def log_hint(
        self, run_id: int, step: int, text: str, forced: bool, effect: dict[str, Any]
    ) -> None:
        """A hint given (forced: asked for by the person) and its measured effect."""
        self._queue(
            run_id,
            "INSERT INTO hints (run_id, step, text, forced, effect, at) VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, step, text, int(bool(forced)), _json(effect), time.time()),
        )

    def log_event(self, run_id: int, step: int, kind: str, message: str) -> None:
        """Something that happened in a run (task switch, lr cut, save, error, ...)."""
        self._queue(
            run_id,
            "INSERT INTO events (run_id, step, kind, message, at) VALUES (?, ?, ?, ?, ?)",
            (run_id, step, kind, message, time.time()),
        )

    def end_run(self, run_id: int, outcome: str, summary: dict[str, Any]) -> None:
        """Close a run: outcome solved|budget|stopped|error, summary = RunSummary.to_json()."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}, got {outcome!r}")
        self.flush()
        with self._mutex:
            now = time.time()
            self._writer().execute(
                "UPDATE runs SET outcome = ?, summary = ?, ended_at = ?, updated_at = ? "
                "WHERE id = ?",
                (outcome, _json(summary), now, now, run_id),
            )
        log.info("ended run %d: %s", run_id, outcome)

    def flush(self) -> None:
        """Write everything buffered in one transaction. Never raises for a database failure."""
        with self._mutex:
            self._last_flush = time.monotonic()
            if self.read_only or self._conn is None or not (self._rows or self._other):
                return
            rows, other, touched = self._rows, self._other, self._touched
            self._rows, self._other, self._touched = [], [], set()
            conn = self._conn
            new_keys: dict[str, int] = {}
            try:
                conn.execute("BEGIN")
                # ids in first-logged order, so metrics() lists keys the way they were logged
                for name in dict.fromkeys(r[2] for r in rows if r[2] not in self._key_ids):
                    conn.execute("INSERT OR IGNORE INTO metric_keys (name) VALUES (?)", (name,))
                    new_keys[name] = conn.execute(
                        "SELECT id FROM metric_keys WHERE name = ?", (name,)
                    ).fetchone()[0]
                ids = self._key_ids | new_keys
                conn.executemany(
                    "INSERT OR REPLACE INTO metrics (run_id, step, key_id, value) VALUES (?, ?, ?, ?)",
                    [(r, s, ids[k], v) for r, s, k, v in rows],
                )
                for sql, params in other:
                    conn.execute(sql, params)
                now = time.time()
                conn.executemany(
                    "UPDATE runs SET updated_at = ? WHERE id = ?", [(now, i) for i in touched]
                )
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                self.dropped_rows += len(rows) + len(other)
                log.error("run database write failed (%s); %d rows lost", e, len(rows) + len(other))
                return
            self._key_ids.update(new_keys)

    def close(self) -> None:
        """Flush and close. Safe to call twice."""
        with self._mutex:
            if self._conn is None:
                return
            self.flush()
            self._conn.close()
            self._conn = None

    # ---- reading -------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._mutex:
            if not self.read_only:
                self.flush()
            conn = self._reader()
            if conn is None:
                return []
            return conn.execute(sql, params).fetchall()

    _RUN_SELECT = (
        "SELECT r.*, (SELECT max(step) FROM metrics m WHERE m.run_id = r.id) AS last_step, "
        "(SELECT max(score) FROM best_programs b WHERE b.run_id = r.id) AS best_logged "
        "FROM runs r"
    )

    def _run_dict(self, row: sqlite3.Row) -> dict[str, Any]:
        summary = _loads(row["summary"])
        outcome = row["outcome"]
        if outcome is None:
            alive = row["host"] == self._host and _pid_alive(row["pid"])
            outcome = "running" if alive else "interrupted"
        end = row["ended_at"] or row["updated_at"]
        if outcome == "running":
            end = time.time()
        seconds = summary.get("seconds")
        if seconds is None and end is not None:
            seconds = max(0.0, end - row["started_at"])
        attempts = summary.get("attempts")
        if attempts is None and row["last_step"] is not None:
            attempts = max(0, int(row["last_step"]) - int(row["start_step"] or 0))
        best = summary.get("best_score", row["best_logged"])
        return {
            "id": row["id"],
            "kind": row["kind"],
            "task": row["task"],
            "seed": row["seed"],
            "algo": row["algo"],
            "config": _loads(row["config"]),
            "start_step": row["start_step"],
            "started_at": row["started_at"],
            "ended_at": row["ended_at"],
            "outcome": outcome,
            "seconds": seconds,
            "attempts": attempts,
            "attempts_to_solve": summary.get("attempts_to_solve"),
            "best_score": best,
            "solved": bool(summary.get("solved", outcome == "solved")),
            "summary": summary,
        }

    def list_runs(self, task: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Runs oldest first. `task` matches with or without the `benchmark_` prefix."""
        where, params = [], []
        if task:
            base = task.removeprefix("benchmark_")
            where.append("r.task IN (?, ?)")
            params += [base, "benchmark_" + base]
        if kind:
            where.append("r.kind = ?")
            params.append(kind)
        sql = self._RUN_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        return [self._run_dict(r) for r in self._query(sql + " ORDER BY r.id", tuple(params))]

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._query(self._RUN_SELECT + " WHERE r.id = ?", (int(run_id),))
        return self._run_dict(rows[0]) if rows else None

    def metrics(self, run_id: int) -> list[tuple[int, str, float]]:
        """(step, key, value) rows of a run by step, keys in first-logged order; NaN stays NaN.

        A key logged twice at the same step keeps the last value.
        """
        rows = self._query(
            "SELECT m.step, k.name, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id "
            "WHERE m.run_id = ? ORDER BY m.step, m.key_id",
            (int(run_id),),
        )
        return [(r[0], r[1], math.nan if r[2] is None else r[2]) for r in rows]

    def best_programs(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT step, score, code, at FROM best_programs WHERE run_id = ? ORDER BY id",
            (int(run_id),),
        )
        return [dict(r) for r in rows]

    def hints(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT step, text, forced, effect, at FROM hints WHERE run_id = ? ORDER BY id",
            (int(run_id),),
        )
        return [
            {**dict(r), "forced": bool(r["forced"]), "effect": _loads(r["effect"])} for r in rows
        ]

    def events(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT step, kind, message, at FROM events WHERE run_id = ? ORDER BY id",
            (int(run_id),),
        )
        return [dict(r) for r in rows]

    def journal_mode(self) -> str:
        rows = self._query("PRAGMA journal_mode")
        return str(rows[0][0]) if rows else ""

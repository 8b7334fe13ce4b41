"""The `paths`, `history` and `export` subcommands: read the store, print or write files.

Handlers take the argparse namespace and return the exit code (0 ok, 2 bad input). They open
the store read-only, so they work while a training run holds the writer lock.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from engine.store import Store, atomic_writer, paths

TENSORBOARD_MISSING = (
    "tensorboard export needs the optional extra: pip install 'altlas-tui[tensorboard]'"
)
EXPORT_FORMATS = ("csv", "jsonl", "tensorboard")


def _error(command: str, message: str) -> int:
    print(f"altlas-tui {command}: {message}", file=sys.stderr)
    return 2


def _show_notices(store: Store) -> None:
    for note in store.notices:
        print(f"warning: {note}", file=sys.stderr)


# ---- paths ---------------------------------------------------------------------------------


def cmd_paths(args: Any) -> int:
    """Print the data, config, state, log and cache folders, one per line."""
    for name, folder in paths().as_dict().items():
        print(f"{name:<8}{folder}")
    return 0


# ---- history -------------------------------------------------------------------------------

_COLUMNS = (
    ("id", ">"), ("kind", "<"), ("task", "<"), ("seed", ">"), ("algo", "<"), ("started", "<"),
    ("seconds", ">"), ("outcome", "<"), ("attempts", ">"), ("to solve", ">"), ("best", ">"),
    ("solution", "<"),
)  # fmt: skip
SOLUTION_WIDTH = 40  # the minimal solution on one line (⏎ for newlines), cut to this


def _cells(run: dict[str, Any]) -> list[str]:
    def num(v: Any) -> str:
        return "-" if v is None else f"{int(v):,}"

    seconds = run.get("seconds")
    best = run.get("best_score")
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started_at"]))
    return [
        str(run["id"]),
        run["kind"],
        run["task"],
        "-" if run["seed"] is None else str(run["seed"]),
        run["algo"] or "-",
        started,
        "-" if seconds is None else f"{seconds:,.1f}",
        run["outcome"],
        num(run.get("attempts")),
        num(run.get("attempts_to_solve")),
        "-" if best is None else f"{best:.3f}",
        _solution(run),
    ]


def _solution(run: dict[str, Any]) -> str:
    """The run's (minimal) solution on one line, or "" when it found none."""
    summary = run.get("summary")
    code = summary.get("solution") if isinstance(summary, dict) else None
    if not code:
        return ""
    line = " ⏎ ".join(ln.rstrip() for ln in str(code).strip().splitlines())
    return line if len(line) <= SOLUTION_WIDTH else line[: SOLUTION_WIDTH - 1] + "…"


def format_history(runs: list[dict[str, Any]]) -> str:
    """Runs as an aligned plain-text table, oldest first."""
    rows = [[name for name, _ in _COLUMNS]] + [_cells(r) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = []
    for row in rows:
        parts = [
            f"{cell:{align}{width}}"
            for cell, (_, align), width in zip(row, _COLUMNS, widths, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def cmd_history(args: Any) -> int:
    """Print training, bench and sweep runs (newest last); --json prints one JSON array."""
    task = getattr(args, "task", None)
    with Store(read_only=True) as store:
        runs = store.runs.list_runs(task=task)
        _show_notices(store)
    if getattr(args, "json", False):
        print(json.dumps([_jsonable(r) for r in runs]))
        return 0
    if not runs:
        print("no runs recorded yet" + (f" for task {task}" if task else ""))
        return 0
    print(format_history(runs))
    return 0


# ---- export --------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def _tensorboard_writer(out: Path) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(out))


def _write_run_json(store: Store, run: dict[str, Any], out: Path) -> Path:
    doc = dict(run)
    doc["best_programs"] = store.runs.best_programs(run["id"])
    doc["hints"] = store.runs.hints(run["id"])
    doc["events"] = store.runs.events(run["id"])
    target = out / "run.json"
    with atomic_writer(target, "w", encoding="utf-8") as f:
        json.dump(_jsonable(doc), f, indent=2)
        f.write("\n")
    return target


def _write_csv(rows: list[tuple[int, str, float]], out: Path) -> Path:
    target = out / "metrics.csv"
    with atomic_writer(target, "w", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["step", "key", "value"])
        writer.writerows((step, key, repr(value)) for step, key, value in rows)
    return target


def _write_jsonl(rows: list[tuple[int, str, float]], out: Path) -> Path:
    """One object per step: {"step": 128, "rollout/score_mean": 0.31, ...}."""
    target = out / "metrics.jsonl"
    with atomic_writer(target, "w", encoding="utf-8") as f:
        current: dict[str, Any] | None = None
        for step, key, value in rows:
            if current is None or current["step"] != step:
                if current is not None:
                    f.write(json.dumps(_jsonable(current)) + "\n")
                current = {"step": step}
            current[key] = value
        if current is not None:
            f.write(json.dumps(_jsonable(current)) + "\n")
    return target


def _write_tensorboard(store: Store, run: dict[str, Any], rows: list, out: Path) -> None:
    writer = _tensorboard_writer(out)
    try:
        writer.add_text("run/config", "```\n" + json.dumps(run["config"], indent=2) + "\n```", 0)
        for step, key, value in rows:
            writer.add_scalar(key, value, step)
        for best in store.runs.best_programs(run["id"]):
            writer.add_text("best_program", "```python\n" + best["code"] + "\n```", best["step"])
        for hint in store.runs.hints(run["id"]):
            writer.add_text("hints", f"{hint['text']} (effect: {hint['effect']})", hint["step"])
    finally:
        writer.close()


def cmd_export(args: Any) -> int:
    """Write a run's metrics as csv (metrics.csv + run.json), jsonl or TensorBoard event files."""
    fmt = getattr(args, "format", "csv")
    if fmt not in EXPORT_FORMATS:
        return _error("export", f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    try:
        run_id = int(args.run_id)
    except (TypeError, ValueError):
        return _error("export", f"RUN_ID must be a number, not {args.run_id!r}")
    if fmt == "tensorboard" and not _tensorboard_available():
        return _error("export", TENSORBOARD_MISSING)
    out = Path(getattr(args, "out", None) or f"altlas-run-{run_id}").expanduser()
    if out.exists() and not out.is_dir():
        return _error("export", f"{out}: --out must be a directory, and this is a file")
    with Store(read_only=True) as store:
        _show_notices(store)
        run = store.runs.get_run(run_id)
        if run is None:
            return _error("export", f"no run with id {run_id} (altlas-tui history lists them)")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return _error("export", f"{out}: cannot create the directory ({e.strerror or e})")
        rows = store.runs.metrics(run_id)
        if fmt == "tensorboard":
            _write_tensorboard(store, run, rows, out)
            written = [out]
        else:
            data = _write_csv(rows, out) if fmt == "csv" else _write_jsonl(rows, out)
            written = [data, _write_run_json(store, run, out)]
    print(f"exported run {run_id} ({len(rows):,} metric rows): " + ", ".join(map(str, written)))
    return 0

"""`altlas-tui bench`: tasks x seeds from fresh state, one table (or one JSON array)."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

from altlas_tui.cli.common import (
    StopSignals,
    add_config_flags,
    load_config,
    open_store,
    positive_float,
    positive_int,
)
from altlas_tui.cli.progress import RunProgress, print_out
from altlas_tui.cli.train import init_from_task, warm_start_for
from engine.errors import InputError

log = logging.getLogger("altlas.cli")
BENCH_MAX_ATTEMPTS = 200_000


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "bench",
        help="tasks x seeds, table of results",
        description="Run tasks x seeds from fresh state (hints off unless --hints) and print a "
        "table; results go into the run history. --task-file alone runs just those files.",
    )
    b.add_argument("--tasks", help="comma-separated task names (default: the shipped benchmarks)")
    b.add_argument("--task-file", action="append", default=[], metavar="PATH",
                   help="a task file (repeatable); alone, only these files run")  # fmt: skip
    b.add_argument("--seeds", type=positive_int, default=5, metavar="N",
                   help="seeds per task (default 5)")  # fmt: skip
    b.add_argument("--max-attempts", type=positive_int, default=BENCH_MAX_ATTEMPTS, metavar="N",
                   help=f"budget per run (default {BENCH_MAX_ATTEMPTS:,})")  # fmt: skip
    b.add_argument("--max-seconds", type=positive_float, metavar="S", help="time budget per run")
    b.add_argument("--algo", choices=("default", "random"), help="default or random")
    b.add_argument("--hints", action="store_true", help="allow hints")
    b.add_argument("--json", action="store_true", help="print one JSON array of run summaries")
    b.add_argument("--init-from", metavar="TASK", help="start every run from the saved policy "
                   "weights of TASK (same language; compare with a bench without it)")  # fmt: skip
    add_config_flags(b)
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.control import Control
    from engine.controller import Engine
    from engine.summary import RunSummary
    from engine.tasks import list_tasks, load_task

    overrides: dict[str, dict[str, Any]] = {}
    if args.algo:
        overrides.setdefault("train", {})["algo"] = args.algo
    config = load_config(args, overrides)
    tasks = [load_task(name.strip()) for name in (args.tasks or "").split(",") if name.strip()]
    if not args.tasks and not args.task_file:  # neither: the shipped benchmarks
        tasks = [t for t in list_tasks() if "benchmarks" in Path(t.path).parts]
    tasks += [load_task(p) for p in args.task_file]
    if not tasks:
        raise InputError("no tasks to run", "--tasks")
    source = init_from_task(args.init_from)
    if source is not None and config.train.algo == "random":
        raise InputError("--algo random has no weights to start from", "command line",
                         "--init-from")  # fmt: skip
    store = open_store(command="bench")
    try:  # every task checked before the first run starts
        warm = {t.name: warm_start_for(store, source, t, config) for t in tasks} if source else {}
    except BaseException:
        store.close()
        raise
    summaries: list[RunSummary] = []
    failed = 0
    control = Control()
    signals = StopSignals(control)
    try:
        runs = [(task, seed) for task in tasks for seed in range(args.seeds)]
        for n, (task, seed) in enumerate(runs, 1):
            if control.stopping:
                break
            label = f"[{n}/{len(runs)}] {task.name} seed {seed}"
            progress = RunProgress(False, args.max_attempts, args.max_seconds, label)
            engine = Engine(config, task, store=BenchStore(store), fresh=True, stop_on_solve=True,
                            hints=args.hints, seed=seed, on_batch=progress,
                            warm_start=warm.get(task.name))  # fmt: skip
            try:
                summary = engine.run(
                    control, max_attempts=args.max_attempts, max_seconds=args.max_seconds
                )
            except Exception as exc:  # noqa: BLE001 - one failed run must not lose the others
                log.exception("bench run %s failed", label)
                sys.stderr.write(f"{label}: error: {type(exc).__name__}: {exc}\n")
                failed += 1
                continue
            finally:
                progress.close()
            summaries.append(summary)
            if not args.json:
                state = (
                    f"solved at {summary.attempts_to_solve:,}" if summary.solved else "not solved"
                )
                sys.stderr.write(
                    f"{label}: {state} ({summary.attempts:,} attempts, {summary.seconds:.1f} s)\n"
                )
    finally:
        signals.restore()
        store.close()
    if args.json:
        print_out(json.dumps([s.to_json() for s in summaries]))
    else:
        print_out(format_bench_table(summaries, args.max_attempts))
        if failed:
            sys.stderr.write(f"{failed} run(s) failed with an error (details in the log file)\n")
    if signals.exit_code:
        return signals.exit_code
    return 1 if failed else 0


class BenchStore:
    """The run store for bench runs: history is recorded, the user's task checkpoints are untouched."""

    def __init__(self, store) -> None:
        self._store = store
        self.runs = _BenchRuns(store.runs)

    def load_task_state(self, task, expect=None):
        return None

    def save_task_state(self, task, state):
        return Path("(bench: no checkpoint)")

    def set_last_task(self, name) -> None:
        pass


class _BenchRuns:
    def __init__(self, runs) -> None:
        self._runs = runs

    def start_run(self, task, seed, algo, config, kind="bench", start_step=0):
        return self._runs.start_run(task, seed, algo, config, kind="bench")

    def __getattr__(self, name):
        return getattr(self._runs, name)


def format_bench_table(summaries, budget: int | None = None) -> str:
    by_task: dict[str, list] = {}
    for s in summaries:
        by_task.setdefault(s.task, []).append(s)
    head = f"{'task':<22} {'algo':<8} {'solved':>7} {'median attempts':>16} {'median s':>9} {'attempts/s':>11}  best program"
    lines = [head, "-" * len(head)]
    for task, runs in by_task.items():
        solved = [r for r in runs if r.solved]
        # unsolved runs count as their full budget (the bench's cap) in the median
        attempts = [r.attempts_to_solve if r.solved else max(r.attempts, budget or 0) for r in runs]
        med_att = statistics.median(attempts) if attempts else 0
        med_s = statistics.median([r.seconds for r in runs])
        aps = sum(r.attempts for r in runs) / max(1e-9, sum(r.seconds for r in runs))
        best = max(runs, key=lambda r: (r.solved, r.best_score))
        prog = (best.solution or best.best_code).strip().replace("\n", " \u23ce ")
        unsolved_mark = "" if len(solved) * 2 > len(runs) else "+"
        lines.append(
            f"{task:<22} {runs[0].algo:<8} {len(solved):>3}/{len(runs):<3} {med_att:>15,.0f}{unsolved_mark:1} "
            f"{med_s:>9.1f} {aps:>11,.0f}  {prog[:70]}"
        )
    lines.append(
        "(median attempts counts an unsolved run as its budget; '+' marks a median that is a lower bound)"
    )
    return "\n".join(lines)

"""`altlas-tui`: the TUI by default, plus headless train/bench/score/tasks/paths/history/export/sweep.

Bad input (unknown task, invalid file, bad flag) gets one line on stderr and exit code 2; tracebacks go
to the log file only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import InputError

log = logging.getLogger("altlas.cli")

DEFAULT_TASK = "add_two_numbers"
BENCH_MAX_ATTEMPTS = 200_000


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="altlas-tui",
        description="An agent that learns to write Python by reinforcement learning, from scratch. "
        "With no command, opens the terminal app to watch and steer it.",
        epilog="Environment: ALTLAS_HOME=DIR keeps all data under DIR; ALTLAS_<SECTION>_<KEY>=value "
        "overrides a config key (e.g. ALTLAS_TRAIN_LR=0.001). Run `altlas-tui paths` to see where "
        "config.toml lives.",
    )
    p.add_argument("--task", help="task name (default: last used, else add_two_numbers)")
    p.add_argument("--task-file", metavar="PATH", help="a task JSON file")
    p.add_argument("--fps", type=int, metavar="N", help="screen refreshes per second (SSH: try 2)")
    p.add_argument(
        "--low-bandwidth",
        action="store_true",
        help="text and sparklines only: no plots, no animations",
    )
    p.add_argument("--fresh", action="store_true", help="ignore the task's saved state")
    _common(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser(
        "train",
        help="headless training with a progress bar",
        description="Train on one task without the TUI. Resumes the task's saved state unless --fresh; stops when solved or out of budget.",
    )
    t.add_argument("--task", help="task name")
    t.add_argument("--task-file", metavar="PATH", help="a task JSON file")
    t.add_argument("--seed", type=int, help="random seed (default: config train.seed)")
    t.add_argument("--max-attempts", type=int, metavar="N", help="stop after N programs")
    t.add_argument("--max-seconds", type=float, metavar="S", help="stop after S seconds")
    t.add_argument(
        "--algo",
        choices=("default", "random"),
        help="default: learn; random: uniform search over the same grammar",
    )
    t.add_argument("--no-hints", action="store_true", help="never give hints")
    t.add_argument(
        "--fresh", action="store_true", help="start from fresh weights, ignoring saved state"
    )
    t.add_argument(
        "--json", action="store_true", help="JSON lines: progress events and a final summary"
    )
    _common(t)

    b = sub.add_parser(
        "bench",
        help="tasks x seeds, table of results",
        description="Run tasks x seeds from fresh state (hints off unless --hints) and print a table; results go into the run history.",
    )
    b.add_argument("--tasks", help="comma-separated task names (default: the shipped benchmarks)")
    b.add_argument(
        "--task-file",
        action="append",
        default=[],
        metavar="PATH",
        help="extra task file (repeatable)",
    )
    b.add_argument("--seeds", type=int, default=5, metavar="N", help="seeds per task (default 5)")
    b.add_argument(
        "--max-attempts",
        type=int,
        default=BENCH_MAX_ATTEMPTS,
        metavar="N",
        help=f"budget per run (default {BENCH_MAX_ATTEMPTS:,})",
    )
    b.add_argument("--max-seconds", type=float, metavar="S", help="time budget per run")
    b.add_argument("--algo", choices=("default", "random"), help="default or random")
    b.add_argument("--hints", action="store_true", help="allow hints")
    b.add_argument("--json", action="store_true", help="print one JSON array of run summaries")
    _common(b)

    s = sub.add_parser(
        "score",
        help="score a hand-written program",
        description="Run and score one program against a task: every component, the total, success and why not.",
    )
    s.add_argument("--task", help="task name")
    s.add_argument("--task-file", metavar="PATH", help="a task JSON file")
    s.add_argument("file", metavar="FILE", help="the Python program ('-' for stdin)")
    s.add_argument("--json", action="store_true", help="JSON output")
    _common(s)

    tk = sub.add_parser("tasks", help="task catalogue and validation")
    tsub = tk.add_subparsers(
        dest="tasks_command", metavar="list|show|validate", parser_class=_Parser
    )
    tsub.required = True
    tl = tsub.add_parser("list", help="list available tasks")
    tl.add_argument("--json", action="store_true")
    ts = tsub.add_parser("show", help="show one task")
    ts.add_argument("name")
    tv = tsub.add_parser("validate", help="check a task file strictly (exit 2 when invalid)")
    tv.add_argument("file")

    sub.add_parser("paths", help="where data, config, state and logs live")

    h = sub.add_parser("history", help="runs and bench results over time")
    h.add_argument("--task", help="only this task")
    h.add_argument("--json", action="store_true")

    e = sub.add_parser("export", help="export one run's metrics")
    e.add_argument("run_id", type=int, metavar="RUN_ID")
    e.add_argument("--format", choices=("csv", "jsonl", "tensorboard"), default="csv")
    e.add_argument("--out", required=True, metavar="DIR")

    w = sub.add_parser("sweep", help="tasks x seeds x settings on a process pool or Ray")
    w.add_argument("--tasks", required=True, help="comma-separated task names")
    w.add_argument("--seeds", type=int, default=2, metavar="N")
    w.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="e.g. train.lr=0.001,0.002 (repeatable)",
    )
    w.add_argument("--max-attempts", type=int, default=50_000, metavar="N")
    w.add_argument("--backend", choices=("local", "ray"), default="local")
    w.add_argument("--address", metavar="ADDR", help="Ray cluster address")
    w.add_argument("--workers", type=int, metavar="N", help="parallel runs (default: cores - 1)")
    w.add_argument("--json", action="store_true")
    w.add_argument("--config", metavar="FILE", help="config TOML")
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", metavar="FILE", help="config TOML (default: the config dir's config.toml)"
    )
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config key, e.g. train.batch_size=64 (repeatable)")  # fmt: skip


# -- helpers ----------------------------------------------------------------------------------------


def _load_config(args: argparse.Namespace, overrides: dict[str, dict[str, Any]] | None = None):
    from engine import config as cfgmod
    from engine.store import paths

    path = getattr(args, "config", None) or paths().config_file
    if getattr(args, "config", None) and not Path(args.config).exists():
        raise InputError("file not found", args.config)
    config = cfgmod.load(path)
    flat: dict[str, dict[str, Any]] = {}
    for text in getattr(args, "overrides", []) or []:
        section, key, value = cfgmod.parse_assignment(text)
        flat.setdefault(section, {})[key] = value
    if flat:
        cfgmod.apply(config, flat, "--set", from_text=True)
    if overrides:
        cfgmod.apply(config, overrides, "command line")
    return config


def _task_arg(args: argparse.Namespace, required: bool = True) -> str | None:
    if getattr(args, "task_file", None):
        return args.task_file
    if getattr(args, "task", None):
        return args.task
    if required:
        raise InputError("--task NAME or --task-file PATH is required", "command line", "--task")
    return None


def _install_stop_signals(control) -> None:
    """Ctrl+C, SIGTERM and SIGHUP (SSH dropped) stop the engine cleanly: it saves once and exits."""

    def handler(signum, frame):  # noqa: ARG001
        if control.stopping:  # a second Ctrl+C: give up waiting
            raise KeyboardInterrupt
        control.stop()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


class _Progress:
    """A one-line progress bar on stderr (terminals only), or JSON progress lines on stdout."""

    def __init__(
        self, json_lines: bool, max_attempts: int | None, max_seconds: float | None, label: str = ""
    ) -> None:
        self.json_lines = json_lines
        self.tty = sys.stderr.isatty()
        self.max_attempts, self.max_seconds = max_attempts, max_seconds
        self.label = label
        self.last = 0.0

    def __call__(self, snap) -> None:
        now = time.monotonic()
        if now - self.last < (1.0 if self.json_lines else 0.2):
            return
        self.last = now
        if self.json_lines:
            print(json.dumps({
                "event": "progress", "task": snap.task_name, "attempts": snap.attempts,
                "total_attempts": snap.total_attempts, "best_score": round(snap.best_score, 4),
                "score_mean": round(snap.score_history[-1], 4) if snap.score_history else 0.0,
                "attempts_per_second": round(snap.attempts_per_second, 1),
                "unique_programs": snap.unique_programs, "hints_provided": snap.hints_provided,
                "solved": snap.solution is not None,
            }), flush=True)  # fmt: skip
        elif self.tty:
            frac = None
            if self.max_attempts:
                frac = snap.attempts / self.max_attempts
            elif self.max_seconds:
                frac = snap.elapsed / self.max_seconds
            bar = ""
            if frac is not None:
                n = int(24 * min(1.0, frac))
                bar = "[" + "#" * n + "." * (24 - n) + f"] {100 * min(1.0, frac):3.0f}% "
            sys.stderr.write(
                f"\r{self.label}{bar}{snap.attempts:>9,} attempts  {snap.attempts_per_second:>6,.0f}/s  "
                f"best {snap.best_score:.3f}  unique {snap.unique_programs:,}  hints {snap.hints_provided}\x1b[K"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty and not self.json_lines:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _open_store(read_only: bool = False):
    from engine.store import LockHeld, Store

    try:
        return Store(read_only=read_only)
    except LockHeld as exc:
        raise InputError(
            f"{exc} (another altlas-tui is training here; wait for it or stop it)"
        ) from None


# -- commands ---------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from engine.control import Control
    from engine.controller import Engine
    from engine.summary import render_text
    from engine.tasks import load_task

    overrides: dict[str, dict[str, Any]] = {}
    if args.algo:
        overrides.setdefault("train", {})["algo"] = args.algo
    if args.seed is not None:
        overrides.setdefault("train", {})["seed"] = args.seed
    config = _load_config(args, overrides)
    task = load_task(_task_arg(args))
    store = _open_store()
    try:
        control = Control()
        _install_stop_signals(control)
        progress = _Progress(args.json, args.max_attempts, args.max_seconds)
        engine = Engine(config, task, store=store, fresh=args.fresh, stop_on_solve=True,
                        hints=False if args.no_hints else None, on_batch=progress)  # fmt: skip
        try:
            summary = engine.run(
                control, max_attempts=args.max_attempts, max_seconds=args.max_seconds
            )
        finally:
            progress.close()
    finally:
        store.close()
    if args.json:
        print(json.dumps(summary.to_json()), flush=True)
    else:
        print(render_text(summary))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from engine.control import Control
    from engine.controller import Engine
    from engine.tasks import list_tasks, load_task

    overrides: dict[str, dict[str, Any]] = {}
    if args.algo:
        overrides.setdefault("train", {})["algo"] = args.algo
    config = _load_config(args, overrides)
    if args.tasks:
        tasks = [load_task(name.strip()) for name in args.tasks.split(",") if name.strip()]
    else:
        tasks = [t for t in list_tasks() if "benchmarks" in Path(t.path).parts]
    tasks += [load_task(p) for p in args.task_file]
    if not tasks:
        raise InputError("no tasks to run", "--tasks")
    if args.seeds < 1:
        raise InputError("must be at least 1", "--seeds")
    store = _open_store()
    summaries = []
    try:
        control = Control()
        _install_stop_signals(control)
        runs = [(task, seed) for task in tasks for seed in range(args.seeds)]
        for n, (task, seed) in enumerate(runs, 1):
            if control.stopping:
                break
            label = f"[{n}/{len(runs)}] {task.name} seed {seed}: "
            progress = _Progress(False, args.max_attempts, args.max_seconds, label)
            engine = Engine(config, task, store=_BenchStore(store), fresh=True, stop_on_solve=True,
                            hints=args.hints, seed=seed, on_batch=progress)  # fmt: skip
            try:
                summary = engine.run(
                    control, max_attempts=args.max_attempts, max_seconds=args.max_seconds
                )
            finally:
                progress.close()
            summaries.append(summary)
            if not args.json:
                state = (
                    f"solved at {summary.attempts_to_solve:,}" if summary.solved else "not solved"
                )
                sys.stderr.write(
                    f"{label}{state} ({summary.attempts:,} attempts, {summary.seconds:.1f} s)\n"
                )
    finally:
        store.close()
    if args.json:
        print(json.dumps([s.to_json() for s in summaries]))
    else:
        print(format_bench_table(summaries, args.max_attempts))
    return 0


class _BenchStore:
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


def cmd_score(args: argparse.Namespace) -> int:
    from engine.scorer import score_program
    from engine.tasks import load_task

    task = load_task(_task_arg(args))
    try:
        code = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the program: {exc.__class__.__name__}", args.file) from None
    result = score_program(task, code)
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    print(f"Task     {task.name}   expected output: {task.expected_output!r}")
    print(f"Status   {result.status}   stdout: {result.stdout[:200]!r}")
    for name, value in result.components.items():
        print(f"  {name:<22} {value:6.3f}")
    print(f"Score    {result.score:.3f}")
    print(f"Success  {'yes' if result.success else 'no'}")
    for reason in result.reasons:
        print(f"  - {reason}")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from engine.tasks import list_tasks, load_task, validate_task_file

    if args.tasks_command == "list":
        tasks = list_tasks()
        if getattr(args, "json", False):
            print(json.dumps([{"name": t.name, "difficulty": t.difficulty, "path": t.path,
                               "expected_output": t.expected_output} for t in tasks]))  # fmt: skip
            return 0
        print(f"{'name':<26} {'difficulty':<13} {'tokens':>6}  description")
        for t in tasks:
            desc = t.description.split(" (")[0]
            print(f"{t.name:<26} {t.difficulty:<13} {t.max_tokens:>6}  {desc[:80]}")
        return 0
    if args.tasks_command == "show":
        t = load_task(args.name)
        print(f"name          {t.name}\nfile          {t.path}\ndifficulty    {t.difficulty}")
        print(f"description   {t.description}\nexpected      {t.expected_output!r}")
        print(f"max tokens    {t.max_tokens}")
        for label, items in (("operators", t.required_operators), ("numbers", t.required_numbers),
                             ("strings", t.required_strings), ("keywords", t.required_keywords)):  # fmt: skip
            if items:
                print(f"requires {label:<5} {', '.join(map(str, items))}")
        print(f"valid patterns {len(t.valid_patterns)}")
        return 0
    task = validate_task_file(args.file)
    print(f"{args.file}: valid ({task.name}, {len(task.valid_patterns)} patterns)")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from engine import sweep

    config = _load_config(args)
    return sweep.run_cli(args, config)


def cmd_tui(args: argparse.Namespace) -> int:
    # Rendering settings must be in the environment before Textual is imported.
    if args.low_bandwidth:
        os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    if args.fps:
        if args.fps < 1:
            raise InputError("must be at least 1", "--fps")
        os.environ["TEXTUAL_FPS"] = str(args.fps)
    from engine.store import LockHeld, Store
    from engine.summary import render_text
    from engine.tasks import load_task

    config = _load_config(args)
    task = args.task_file or args.task
    if task is None:
        try:
            reader = Store(read_only=True)
            task = reader.last_task()
            reader.close()
        except Exception:
            task = None
        task = task or DEFAULT_TASK
    load_task(task)  # fail early, before the screen is taken over
    try:
        probe = Store()
        probe.close()
    except LockHeld as exc:
        raise InputError(
            f"{exc} (another altlas-tui is training here; `altlas-tui history` reads its runs)"
        ) from None
    from altlas_tui.app import run_app

    code, summary = run_app(config, task, task_file=args.task_file, fps=args.fps,
                            low_bandwidth=args.low_bandwidth, fresh=args.fresh)  # fmt: skip
    if summary is not None:
        print(render_text(summary))
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from engine.store import setup_logging

        setup_logging()
    except Exception:  # logging must never stop the tool
        pass
    handlers = {
        "train": cmd_train, "bench": cmd_bench, "score": cmd_score, "tasks": cmd_tasks,
        "sweep": cmd_sweep, None: cmd_tui,
    }  # fmt: skip
    try:
        if args.command in ("paths", "history", "export"):
            from altlas_tui import store_cli

            return {"paths": store_cli.cmd_paths, "history": store_cli.cmd_history,
                    "export": store_cli.cmd_export}[args.command](args)  # fmt: skip
        return handlers[args.command](args)
    except InputError as exc:
        sys.stderr.write(f"altlas-tui: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("altlas-tui: interrupted\n")
        return 130
    except Exception as exc:
        log.exception("internal error")
        sys.stderr.write(
            f"altlas-tui: internal error: {exc.__class__.__name__}: {exc} (details in the log file)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

"""`altlas-tui train`: headless training with a progress bar, serving `attach` viewers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from altlas_tui.cli.common import (
    BROKEN_PIPE_EXIT,
    StopSignals,
    add_config_flags,
    load_config,
    non_negative_int,
    open_store,
    positive_float,
    positive_int,
    task_arg,
)
from altlas_tui.cli.progress import RunProgress, print_out
from engine.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser(
        "train",
        help="headless training with a progress bar",
        description="Train on one task without the TUI. Resumes the task's saved state unless "
        "--fresh; stops when solved or out of budget ([search] keep_training_after_solve trains "
        "on). --init-from starts it afresh from another task's saved weights. "
        "`altlas-tui attach` watches and steers it.",
    )
    t.add_argument("--task", help="task name")
    t.add_argument("--task-file", metavar="PATH", help="a task JSON file")
    t.add_argument("--seed", type=non_negative_int, help="random seed (default: config train.seed)")
    t.add_argument("--max-attempts", type=positive_int, metavar="N", help="stop after N programs")
    t.add_argument("--max-seconds", type=positive_float, metavar="S", help="stop after S seconds")
    t.add_argument(
        "--algo",
        choices=("default", "random"),
        help="default: learn; random: uniform search over the same grammar",
    )
    t.add_argument("--no-hints", action="store_true", help="never give hints")
    t.add_argument(
        "--fresh", action="store_true", help="start from fresh weights (the old state is archived)"
    )
    t.add_argument(
        "--init-from", metavar="TASK", help="start afresh from the saved policy weights of TASK "
        "(same language; tokens both tasks have keep their weights; the old state is archived)"
    )  # fmt: skip
    t.add_argument(
        "--json", action="store_true", help="JSON lines: progress events and a final summary"
    )
    add_config_flags(t)
    t.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.control import Control
    from engine.controller import Engine
    from engine.summary import render_text
    from engine.tasks import load_task

    overrides: dict[str, dict[str, Any]] = {}
    if args.algo:
        overrides.setdefault("train", {})["algo"] = args.algo
    if args.seed is not None:
        overrides.setdefault("train", {})["seed"] = args.seed
    config = load_config(args, overrides)
    task = load_task(task_arg(args))
    source = init_from_task(args.init_from)
    if source is not None and config.train.algo == "random":
        raise InputError("--algo random has no weights to start from", "command line",
                         "--init-from")  # fmt: skip
    store = open_store(command="train")
    try:
        warm = warm_start_for(store, source, task, config) if source is not None else None
    except BaseException:
        store.close()
        raise
    control = Control()
    signals = StopSignals(control)
    progress = RunProgress(args.json, args.max_attempts, args.max_seconds,
                           on_broken_pipe=lambda: control.stop("interrupted"))  # fmt: skip
    server = None
    engine = None
    try:
        # a run that keeps training after the solve goes on to its budget (or Ctrl+C)
        stop = not config.search.keep_training_after_solve
        engine = Engine(config, task, store=store, fresh=args.fresh, stop_on_solve=stop,
                        hints=False if args.no_hints else None, on_batch=progress,
                        warm_start=warm)  # fmt: skip
        server = start_server(engine, control, store)
        try:
            summary = engine.run(
                control, max_attempts=args.max_attempts, max_seconds=args.max_seconds
            )
        finally:
            progress.close()
    finally:
        if server is not None:
            server.close(engine.summary() if engine is not None else None)
        signals.restore()
        store.close()
    if summary.solved and summary.attempts == 0 and summary.outcome == "solved":
        sys.stderr.write(f"{summary.task} was solved in an earlier run: nothing to train "
                         "(--fresh starts over; --set search.keep_training_after_solve=true "
                         "trains on)\n")  # fmt: skip
    if engine is not None and engine.archived:
        sys.stderr.write(f"--fresh: archived the earlier state to {', '.join(engine.archived)}\n")
    if args.json:
        progress.emit(json.dumps(summary.to_json()))
    elif not progress.broken:
        print_out(render_text(summary))
    if progress.broken:
        return BROKEN_PIPE_EXIT
    return signals.exit_code or 0


def init_from_task(name: str | None):  # noqa: ANN201
    """The `--init-from` task, or None; an unknown one is a one-line error naming the flag."""
    if not name:
        return None
    from engine.tasks import load_task

    try:
        return load_task(name)
    except InputError as exc:
        raise InputError(str(exc), "command line", "--init-from") from None


def warm_start_for(store, source, task, config):  # noqa: ANN001, ANN201
    """Another task's saved weights for `--init-from`, checked against this task and config."""
    from engine.transfer import load_warm_start

    tc = config.train
    shape = {"embed_size": tc.embed_size, "hidden_size": tc.hidden_size,
             "num_layers": tc.num_layers}  # fmt: skip
    return load_warm_start(store, source, task, shape)


def start_server(engine, control, store):
    """Serve snapshots and commands to `attach` viewers (a failure here never stops training)."""
    import logging

    try:
        from altlas_tui.attach.server import SnapshotServer

        server = SnapshotServer.for_store(store, engine, control)
        server.start()
        return server
    except Exception as exc:  # noqa: BLE001 - attach is a convenience, training is the job
        logging.getLogger("altlas.cli").warning("attach server not started: %s", exc)
        return None

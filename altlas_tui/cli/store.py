"""`altlas-tui paths | history | export`: where things live and the run history."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from altlas_tui import store_cli

    p = sub.add_parser("paths", help="where data, config, state and logs live")
    p.set_defaults(func=store_cli.cmd_paths)

    h = sub.add_parser("history", help="runs and bench results over time")
    h.add_argument("--task", help="only this task")
    h.add_argument("--json", action="store_true")
    h.set_defaults(func=history)

    e = sub.add_parser("export", help="export one run's metrics")
    e.add_argument("run_id", type=int, metavar="RUN_ID")
    e.add_argument("--format", choices=("csv", "jsonl", "tensorboard"), default="csv")
    e.add_argument("--out", required=True, metavar="DIR")
    e.set_defaults(func=store_cli.cmd_export)


def history(args: argparse.Namespace) -> int:
    from altlas_tui import store_cli

    if args.task:  # an unknown task is a typo, not "no runs yet"
        from engine.errors import InputError
        from engine.tasks import load_task

        try:
            load_task(args.task)
        except InputError:
            if not _has_runs(args.task):  # a task file since removed still has its history
                raise
    return store_cli.cmd_history(args)


def _has_runs(task: str) -> bool:
    from engine.store import Store

    try:
        store = Store(read_only=True)
    except Exception:  # noqa: BLE001
        return False
    try:
        return bool(store.runs.list_runs(task))
    except Exception:  # noqa: BLE001
        return False
    finally:
        store.close()

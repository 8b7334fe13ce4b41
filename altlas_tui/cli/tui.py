"""`altlas-tui` with no command: the TUI on one task (or an offer to attach to a live run)."""

from __future__ import annotations

import argparse
import os
import sys

from altlas_tui.cli.common import DEFAULT_TASK, add_config_flags, load_config, positive_int
from altlas_tui.cli.progress import print_out
from engine.errors import InputError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", help="task name (default: last used, else add_two_numbers)")
    p.add_argument("--task-file", metavar="PATH", help="a task JSON file")
    p.add_argument("--fps", type=positive_int, metavar="N",
                   help="screen refreshes per second (SSH: try 2)")  # fmt: skip
    p.add_argument(
        "--low-bandwidth", action="store_true", help="text and sparklines only: no plots"
    )
    p.add_argument("--fresh", action="store_true", help="ignore the task's saved state")
    add_config_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Rendering settings must be in the environment before Textual is imported.
    if args.low_bandwidth:
        os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    if args.fps:
        os.environ["TEXTUAL_FPS"] = str(args.fps)
    from engine.store import LockHeld, Store
    from engine.summary import render_text
    from engine.tasks import load_task

    config = load_config(args)
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
        return _offer_attach(config, args, exc)
    from altlas_tui.app import run_app

    code, summary = run_app(config, task, task_file=args.task_file, fps=args.fps,
                            low_bandwidth=args.low_bandwidth, fresh=args.fresh)  # fmt: skip
    if summary is not None:
        print_out(render_text(summary))
    return code


def _offer_attach(config, args: argparse.Namespace, exc: Exception) -> int:
    """Another process trains here: attach to it (asking first on a terminal)."""
    from altlas_tui.attach import live_run
    from altlas_tui.cli.attach import attach

    if not live_run():
        raise InputError(f"{exc} (it does not serve viewers; wait for it or stop it)") from None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError(f"{exc} (`altlas-tui attach` watches it)") from None
    sys.stderr.write(f"A run is already training here ({exc}).\nAttach to it? [Y/n] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("", "y", "yes"):
        return 0
    return attach(config, fps=args.fps, low_bandwidth=args.low_bandwidth)

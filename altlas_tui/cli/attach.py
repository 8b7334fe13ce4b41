"""`altlas-tui attach [--read-only]`: the TUI on a run that is already training here."""

from __future__ import annotations

import argparse
import sys

from altlas_tui.cli.common import add_config_flags, load_config
from engine.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser(
        "attach",
        help="watch and steer a headless `train` running on this data dir",
        description="Open the TUI on a run that is already training (a headless `train` or "
        "another altlas-tui). q detaches; the run goes on. One viewer steers at a time.",
    )
    a.add_argument("--read-only", action="store_true", help="watch only, never steer")
    a.add_argument("--fps", type=int, metavar="N", help="screen refreshes per second")
    a.add_argument("--low-bandwidth", action="store_true", help="text and sparklines only")
    add_config_flags(a)
    a.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
    return attach(config, read_only=args.read_only, fps=args.fps,
                  low_bandwidth=args.low_bandwidth)  # fmt: skip


def attach(config, read_only: bool = False, fps: int | None = None,
           low_bandwidth: bool = False) -> int:  # fmt: skip
    """Connect, run the app over the connection, say how it ended."""
    from altlas_tui.attach import AttachError, RemoteEngine, connect

    try:
        conn = connect(steer=not read_only)
    except AttachError as exc:
        raise InputError(str(exc)) from None
    from altlas_tui.app import AltlasApp

    made: list[RemoteEngine] = []

    def factory(config, task, on_event=None, **kwargs):
        engine = RemoteEngine(conn, on_event=on_event, read_only=read_only)
        made.append(engine)
        return engine

    app = AltlasApp(config, str(conn.welcome.get("task") or "add_two_numbers"),
                    engine_factory=factory, fps=fps,
                    low_bandwidth=low_bandwidth or config.ui.low_bandwidth,
                    persist_theme_choice=True)  # fmt: skip
    app.attached = True
    try:
        app.run()
    finally:
        app.bridge.stop_and_join(timeout=10)
    engine = made[0] if made else None
    if engine is not None and engine.ended is not None:
        from engine.summary import render_text

        summary = engine.summary()
        print("The run ended while you watched.")
        if summary.task:
            print(render_text(summary))
    else:
        sys.stdout.write(
            f"Detached from the run (pid {conn.pid}); it goes on training. "
            "`altlas-tui attach` to come back.\n"
        )
    code = app.return_code or 0
    return 130 if code == 130 else (1 if app.engine_error else 0)

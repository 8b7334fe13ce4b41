"""`altlas-tui sweep`: tasks x seeds x settings on a process pool or Ray."""

from __future__ import annotations

import argparse

from altlas_tui.cli.common import load_config, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("sweep", help="tasks x seeds x settings on a process pool or Ray")
    w.add_argument("--tasks", required=True, help="comma-separated task names")
    w.add_argument("--seeds", type=positive_int, default=2, metavar="N")
    w.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2",
                   help="e.g. train.lr=0.001,0.002 (repeatable)")  # fmt: skip
    w.add_argument("--max-attempts", type=positive_int, default=50_000, metavar="N")
    w.add_argument("--backend", choices=("local", "ray"), default="local")
    w.add_argument("--address", metavar="ADDR", help="Ray cluster address")
    w.add_argument("--workers", type=int, metavar="N", help="parallel runs (default: cores - 1)")
    w.add_argument("--json", action="store_true")
    w.add_argument("--config", metavar="FILE", help="config TOML")
    w.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine import sweep

    config = load_config(args)
    return sweep.run_cli(args, config)

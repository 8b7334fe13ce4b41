"""`altlas-tui`: the TUI by default, plus attach/train/bench/score/tasks/paths/history/export/sweep.

A module per command; each registers its parser and `set_defaults(func=...)`. Bad input (unknown
task, invalid file, bad flag) gets one line on stderr and exit code 2 before any work starts;
tracebacks go to the log file only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from altlas_tui.cli import attach, bench, score, store, sweep, tasks, train, tui
from altlas_tui.cli.bench import BENCH_MAX_ATTEMPTS, format_bench_table
from altlas_tui.cli.common import DEFAULT_TASK, Parser
from engine.errors import InputError

__all__ = ["BENCH_MAX_ATTEMPTS", "DEFAULT_TASK", "build_parser", "format_bench_table", "main"]

log = logging.getLogger("altlas.cli")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="altlas-tui",
        description="An agent that learns to write Python and JavaScript by reinforcement "
        "learning, from scratch. With no command, opens the terminal app to watch and steer it.",
        epilog="Environment: ALTLAS_HOME=DIR keeps all data under DIR; ALTLAS_<SECTION>_<KEY>=value "
        "overrides a config key (e.g. ALTLAS_TRAIN_LR=0.001). Run `altlas-tui paths` to see where "
        "config.toml lives.",
    )
    tui.add_arguments(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    train.add_parser(sub)
    attach.add_parser(sub)
    bench.add_parser(sub)
    score.add_parser(sub)
    tasks.add_parser(sub)
    store.add_parsers(sub)
    sweep.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from engine.store import setup_logging

        setup_logging()
    except Exception:  # logging must never stop the tool
        pass
    try:
        return args.func(args)
    except InputError as exc:
        sys.stderr.write(f"altlas-tui: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("altlas-tui: interrupted\n")
        return 130
    except BrokenPipeError:
        from altlas_tui.cli.progress import silence_stdout

        silence_stdout()
        return 141
    except Exception as exc:
        log.exception("internal error")
        sys.stderr.write(
            f"altlas-tui: internal error: {exc.__class__.__name__}: {exc} (details in the log file)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

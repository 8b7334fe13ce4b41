"""Sweeps: tasks x seeds x settings as headless runs on a local process pool or a Ray cluster.

    altlas-tui sweep --tasks add_two_numbers,conditional_check --seeds 3 --set train.lr=0.001,0.003

Layout: `spec.py` (what a run is, the cartesian product), `worker.py` (one run -> records, and the
engine's store inside a worker), `local.py` and `ray_backend.py` (where runs execute, chosen by
`backends.py`), `driver.py` (feeds a backend, writes the run store, cancels, keeps finished runs
when something fails), `report.py` (tables and medians), `command.py` (the terminal command).
Every run lands in the run store as kind "sweep", whichever backend ran it.
"""

from engine.sweep.backends import make_backend
from engine.sweep.command import run_cli
from engine.sweep.driver import Backend, RunState, Stopper, SweepResult, run_sweep
from engine.sweep.report import Group, format_table, medians
from engine.sweep.spec import RunSpec, build_specs, parse_settings, settings_text

__all__ = [
    "Backend", "Group", "RunSpec", "RunState", "Stopper", "SweepResult", "build_specs",
    "format_table", "make_backend", "medians", "parse_settings", "run_cli", "run_sweep",
    "settings_text",
]  # fmt: skip

"""Sweep results as tables: one row per run, and medians per setting (shared with the TUI)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from engine.sweep.spec import settings_text

ALL_TASKS = "(all tasks)"


@dataclass(frozen=True)
class Group:
    """Medians of the finished runs of one settings combination on one task (or all tasks)."""

    settings: str  # "train.lr=0.001" or "" (nothing swept)
    task: str
    runs: int  # finished runs (solved or out of budget)
    solved: int
    median_to_solve: float | None  # an unsolved run counts as its budget
    median_seconds: float | None
    lower_bound: bool  # half or more unsolved: the true median is at least this

    @property
    def solved_share(self) -> float:
        return self.solved / self.runs if self.runs else 0.0


def _cost(run: dict[str, Any]) -> float:
    if run.get("solved") and run.get("attempts_to_solve") is not None:
        return float(run["attempts_to_solve"])
    return float(max(run.get("attempts") or 0, run.get("budget") or 0))


def medians(runs: list[dict[str, Any]]) -> list[Group]:
    """Group finished runs by settings (then task) and take medians.

    Each run is a dict with "task", "settings" (dict), "solved", "attempts_to_solve", "attempts",
    "seconds" and "budget". With more than one task, each settings combination also gets an
    "(all tasks)" row.
    """
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    tasks: list[str] = []
    for r in runs:
        key = settings_text(r.get("settings") or {})
        by.setdefault((key, r["task"]), []).append(r)
        by.setdefault((key, ALL_TASKS), []).append(r)
        if r["task"] not in tasks:
            tasks.append(r["task"])
    groups = []
    for (settings, task), members in by.items():
        if task == ALL_TASKS and len(tasks) < 2:
            continue
        costs = [_cost(r) for r in members]
        solved = sum(1 for r in members if r.get("solved"))
        groups.append(Group(
            settings=settings, task=task, runs=len(members), solved=solved,
            median_to_solve=statistics.median(costs) if costs else None,
            median_seconds=statistics.median([float(r.get("seconds") or 0) for r in members]),
            lower_bound=solved * 2 <= len(members) and solved < len(members),
        ))  # fmt: skip
    order = {t: i for i, t in enumerate([*tasks, ALL_TASKS])}
    seen = list(dict.fromkeys(g.settings for g in groups))
    groups.sort(key=lambda g: (seen.index(g.settings), order[g.task]))
    return groups


def _table(head: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(head), "-" * len(line(head)), *(line(r) for r in rows)]


def format_table(summaries: list[dict[str, Any]], outcomes: list[str], budget: int) -> str:
    """Runs (JSON summaries with "settings") and their outcomes, then medians per setting."""
    rows = []
    for s, outcome in zip(summaries, outcomes, strict=True):
        to_solve = s.get("attempts_to_solve")
        rows.append([
            s["task"], str(s["seed"]), settings_text(s.get("settings") or {}) or "-", outcome,
            f"{s.get('attempts') or 0:,}", "-" if to_solve is None else f"{to_solve:,}",
            f"{s.get('seconds') or 0:.1f}", f"{s.get('best_score') or 0:.3f}",
        ])  # fmt: skip
    head = ["task", "seed", "settings", "outcome", "attempts", "to solve", "seconds", "best"]
    lines = _table(head, rows, {1, 4, 5, 6, 7})
    finished = [
        {**s, "budget": budget}
        for s, o in zip(summaries, outcomes, strict=True)
        if o in ("solved", "budget")
    ]
    groups = medians(finished)
    if groups:
        lines += ["", "Medians per setting (finished runs; an unsolved run counts as its budget)"]
        mrows = [[
            g.settings or "-", g.task, f"{g.solved}/{g.runs}",
            f"{g.median_to_solve:,.0f}{'+' if g.lower_bound else ''}",
            f"{g.median_seconds:.1f}",
        ] for g in groups]  # fmt: skip
        mhead = ["settings", "task", "solved", "median attempts to solve", "median s"]
        lines += _table(mhead, mrows, {2, 3, 4})
        if any(g.lower_bound for g in groups):
            lines.append("('+': half or more runs unsolved, so the median is a lower bound)")
    return "\n".join(lines)

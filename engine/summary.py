"""The summary of a finished run: the same fields as `train --json`'s summary line."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunSummary:
    """Outcome of one training run (CONTRACT.md: train --json summary)."""

    task: str
    seed: int
    algo: str
    solved: bool = False
    attempts_to_solve: int | None = None
    attempts: int = 0
    unique_programs: int = 0
    seconds: float = 0.0
    attempts_per_second: float = 0.0
    best_score: float = 0.0
    best_code: str = ""
    solution: str | None = None  # minimal when [search] minimise is on
    solution_raw: str | None = None  # the solution as found, before minimising
    hints_provided: int = 0
    total_attempts: int = 0
    # extra detail for the human-readable summary (not part of the JSON contract)
    successes: int = 0
    duplicates: int = 0
    hints_requested: int = 0
    errors_by_type: dict[str, int] = field(default_factory=dict)
    top_tokens: list[tuple[str, int]] = field(default_factory=list)
    outcome: str = ""  # solved | budget | stopped | interrupted | error | running
    error: str = ""  # the engine error's last line, when outcome is error
    state_path: str = ""  # where the task's state was saved ("" when nothing was saved)
    earlier: list[RunSummary] = field(default_factory=list)  # tasks left before this one

    JSON_FIELDS = (
        "task", "seed", "algo", "solved", "attempts_to_solve", "attempts", "unique_programs",
        "seconds", "attempts_per_second", "best_score", "best_code", "solution",
        "solution_raw", "hints_provided", "total_attempts",
    )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        out: dict[str, Any] = {"event": "summary"}
        out.update({k: data[k] for k in self.JSON_FIELDS})
        out["seconds"] = round(out["seconds"], 3)
        out["attempts_per_second"] = round(out["attempts_per_second"], 1)
        out["best_score"] = round(out["best_score"], 4)
        return out


OUTCOME_TEXT = {
    "solved": "SOLVED",
    "budget": "not solved (budget used up)",
    "stopped": "not solved (stopped)",
    "interrupted": "not solved (interrupted)",
    "error": "ERROR",
    "running": "not solved",
    "": "not solved",
}


def render_text(s: RunSummary) -> str:
    """A plain-text summary for the terminal (shown when the TUI or headless `train` ends): every
    task of the session, what happened, the figures, and where the state is."""
    parts = [_render_one(e, short=True) for e in s.earlier]
    parts.append(_render_one(s, short=False))
    return "\n\n".join(parts)


def _render_one(s: RunSummary, short: bool) -> str:
    outcome = OUTCOME_TEXT.get(s.outcome, s.outcome)
    if s.solved:
        outcome = "SOLVED" + (
            f" after {s.attempts_to_solve:,} attempts" if s.attempts_to_solve else ""
        )
        if s.outcome in ("interrupted", "error"):
            outcome += f" (then {s.outcome})"
    lines = [
        f"Task            {s.task}   (seed {s.seed}, algo {s.algo})",
        f"Outcome         {outcome}",
    ]
    if s.outcome == "error" and s.error:
        lines.append(f"Error           {s.error}")
    lines += [
        f"Attempts        {s.attempts:,} this run, {s.total_attempts:,} in total",
        f"Speed           {s.attempts_per_second:,.0f} attempts/s over {s.seconds:,.1f} s",
        f"Best score      {s.best_score:.3f}",
        f"State saved     {s.state_path}" if s.state_path else "State saved     (nothing saved)",
    ]
    if short:
        return "\n".join(lines)
    lines[4:4] = [
        f"Unique programs {s.unique_programs:,}   duplicates {s.duplicates:,}   successes {s.successes:,}",
        f"Hints           {s.hints_requested} requested, {s.hints_provided} provided",
    ]
    best = s.solution or s.best_code
    if best:
        lines.append("Best program:")
        lines.extend("    " + ln for ln in best.splitlines())
        if s.solution and s.solution_raw and s.solution_raw != s.solution:
            lines.append("As found (before minimising):")
            lines.extend("    " + ln for ln in s.solution_raw.splitlines())
    if s.errors_by_type:
        errs = sorted(s.errors_by_type.items(), key=lambda kv: -kv[1])
        lines.append("Errors by type  " + ", ".join(f"{k} {v:,}" for k, v in errs[:6]))
    if s.top_tokens:
        total = sum(c for _, c in s.top_tokens) or 1
        lines.append("Top tokens:")
        for tok, count in s.top_tokens[:10]:
            lines.append(f"    {tok!s:<14} {count:>9,}  {100 * count / total:5.1f}%")
    return "\n".join(lines)

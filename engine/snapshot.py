"""The immutable picture of the engine that any reader (TUI, CLI) may take at any time.

Plain data only: numbers, strings and short tuples. No tensors, locks or callbacks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TokenProb:
    """One chosen token of the current attempt, its probability and the top alternatives."""

    token: str
    prob: float
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class LayerStats:
    """Weight statistics of one parameter tensor."""

    name: str
    mean: float
    std: float
    min: float
    max: float
    near_zero: float = 0.0
    grad_norm: float = 0.0


@dataclass(frozen=True)
class HintRecord:
    """One hint given, and its measured effect."""

    attempt: int
    text: str
    forced: bool
    mean_before: float = 0.0
    best_before: float = 0.0
    mean_after: float | None = None
    best_after: float | None = None
    solved_after: bool | None = None


@dataclass(frozen=True)
class Snapshot:
    """Latest state of a training run, published once per batch."""

    task_name: str = ""
    task_description: str = ""
    language: str = "python"  # the task's target_language: the code panes highlight with it
    expected_output: str = ""
    status: str = "starting"  # starting | running | paused | solved | stopped | error
    algo: str = "default"
    seed: int = 0
    batch: int = 0
    attempts: int = 0  # this run
    total_attempts: int = 0  # the task's saved state, earlier runs included
    elapsed: float = 0.0
    attempts_per_second: float = 0.0
    unique_programs: int = 0
    successes: int = 0
    duplicates: int = 0
    errors: int = 0
    errors_by_type: tuple[tuple[str, int], ...] = ()
    attempts_to_solve: int | None = None
    solution: str | None = None
    # solved and held: the engine stopped training the task ([search] keep_training_after_solve
    # off); the TUI offers the next task (or `keep_training`)
    training_stopped: bool = False
    # the live attempt
    last_code: str = ""
    last_score: float = 0.0
    last_components: tuple[tuple[str, float], ...] = ()
    last_status: str = ""
    last_error: str = ""
    last_stdout: str = ""
    last_duplicate: bool = False
    last_fingerprint: str = ""
    last_shape: str = ""
    last_token_probs: tuple[TokenProb, ...] = ()
    best_code: str = ""
    best_score: float = 0.0
    # histories over recent batches (bounded)
    score_history: tuple[float, ...] = ()
    best_history: tuple[float, ...] = ()
    success_history: tuple[float, ...] = ()
    loss_history: tuple[float, ...] = ()
    entropy_history: tuple[float, ...] = ()
    grad_norm_history: tuple[float, ...] = ()
    # training
    lr: float = 0.0
    loss: float = 0.0
    entropy: float = 0.0
    grad_norm: float = 0.0
    init_method: str = ""
    layer_stats: tuple[LayerStats, ...] = ()
    weight_histogram: tuple[tuple[float, int], ...] = ()  # (bin centre, count)
    health_warnings: tuple[str, ...] = ()
    # tokens
    vocab_size: int = 0
    token_counts: tuple[tuple[str, int], ...] = ()  # sorted, most used first
    token_pairs: tuple[tuple[str, str, int], ...] = ()
    unused_tokens: tuple[str, ...] = ()
    # judged against the grammar-allowed positions (uniform choice among allowed tokens)
    overused_tokens: tuple[str, ...] = ()
    underused_tokens: tuple[str, ...] = ()
    # hints and exploration
    hints_requested: int = 0
    hints_provided: int = 0
    hints_forced: int = 0
    hints_declined: int = 0
    hint_backoff_level: int = 0
    stuck_checks: int = 0
    active_hint: str = ""
    hints: tuple[HintRecord, ...] = ()
    exploration_boost: float = 0.0
    # environment
    sandbox_level: str = ""
    last_checkpoint: float | None = None
    events: tuple[str, ...] = field(default_factory=tuple)  # recent notable events, newest last
    # test cases passed: (visible passed, visible total, hidden passed, hidden total)
    attempt_cases: tuple[int, int, int, int] = (0, 0, 0, 0)
    best_cases: tuple[int, int, int, int] = (0, 0, 0, 0)


_NESTED = {"last_token_probs": TokenProb, "layer_stats": LayerStats, "hints": HintRecord}


def snapshot_to_dict(snap: Snapshot) -> dict:
    """The snapshot as JSON-ready plain data (for `attach` viewers and recorded test fixtures)."""
    return dataclasses.asdict(snap)


def _tupled(value):
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


def snapshot_from_dict(data: dict) -> Snapshot:
    """Rebuild a Snapshot from `snapshot_to_dict` output (lists back to tuples, unknown keys
    dropped so a newer engine can talk to an older viewer)."""
    known = {f.name for f in dataclasses.fields(Snapshot)}
    kwargs = {}
    for key, value in data.items():
        if key not in known:
            continue
        cls = _NESTED.get(key)
        if cls is not None and isinstance(value, list):
            names = {f.name for f in dataclasses.fields(cls)}
            value = tuple(
                cls(**{k: _tupled(v) for k, v in item.items() if k in names})
                for item in value
                if isinstance(item, dict)
            )
        else:
            value = _tupled(value)
        kwargs[key] = value
    return Snapshot(**kwargs)

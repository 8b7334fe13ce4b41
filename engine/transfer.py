"""Warm starts: begin a task from the policy weights another task saved (`train --init-from`).

Each task's vocabulary is a shared base plus the task's own literals and input names, so two
tasks' policies differ in their embedding and head rows. The LSTM is copied whole; embedding and
head rows are copied for every token both vocabularies have (matched by spelling); tokens only the
new task has keep their fresh initialisation. Only the weights move: the optimiser, baselines,
counters, solution and priority queue start fresh, as in a fresh run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from engine.errors import InputError
from engine.tasks import Task

SHAPE_KEYS = ("embed_size", "hidden_size", "num_layers")  # must match; vocab_size may differ


@dataclass(frozen=True)
class WarmStart:
    """Another task's saved policy, checked to fit the task it will start."""

    source: str  # the source task's name
    tokens: tuple[str, ...]  # the source vocabulary, in its index order
    policy: dict[str, Any]  # the source policy's state_dict


def load_warm_start(store: Any, source: Task, target: Task, shape: dict[str, int]) -> WarmStart:
    """Read `source`'s saved state from `store` and check it can start `target` with a policy
    of `shape` (embed/hidden/layers as configured); raises InputError (one line) when not."""
    flag = "--init-from"
    if source.name == target.name:
        raise InputError(f"{source.name} is the task being trained (drop {flag} to resume it)",
                         "command line", flag)  # fmt: skip
    if source.target_language != target.target_language:
        raise InputError(f"{source.name} is {source.target_language}, {target.name} is "
                         f"{target.target_language}; weights only transfer within a language",
                         "command line", flag)  # fmt: skip
    try:
        state = store.load_task_state(source.name)
    except Exception as exc:  # noqa: BLE001 - an unreadable state is bad input here, one line
        raise InputError(f"cannot read the saved state of {source.name}: {exc}",
                         "command line", flag) from None  # fmt: skip
    if not state or "policy" not in state:
        raise InputError(f"{source.name} has no saved state (train it first: "
                         f"altlas-tui train --task {source.name})", "command line", flag)  # fmt: skip
    meta = state.get("meta") or {}
    model, tokens = meta.get("model") or {}, meta.get("vocab") or []
    wrong = [f"{k} {model.get(k)} (now {shape[k]})" for k in SHAPE_KEYS if model.get(k) != shape[k]]
    if wrong or not tokens:
        why = ", ".join(wrong) if wrong else "no vocabulary recorded"
        raise InputError(f"the saved policy of {source.name} has another shape: {why}",
                         "command line", flag)  # fmt: skip
    return WarmStart(source.name, tuple(tokens), state["policy"])


def apply_warm_start(policy: torch.nn.Module, tokens: list[str], warm: WarmStart) -> int:
    """Copy `warm`'s weights into `policy` (vocabulary `tokens`); returns how many tokens were
    shared. Shapes were checked by `load_warm_start`."""
    src = warm.policy
    where = {tok: i for i, tok in enumerate(warm.tokens)}
    pairs = [(i, where[tok]) for i, tok in enumerate(tokens) if tok in where]
    dst_rows = torch.tensor([d for d, _ in pairs], dtype=torch.long)
    src_rows = torch.tensor([s for _, s in pairs], dtype=torch.long)
    with torch.no_grad():
        for name, param in policy.state_dict(keep_vars=True).items():
            value = src[name].to(param.dtype)
            if name in ("embed.weight", "head.weight", "head.bias"):  # rows by token
                param[dst_rows] = value[src_rows]
            else:
                param.copy_(value)
    return len(pairs)

"""Shaping terms of the reward that are not about behaviour: program length in tokens, and the
repetition penalty for failing shapes the run keeps writing (state owned by the trainer, passed
in explicitly per attempt; see `engine.reward.score.with_repetition`)."""

from __future__ import annotations

import io
import math
import tokenize
from dataclasses import dataclass

from engine.tasks import Task


def token_length(task: Task, code: str) -> int:
    """Tokens the learner would write for `code` (its tokenizer, plus the end token); Python's
    own token count when the tokenizer cannot encode it."""
    try:
        from engine.tokenizer import Tokenizer

        return len(Tokenizer.for_task(task).encode(code)) + 1
    except Exception:  # noqa: BLE001 - any program text, any tokenizer failure: fall back
        try:
            toks = tokenize.generate_tokens(io.StringIO(code).readline)
            return sum(1 for t in toks if t.type not in (tokenize.NL, tokenize.COMMENT)) + 1
        except (tokenize.TokenError, SyntaxError):
            return len(code.split()) + 1


@dataclass
class ShapeMemory:
    """How often each failing shape was written (bounded), and the penalty that follows from it.

    penalty(n) = min(max_penalty, weight * log2(1 + n / free_repeats)): nothing for the first few
    repeats, then a slowly growing cost, never more than `max_penalty`.
    """

    weight: float = 0.02
    max_penalty: float = 0.1
    free_repeats: int = 64
    size: int = 5000

    def __post_init__(self) -> None:
        self.counts: dict[str, int] = {}

    def penalty(self, fingerprint: str) -> float:
        n = self.counts.get(fingerprint, 0)
        if n <= self.free_repeats or self.weight <= 0:
            return 0.0
        return min(self.max_penalty, self.weight * math.log2(n / self.free_repeats))

    def add(self, fingerprint: str, n: int = 1) -> None:
        self.counts[fingerprint] = self.counts.get(fingerprint, 0) + n
        if len(self.counts) > 2 * self.size:  # keep the most repeated
            keep = sorted(self.counts.items(), key=lambda kv: -kv[1])[: self.size]
            self.counts = dict(keep)

    def most_failed(self, k: int = 20) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda kv: -kv[1])[:k]

    def state_dict(self) -> dict:
        return {"counts": dict(self.most_failed(self.size))}

    def load_state_dict(self, state: dict) -> None:
        self.counts = {str(k): int(v) for k, v in state.get("counts", {}).items()}

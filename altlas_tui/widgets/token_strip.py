"""The chosen tokens of the current attempt, each shaded by the probability the policy gave it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import Static

from engine.snapshot import TokenProb


def _style(prob: float) -> str:
    if prob >= 0.8:
        return "bold $text-success"
    if prob >= 0.4:
        return "$text-warning"
    return "bold $text-error"


class TokenStrip(Static):
    """`print 0.93 ( 0.88 ...` coloured by confidence (green sure, amber unsure, red surprising)."""

    DEFAULT_CSS = """
    TokenStrip { height: auto; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._probs: tuple[TokenProb, ...] | None = None

    def show(self, probs: Sequence[TokenProb]) -> None:
        probs = tuple(probs)
        if probs == self._probs:
            return
        self._probs = probs
        if not probs:
            self.update(Content("(no attempt yet)"))
            return
        parts = []
        for tp in probs:
            parts.append(
                Content.assemble((tp.token, _style(tp.prob)), (f" {tp.prob:.2f}", "$text-muted"))
            )
        self.update(Content("  ").join(parts))

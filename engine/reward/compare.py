"""Output comparison: how close a program's output is to a case's expected output."""

from __future__ import annotations

import difflib
import math

from engine.tasks import normalise_output

__all__ = ["as_number", "normalise_output", "output_similarity"]


def as_number(text: str) -> float | None:
    """`text` as a finite number, or None."""
    if not text or len(text) > 40:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def output_similarity(got: str, expected: str) -> float:
    """Similarity in [0, 1] of two normalised outputs.

    Equal: 1. Both numbers: 0.8 x closeness (1 / (1 + relative distance)) + 0.2 x text ratio, so
    `8.0` for `8` is close but below an exact match. Otherwise difflib's ratio (output truncated
    to keep it cheap). Anything short of equal stays below 0.99.
    """
    if got == expected:
        return 1.0
    if not got or not expected:
        return 0.0
    limit = 4 * len(expected) + 64
    got = got[:limit]
    ratio = difflib.SequenceMatcher(None, got, expected, autojunk=False).ratio()
    a, b = as_number(got), as_number(expected)
    if a is not None and b is not None:
        closeness = 1.0 / (1.0 + abs(a - b) / max(1.0, abs(b)))
        return min(0.99, 0.8 * closeness + 0.2 * ratio)
    return min(0.99, ratio)

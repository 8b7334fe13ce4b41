"""Token statistics: top tokens and pairs, over- and under-used tokens against a uniform choice.

The expected share of a token is uniform over the vocabulary the grammar can produce, or over the
tokens it allowed at each step (`uniform_expectation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

OVERUSE_FACTOR = 4.0  # over-used: share > 4x the expected share
UNDERUSE_FACTOR = 4.0  # under-used: share < 1/4 of the expected share (never used included)
TOP_TOKENS = 10
TOP_PAIRS = 10


def uniform_expectation(masks: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Expected token counts if every live step chose uniformly among its allowed tokens.

    masks (B, T, V) bool, live (B, T) bool. Accumulate it over batches and pass it to
    `token_report` as `allowed_counts` to judge tokens against the grammar-allowed positions.
    """
    m = masks[live]  # (N, V)
    if m.size == 0:
        return np.zeros(masks.shape[-1])
    n = m.sum(1, keepdims=True).clip(min=1)
    return (m / n).sum(0)


def token_report(
    tokens: Sequence[str],
    counts: np.ndarray,
    pair_counts: np.ndarray,
    generative_ids: Sequence[int],
    allowed_counts: np.ndarray | None = None,
) -> dict[str, Any]:
    """Top tokens and pairs, over- and under-used tokens, for the Model screen and run summaries.

    counts (V,) token counts; pair_counts (V*V,) counts of adjacent pairs a*V+b; `generative_ids`
    the tokens the grammar can produce. The expected share of a token is uniform over those
    tokens, or, with `allowed_counts` (see `uniform_expectation`), proportional to how often
    uniform choice among the allowed tokens would have picked it.
    """
    V = len(tokens)
    counts = np.asarray(counts, dtype=np.int64)
    pair_counts = np.asarray(pair_counts, dtype=np.int64)
    gen = np.asarray(sorted(set(int(i) for i in generative_ids)), dtype=np.int64)
    total = int(counts.sum())
    pair_total = int(pair_counts.sum())
    report: dict[str, Any] = {
        "total": total,
        "distinct": int((counts > 0).sum()),
        "pair_total": pair_total,
        "top": [],
        "pairs": [],
        "over_used": [],
        "under_used": [],
        "unused": [tokens[i] for i in gen if counts[i] == 0],
        "baseline": "allowed" if allowed_counts is not None else "uniform",
    }
    if total == 0:
        return report
    order = np.argsort(-counts, kind="stable")[:TOP_TOKENS]
    report["top"] = [(tokens[i], int(counts[i]), counts[i] / total) for i in order if counts[i]]
    if pair_total:
        porder = np.argsort(-pair_counts, kind="stable")[:TOP_PAIRS]
        report["pairs"] = [
            (tokens[p // V], tokens[p % V], int(pair_counts[p]), pair_counts[p] / pair_total)
            for p in porder
            if pair_counts[p]
        ]
    if allowed_counts is not None:
        exp = np.asarray(allowed_counts, dtype=np.float64)[gen]
        exp_share = exp / exp.sum() if exp.sum() > 0 else np.full(len(gen), 1.0 / len(gen))
    else:
        exp_share = np.full(len(gen), 1.0 / max(1, len(gen)))
    share = counts[gen] / total
    over, under = [], []
    for j, i in enumerate(gen.tolist()):
        e = exp_share[j]
        if e <= 0:  # never allowed: cannot be judged
            continue
        ratio = share[j] / e
        if ratio > OVERUSE_FACTOR:
            over.append((tokens[i], float(share[j]), float(ratio)))
        elif ratio < 1.0 / UNDERUSE_FACTOR:
            under.append((tokens[i], int(counts[i]), float(ratio)))
    report["over_used"] = sorted(over, key=lambda r: -r[2])
    report["under_used"] = sorted(under, key=lambda r: r[2])
    return report

"""Weight statistics for the Model screen: per-tensor numbers and a histogram of all weights."""

from __future__ import annotations

import numpy as np
import torch

from engine.snapshot import LayerStats

NEAR_ZERO = 1e-3  # |w| below this counts as "near zero" in LayerStats.near_zero


def weight_stats(policy: torch.nn.Module) -> tuple[LayerStats, ...]:
    """Mean, std, min, max, near-zero share and gradient norm of every parameter tensor."""
    out = []
    with torch.no_grad():
        for name, p in policy.named_parameters():
            w = p.detach()
            finite = w[torch.isfinite(w)]
            g = p.grad
            if finite.numel() == 0:
                mean = std = lo = hi = float("nan")
            else:
                mean, lo, hi = float(finite.mean()), float(finite.min()), float(finite.max())
                std = float(finite.std()) if finite.numel() > 1 else 0.0
            out.append(
                LayerStats(
                    name=name, mean=mean, std=std, min=lo, max=hi,
                    near_zero=float((w.abs() < NEAR_ZERO).float().mean()),
                    grad_norm=float(g.norm()) if g is not None else 0.0,
                )
            )  # fmt: skip
    return tuple(out)


def weight_histogram(policy: torch.nn.Module, bins: int = 30) -> tuple[tuple[float, int], ...]:
    """(bin centre, count) over all finite weights, for the TUI's histogram plot."""
    with torch.no_grad():
        flat = torch.cat([p.detach().flatten() for p in policy.parameters()]).numpy()
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return ()
    counts, edges = np.histogram(flat, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    return tuple((round(float(c), 4), int(n)) for c, n in zip(centres, counts, strict=True))

"""Policies and ways to break them, shared by the model-health tests."""

from __future__ import annotations

import torch

from engine.grammar import Grammar
from engine.policy import Policy

MAX_LEN = 21


def _policy(grammar: Grammar, method: str = "orthogonal", seed: int = 0, layers: int = 1):
    gen = torch.Generator().manual_seed(seed)
    p = Policy(grammar.vocab_size, 32, 64, layers)
    p.init_weights(method, gen)
    return p, gen


def _zeros(p: Policy) -> None:
    with torch.no_grad():
        for q in p.parameters():
            q.zero_()


def _huge(p: Policy) -> None:
    with torch.no_grad():
        for q in p.parameters():
            q.mul_(1e3)


def _nan(p: Policy) -> None:
    with torch.no_grad():
        p.lstm.weight_hh_l0[3, 5] = float("nan")


BREAKERS = {"zeros": _zeros, "huge": _huge, "nan": _nan}
EXPECTED = {
    "zeros": ["near-zero std", "dead activations"],
    "huge": ["huge values", "saturated activations", "initial entropy", "initial KL"],
    "nan": ["NaN/Inf"],
}

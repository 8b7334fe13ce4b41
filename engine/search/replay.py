"""Replay many token-id programs through the grammar at once (one mask and step per position)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.grammar import Grammar


def replay(
    grammar: Grammar, bodies: Sequence[Sequence[int]], budget: int
) -> tuple[np.ndarray, list[bool]]:
    """Replay each body + EOS in lockstep; return the states and which bodies were accepted.

    states: (B, L+1) int64, the state before each token (-1 after a refused token); accepted:
    the whole body + EOS was allowed within `budget` (so it is a complete program).
    """
    B = len(bodies)
    if B == 0:
        return np.zeros((0, 1), dtype=np.int64), []
    g, eos = grammar, grammar.tok.eos
    lens = np.array([len(b) + 1 for b in bodies])
    L = int(lens.max())
    toks = np.full((B, L), grammar.tok.pad, dtype=np.int64)
    for i, b in enumerate(bodies):
        toks[i, : len(b)] = b
        toks[i, len(b)] = eos
    states = np.full((B, L + 1), -1, dtype=np.int64)
    live = lens <= budget
    sids = np.full(B, g.start, dtype=np.int64)
    for t in range(L):
        act = np.nonzero(live & (lens > t))[0]
        if not len(act):
            break
        states[act, t] = sids[act]
        m = g.mask(sids[act], np.full(len(act), budget - t, dtype=np.int64))
        ok = m[np.arange(len(act)), toks[act, t]]
        live[act[~ok]] = False
        good = act[ok]
        if len(good):
            sids[good] = g.step(sids[good], toks[good, t])
    return states, live.tolist()

"""Token statistics count exactly, against uniform choice and against allowed positions."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import Config
from engine.health import tokens
from engine.policy import Batch
from engine.tasks import load_task
from engine.trainer import Outcome, Trainer

TOKS = ["PAD", "a", "b", "c", "d", "e"]


def test_token_report_exact_numbers():
    V = len(TOKS)
    counts = np.array([0, 6, 2, 2, 0, 0])
    pairs = np.zeros(V * V, dtype=np.int64)
    pairs[1 * V + 1] = 3  # a a
    pairs[1 * V + 2] = 2  # a b
    pairs[3 * V + 1] = 1  # c a
    rep = tokens.token_report(TOKS, counts, pairs, generative_ids=[1, 2, 3, 4, 5])
    assert rep["total"] == 10 and rep["distinct"] == 3 and rep["pair_total"] == 6
    assert rep["top"] == [("a", 6, 0.6), ("b", 2, 0.2), ("c", 2, 0.2)]
    assert rep["pairs"] == [("a", "a", 3, 0.5), ("a", "b", 2, 2 / 6), ("c", "a", 1, 1 / 6)]
    assert rep["unused"] == ["d", "e"]
    # uniform share over 5 generative tokens is 0.2: a is 3x (not over 4x), d and e never used
    assert rep["over_used"] == []
    assert rep["under_used"] == [("d", 0, 0.0), ("e", 0, 0.0)]
    # 20 generative tokens (uniform share 0.05): 90 % on one token is 18x
    many = ["PAD"] + [f"t{i}" for i in range(1, 21)]
    c2 = np.zeros(21, dtype=np.int64)
    c2[1], c2[2] = 9, 1
    rep = tokens.token_report(many, c2, np.zeros(21 * 21), generative_ids=range(1, 21))
    assert rep["over_used"] == [("t1", 0.9, pytest.approx(18.0))]
    assert rep["under_used"][0] == ("t3", 0, 0.0) and len(rep["under_used"]) == 18


def test_token_report_against_allowed_positions():
    counts = np.array([0, 6, 2, 2, 0, 0])
    # under uniform choice among allowed tokens, a was expected 1 time, b and c 4.5, d 0 (never
    # allowed: not judged), e 0.5
    allowed = np.array([0.0, 1.0, 4.5, 4.0, 0.0, 0.5])
    rep = tokens.token_report(TOKS, counts, np.zeros(36), [1, 2, 3, 4, 5], allowed_counts=allowed)
    assert rep["baseline"] == "allowed"
    assert rep["over_used"] == [("a", 0.6, pytest.approx(6.0))]
    assert rep["under_used"] == [("e", 0, 0.0)]
    assert rep["unused"] == ["d", "e"]


def test_token_report_empty():
    rep = tokens.token_report(TOKS, np.zeros(6), np.zeros(36), [1, 2])
    assert rep["total"] == 0 and rep["top"] == [] and rep["unused"] == ["a", "b"]


def test_uniform_expectation_exact():
    masks = np.zeros((2, 3, 4), dtype=bool)
    masks[0, 0, [1, 2]] = True  # 1/2 each
    masks[0, 1, [1, 2, 3, 0]] = True  # 1/4 each
    masks[0, 2, 3] = True  # dead step below
    masks[1, 0, 3] = True  # 1
    live = np.array([[True, True, False], [True, False, False]])
    exp = tokens.uniform_expectation(masks, live)
    assert exp.tolist() == [0.25, 0.75, 0.75, 1.25]
    assert exp.sum() == live.sum()


def test_trainer_counts_tokens_and_pairs_of_a_hand_made_batch(sandbox):
    cfg = Config()
    cfg.train.batch_size = 3
    tr = Trainer(cfg, load_task("add_two_numbers"), sandbox.run_many, seed=0)
    tok = tr.tok
    idx = tok.index
    pad = tok.pad
    rows = [
        ["print", "(", "1", ")", "NEWLINE"],
        ["print", "(", "1", "+", "1", ")"],
        ["print", "(", ")"],
    ]
    T = 6
    arr = np.full((3, T), pad, dtype=np.int64)
    for i, r in enumerate(rows):
        arr[i, : len(r)] = [idx[t] if t in idx else getattr(tok, t.lower()) for t in r]
    V = len(tok)
    batch = Batch(
        tokens=arr,
        masks=np.ones((3, T, V), dtype=bool),
        forced=np.zeros((3, T), dtype=bool),
        lengths=np.array([5, 6, 3]),
        first_probs=[],
    )
    outcomes = [Outcome(score=0.1, success=False, status="ok", error_type="")] * 3
    tr._last_new = 3
    tr._record(batch, ["x", "y", "z"], outcomes, np.zeros(3))
    counts = tr.token_counts
    assert counts[idx["print"]] == 3 and counts[idx["("]] == 3 and counts[idx[")"]] == 3
    assert counts[idx["1"]] == 3 and counts[idx["+"]] == 1 and counts[pad] == 0
    assert counts.sum() == 14
    pc = tr.pair_counts.reshape(V, V)
    assert pc[idx["print"], idx["("]] == 3
    assert pc[idx["("], idx["1"]] == 2 and pc[idx["("], idx[")"]] == 1
    assert pc[idx["1"], idx[")"]] == 2 and pc[idx["1"], idx["+"]] == 1
    assert pc.sum() == 14 - 3  # one pair fewer than tokens per row
    rep = tokens.token_report(tok.tokens, counts, tr.pair_counts, tr.grammar.generative_ids())
    assert rep["top"][0][1] == 3 and rep["pairs"][0] == ("print", "(", 3, 3 / 11)

"""Grammar masks: every sampled program parses; stored masks replay exactly."""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch

from engine.grammar import Grammar
from engine.policy import Policy, sample_batch
from engine.tasks import load_task
from engine.tokenizer import Tokenizer

TASKS = ["add_two_numbers", "basic_loop", "conditional_check", "function_with_return",
         "concatenate_strings", "list_operations"]  # fmt: skip


@pytest.mark.parametrize("name", TASKS)
def test_uniform_samples_parse(name):
    """Uniform search is the hardest case: it wanders into every corner of the grammar."""
    task = load_task(name)
    tok = Tokenizer.for_task(task)
    g = Grammar(tok)
    gen = torch.Generator().manual_seed(1)
    n_bad, n = 0, 0
    for _ in range(13):  # 13 x 128 x 6 tasks ~ 10k programs
        batch = sample_batch(None, g, 128, task.max_tokens + 1, gen)
        for row, length in zip(batch.tokens.tolist(), batch.lengths.tolist(), strict=True):
            assert row[length - 1] == tok.eos
            assert length <= task.max_tokens + 1
            src = tok.decode(row)
            n += 1
            try:
                ast.parse(src)
            except SyntaxError:
                n_bad += 1
    assert n >= 1600 and n_bad == 0


def test_policy_samples_parse_and_masks_replay():
    task = load_task("function_with_return")
    tok = Tokenizer.for_task(task)
    g = Grammar(tok)
    torch.manual_seed(0)
    pol = Policy(len(tok))
    pol.init_weights("xavier")
    gen = torch.Generator().manual_seed(2)
    batch = sample_batch(pol, g, 64, task.max_tokens + 1, gen)
    for b in range(64):
        seq = batch.tokens[b, : batch.lengths[b]].tolist()
        ast.parse(tok.decode(seq))
        states, ok = g.trace(seq, task.max_tokens + 1)
        assert ok
        rem = np.arange(task.max_tokens + 1, task.max_tokens + 1 - len(seq), -1)
        assert (g.mask(np.array(states), rem) == batch.masks[b, : len(seq)]).all()
        assert batch.masks[b, np.arange(len(seq)), seq].all()  # every chosen token was allowed


def test_scope_rules():
    tok = Tokenizer()
    g = Grammar(tok)
    sid = g.start
    allowed = {tok.tokens[i] for i in g.allowed(sid, 30)}
    assert "print" in allowed and "x" in allowed  # assignment target
    assert "return" not in allowed and "break" not in allowed and "<eos>" not in allowed
    # inside print(...), an unbound name cannot be read
    for t in ("print", "("):
        sid = g.next_state(sid, tok.index[t])
    allowed = {tok.tokens[i] for i in g.allowed(sid, 30)}
    assert "x" not in allowed and "5" in allowed and "f" not in allowed
    # after `x = 1 <newline>`, x is readable
    sid = g.start
    for t in ("x", "=", "1", "<newline>", "print", "("):
        sid = g.next_state(sid, tok.index[t])
    assert "x" in {tok.tokens[i] for i in g.allowed(sid, 30)}


def test_budget_forces_completion():
    tok = Tokenizer()
    g = Grammar(tok)
    sid = g.start
    # with exactly 6 tokens left, only a print statement still fits: print ( d ) NEWLINE EOS
    assert {tok.tokens[i] for i in g.allowed(sid, 6)} == {"print"}
    assert g.allowed(sid, 5) == []


def test_state_table_compaction_keeps_sampling_valid():
    tok = Tokenizer()
    g = Grammar(tok)
    gen = torch.Generator().manual_seed(0)
    sample_batch(None, g, 64, 30, gen)
    assert g.n_states > 50
    start, done = g.start, g.done
    assert g.maybe_reset(limit=10)
    assert g.n_states <= 10 and g.compactions == 1
    assert (g.start, g.done) == (start, done)  # fixed ids survive compaction
    batch = sample_batch(None, g, 16, 30, gen)
    for row in batch.tokens.tolist():
        ast.parse(tok.decode(row))

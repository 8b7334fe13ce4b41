"""The bounded state table: same masks and samples as the unbounded reference, far fewer states."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.grammar import Grammar
from engine.policy import Policy, sample_batch
from engine.tasks import load_task
from engine.tokenizer import Tokenizer

sys.path.insert(0, str(Path(__file__).parent))
from reference_grammar import Grammar as ReferenceGrammar  # noqa: E402
from test_inputs import LIST_TASK, SUM_TO_N  # noqa: E402

TASKS = {
    "function_with_return": lambda: load_task("function_with_return"),
    "basic_loop": lambda: load_task("basic_loop"),
    "sum_to_n": lambda: SUM_TO_N,
    "list_inputs": lambda: LIST_TASK,
}


def _sample(grammar_cls, task, policy_seed: int | None, batches: int):
    tok = Tokenizer.for_task(task)
    g = grammar_cls(tok)
    pol = None
    if policy_seed is not None:
        torch.manual_seed(policy_seed)
        pol = Policy(len(tok))
        pol.init_weights("orthogonal")
    gen = torch.Generator().manual_seed(11)
    out = [sample_batch(pol, g, 128, task.max_tokens + 1, gen) for _ in range(batches)]
    return g, tok, out


@pytest.mark.parametrize("name", list(TASKS))
@pytest.mark.parametrize("policy_seed", [None, 4], ids=["uniform", "policy"])
def test_identical_to_unbounded_reference(name, policy_seed):
    task = TASKS[name]()
    g, tok, ours = _sample(Grammar, task, policy_seed, 6)
    ref_g, _, theirs = _sample(ReferenceGrammar, task, policy_seed, 6)
    for a, b in zip(ours, theirs, strict=True):
        assert np.array_equal(a.tokens, b.tokens)
        assert np.array_equal(a.masks, b.masks)
        assert np.array_equal(a.lengths, b.lengths)
    # scope is not part of the interned state any more: fewer states for the same samples
    assert g.n_states < ref_g.n_states


def test_replayed_masks_match_the_reference():
    """trace + mask (the trainer's priority-queue replay) agree with the reference too."""
    task = SUM_TO_N
    tok = Tokenizer.for_task(task)
    g, ref = Grammar(tok), ReferenceGrammar(tok)
    T = task.max_tokens + 1
    batch = sample_batch(None, g, 128, T, torch.Generator().manual_seed(2))
    for b in range(128):
        seq = batch.tokens[b, : batch.lengths[b]].tolist()
        states, ok = g.trace(seq, T)
        ref_states, ref_ok = ref.trace(seq, T)
        assert ok and ref_ok
        rem = np.arange(T, T - len(seq), -1)
        assert np.array_equal(g.mask(np.array(states), rem), ref.mask(np.array(ref_states), rem))


def test_state_table_stays_under_its_cap_with_identical_samples():
    """A small cap forces many compactions; samples and masks equal those of an uncapped table."""
    task = load_task("basic_loop")
    tok = Tokenizer.for_task(task)
    capped, free = Grammar(tok), Grammar(tok)
    gen_a, gen_b = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    limit, T = 3000, task.max_tokens + 1
    for _ in range(60):
        capped.maybe_reset(limit=limit)
        assert capped.n_states <= limit
        free.maybe_reset(limit=10**9)
        a = sample_batch(None, capped, 128, T, gen_a)
        b = sample_batch(None, free, 128, T, gen_b)
        assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.masks, b.masks)
    assert capped.compactions >= 3 and free.compactions == 0
    assert free.n_states > 2 * limit
    assert capped._rows.shape[0] <= 4 * limit  # the arrays stop growing too


def test_mask_does_not_depend_on_scope_of_other_rows():
    """Scope rules are applied per row: a bound name in one sample is not readable in another."""
    tok = Tokenizer()
    g = Grammar(tok)
    a = g.start
    for t in ("x", "=", "1", "<newline>", "print", "("):
        a = g.next_state(a, tok.index[t])
    b = g.start
    for t in ("y", "=", "1", "<newline>", "print", "("):
        b = g.next_state(b, tok.index[t])
    m = g.mask(np.array([a, b]), np.array([20, 20]))
    x, y = tok.index["x"], tok.index["y"]
    assert m[0, x] and not m[0, y] and m[1, y] and not m[1, x]
    assert a & 0x3FFFFF == b & 0x3FFFFF  # the same grammar state, different scopes


def test_compaction_keeps_the_recently_used_states():
    task = load_task("basic_loop")
    tok = Tokenizer.for_task(task)
    g = Grammar(tok)
    gen, T = torch.Generator().manual_seed(1), task.max_tokens + 1
    for _ in range(20):
        g.maybe_reset(limit=10**9)
        sample_batch(None, g, 128, T, gen)
    g.maybe_reset(limit=10**9)
    last = sample_batch(None, g, 32, T, gen)
    before = g.n_states
    assert g.maybe_reset(limit=before - 1)  # keeps the newer half
    kept = g.n_states
    assert kept <= before // 2 + 2  # plus the start and finished states
    for b in range(32):
        _, ok = g.trace(last.tokens[b, : last.lengths[b]].tolist(), T)
        assert ok
    assert g.n_states == kept  # every state of the last batch survived: no rebuild needed

"""Grammar and tokenizer with a task's input names: bound from the first token, every sample parses."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from engine.grammar import IO_DIGITS, Grammar
from engine.policy import Policy, sample_batch
from engine.tokenizer import Tokenizer, task_input_names


@dataclass
class FakeCase:
    inputs: dict
    expected_output: str
    hidden: bool = False


@dataclass
class FakeTask:
    """Just the fields the tokenizer reads (works before `Task.tests` exists)."""

    name: str = "fake"
    description: str = ""
    valid_patterns: tuple = ()
    required_numbers: tuple = ()
    required_strings: tuple = ()
    input_names: tuple = ()
    tests: tuple = field(default_factory=tuple)
    max_tokens: int = 30


SUM_TO_N = FakeTask(
    input_names=("n",),
    valid_patterns=("x = 0\nfor i in range(n + 1):\n    x += i\nprint(x)",),
    tests=(FakeCase({"n": 4}, "10"), FakeCase({"n": 9}, "45", True)),
)
LIST_TASK = FakeTask(
    input_names=("nums", "k"),
    required_numbers=(3,),
    required_strings=("big",),
    valid_patterns=("print(nums[-1] + len(nums) % 3)",),
    max_tokens=34,
)


def _allowed(g: Grammar, tok: Tokenizer, prefix: list[str], budget: int = 30) -> set[str]:
    sid = g.start
    for t in prefix:
        sid = g.next_state(sid, tok.index[t])
    return {tok.tokens[i] for i in g.allowed(sid, budget)}


def test_input_names_from_attribute_or_cases():
    assert task_input_names(SUM_TO_N) == ("n",)
    no_attr = FakeTask(tests=(FakeCase({"a": 1, "b": 2}, "3"),))
    assert task_input_names(no_attr) == ("a", "b")
    assert task_input_names(object()) == ()  # a task from before test cases existed


def test_inputs_readable_from_the_first_token():
    tok = Tokenizer.for_task(LIST_TASK)
    g = Grammar(tok)
    in_print = _allowed(g, tok, ["print", "("])
    assert {"nums", "k"} <= in_print
    assert "x" not in in_print  # other names still need binding first
    assert "nums" in _allowed(g, tok, ["for", "x", "in"])
    # inputs may be reassigned and augmented from the start
    assert "+=" in _allowed(g, tok, ["k"])
    assert "+=" not in _allowed(g, tok, ["x"])
    # indexing with a negative index, len(), the task's own literals
    assert "-" in _allowed(g, tok, ["print", "(", "nums", "["])
    assert {"len", "range", "3", "'big'"} <= in_print


def test_io_tasks_offer_few_number_literals():
    tok = Tokenizer.for_task(SUM_TO_N)
    g = Grammar(tok)
    numbers = {t for t in _allowed(g, tok, ["print", "("]) if t.isdigit()}
    assert numbers == set(IO_DIGITS)
    legacy = Tokenizer.for_task(FakeTask(required_numbers=(15,)))
    numbers = {t for t in _allowed(Grammar(legacy), legacy, ["print", "("]) if t.isdigit()}
    assert numbers == {str(d) for d in range(10)} | {"15"}


def test_legacy_tasks_bind_nothing():
    tok = Tokenizer.for_task(FakeTask())
    g = Grammar(tok)
    assert not {"x", "y", "i", "n"} & _allowed(g, tok, ["print", "("])


@pytest.mark.parametrize("task", [SUM_TO_N, LIST_TASK], ids=["sum_to_n", "list"])
def test_patterns_trace(task):
    tok = Tokenizer.for_task(task)
    g = Grammar(tok)
    for src in task.valid_patterns:
        ids = tok.encode(src) + [tok.eos]
        assert tok.unk not in ids
        _, ok = g.trace(ids, task.max_tokens + 1)
        assert ok, src


@pytest.mark.parametrize("task", [SUM_TO_N, LIST_TASK], ids=["sum_to_n", "list"])
def test_uniform_samples_with_inputs_parse(task):
    """10k uniform samples (the widest coverage of the grammar) all parse and read no unbound name."""
    tok = Tokenizer.for_task(task)
    g = Grammar(tok)
    gen = torch.Generator().manual_seed(3)
    n, used_input = 0, 0
    for _ in range(40):  # 40 x 128 x 2 tasks ~ 10k programs
        batch = sample_batch(None, g, 128, task.max_tokens + 1, gen)
        for row, length in zip(batch.tokens.tolist(), batch.lengths.tolist(), strict=True):
            assert row[length - 1] == tok.eos
            src = tok.decode(row)
            tree = ast.parse(src)
            n += 1
            names = {x.id for x in ast.walk(tree) if isinstance(x, ast.Name)}
            used_input += bool(names & set(task.input_names))
    assert n == 40 * 128
    assert used_input > n // 10  # inputs are actually written, not only allowed


def test_policy_samples_with_inputs_replay():
    tok = Tokenizer.for_task(SUM_TO_N)
    g = Grammar(tok)
    torch.manual_seed(0)
    pol = Policy(len(tok))
    pol.init_weights("orthogonal")
    T = SUM_TO_N.max_tokens + 1
    batch = sample_batch(pol, g, 64, T, torch.Generator().manual_seed(5))
    for b in range(64):
        seq = batch.tokens[b, : batch.lengths[b]].tolist()
        ast.parse(tok.decode(seq))
        states, ok = g.trace(seq, T)
        assert ok
        rem = np.arange(T, T - len(seq), -1)
        assert (g.mask(np.array(states), rem) == batch.masks[b, : len(seq)]).all()

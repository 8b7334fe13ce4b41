"""Grammar-valid mutation: every child parses, fits the budget, and each operator does its job."""

from __future__ import annotations

import ast
import random
from collections import Counter

import pytest

from engine.search.mutation import OPERATORS, MutationConfig, Mutator, StatementPool
from engine.search.spans import statement_spans

BUDGET = 33  # 32 program tokens + EOS, the LEARNING-NOTES setup


def _random_programs(m: Mutator, rng: random.Random, k: int) -> list[list[int]]:
    out = []
    while len(out) < k:
        body = m.random_program(rng)
        assert m.valid(body)
        out.append(body)
    return out


def _parses(tok, body) -> bool:
    try:
        ast.parse(tok.decode(body))
    except SyntaxError:
        return False
    return True


def test_spans_cover_a_block_program(tok):
    code = "x = 1\nfor i in range(n):\n    if i > 2:\n        x += i\n    else:\n        x -= 1\nprint(x)\n"
    body = tok.encode(code)
    spans = statement_spans(body, tok)
    texts = [tok.decode(body[s.start : s.end]).strip() for s in spans]
    assert texts[0] == "x = 1"
    assert texts[1].startswith("for i in range(n):") and texts[1].endswith("x -= 1")
    assert texts[2].startswith("if i > 2:")
    assert texts[-1] == "print(x)"
    assert [s.depth for s in spans] == [0, 0, 1, 2, 2, 0]
    assert statement_spans(body[:-1], tok) == []  # a cut program is not well formed


@pytest.mark.slow
def test_thousands_of_children_parse_and_fit(tok, grammar):
    rng = random.Random(0)
    weights = {**MutationConfig().weights, "idiom": 1.0}  # every operator on
    m = Mutator(grammar, BUDGET, config=MutationConfig(weights=weights))
    pool = StatementPool(tok)
    parents = _random_programs(m, rng, 60)
    for p in parents:
        pool.add(p, 0.5)
    ops: Counter[str] = Counter()
    children = 0
    for i in range(3000):
        a = parents[rng.randrange(len(parents))]
        if i % 4 == 0:
            got = m.crossover(a, parents[rng.randrange(len(parents))], rng)
        else:
            got = m.mutate(a, rng, pool if i % 2 else None)
        if got is None:
            continue
        child, op = got
        ops[op.split("-")[0] if op.startswith("cross") else op] += 1
        children += 1
        assert len(child) + 1 <= BUDGET, (op, tok.decode(child))
        assert _parses(tok, child), (op, tok.decode(child))
        assert statement_spans(child, tok), (op, tok.decode(child))
        if rng.random() < 0.3:  # keep evolving from children too: deeper, odder programs
            parents[rng.randrange(len(parents))] = child
    assert children > 2500
    for op in OPERATORS:  # idiom adds 10 tokens: rare in programs already near the budget
        assert ops[op] > 5, ops
    assert ops["cross"] > 300, ops


def test_wrap_builds_a_loop_from_a_donor_header(tok, grammar):
    rng = random.Random(1)
    m = Mutator(grammar, BUDGET, config=MutationConfig(weights={"wrap": 1.0}, donor_share=1.0))
    pool = StatementPool(tok)
    pool.add(tok.encode("for i in range(n):\n    print(i)\n"), 1.0)
    parent = tok.encode("n += 1\nprint(n)\n")
    seen = set()
    for _ in range(50):
        child, op = m.mutate(parent, rng, pool)
        assert op == "wrap"
        seen.add(tok.decode(child))
    assert "for i in range(n):\n    n += 1\nprint(n)\n" in seen
    assert "for i in range(n):\n    n += 1\n    print(n)\n" in seen


def test_invalid_children_are_refused(tok, grammar):
    m = Mutator(grammar, BUDGET)
    assert m.valid(tok.encode("print(n)\n"))
    assert not m.valid(tok.encode("print(y)\n"))  # y is never bound
    assert not m.valid(tok.encode("x = 1\n"))  # a program must print
    long = tok.encode("print(" + " + ".join(["n"] * 20) + ")\n")
    assert not m.valid(long)  # over the budget
    # delete of the only statement is never proposed; mutate still returns a valid child
    rng = random.Random(2)
    for _ in range(100):
        got = m.mutate(tok.encode("print(n)\n"), rng)
        assert got is None or m.valid(got[0])


def test_swap_turns_a_near_miss_into_the_solution(tok, grammar):
    rng = random.Random(4)
    m = Mutator(grammar, BUDGET, config=MutationConfig(weights={"swap": 1.0}))
    parent = tok.encode("for i in range(n):\n    n += 1\nprint(n)\n")
    got = [m.mutate(parent, rng) for _ in range(2000)]
    assert sum(g is not None for g in got) > 1800
    kids = {tok.decode(g[0]) for g in got if g is not None}
    assert "for i in range(n):\n    n += i\nprint(n)\n" in kids
    for k in kids:  # one token changed, the rest kept
        assert len(tok.encode(k)) == len(parent)
        assert sum(a != b for a, b in zip(tok.encode(k), parent, strict=True)) == 1


def test_idiom_wraps_statements_in_a_range_loop(tok, grammar):
    rng = random.Random(5)
    m = Mutator(grammar, BUDGET, config=MutationConfig(weights={"idiom": 1.0}))
    parent = tok.encode("n += 1\nprint(n)\n")
    got = [m.mutate(parent, rng) for _ in range(400)]
    kids = {tok.decode(g[0]) for g in got if g is not None}
    assert "for i in range(n):\n    n += 1\nprint(n)\n" in kids
    assert all("for " in k for k in kids)
    assert MutationConfig().weights["idiom"] == 0.0  # a switch, off by default


def test_batched_replay_agrees_with_grammar_trace(tok, grammar):
    rng = random.Random(6)
    m = Mutator(grammar, BUDGET)
    bodies = [m.random_program(rng) for _ in range(40)]
    vocab = grammar.generative_ids()
    for b in list(bodies):  # damaged copies: a random token replaced, dropped, or appended
        c = list(b)
        k = rng.randrange(len(c))
        choice = rng.randrange(3)
        if choice == 0:
            c[k] = rng.choice(vocab)
        elif choice == 1:
            del c[k]
        else:
            c += [rng.choice(vocab)] * rng.randint(1, 8)
        bodies.append(c)
    want = [grammar.trace([*b, tok.eos], BUDGET)[1] and len(b) + 1 <= BUDGET for b in bodies]
    assert m.valid_many(bodies) == want
    assert 10 < sum(want) < len(bodies)  # both kinds present

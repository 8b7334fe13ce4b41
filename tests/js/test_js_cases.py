"""Derived cases for legacy JavaScript tasks: required values read from the case's globals, as
in Python (`engine.languages.javascript.cases`, `JSTaskScorer.prepare`)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest

from engine.config import SandboxConfig
from engine.languages.javascript import JSRunner, JSTaskScorer, find_node
from engine.languages.javascript.cases import (
    find_occurrences,
    js_pattern,
    may_hold_values,
    occurrence_sources,
    parse_ranges,
    rewritten,
)
from engine.languages.javascript.grammar import Grammar
from engine.languages.javascript.tokenizer import Tokenizer
from engine.reward.cases import RequiredValue, build_cases, required_values
from engine.tasks import load_task

VALUES = [RequiredValue("number", 5, 0), RequiredValue("number", 3, 1),
          RequiredValue("string", "hello", 2)]  # fmt: skip


def rewrite(code: str, values: list[RequiredValue] = VALUES) -> str:
    tree = parse_ranges(code)
    assert tree is not None, code
    return rewritten(code, find_occurrences(tree, code, values))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("console.log(5 + 3);", "console.log(altlasv0 + altlasv1);"),
        ("let x = 5.0;\nconsole.log(x);", "let x = altlasv0;\nconsole.log(x);"),  # one number
        ("console.log(0x5 - 3);", "console.log(altlasv0 - altlasv1);"),
        ("console.log(-5 * 3);", "console.log(-altlasv0 * altlasv1);"),  # 5 is in -5
        ("console.log('hello' + \"hello\");", "console.log(altlasv2 + altlasv2);"),
        ("function f() { return\"hello\"; }", "function f() { return altlasv2; }"),  # no glue
        # an index names a position, a key is syntax, template text is text (as f-strings)
        ("const a = [5, 3]; console.log(a[5], a[-3]);",
         "const a = [altlasv0, altlasv1]; console.log(a[5], a[-3]);"),
        ("const o = {5: 3}; console.log(o[5]);", "const o = {5: altlasv1}; console.log(o[5]);"),
        ("console.log(`hello ${5}`);", "console.log(`hello ${altlasv0}`);"),
        ("'hello';\nconsole.log(3);", "'hello';\nconsole.log(altlasv1);"),  # a directive
        ("console.log(15, 35, 5.5, 'hello world');", "console.log(15, 35, 5.5, 'hello world');"),
        # a program naming our globals is run as written
        ("let altlasv0 = 1; console.log(5 + altlasv0);", "let altlasv0 = 1; console.log(5 + altlasv0);"),
    ],
)  # fmt: skip
def test_rewrite_replaces_the_values_only(code: str, expected: str) -> None:
    assert rewrite(code) == expected


def test_no_parentheses_so_no_accidental_call() -> None:
    # `(altlasv0)` after a line without `;` would call `y(...)`: a bare name does not
    code = "let y = 3\n5 + y\nconsole.log(y)"
    out = rewrite(code)
    assert out == "let y = altlasv1\naltlasv0 + y\nconsole.log(y)"
    tree = parse_ranges(out)
    assert tree is not None and len(tree["body"]) == 3


def test_occurrence_sources_perturb_one_occurrence() -> None:
    code = "console.log(5 + 5 + 3);"
    occ = find_occurrences(parse_ranges(code), code, VALUES)
    assert [o[0] for o in occ] == [0, 0, 1]
    assert occurrence_sources(code, occ, 1) == [
        "console.log(altlasv0 + altlasp0 + altlasv1);",
        "console.log(altlasv0 + altlasq0 + altlasv1);",
    ]
    pattern = js_pattern(code, VALUES)
    assert pattern is not None and pattern.contains == frozenset({0, 1})
    assert [i for i, _ in pattern.variants] == [0, 0, 1]
    assert js_pattern("console.log(5 +", VALUES) is None


def test_text_precheck_never_misses_a_value() -> None:
    for code in ("console.log(5 + 3);", "console.log(0xa)", "x = 'hel\\x6co'", "1e1", "'hello'"):
        assert may_hold_values(code, VALUES), code
    assert not may_hold_values("console.log(7 + 8 * 2);", VALUES)
    assert not may_hold_values("console.log(5);", [])


def test_cases_are_pythons_for_the_same_values() -> None:
    js, py = load_task("js_add_two_numbers"), load_task("add_two_numbers")
    assert [c.label for c in build_cases(js, required_values(js))] == [
        c.label for c in build_cases(py, required_values(py))
    ]


# ---- with node ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner() -> Iterator[JSRunner]:
    if find_node() is None:
        pytest.skip("node is not installed")
    with JSRunner(SandboxConfig(workers=2, timeout=0.05)) as js:
        yield js


def test_hard_coded_answer_fails_the_derived_cases(runner: JSRunner) -> None:
    task = load_task("js_add_two_numbers")
    scorer = JSTaskScorer(task)
    honest = "let x = 5;\nlet y = 3;\nconsole.log(x + y);"
    fixed, good, call = scorer.score_many(
        ["console.log(8)", honest, "function f(a, b) {\n  return a + b;\n}\nconsole.log(f(5, 3));"],
        runner.run_many,
        [4, 18, 20],
    )
    assert scorer.expect is not None
    labels = [c.label for c in scorer.expect.cases]
    assert labels == ["as written", "shifted", "only 5 changed", "only 3 changed", "all equal",
                      "scaled up", "scaled down"]  # fmt: skip
    assert scorer.expect.profiles == [("8", "10", "16", "14", "6", "32", "1")]
    assert len(fixed.cases) == 7 and fixed.case_counts == (1, 5, 0, 2)
    assert not fixed.success and any("differs from expected '10'" in r for r in fixed.reasons)
    for r in (good, call):
        assert r.success and r.score == 1.0 and r.case_counts == (5, 5, 2, 2), r.reasons
        assert r.stdout.strip() == "8"  # case 0 is the task as written
    # shown inputs name the value and what the case bound instead
    assert good.cases[2].inputs == {"5": 13, "3": 3} and good.cases[2].expected == "16"


def test_a_lucky_formula_fails_where_the_values_change(runner: JSRunner) -> None:
    # prints 8 as written, but from a 6 of its own: the shifted case wants 10
    scorer = JSTaskScorer(load_task("js_add_two_numbers"))
    r = scorer.score_many(["console.log(3 + 6 - 3 + 5 - 3);"], runner.run_many, [14])[0]
    assert not r.success and r.cases[0].passed and not r.cases[1].passed


def test_every_shipped_js_pattern_passes_its_derived_cases(runner: JSRunner) -> None:
    for name in ("js_add_two_numbers", "js_basic_loop", "js_concatenate_strings",
                 "js_conditional_check"):  # fmt: skip
        task = load_task(name)
        scorer = JSTaskScorer(task)
        results = scorer.score_many(list(task.valid_patterns), runner.run_many)
        assert scorer.expect is not None and len(scorer.expect.cases) == 7, name
        assert all(r.success for r in results), (name, [r.reasons for r in results])


def _samples(task: SimpleNamespace, n: int, budget: int, seed: int) -> list[str]:
    """Uniformly random programs of the JS grammar (as its own test samples them)."""
    tok = Tokenizer.for_task(task)
    g = Grammar(tok)
    rng = np.random.default_rng(seed)
    sids = np.full(n, g.start, dtype=np.int64)
    out = np.full((n, budget), tok.pad, dtype=np.int64)
    for t in range(budget):
        mask = g.mask(sids, np.full(n, budget - t))
        toks = np.where(mask, rng.random(mask.shape), -1.0).argmax(axis=1)
        out[:, t] = toks
        sids = g.step(sids, toks)
    return [tok.decode([int(x) for x in row if x != tok.pad]) for row in out]


def test_rewritten_grammar_samples_run_exactly_as_written(runner: JSRunner) -> None:
    """Rewriting must not change a program: bound to the values as written, every rewritten
    sample prints and fails exactly as the original."""
    task = SimpleNamespace(required_numbers=[5, 3], required_strings=["hello"],
                           description="", valid_patterns=[])  # fmt: skip
    sources = _samples(task, 1500, 30, seed=11) + _samples(task, 500, 50, seed=12)
    changed = [(s, rewrite(s)) for s in dict.fromkeys(sources)]
    changed = [(s, r) for s, r in changed if r != s]
    assert len(changed) > 300  # the samples do hold the values
    bindings = {"altlasv0": 5, "altlasv1": 3, "altlasv2": "hello"}
    before = runner.run_many([s for s, _ in changed])
    after = [row[0] for row in runner.run_cases([r for _, r in changed], [bindings])]
    differ = [
        (s, r, a.status, a.stdout, b.status, b.stdout)
        for (s, r), a, b in zip(changed, before, after, strict=True)
        if (a.status, a.stdout) != (b.status, b.stdout) and "timeout" not in (a.status, b.status)
    ]
    assert differ == []


def test_case_free_programs_run_once_with_the_same_scores(runner: JSRunner, monkeypatch) -> None:
    import re

    from engine.languages.javascript import reward

    task = load_task("js_add_two_numbers")
    codes = ["console.log(10)", "console.log(4 + 4)", "let a = 7; console.log(a + 1)",
             "console.log(5 + 3)", "while (true) {}"]  # fmt: skip
    calls: list[int] = []
    original = runner.run_cases

    def counting(srcs, cases, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        calls.append(len(srcs) * len(cases))
        return original(srcs, cases, *args, **kwargs)

    monkeypatch.setattr(runner, "run_cases", counting)
    fast = JSTaskScorer(task).score_many(codes, runner.run_many, [5] * 5)
    runs_fast = sum(calls[1:])  # calls[0]: the patterns
    calls.clear()
    monkeypatch.setattr(reward, "_CASE_READERS", re.compile(""))  # every program on every case
    slow = JSTaskScorer(task).score_many(codes, runner.run_many, [5] * 5)
    runs_slow = sum(calls[1:])
    assert [(r.score, r.success, r.case_counts, r.reasons) for r in fast] == [
        (r.score, r.success, r.case_counts, r.reasons) for r in slow
    ]
    assert fast[0].case_counts == (1, 5, 0, 2)  # 10 is right on the shifted case only
    variants = 2 * 2 * 5  # 5 + 3: two occurrences, two twins each, five visible cases
    assert runs_fast == 4 * 1 + 1 * 7 + variants and runs_slow == 5 * 7 + variants

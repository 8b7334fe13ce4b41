"""Bounded structures of the hot loop and results that do not depend on caching: the LRUs stay
under their caps, the program cache and the reward's caches give the same verdicts as scoring
afresh, the fast rewrite matches the reference transformer, liveness variants run only for
programs that pass a visible case."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reward"))
from trusted import CountingRunner, run_trusted  # noqa: E402

from engine.config import Config  # noqa: E402
from engine.fingerprint import TokenShapes  # noqa: E402
from engine.reward import TaskScorer  # noqa: E402
from engine.reward.cases import (  # noqa: E402
    VALUE_PREFIX,
    required_values,
    rewrite,
    rewritten_source,
)
from engine.reward.memo import LRU, Generations, Outcome, ProgramCache, pack, unpack  # noqa: E402
from engine.tasks import load_task  # noqa: E402
from engine.tokenizer import Tokenizer  # noqa: E402

IO = Path(__file__).resolve().parent.parent / "data" / "io_tasks"

# Programs of every kind for add_two_numbers: successes, hacks, partial, broken, crashing.
PROGRAMS = [
    "print(5 + 3)",
    "a = 5\nb = 3\nprint(a + b)",
    "print(8)",
    "print(5 + 3 + 0)",
    "print(min(5 + 3, 4 + 4))",
    "print(5 - 3)",
    "print(5)",
    "print(3 + 5 if 5 > 3 else 8)",
    "def f(x, y):\n    return x + y\nprint(f(5, 3))",
    "def f(x):\n    return x\nprint(f(5 + 3))",
    "for i in [1]:\n    print(i + 5 + 2)",
    "x = 5\nx += 3\nprint(x)",
    "print(5 / 0)",
    "print(5 +",
    "print('8')",
    "print(-5 + 13)",
    "print([5, 3][0] + 3)",
    "print(f'{5 + 3}')",
]


def fake(codes: list[str]):
    return run_trusted(codes, 20_000)


def _verdicts(results) -> list[tuple]:
    return [(r.score, r.success, tuple(r.reasons), tuple(sorted(r.components.items())),
             tuple((c.got, c.passed) for c in r.cases)) for r in results]  # fmt: skip


# ---- LRU and program cache ---------------------------------------------------------------------


def test_lru_stays_under_its_cap_and_drops_the_least_recently_used() -> None:
    lru: LRU[int, str] = LRU(3)
    for i in range(3):
        lru.put(i, str(i))
    assert lru.get(0) == "0"  # 0 is now the most recent
    lru.put(3, "3")
    assert len(lru) == 3 and 1 not in lru and 0 in lru and 3 in lru
    for i in range(100):
        lru.put(i, str(i))
        assert len(lru) <= 3
    with pytest.raises(ValueError):
        LRU(0)


def test_program_cache_is_bounded_and_keeps_compact_records() -> None:
    cache = ProgramCache(size=50, detail=5)
    for i in range(500):
        o = Outcome(0.1 * (i % 7), i % 11 == 0, "ok", "", (("output", 0.2),), f"{i}\n",
                    cases=(i % 3, 3, 0, 1))  # fmt: skip
        cache.put(f"print({i})", o)
        assert len(cache) <= 50 and len(cache.details) <= 5
    assert "print(0)" not in cache and "print(499)" in cache
    full = cache.get("print(499)")
    assert full is not None and full.detailed and full.stdout == "499\n"
    compact = cache.get("print(480)")  # in the records, no longer in the details
    assert compact is not None and not compact.detailed
    assert (compact.score, compact.success, compact.cases) == (0.1 * (480 % 7), False, (0, 3, 0, 1))
    assert compact.components == () and compact.stdout == ""
    assert cache.get("never seen") is None


def test_generations_keep_recent_entries_and_stay_under_size() -> None:
    g: Generations[int, int] = Generations(10)
    for i in range(100):
        g.put(i, i)
        assert len(g) <= 10
        assert g.get(0) == 0  # used every insertion: never dropped
    assert 99 in g and 95 in g and 50 not in g
    assert g.get(12345) is None


@pytest.mark.parametrize(
    "o",
    [
        Outcome(0.123456789, True, "ok", "", cases=(5, 7, 1, 2)),
        Outcome(-0.5, False, "error", "ZeroDivisionError", cases=(0, 7, 0, 2)),
        Outcome(0.25, False, "timeout", "", cases=(3, 4, 5, 6)),
        Outcome(1.0, False, "unheard-of", "X", cases=(0, 0, 0, 0)),
    ],
)
def test_compact_records_round_trip(o: Outcome) -> None:
    u = unpack(pack(o))
    assert (u.score, u.success, u.status, u.error_type, u.cases) == (
        o.score, o.success, o.status, o.error_type, o.cases
    )  # fmt: skip
    assert not u.detailed


# ---- the reward's caches change nothing -------------------------------------------------------


@pytest.mark.parametrize("task", ["add_two_numbers", "basic_loop", str(IO / "sum_to_n.json")])
def test_verdicts_are_identical_with_and_without_the_caches(task: str) -> None:
    t = load_task(task)
    codes = PROGRAMS if t.name == "add_two_numbers" else [
        "t = 0\nfor i in range(1, n + 1):\n    t += i\nprint(t)", "print(n)", "print(15)",
        "for i in range(1, 6):\n    print(i)", "print(1)\nprint(2)\nprint(3)\nprint(4)\nprint(5)",
        "print(sum(range(n + 1)))", "for i in [1]:\n    print(n)",
    ]  # fmt: skip
    cached = TaskScorer(t)
    first = _verdicts(cached.score_many(codes, fake))
    again = _verdicts(cached.score_many(list(reversed(codes)), fake))[::-1]  # all cache hits
    uncached = TaskScorer(t)
    uncached.cache_size = 1  # every analysis but the last is forgotten at once
    alone = [_verdicts(uncached.score_many([c], fake))[0] for c in codes]
    assert first == again == alone


def test_fast_rewrite_matches_the_reference_transformer() -> None:
    task = load_task("add_two_numbers")
    values = required_values(task)
    codes = PROGRAMS + [
        "x = [5, 3, 5]\nprint(x[1] + x[-1] + 5)",  # indices are left alone
        "print(x[5:3])",
        "print(-5 - -3)",
        "print(f'{5} and 3 {3 + 5}')",
        f"{VALUE_PREFIX}0 = 1\nprint(5 + 3)",  # names our globals: left as written
        "match 5:\n    case 5:\n        print(3)",
        "print(5.0 + 3, True + 5, '5' + '3')",
        "def f(a=5):\n    return a\nprint(f() + 3)",
    ]
    for code in codes:
        try:
            mine, ref = ast.parse(code), ast.parse(code)
        except SyntaxError:
            continue
        got = rewrite(mine, values)
        want = _Reference(values).run(ref)
        assert ast.dump(mine) == ast.dump(ref), code
        assert [(i, ast.dump(o)) for i, _, o in got] == [(i, ast.dump(o)) for i, _, o in want]
        src = rewritten_source(code, got)
        if src is not None and "f'" not in code:
            assert ast.dump(ast.parse(src)) == ast.dump(mine), (code, src)


class _Reference(ast.NodeTransformer):
    """The rewrite as first written (NodeTransformer): the specification of the fast one."""

    def __init__(self, values) -> None:  # noqa: ANN001
        self.values, self.protected, self.occ = values, set(), []

    def run(self, tree: ast.Module) -> list:
        if any(isinstance(n, ast.Name) and n.id.startswith(("altlasv", "altlasp", "altlasq"))
               for n in ast.walk(tree)):  # fmt: skip
            return []
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript):
                s = node.slice
                for part in [s.lower, s.upper, s.step] if isinstance(s, ast.Slice) else [s]:
                    if part is not None:
                        self.protected.add(id(part))
                        if isinstance(part, ast.UnaryOp):
                            self.protected.add(id(part.operand))
            elif isinstance(node, ast.JoinedStr):
                self.protected.update(id(v) for v in node.values if isinstance(v, ast.Constant))
            elif isinstance(node, ast.match_case):
                self.protected.update(id(n) for n in ast.walk(node.pattern))
        self.visit(tree)
        return self.occ

    def _replace(self, node: ast.expr) -> ast.expr | None:
        if id(node) in self.protected:
            return None
        for v in self.values:
            if v.matches(node):
                name = ast.Name(id=v.name, ctx=ast.Load())
                self.occ.append((v.index, name, node))
                return ast.copy_location(name, node)
        return None

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        return self._replace(node) or self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return self._replace(node) or node


# ---- liveness variants only where they can matter ---------------------------------------------


def test_variants_run_only_for_programs_that_pass_a_visible_case() -> None:
    runner = CountingRunner()
    scorer = TaskScorer(load_task(IO / "sum_to_n.json"))
    scorer.score_many(["print(0)"], runner.run_many)  # builds the expectations
    before = runner.calls
    # passes no case: only the programs' call, constraint credit from the static verdicts
    wrong = scorer.score_many(["for i in range(n):\n    print(i)"], runner.run_many)[0]
    assert runner.calls == before + 1
    assert wrong.case_counts[0] == 0 and wrong.components["constraints"] > 0
    before = runner.calls
    right = scorer.score_many(["t = 0\nfor i in range(1, n + 1):\n    t += i\nprint(t)"],
                              runner.run_many)[0]  # fmt: skip
    assert runner.calls == before + 2 and right.success  # programs, then variants
    everything = TaskScorer(load_task(IO / "sum_to_n.json"))
    everything.variants_for_all = True
    assert everything.score_many(["for i in range(n):\n    print(i)"], fake)[0].case_counts[0] == 0


# ---- trainer: bounded cache and grammar, shapes from tokens -----------------------------------


def test_trainer_cache_and_grammar_stay_under_their_caps() -> None:
    from engine.sandbox import Sandbox
    from engine.trainer import Trainer

    cfg = Config()
    cfg.train.batch_size = 64
    cfg.train.cache_size = 100
    cfg.grammar.max_states = 1_000
    task = load_task("add_two_numbers")
    with Sandbox() as sb:
        tr = Trainer(cfg, task, sb.run_many, seed=1)
        per_batch = cfg.train.batch_size * tr.max_len  # states one batch can add at most
        for _ in range(6):
            s = tr.step()
            assert len(tr.cache) <= 100
            assert tr.grammar.n_states <= cfg.grammar.max_states + per_batch
            assert s.sample is not None and s.sample.detailed and s.sample.text_fp
        assert tr.unique_programs > 100  # the cap was reached
        # a cached outcome is what scoring the program afresh gives
        from engine.reward import ScoreWeights
        from engine.reward.shaping import token_length

        fresh = TaskScorer(task, ScoreWeights(length=cfg.train.length_penalty))
        shown = [c for c in (tr.best_code, s.sample_code) if c in tr.cache]
        results = fresh.score_many(shown, sb, [token_length(task, c) for c in shown])
        for code, r in zip(shown, results, strict=True):
            o = tr.cache.get(code)
            if r.status in ("timeout", "killed") or o.status in ("timeout", "killed"):
                continue  # deadlines depend on the machine's load
            assert (o.score, o.success) == (r.score, r.success)


def test_token_shapes_abstract_names_and_literals() -> None:
    tok = Tokenizer.for_task(load_task("add_two_numbers"))
    shapes = TokenShapes(tok.tokens)

    def fp(code: str) -> str:
        return shapes.of(np.array(tok.encode(code)))

    assert fp("x = 5\nprint(x + 3)") == fp("y = 2\nprint(y + 9)") == fp("a = 7\nprint(a + 3)")
    assert fp("print(5 + 3)") != fp("print(5 - 3)")
    assert fp("print(5 + 3)") != fp("print(5 + 3 + 1)")
    words = TokenShapes(["print", "(", ")", "'a'", "'bc'", "5", "1", "2", "x", "len"])

    def fp2(*toks: int) -> str:
        return words.of(np.array(toks))

    assert fp2(0, 1, 3, 2) == fp2(0, 1, 4, 2) != fp2(0, 1, 5, 2)  # strings vs numbers
    assert fp2(0, 1, 6, 7, 2) == fp2(0, 1, 5, 2)  # the digits of 12 are one number
    assert fp2(0, 1, 8, 2) == fp2(9, 1, 8, 2)  # names (builtins too) abstracted


def test_a_shown_duplicate_without_its_breakdown_is_scored_again(monkeypatch) -> None:
    import engine.trainer as trainer_mod
    from engine.sandbox import Sandbox
    from engine.trainer import Trainer

    cfg = Config()
    cfg.train.batch_size = 32
    cfg.search.gp = False  # the same batch twice: GP children would be new programs
    real = trainer_mod.sample_batch
    saved: dict = {}

    def same_batch(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if "batch" not in saved:
            saved["batch"] = real(*args, **kwargs)
        return saved["batch"]

    monkeypatch.setattr(trainer_mod, "sample_batch", same_batch)
    with Sandbox() as sb:
        tr = Trainer(cfg, load_task("add_two_numbers"), sb.run_many, seed=2)
        first = tr.step()
        tr.cache.details = LRU(1)  # breakdowns forgotten, compact records kept
        tr.cache.details.put(0, first.sample)  # (something else in it)
        before = tr.scorer.timing["programs"]
        again = tr.step()
        assert again.new_programs == 0 and again.sample_code == first.sample_code
        assert tr.scorer.timing["programs"] <= before + 1  # at most the shown one ran again
        assert again.sample.detailed and again.sample.text_fp == first.sample.text_fp
        if "timeout" not in (first.sample.status, again.sample.status):
            assert again.sample.components == first.sample.components
            assert again.score_mean == first.score_mean  # the reward used the cached records

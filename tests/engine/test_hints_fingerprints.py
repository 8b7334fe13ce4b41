"""Hints (stuck detection, backoff, derivation, effect), fingerprints, penalty and boosts."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from engine.config import HintConfig
from engine.fingerprint import ExplorationBoost, ShapeMemory, shape_fingerprint, text_fingerprint
from engine.grammar import Grammar
from engine.hints import HintManager, _canonical_names
from engine.tasks import list_tasks, load_task
from engine.tokenizer import Tokenizer

SHIPPED = [t.name for t in list_tasks() if t.target_language == "python"]


class FakeTrainer:
    """Just what HintManager reads from a trainer."""

    def __init__(self, task):
        self.tok = Tokenizer.for_task(task)
        self.grammar = Grammar(self.tok)
        self.max_len = task.max_tokens + 1
        self.attempts = 0
        self.total_attempts = 0
        self.best_score = 0.2
        self.solution = None

    def batch(self, hm: HintManager, n: int = 100, mean: float = 0.3, best: float = 0.5):
        self.attempts += n
        self.total_attempts += n
        hm.observe(SimpleNamespace(score_mean=mean, score_max=best, size=n), self)


def _cfg(**kw) -> HintConfig:
    base = dict(stuck_check_window=100, stuck_threshold=0.01, max_consecutive_stuck_checks=3,
                hint_probability_on_stuck=1.0, backoff_factor=2.0, hint_tokens=2,
                hint_duration=300, hint_fraction=0.25)  # fmt: skip
    base.update(kw)
    return HintConfig(**base)


def test_stuck_detector_and_backoff():
    task = load_task("add_two_numbers")
    tr = FakeTrainer(task)
    hm = HintManager(_cfg(), task, tr.tok)
    for _ in range(2):  # two stuck checks: not yet
        tr.batch(hm)
    assert hm.stuck_checks == 2 and hm.provided == 0
    tr.batch(hm)  # third: a hint
    assert hm.requested == 1 and hm.provided == 1 and hm.backoff_level == 1
    # the next hint needs 3 * 2**1 = 6 stuck checks
    for _ in range(5):
        tr.batch(hm)
    assert hm.provided == 1
    tr.batch(hm)
    assert hm.provided == 2 and hm.backoff_level == 2
    # improving on its own resets the backoff
    tr.best_score += 0.5
    tr.batch(hm)
    assert hm.backoff_level == 0 and hm.stuck_checks == 0


def test_hints_off_never_given_and_probability_declines():
    task = load_task("add_two_numbers")
    tr = FakeTrainer(task)
    off = HintManager(_cfg(), task, tr.tok, enabled=False)
    for _ in range(20):
        tr.batch(off)
    assert off.provided == 0
    never = HintManager(_cfg(hint_probability_on_stuck=0.0), task, tr.tok)
    for _ in range(9):
        tr.batch(never)
    assert never.requested == 3 and never.declined == 3 and never.provided == 0


@pytest.mark.parametrize("name", SHIPPED)
def test_hint_derived_from_each_shipped_task(name):
    task = load_task(name)
    tr = FakeTrainer(task)
    hm = HintManager(_cfg(), task, tr.tok)
    text = hm.force(tr)
    prefix, rows = hm.active_prefix(64)
    assert prefix and rows == 16 and hm.forced == 1
    # the prefix is the start of one of the task's own patterns (in the policy's own names),
    # and the grammar can write it

    assert any(
        tr.tok.encode(_canonical_names(p, task.input_names))[: len(prefix)] == prefix
        for p in task.valid_patterns
    )
    assert tr.grammar.trace(prefix, tr.max_len)[1]
    assert text == " ".join(tr.tok.tokens[i] for i in prefix)
    # a second hint is one token longer (hint_tokens + hints given, from any of the patterns),
    # unless no pattern is that long
    hm.force(tr)
    second = hm.active_prefix(64)[0]
    assert any(
        tr.tok.encode(_canonical_names(p, task.input_names))[: len(second)] == second
        for p in task.valid_patterns
    )
    longest = max(
        len(tr.tok.encode(_canonical_names(p, task.input_names))) for p in task.valid_patterns
    )
    assert len(prefix) == min(2, longest)
    assert len(second) == min(3, longest)


def test_hint_effect_measured():
    task = load_task("add_two_numbers")
    tr = FakeTrainer(task)
    hm = HintManager(_cfg(hint_duration=200, max_consecutive_stuck_checks=100), task, tr.tok)
    for _ in range(3):
        tr.batch(hm, mean=0.3, best=0.5)
    hm.force(tr)
    tr.batch(hm, mean=0.5, best=0.7)
    tr.batch(hm, mean=0.7, best=0.9)
    rec = hm.records[-1]
    assert rec["mean_before"] == pytest.approx(0.3) and rec["mean_after"] == pytest.approx(0.6)
    assert rec["best_after"] == pytest.approx(0.9) and rec["solved_after"] is False
    assert hm.measured and hm.impact() == pytest.approx(0.3)
    assert hm.active_prefix(64) == (None, 0)  # expired after hint_duration attempts


def test_shape_fingerprints():
    same = ["x = 5\nprint(x + 3)\n", "y = 2\nprint(y + 9)\n", "n = 1  # c\n\nprint(n + 7)\n"]
    assert len({shape_fingerprint(c) for c in same}) == 1
    different = ["x = 5\nprint(x - 3)\n", "print(5 + 3)\n", "x = 5\nif x:\n    print(x + 3)\n"]
    assert len({shape_fingerprint(c) for c in different + same[:1]}) == 4
    assert text_fingerprint("x=5\nprint( x+3 )  # hi\n") == text_fingerprint(
        "x = 5\n\nprint(x + 3)\n"
    )
    assert text_fingerprint("x = 5\nprint(x + 3)\n") != text_fingerprint("x = 6\nprint(x + 3)\n")
    assert shape_fingerprint("print(") == "unparsed"


def test_repetition_penalty_grows_and_is_bounded():
    mem = ShapeMemory(weight=0.02, max_penalty=0.1, free_repeats=4)
    fp = "abc"
    penalties = []
    for _ in range(600):
        penalties.append(mem.penalty(fp))
        mem.add(fp)
    # free for 4 repeats, then 0.02 per doubling of the count, capped at 0.1
    assert penalties[:5] == [0.0] * 5
    assert penalties[5] == pytest.approx(0.02 * math.log2(5 / 4))
    for count, expected in ((8, 0.02), (16, 0.04), (32, 0.06), (64, 0.08), (128, 0.1)):
        assert penalties[count] == pytest.approx(expected), count
    assert penalties[128:] == [pytest.approx(0.1)] * len(penalties[128:])
    assert mem.penalty("other") == 0.0
    restored = ShapeMemory()
    restored.load_state_dict(mem.state_dict())
    assert restored.counts[fp] == 600


def test_shape_memory_is_bounded_and_keeps_the_most_repeated():
    mem = ShapeMemory(size=3)
    for i in range(10):
        mem.add(f"shape{i}", n=i + 1)  # shape9 is the most repeated
        assert len(mem.counts) <= 2 * 3
    assert mem.most_failed(3) == [("shape9", 10), ("shape8", 9), ("shape7", 8)]
    assert len(mem.state_dict()["counts"]) == 3


def test_boost_trigger_and_decay():
    boost = ExplorationBoost(threshold=0.8, window=3, strength=0.1, duration=4)
    assert boost.observe(0.9) is None and boost.observe(0.9) is None
    msg = boost.observe(0.9)
    assert msg and "boost" in msg and boost.value == pytest.approx(0.1)
    values = []
    for _ in range(4):
        values.append(boost.value)
        boost.observe(0.0)
    assert values == pytest.approx([0.1, 0.075, 0.05, 0.025]) and boost.value == 0.0
    calm = ExplorationBoost(threshold=0.8, window=3, strength=0.1, duration=4)
    for share in (0.5, 0.9, 0.6, 0.7):
        assert calm.observe(share) is None

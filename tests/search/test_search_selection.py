"""Lexicase keeps specialists, the archive keeps loop programs apart from loop-free fits, GP improves."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from engine.search import EliteArchive, Eval, GPConfig, GPStep, Individual, lexicase_select
from engine.search.mutation import Mutator
from engine.search.selection import descriptor, loop_bucket, tournament_select

BUDGET = 33


def _ind(name: str, cases, score=None, iterations=None, tokens=None, loop=None) -> Individual:
    score = sum(cases) / len(cases) if score is None else score
    toks = tokens if tokens is not None else (hash(name) % 1000, 2)
    return Individual(toks, name, Eval(score, tuple(cases), False, iterations, loop))


def test_lexicase_keeps_specialists_that_tournament_loses():
    pop = [_ind("a", [1, 0, 0]), _ind("b", [0, 1, 0]), _ind("c", [0.6, 0.6, 0.6])]
    pop += [_ind(f"z{i}", [0.1, 0.1, 0.1]) for i in range(5)]
    rng = random.Random(0)
    lex = Counter(pop[i].code for i in lexicase_select(pop, 600, rng, epsilon=False))
    assert lex["a"] > 100 and lex["b"] > 100  # each the best on some case
    assert lex["a"] + lex["b"] + lex["c"] == 600  # never the dominated ones
    tour = Counter(pop[i].code for i in tournament_select(pop, 600, rng, size=4))
    assert tour["c"] > tour["a"] + tour["b"]  # the mean-maximiser wins tournaments


def test_epsilon_lexicase_tolerates_partial_credit_noise():
    pop = [_ind("p", [1.0, 0.9]), _ind("q", [0.98, 0.95])] + [
        _ind(f"z{i}", [0.0, 0.0]) for i in range(6)
    ]
    picks = Counter(pop[i].code for i in lexicase_select(pop, 400, random.Random(1)))
    assert set(picks) <= {"p", "q", *(f"z{i}" for i in range(6))}
    assert picks["p"] > 50 and picks["q"] > 50
    assert sum(v for k, v in picks.items() if k.startswith("z")) == 0


def test_loop_bucket_and_descriptor():
    assert loop_bucket(None) == "unknown"
    assert loop_bucket([0, 0]) == "none"
    assert loop_bucket([1, 0, 1]) == "once"
    assert loop_bucket([3, 3]) == "constant"
    assert loop_bucket([5, 3, 1]) == "varies"
    d = descriptor(_ind("x", [1, 0.5, 1], iterations=(5, 3, 10), tokens=tuple(range(17))))
    assert d == ((True, False, True), "varies", 2)


def test_archive_keeps_a_weaker_real_loop_beside_stronger_fits():
    arch = EliteArchive(per_niche=2, max_niches=10)
    fits = [_ind(f"fit{i}", [1, 1, 0, 0], 0.84 - i / 100, (1, 1, 1, 1), (i, 7)) for i in range(5)]
    loop = _ind("loop", [0, 0, 0, 0], 0.76, (5, 3, 1, 10), (99, 7))
    for ind in [*fits, loop]:
        arch.add(ind)
    kept = {e.code for e in arch.individuals()}
    assert "loop" in kept
    assert kept & {"fit0", "fit1"} == {"fit0", "fit1"} and "fit4" not in kept  # top-2 per niche
    arch2 = EliteArchive(per_niche=2, max_niches=1)  # bounded: one niche is evicted
    for ind in [*fits, loop]:
        arch2.add(ind)
    assert len(arch2) == 1


def test_descriptor_uses_the_rewards_loop_label():
    d = descriptor(_ind("x", [1, 0], iterations=(5, 3), tokens=tuple(range(9)), loop="grows"))
    assert d == ((True, False), "grows", 1)
    assert descriptor(_ind("y", [1, 0], loop="bogus"))[1] == "unknown"  # never a new niche kind
    assert loop_bucket([None, 1, None]) == "once"  # unknown cases are left out
    assert loop_bucket([None, None]) == "unknown"
    assert loop_bucket([None, 4, 2]) == "varies"


def test_bounded_archive_keeps_the_grows_elite_among_many_stronger_fits():
    # 30 loop-free formula fits, each exact on a different set of cases (30 niches), all
    # scoring above one real loop that grows with the input but passes nothing yet
    arch = EliteArchive(per_niche=4, max_niches=8)
    real = _ind("real", [0, 0, 0, 0, 0], 0.55, (5, 3, 1, 10, 7), (99, 3), loop="grows")
    arch.add(real)
    for i in range(30):
        cases = [(i >> b) & 1 for b in range(5)]
        arch.add(_ind(f"fit{i}", cases, 0.6 + i / 100, (0,) * 5, (i, 3), loop="none"))
    kept = {e.code for e in arch.individuals()}
    assert len(arch) == 8 and "real" in kept
    assert "fit29" in kept  # the fits' niches compete among themselves, the best stay
    # and parents are drawn per loop behaviour: the lone grows elite is half the archive draws
    picks = Counter(e.code for e in arch.sample(2000, random.Random(0)))
    assert 800 < picks["real"] < 1200
    flat = EliteArchive(per_niche=4, max_niches=8, by_loop=False)
    for e in arch.individuals():
        flat.add(e)
    assert Counter(e.code for e in flat.sample(2000, random.Random(0)))["real"] < 400


def test_gp_config_is_checked():
    with pytest.raises(ValueError, match="gp.selection"):
        GPConfig(selection="roulette").check()
    with pytest.raises(ValueError, match="gp.children"):
        GPConfig(children=0).check()


def _target_eval(tok, target: list[str]):
    """Cases = which target tokens appear (a code-free fitness: tests the GP machinery only)."""
    ids = [tok.index[t] for t in target]
    calls: list[list[tuple[int, ...]]] = []

    def evaluate(seqs):
        calls.append([tuple(s) for s in seqs])
        out = []
        for s in seqs:
            cases = tuple(1.0 if t in s else 0.0 for t in ids)
            out.append(Eval(sum(cases) / len(cases), cases, all(cases)))
        return out

    return evaluate, calls


@pytest.mark.parametrize("selection", ["lexicase", "tournament"])
def test_gp_step_breeds_better_new_valid_children(tok, grammar, selection):
    rng = random.Random(3)
    m = Mutator(grammar, BUDGET)
    evaluate, calls = _target_eval(tok, ["for", "while", "*", "range", "-="])
    seed = []
    while len(seed) < 32:
        seed.append(m.finish(m.random_program(rng, 11)))  # short seeds: room to grow
    pop = [Individual(s, tok.decode(s), e) for s, e in zip(seed, evaluate(seed), strict=True)]
    calls.clear()
    start_best = max(i.score for i in pop)
    gp = GPStep(grammar, tok, GPConfig(generations=4, children=48, selection=selection), BUDGET)
    best = 0.0
    for _ in range(5):
        out = gp.run(pop, evaluate, rng)
        assert 0 < len(out) <= gp.cfg.return_best
        assert [i.score for i in out] == sorted((i.score for i in out), reverse=True)
        for ind in out:
            assert ind.tokens[-1] == tok.eos and m.valid(ind.tokens[:-1])
            assert ind.tokens not in {p.tokens for p in pop}
        best = max(best, out[0].score)
        pop = pop + out
    assert best > start_best
    asked = [t for call in calls for t in call]
    assert len(asked) == len(set(asked))  # never evaluates a program twice
    assert all(len(call) <= 48 for call in calls)


@pytest.mark.slow
def test_gp_generations_accumulate_progress(tok, grammar):
    """Within one call, survivors carry progress between generations (switched off, it drops)."""
    target = ["for", "while", "*", "range", "-=", "%", "abs", "<="]
    total = 0.0
    for seed in range(4):
        rng = random.Random(seed)
        m = Mutator(grammar, BUDGET)
        evaluate, _ = _target_eval(tok, target)
        seeds = []
        while len(seeds) < 32:
            seeds.append(m.finish(m.random_program(rng, 7)))
        pop = [Individual(s, tok.decode(s), e) for s, e in zip(seeds, evaluate(seeds), strict=True)]
        assert max(i.score for i in pop) <= 0.25
        gp = GPStep(grammar, tok, GPConfig(generations=15, children=48, archive=False), BUDGET)
        total += gp.run(pop, evaluate, rng)[0].score
    # measured: 3.0 with survivor selection, 2.25 with the population frozen at the seeds
    assert total >= 2.75


def test_gp_survives_a_cache_smaller_than_a_generation(tok, grammar):
    """Regression: remembered children evicted by the fresh ones' results (KeyError at 100k)."""
    rng = random.Random(7)
    m = Mutator(grammar, BUDGET)
    evaluate, calls = _target_eval(tok, ["for", "while", "*"])
    seeds = [m.finish(m.random_program(rng, 9)) for _ in range(16)]
    pop = [Individual(s, tok.decode(s), e) for s, e in zip(seeds, evaluate(seeds), strict=True)]
    gp = GPStep(grammar, tok, GPConfig(generations=3, children=32, cache_size=8), BUDGET)
    for _ in range(6):
        out = gp.run(pop, evaluate, rng)
        assert all(i.eval is not None for i in out)
        pop = pop[:8] + out
    assert len(gp._cache) <= 8

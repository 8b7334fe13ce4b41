"""Experiment (not a test): does GP + lexicase with uniform proposals find a real loop for "sum 1..n"?

    python -m engine.search.experiment --configs gp-lexicase,gp-tournament,random \
        --seeds 0,1,2 --budget 30000 [--json out.json]

Setup from LEARNING-NOTES: input `n` pre-bound, visible cases n = 5, 3, 1, 10, 7, hidden n = 12,
32 program tokens. Each step: 128 uniform samples under the grammar's masks (the random-search
proposal, no policy) + the 64 best distinct programs so far (a priority queue) form the population;
the GP step breeds from it (configs below) and its children join the queue. Programs run in the
real sandbox, every case of every program in one `run_many` call. The per-case value is 1 for an
exact output, else up to 0.5 for a numeric output close to the expected one; the score is the mean
over visible cases (no loop credit: loops only enter through the archive's niches). Loop-body
executions per case come from a marker printed at the top of every loop body (stripped before
comparison); a guard stops a loop after 2,000 iterations. A "loop solution" passes every case,
hidden included, and its loop count varies with the input; a "formula solution" passes every case
without such a loop. Numbers go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import ast
import heapq
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field

import torch

from engine.policy import sample_batch
from engine.sandbox import Sandbox
from engine.search.gp import GPConfig, GPStep
from engine.search.individual import Eval, Individual
from engine.search.inputs import make_grammar
from engine.search.minimise import minimise
from engine.search.mutation import MutationConfig
from engine.search.selection import loop_bucket
from engine.tokenizer import Tokenizer

VISIBLE = (5, 3, 1, 10, 7)
HIDDEN = (12,)
BUDGET = 33  # 32 program tokens + EOS
MARK = "\x01"
GUARD = "ITER_GUARD"
_W = MutationConfig().weights
CONFIGS = {
    "gp-lexicase": GPConfig(),
    "gp-tournament": GPConfig(selection="tournament", archive=False),
    "gp-lexicase-noarchive": GPConfig(archive=False),
    "gp-lexicase-idioms": GPConfig(mutation=MutationConfig(weights={**_W, "idiom": 1.5})),
    "random": None,
}


def expected(n: int) -> str:
    return f"{n * (n + 1) // 2}\n"


def instrument(code: str) -> str:
    """`code` with a marker print and an iteration guard at the top of every loop body."""
    tree = ast.parse(code)
    probe = ast.parse(f"{GUARD}[0] += 1\nassert {GUARD}[0] < 2000\nprint({MARK!r}, end='')\n").body
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While)):
            node.body[:0] = [*probe]
    tree.body[:0] = ast.parse(f"{GUARD} = [0]\n").body
    return ast.unparse(ast.fix_missing_locations(tree))


def case_value(out: str, want: str) -> float:
    if out == want:
        return 1.0
    try:
        got, exp = int(out.strip()), int(want.strip())
    except ValueError:
        return 0.05 if out.strip() else 0.0
    diff, scale = abs(got - exp), max(1, abs(exp))
    return 0.0 if diff >= scale else 0.5 * (1.0 - diff / scale)  # ints: huge outputs stay exact


@dataclass
class Evaluator:
    """Runs every case of a batch of programs in the sandbox and scores them (cached by code)."""

    sandbox: Sandbox
    tok: Tokenizer
    cache: dict[str, tuple[Eval, bool]] = field(default_factory=dict)
    evaluated: int = 0

    def __call__(self, seqs: list[list[int]]) -> list[Eval]:
        codes = [self.tok.decode(s) for s in seqs]
        todo = list(dict.fromkeys(c for c in codes if c not in self.cache))
        runs, inputs = [], VISIBLE + HIDDEN
        for c in todo:
            body = instrument(c)
            runs += [f"n = {n}\n{body}\n" for n in inputs]
        results = self.sandbox.run_many(runs) if runs else []
        for k, c in enumerate(todo):
            vals, iters, exact = [], [], []
            for j, n in enumerate(inputs):
                r = results[k * len(inputs) + j]
                out = r.stdout.replace(MARK, "")
                iters.append(r.stdout.count(MARK))
                v = case_value(out, expected(n)) if r.status == "ok" else 0.0
                vals.append(v)
                exact.append(v == 1.0)
            nv = len(VISIBLE)
            success = all(exact)
            e = Eval(sum(vals[:nv]) / nv, tuple(vals[:nv]), success, tuple(iters[:nv]))
            self.cache[c] = (e, success and loop_bucket(iters) == "varies")
            self.evaluated += 1
        return [self.cache[c][0] for c in codes]

    def succeeds(self, codes: list[str]) -> list[bool]:
        """Exact on every case, hidden included (for the minimiser)."""
        runs = [f"n = {n}\n{c}" for c in codes for n in VISIBLE + HIDDEN]
        res = self.sandbox.run_many(runs)
        k = len(VISIBLE + HIDDEN)
        return [
            all(
                r.status == "ok" and r.stdout == expected(n)
                for r, n in zip(res[i * k : (i + 1) * k], VISIBLE + HIDDEN, strict=True)
            )
            for i in range(len(codes))
        ]


def run_one(
    config: str, seed: int, budget: int, sandbox: Sandbox, start: str | None = None
) -> dict:
    """One search run; returns what happened (first successes, best, archive facts)."""
    tok, grammar = make_grammar(["n"])
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    ev = Evaluator(sandbox, tok)
    gp_cfg = CONFIGS[config]
    gp = GPStep(grammar, tok, gp_cfg, BUDGET) if gp_cfg is not None else None
    queue: list[tuple[float, tuple[int, ...]]] = []  # min-heap of (score, tokens), top 64
    queued: set[tuple[int, ...]] = set()
    t0 = time.time()
    facts: dict = {"config": config, "seed": seed, "first_success": None, "first_loop": None}
    best, best_code = 0.0, ""
    first_varying_exact = None

    def note(inds: list[Individual]) -> None:
        nonlocal best, best_code, first_varying_exact
        for ind in inds:
            if ind.score > best:
                best, best_code = ind.score, ind.code
            code = ind.code
            is_loop = ev.cache[code][1] if code in ev.cache else False
            if ind.success and facts["first_success"] is None:
                facts["first_success"] = ev.evaluated
                facts["first_success_code"] = code
            if is_loop and facts["first_loop"] is None:
                facts["first_loop"] = ev.evaluated
                facts["loop_code"] = code
            it = ind.eval.iterations if ind.eval else None
            if (
                first_varying_exact is None
                and loop_bucket(it) == "varies"
                and any(c == 1.0 for c in ind.cases)
            ):
                first_varying_exact = ev.evaluated
            if len(queue) < 64 or ind.score > queue[0][0]:
                if ind.tokens not in queued:
                    queued.add(ind.tokens)
                    if len(queue) < 64:
                        heapq.heappush(queue, (ind.score, ind.tokens))
                    else:
                        _, old = heapq.heapreplace(queue, (ind.score, ind.tokens))
                        queued.discard(old)

    if start:  # seed the queue with a given program (e.g. a near miss)
        seq = tuple(tok.encode(start)) + (tok.eos,)
        note([Individual(seq, tok.decode(seq), ev([list(seq)])[0], "start")])
    while ev.evaluated < budget and facts["first_loop"] is None:
        b = sample_batch(None, grammar, 128, BUDGET, gen)
        seqs = [tuple(b.tokens[i, : b.lengths[i]].tolist()) for i in range(128)]
        evals = ev([list(s) for s in seqs])
        batch = [
            Individual(s, tok.decode(s), e, "random") for s, e in zip(seqs, evals, strict=True)
        ]
        note(batch)
        if gp is not None:
            pq = [Individual(t, tok.decode(t), ev([list(t)])[0], "queue") for _, t in queue]
            children = gp.run(batch + pq, ev, rng)
            note(children)
        grammar.maybe_reset()
    facts.update(
        evaluated=ev.evaluated,
        best=round(best, 3),
        best_code=best_code,
        varying_loop_programs=sum(
            loop_bucket(e.iterations) == "varies" for e, _ in ev.cache.values()
        ),
        first_varying_loop_with_an_exact_case=first_varying_exact,
        seconds=round(time.time() - t0, 1),
    )
    if gp is not None:
        arch = gp.archive.individuals()
        facts["niches"] = len(gp.archive)
        facts["archive_with_range_n"] = sum("range(n" in e.code for e in arch)
    if "loop_code" in facts:
        facts["loop_code_min"] = minimise(facts["loop_code"], ev.succeeds)
    return facts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="gp-lexicase,gp-tournament,random")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--budget", type=int, default=30000, help="distinct programs evaluated per run")
    p.add_argument("--json", default="", help="write the results here too")
    p.add_argument("--start", default="", help="a program to seed the queue with (Python)")
    a = p.parse_args(argv)
    configs = a.configs.split(",")
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        print(f"--configs: unknown {bad}; allowed: {', '.join(CONFIGS)}", file=sys.stderr)
        return 2
    out = []
    with Sandbox() as sb:
        for config in configs:
            for seed in (int(s) for s in a.seeds.split(",")):
                facts = run_one(config, seed, a.budget, sb, a.start or None)
                print(json.dumps(facts), flush=True)
                out.append(facts)
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

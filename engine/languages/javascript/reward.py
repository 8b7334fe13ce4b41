"""The reward for JavaScript programs: `engine.reward.TaskScorer`'s terms on an esprima analysis.

Same as Python (inherited, language-agnostic): the terms and their weights, the cases (a task's
`success_criteria.tests`, bound as globals by the JS runner), output normalisation and
similarity, the best-profile choice, success = every case passes and every constraint is met,
the length term, the repetition penalty (`with_repetition`), the hard-coding rule of the legacy
format (a literal equal to the expected output that no valid pattern contains).

What differs, and why:
  * Parsing and constraints use the ESTree of esprima and the JS constraint checker
    (`engine.languages.javascript.constraints`): same meaning as Python's (real operator nodes,
    live constructs only, called functions whose result reaches the output).
  * Required numbers and strings are then checked on the cases as in Python, but more simply:
    for a program that passes some visible case, one variant per occurrence of the value (found
    by esprima ranges and replaced in the source text: n -> (n + 1), s -> s + "~") is run on the
    visible cases; the value counts only if every occurrence changes some visible output. So
    `console.log(3 + !5 + 5)` gets no credit for 5. As in Python, a value some valid pattern
    holds inertly (15 in `15 > 10`) is exempt. Python's rewriting of the values into globals is
    not reproduced (the source text is edited instead).
  * Legacy tasks (no `tests`) are scored on case 0 only: Python derives extra cases by
    substituting the required values into every valid pattern; not built for JS yet. The
    hard-coding rule still stops `console.log(8)`.
Programs run only in the runner the caller passes (the JS runner); nothing here executes code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from engine.languages.javascript.constraints import (
    Analysis as Liveness,
)
from engine.languages.javascript.constraints import (
    Node,
    keyword_matches,
    number_matches,
    operator_matches,
    parse,
    string_matches,
    walk,
)
from engine.reward.cases import ScoreCase, task_profile
from engine.reward.execute import ExecLike, cases_runner
from engine.reward.expect import Expectations
from engine.reward.score import ScoreResult, ScoreWeights, TaskScorer
from engine.reward.verdict import Analysis
from engine.tasks import Task, normalise_output

__all__ = ["JSConstraint", "JSTaskScorer", "js_constraints"]


class JSConstraint:
    """One required construct of a task, matched on ESTree nodes."""

    def __init__(self, kind: str, value: Any, label: str, match: Callable[[Node], bool]) -> None:
        self.kind, self.value, self.label, self.matches = kind, value, label, match


def js_constraints(task: Task) -> list[JSConstraint]:
    """The task's constraints, labelled as the Python reward labels them."""
    out: list[JSConstraint] = []
    for op in task.required_operators:
        out.append(JSConstraint("operator", op, f"operator {op!r}",
                                lambda n, op=op: operator_matches(op, n)))  # fmt: skip
    for num in task.required_numbers:
        out.append(JSConstraint("number", num, f"number {num!r}",
                                lambda n, num=num: number_matches(num, n)))  # fmt: skip
    for s in task.required_strings:
        out.append(JSConstraint("string", s, f"string {s!r}",
                                lambda n, s=s: string_matches(s, n)))  # fmt: skip
    for kw in task.required_keywords:
        out.append(JSConstraint("keyword", kw, f"keyword {kw!r}",
                                lambda n, kw=kw: keyword_matches(kw, n)))  # fmt: skip
    return out


def _literal(node: Node) -> tuple[str, float | None] | None:
    """(text, number) of a literal node (negative numbers included), else None."""
    if node["type"] == "Literal":
        v = node.get("value")
        if isinstance(v, bool) or v is None:
            return None
        if isinstance(v, str):
            return v, None
        if isinstance(v, (int, float)):
            return str(node.get("raw", v)), float(v)
        return None
    if node["type"] == "UnaryExpression" and node["operator"] == "-":
        inner = _literal(node["argument"])
        if inner is not None and inner[1] is not None:
            return "-" + inner[0], -inner[1]
    return None


class JSTaskScorer(TaskScorer):
    """Scores JavaScript programs for one task (see the module docstring for what differs)."""

    def __init__(self, task: Task, weights: ScoreWeights | None = None) -> None:
        self._inert: frozenset[int] = frozenset()  # set by prepare
        super().__init__(task, weights)

    # the base class's language hooks, for JavaScript
    def _task_constraints(self, task: Task) -> Any:
        return js_constraints(task)

    def _pattern_nodes(self, src: str) -> Any:
        tree = parse(src)
        return walk(tree) if tree is not None else ()

    def _literal_of(self, node: Any) -> tuple[str, float | None] | None:
        return _literal(node)

    def _analyse(self, code: str) -> tuple[Analysis, None]:
        tree = parse(code)
        if tree is None:
            return Analysis(parses=False, syntax_error="invalid JavaScript"), None
        try:
            live = Liveness(tree)
            nodes = list(walk(tree))
        except RecursionError:
            return Analysis(parses=False, syntax_error="nested too deeply"), None
        static: list[tuple[bool, str]] = []
        for c in self.constraints:
            found = [n for n in nodes if c.matches(n)]
            ok = any(live.node_live(n) for n in found)
            why = "" if ok else f"missing {c.label}"
            if found and not ok:
                why = f"{c.label} does not count: it cannot affect the output"
            static.append((ok, why))
        hardcoded = None
        for n in nodes:
            key = self._hardcoded_key(n)
            if key is not None and key not in self._allowed_literals:
                lit = _literal(n)
                hardcoded = repr(lit[0]) if lit and lit[1] is None else (lit[0] if lit else "?")
                break
        met = tuple(ok for ok, _ in static)
        reasons = tuple(why for ok, why in static if not ok)
        # `met` is final here (static liveness only), so score_many plans no variants.
        return Analysis(True, "", code, tuple(static), hardcoded, met, reasons), None

    def prepare(self, runner: Any) -> Expectations:
        """The task's cases (its tests, or case 0) and the profile they expect; no runs needed."""
        if self.expect is None:
            task = self.task
            if task.tests:
                cases = [ScoreCase(t.bindings(), t.bindings(), t.hidden, f"case {i}")
                         for i, t in enumerate(task.tests)]  # fmt: skip
            else:
                cases = [ScoreCase({}, {}, False, "case 0")]
            self.expect = Expectations(cases, [task_profile(task, cases)], [])
            self._inert = self._inert_in_patterns(cases_runner(runner))
            self._analyses.clear()
        return self.expect

    def _inert_in_patterns(self, run_cases: Any) -> frozenset[int]:
        """Constraint indices of values some valid pattern holds inertly (15 in `15 > 10`:
        15 + 1 is still greater), as Python's `inert_allowed`: those need no effect."""
        assert self.expect is not None
        full = Analysis(True, met=(True,) * len(self.constraints))
        plans = [(src, self._value_variants(src, full)) for src in self.task.valid_patterns]
        plans = [(src, plan) for src, plan in plans if plan]
        srcs = list(
            dict.fromkeys(
                [src for src, _ in plans] + [v for _, plan in plans for _, vs in plan for v in vs]
            )
        )
        if not srcs:
            return frozenset()
        vis = [self.expect.cases[j].bindings for j in self.expect.visible]
        out = dict(zip(srcs, run_cases(srcs, vis), strict=True))
        inert: set[int] = set()
        for src, plan in plans:
            base = [(r.status, r.stdout) for r in out[src]]
            for i, vs in plan:
                if any([(r.status, r.stdout) for r in out[v]] == base for v in vs):
                    inert.add(i)
        return frozenset(inert)

    # ---- scoring: TaskScorer.score_many with the JS value variants ----------------------------

    def score_many(
        self, codes: list[str], runner: Any, lengths: Sequence[int] | None = None
    ) -> list[ScoreResult]:
        """Score a batch: all programs on all cases in one runner call, then the value variants
        of the programs that pass some visible case (not checked before) in one more."""
        clock = time.perf_counter
        t0 = clock()
        run_cases = cases_runner(runner)
        expect = self.prepare(run_cases)
        t1 = clock()
        analyses = [self._analysis(c)[0] for c in codes]
        by_code = dict(zip(codes, analyses, strict=True))
        todo = list(dict.fromkeys(c for c, a in zip(codes, analyses, strict=True) if a.parses))
        t2 = clock()
        runs: dict[str, list[ExecLike]] = {}
        if todo:
            grid = run_cases([by_code[c].exec_src for c in todo], expect.bindings)
            runs = dict(zip(todo, grid, strict=True))
        t3 = clock()
        planned = []
        for code in todo:
            a = by_code[code]
            if getattr(a, "checked", False) or not self._passes_some(runs[code]):
                continue
            a.checked = True  # type: ignore[attr-defined]  # once per text (analyses are cached)
            plan = self._value_variants(code, a)
            if plan:
                planned.append((code, plan))
        srcs = list(dict.fromkeys(v for _, plan in planned for _, vs in plan for v in vs))
        t4 = clock()
        outcome: dict[str, list[ExecLike]] = {}
        if srcs:
            vis = [expect.cases[j].bindings for j in expect.visible]
            outcome = dict(zip(srcs, run_cases(srcs, vis), strict=True))
        t5 = clock()
        for code, plan in planned:
            self._judge(by_code[code], plan, runs[code], outcome)
        lengths = lengths if lengths is not None else [0] * len(codes)
        results = [self._result(a, runs.get(c), n)
                   for c, a, n in zip(codes, analyses, lengths, strict=True)]  # fmt: skip
        t6 = clock()
        tm = self.timing
        tm["execute"] += (t3 - t2) + (t5 - t4)
        tm["analyse"] += (t2 - t1) + (t4 - t3) + (t6 - t5)
        tm["prepare"] += t1 - t0
        tm["programs"] += len(todo)
        tm["variants"] += len(srcs)
        return results

    def _value_variants(self, code: str, a: Analysis) -> list[tuple[int, list[str]]]:
        """(constraint index, one source per occurrence with that occurrence perturbed) for
        each required number/string the static check credited."""
        import esprima  # only programs that pass a case get here

        try:
            tree = esprima.parseScript(code, {"range": True}).toDict()
        except Exception:  # noqa: BLE001 - parsed before; any failure: keep the static verdict
            return []
        nodes = list(walk(tree))
        plan = []
        for i, c in enumerate(self.constraints):
            if c.kind not in ("number", "string") or not (a.met and a.met[i]):
                continue
            if i in self._inert:
                continue
            found = [n for n in nodes if c.matches(n)]
            if c.kind == "number":  # `-5` matches as a whole: skip the inner literal 5
                inner = {id(n["argument"]) for n in found if n["type"] == "UnaryExpression"}
                found = [n for n in found if id(n) not in inner]
            vs = []
            for n in found:
                lo, hi = n["range"]
                new = f"({c.value!r} + 1)" if c.kind == "number" else json.dumps(c.value + "~")
                vs.append(code[:lo] + new + code[hi:])
            plan.append((i, vs))
        return plan

    def _judge(
        self,
        a: Analysis,
        plan: list[tuple[int, list[str]]],
        rs: list[ExecLike],
        outcome: dict[str, list[ExecLike]],
    ) -> None:
        """Withdraw a value's credit when some occurrence of it changes no visible output."""
        assert self.expect is not None and a.met is not None
        task, vis = self.task, self.expect.visible
        base = [normalise_output(rs[j].stdout or "", task) if rs[j].status == "ok" else None
                for j in vis]  # fmt: skip
        met, reasons = list(a.met), list(a.reasons or ())
        for i, vs in plan:
            for v in vs:
                got = [normalise_output(r.stdout or "", task) if r.status == "ok" else None
                       for r in outcome[v]]  # fmt: skip
                if got == base:
                    met[i] = False
                    reasons.append(f"{self.constraints[i].label} does not count: changing one "
                                   "of its occurrences changes no output")  # fmt: skip
                    break
        a.met, a.reasons = tuple(met), tuple(reasons)

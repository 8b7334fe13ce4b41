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
  * Cases as in Python (`engine.reward.expect.build_expectations`, with the JS pattern reader
    of `engine.languages.javascript.cases`): every occurrence of a required number or string is
    rewritten into a global the case binds, so legacy tasks (no `tests`) get Python's 7-10
    derived cases (shifted, one value changed, all equal, hidden scaled up/down) with expected
    outputs from the valid patterns; `console.log(8)` fails them, not only the hard-coding rule.
  * Required numbers and strings are then checked on the cases as in Python: for a program that
    passes some visible case, each occurrence is run reading its value's two perturbed twins
    on the visible cases; the value counts only if every occurrence changes some visible output
    with one of them (a variant that crashes proves nothing). So `console.log(3 + !5 + 5)` gets
    no credit for 5. As in Python, a value some valid pattern holds inertly is exempt.
  * Cost (7 runs per program instead of 1): on legacy tasks a program holding no required value
    runs on case 0 only (it prints the same on every case), and on the node runner a program
    that overran its timeout on a case is not run on its later ones (`stop_on_timeout`).
Programs run only in the runner the caller passes (the JS runner); nothing here executes code.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.languages.javascript.cases import (
    Occurrence,
    find_occurrences,
    js_pattern,
    may_hold_values,
    occurrence_sources,
    parse_ranges,
    rewritten,
    value_index,
)
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
from engine.languages.javascript.runner import JSRunner
from engine.reward.execute import ExecLike, cases_runner, takes_cases
from engine.reward.expect import Expectations, build_expectations
from engine.reward.score import ScoreResult, ScoreWeights, TaskScorer
from engine.reward.verdict import Analysis
from engine.tasks import Task, normalise_output

__all__ = ["JSConstraint", "JSTaskScorer", "js_constraints"]

# Words through which a program could tell one legacy case from another without a required
# value of its own: our globals' names, the global object, the clock and randomness.
_CASE_READERS = re.compile(r"altlas|globalThis|\bthis\b|\bObject\b|\bReflect\b|random|Date")


@dataclass
class JSAnalysis(Analysis):
    """Analysis plus where the required values occur (for the twin variants, without a reparse)."""

    occurrences: tuple[Occurrence, ...] = ()
    checked: bool = False  # value variants run once per text (analyses are cached)


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
        self._inert: frozenset[int] = frozenset()  # constraint indices; set by prepare
        self._value_of: dict[int, int] = {}  # constraint index -> required value index
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
        values = self.expect.values if self.expect else []
        ranged = may_hold_values(code, values)  # offsets only where values may need rewriting
        tree = parse_ranges(code) if ranged else parse(code)
        if tree is None:
            return Analysis(parses=False, syntax_error="invalid JavaScript"), None
        try:
            live = Liveness(tree)
            nodes = list(walk(tree))
            occurrences = find_occurrences(tree, code, values) if ranged else []
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
        exec_src = rewritten(code, occurrences) if occurrences else code
        # `met` holds the static verdicts; score_many withdraws value credit after the variants
        return JSAnalysis(True, "", exec_src, tuple(static), hardcoded, met, reasons,
                          occurrences=tuple(occurrences)), None  # fmt: skip

    def prepare(self, runner: Any) -> Expectations:
        """The task's cases (its tests, or Python's derived cases for the legacy format) and the
        profiles its valid patterns print on them: the patterns run once, in the runner."""
        if self.expect is None:
            self.expect = build_expectations(self.task, cases_runner(runner), pattern=js_pattern)
            values = self.expect.values
            self._value_of = {
                i: k for i, c in enumerate(self.constraints) if c.kind in ("number", "string")
                if (k := value_index(values, c.kind, c.value)) is not None
            }  # fmt: skip
            self._inert = frozenset(
                i for i, k in self._value_of.items() if k in self.expect.inert_allowed
            )
            self._analyses.clear()  # executable texts depend on the required values
        return self.expect

    # ---- scoring: TaskScorer.score_many with the JS value variants ----------------------------

    def score_many(
        self, codes: list[str], runner: Any, lengths: Sequence[int] | None = None
    ) -> list[ScoreResult]:
        """Score a batch: all programs on all cases in one runner call, then the value variants
        of the programs that pass some visible case (not checked before) in one more."""
        clock = time.perf_counter
        t0 = clock()
        run_cases = self._cases_runner(runner)
        expect = self.prepare(run_cases)
        t1 = clock()
        analyses = [self._analysis(c)[0] for c in codes]
        by_code = dict(zip(codes, analyses, strict=True))
        todo = list(dict.fromkeys(c for c, a in zip(codes, analyses, strict=True) if a.parses))
        t2 = clock()
        runs: dict[str, list[ExecLike]] = {}
        if todo:
            runs = self._run_all(todo, by_code, run_cases, expect)
        t3 = clock()
        planned = []
        for code in todo:
            a = by_code[code]
            if getattr(a, "checked", False) or not self._passes_some(runs[code]):
                continue
            a.checked = True  # type: ignore[attr-defined]  # once per text (JSAnalysis)
            plan = self._value_variants(code, a)
            if plan:
                planned.append((code, plan))
        srcs = list(
            dict.fromkeys(v for _, plan in planned for _, gs in plan for g in gs for v in g)
        )
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

    def _run_all(
        self,
        todo: list[str],
        by_code: dict[str, Analysis],
        run_cases: Any,
        expect: Expectations,
    ) -> dict[str, list[ExecLike]]:
        """Every program on every case, in one runner call. Legacy cases differ only in the
        required values' globals, so a program that holds none of them (and reaches no global
        or clock another way) prints the same on every case: it runs on case 0 only and that
        result stands for all (its row is the same object repeated)."""
        n = len(expect.bindings)
        once = set()
        if not self.task.tests and n > 1:
            once = {c for c in todo if not getattr(by_code[c], "occurrences", ())
                    and not _CASE_READERS.search(c)}  # fmt: skip
        full = [c for c in todo if c not in once]
        single = [c for c in todo if c in once]
        out: dict[str, list[ExecLike]] = {}
        if full:
            srcs = [by_code[c].exec_src for c in full]
            out.update(zip(full, run_cases(srcs, expect.bindings), strict=True))
        if single:
            grid = run_cases([by_code[c].exec_src for c in single], expect.bindings[:1])
            out.update((c, row * n) for c, row in zip(single, grid, strict=True))
        return {c: out[c] for c in todo}

    def _cases_runner(self, runner: Any) -> Any:
        """The RunCases for this task. Legacy tasks on the node runner: a program that times out
        on a case is not run on its later ones (they differ only in the required values, it has
        failed the task as written already, and each run would cost the full timeout)."""
        js = runner if isinstance(runner, JSRunner) else getattr(runner, "__self__", None)
        if not self.task.tests and isinstance(js, JSRunner):
            return takes_cases(
                lambda codes, cases: js.run_cases(codes, cases, stop_on_timeout=True)
            )
        return cases_runner(runner)

    def _value_variants(self, code: str, a: Analysis) -> list[tuple[int, list[list[str]]]]:
        """(constraint index, per occurrence of its value the sources reading each perturbed
        twin there) for each required number/string the static check credited."""
        occ = list(getattr(a, "occurrences", ()))
        plan = []
        for i, k in self._value_of.items():
            if not (a.met and a.met[i]) or i in self._inert:
                continue
            groups = [occurrence_sources(code, occ, n) for n, o in enumerate(occ) if o[0] == k]
            if groups:
                plan.append((i, groups))
        return plan

    def _judge(
        self,
        a: Analysis,
        plan: list[tuple[int, list[list[str]]]],
        rs: list[ExecLike],
        outcome: dict[str, list[ExecLike]],
    ) -> None:
        """Withdraw a value's credit when some occurrence of it changes no visible output."""
        assert self.expect is not None and a.met is not None
        vis = self.expect.visible
        met, reasons = list(a.met), list(a.reasons or ())
        for i, groups in plan:
            for group in groups:
                if not any(self._changed(rs, outcome[v], vis) for v in group):
                    met[i] = False
                    reasons.append(f"{self.constraints[i].label} does not count: changing one "
                                   "of its occurrences changes no output")  # fmt: skip
                    break
        a.met, a.reasons = tuple(met), tuple(reasons)

    def _changed(self, base: list[ExecLike], var: list[ExecLike], vis: list[int]) -> bool:
        """Whether a variant changed some visible output (as Python's `_effect`: a variant
        that fails where the program ran proves nothing; one that runs where it failed does)."""
        task = self.task
        for r, j in zip(var, vis, strict=True):
            b = base[j]
            if r.status == "ok" and b.status == "ok":
                if normalise_output(r.stdout or "", task) != normalise_output(b.stdout or "", task):
                    return True
            elif r.status == "ok":
                return True
        return False

"""The reward for JavaScript programs: `engine.reward.TaskScorer`'s terms on an esprima analysis.

Same as Python (inherited, language-agnostic): the terms and their weights, the cases (a task's
`success_criteria.tests`, bound as globals by the JS runner), output normalisation and
similarity, the best-profile choice, success = every case passes and every constraint is met,
the length term, the repetition penalty (`with_repetition`), the hard-coding rule of the legacy
format (a literal equal to the expected output that no valid pattern contains).

What differs, and why:
  * Parsing and constraints use the ESTree of esprima and the JS constraint checker
    (`engine.languages.javascript.constraints`): same meaning as Python's (real operator nodes,
    live constructs only, called functions whose result reaches the output), but **static only**.
    Python's reward also runs liveness variants (every required value perturbed, the program
    re-run) to catch values that are live on paper but never change the output; those variants
    rewrite the Python AST, and their JS twin (rewriting literals through esprima ranges) is not
    built yet. So a JS program can earn a constraint for a value that is statically live but
    numerically inert (`console.log(5 - 5 + 8)`: still needs the right output and every
    constraint, so it is a narrow gap, written here so nobody relies on it).
  * Legacy tasks (no `tests`) are scored on case 0 only: Python derives extra cases by
    substituting the required values; for JS that needs the same literal rewriting, not built.
    The hard-coding rule still stops `console.log(8)`.
Programs run only in the runner the caller passes (the JS runner); nothing here executes code.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
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
from engine.reward.compare import as_number
from engine.reward.execute import cases_runner
from engine.reward.expect import Expectations
from engine.reward.score import ScoreWeights, TaskScorer
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
        # TaskScorer.__init__ parses the patterns as Python: set its fields here instead.
        self.task = task
        self.weights = weights or ScoreWeights()
        self.constraints = js_constraints(task)  # type: ignore[assignment]
        self.expect = None
        self._analyses: OrderedDict[str, Analysis] = OrderedDict()
        self.timing = dict.fromkeys(("execute", "analyse", "prepare", "programs", "variants"), 0.0)
        self._expected0 = normalise_output(task.expected_output, task)
        self._expected_number = as_number(self._expected0)
        self._allowed_literals: set[str] = set()
        if not task.tests:
            for src in task.valid_patterns:
                tree = parse(src)
                for node in walk(tree) if tree is not None else ():
                    key = self._hardcoded_key(node)
                    if key is not None:
                        self._allowed_literals.add(key)

    def _hardcoded_key(self, node: Any) -> str | None:
        if self.task.tests:
            return None
        lit = _literal(node)
        if lit is None:
            return None
        text, number = lit
        if self._expected0 and normalise_output(text, self.task) == self._expected0:
            return "s:" + self._expected0
        if number is not None and self._expected_number == number:
            return f"n:{number!r}"
        return None

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
            cases_runner(runner)  # same accepted runner shapes as Python's (raises alike)
            self.expect = Expectations(cases, [task_profile(task, cases)], [])
            self._analyses.clear()
        return self.expect

"""The score of a program for a task: every term the learner trains on, in one breakdown.

    0.10  parses
    0.10  x share of visible cases it runs on without error
    0.05  x share of visible cases it prints something on
    0.25  x share of the task's constraints really met (static pre-filter, then dynamic: see
          `engine.reward.variants`)
    0.35  x share of visible cases with the right output (best pattern profile), so a constant
          program earns at most the share of cases it happens to match
    0.10  x output similarity averaged over the visible cases (a gradient for near misses)
    -length x tokens (non-successes only; `ScoreWeights.length`, the trainer's length penalty)
A success scores exactly 1.0 (a `success` entry tops the breakdown up); anything else stays
below 0.95, with no flat cap, so the top of the reward keeps its order. The repetition penalty
is the last term: `with_repetition` applies it per attempt (it depends on the run's history,
not on the text), so trainer and display use the same function.

Success = every case passes (hidden ones included) for one profile, every constraint is met,
nothing hard-coded (legacy format: a literal equal to the expected output that no valid
pattern contains). Hidden cases never enter the score.

`TaskScorer.score_many` calls the runner at most twice per batch (all programs on all cases,
then all liveness variants of the programs that ran on the visible cases) plus once per task
for the patterns; analyses are cached by text in a bounded LRU.
"""

from __future__ import annotations

import ast
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.reward.cases import rewrite, rewritten_source
from engine.reward.compare import as_number, output_similarity
from engine.reward.constraints import task_constraints
from engine.reward.execute import ExecLike, RunCases, cases_runner
from engine.reward.expect import Expectations, build_expectations
from engine.reward.facts import Facts, _literal_text
from engine.reward.liveness import Liveness, static_verdict
from engine.reward.loops import can_instrument, from_runs, input_sizes, instrument, loop_nodes
from engine.reward.memo import LRU
from engine.reward.verdict import Analysis, Work, dynamic_met, plan_variants, static_met
from engine.sandbox.protocol import COUNTERS_MAX
from engine.tasks import Task, normalise_output

_LOOP_TYPES = (ast.For, ast.AsyncFor, ast.While, ast.comprehension)


@dataclass(frozen=True)
class ScoreWeights:
    """Weights of the reward's terms."""

    parses: float = 0.1  # the program parses
    runs: float = 0.1  # times the share of visible cases run without error
    prints: float = 0.05  # times the share of visible cases with output
    constraints: float = 0.25  # times the share of constraints really met
    output: float = 0.35  # times the share of visible cases whose output is right
    closeness: float = 0.10  # times the mean output similarity over the visible cases
    length: float = 0.002  # reward cost per token of a non-success (train.length_penalty)
    # a program whose loop count grows with an input (engine/reward/loops.py), on a task that
    # requires a loop construct; 0 = off (the default: the label feeds the archive's niches)
    loop_credit: float = 0.0
    max_candidates: int = 6  # candidates per constraint checked dynamically


@dataclass
class CaseResult:
    """One case of one program: inputs, expected and actual output, passed, hidden."""

    inputs: dict[str, Any]
    expected: str
    got: str
    passed: bool
    hidden: bool

    def to_json(self) -> dict[str, Any]:
        return {"inputs": dict(self.inputs), "expected": self.expected, "got": self.got,
                "passed": self.passed, "hidden": self.hidden}  # fmt: skip


@dataclass
class ScoreResult:
    """A program's score with its breakdown and per-case results (`score --json`)."""

    task: str
    score: float
    success: bool
    components: dict[str, float]
    reasons: list[str]
    stdout: str
    status: str
    cases: list[CaseResult] = field(default_factory=list)
    error: str = ""  # the first failing case's error ("TypeError: ..."), not in the JSON
    # how its loops behave over the visible cases (engine/reward/loops.py LOOP_LABELS) and the
    # loop-body executions per visible case (None where unknown); not in the JSON
    loops: str = "unknown"
    iterations: tuple[int | None, ...] | None = None

    @property
    def case_counts(self) -> tuple[int, int, int, int]:
        """(visible passed, visible total, hidden passed, hidden total)."""
        vis = [c for c in self.cases if not c.hidden]
        hid = [c for c in self.cases if c.hidden]
        return (sum(c.passed for c in vis), len(vis), sum(c.passed for c in hid), len(hid))

    def to_json(self) -> dict[str, Any]:
        """The `score --json` object of CONTRACT.md."""
        return {
            "task": self.task,
            "score": self.score,
            "success": self.success,
            "components": dict(self.components),
            "reasons": list(self.reasons),
            "stdout": self.stdout,
            "status": self.status,
            "cases": [c.to_json() for c in self.cases],
        }


def with_repetition(score: float, success: bool, penalty: float) -> float:
    """The reward trained on: the score minus the repetition penalty (never for a success)."""
    return score if success else score - penalty


class TaskScorer:
    """Scores programs for one task; caches analyses by program text (bounded LRU)."""

    cache_size = 20_000
    variants_for_all = False  # True: liveness variants for every program that runs (slower)
    # run programs with loops instrumented with iteration counters (engine/reward/loops.py);
    # set before the first score (analyses are cached with their executable text)
    count_loops = True

    def __init__(self, task: Task, weights: ScoreWeights | None = None) -> None:
        self.task = task
        self.weights = weights or ScoreWeights()
        self.constraints = self._task_constraints(task)
        self.expect: Expectations | None = None
        self._analyses: OrderedDict[str, Analysis] = OrderedDict()
        # cumulative seconds (execute: waiting on the runner; analyse: everything else) and
        # counts (programs run, variants run): the per-batch breakdown of docs/benchmarks.md
        self.timing: dict[str, float] = dict.fromkeys(
            ("execute", "analyse", "prepare", "programs", "variants"), 0.0
        )
        self._dispatch_cache: tuple[dict, dict, dict] | None = None
        self._value_keys: set[tuple[type, Any]] | None = None
        self._similarity: LRU[tuple[str, str], float] = LRU(20_000)  # outputs repeat a lot
        self._sizes: list[dict[str, float]] | None = None  # visible cases' input sizes
        self._loop_task = any(  # JS constraints have no node types: never a loop task here
            any(t in _LOOP_TYPES for t in getattr(c, "types", None) or ()) for c in self.constraints
        )
        self._expected0 = normalise_output(task.expected_output, task)
        self._expected_number = as_number(self._expected0)
        self._allowed_literals: set[str] = set()
        if not task.tests:  # hard-coding is a legacy-format notion: cases catch it otherwise
            for src in task.valid_patterns:
                for node in self._pattern_nodes(src):
                    key = self._hardcoded_key(node)
                    if key is not None:
                        self._allowed_literals.add(key)

    # ---- language hooks (engine/languages/javascript/reward.py overrides these) ------------

    def _task_constraints(self, task: Task) -> Any:
        return task_constraints(task)

    def _pattern_nodes(self, src: str) -> Iterable[Any]:
        """Every syntax node of a valid pattern (none if it does not parse)."""
        try:
            return ast.walk(ast.parse(src))
        except SyntaxError:
            return ()

    def _literal_of(self, node: Any) -> tuple[str, float | None] | None:
        return _literal_text(node)

    # ---- analysis -------------------------------------------------------------------------

    def _hardcoded_key(self, node: ast.AST) -> str | None:
        if self.task.tests:
            return None
        lit = self._literal_of(node)
        if lit is None:
            return None
        text, number = lit
        if self._expected0 and normalise_output(text, self.task) == self._expected0:
            return "s:" + self._expected0
        if number is not None and self._expected_number == number:
            return f"n:{number!r}"
        return None

    def analyse(self, code: str) -> Analysis:
        """Static facts of one program (cached): parses, executable text, static verdicts."""
        return self._analysis(code)[0]

    def _analysis(self, code: str) -> tuple[Analysis, Work | None]:
        """The cached analysis, or a fresh one with the parsed tree and its facts (`Work`, kept
        for this batch only, so the liveness variants need no second parse)."""
        a = self._analyses.get(code)
        if a is not None:
            self._analyses.move_to_end(code)
            return a, None
        a, work = self._analyse(code)
        self._analyses[code] = a
        if len(self._analyses) > self.cache_size:
            self._analyses.popitem(last=False)
        return a, work

    def _analyse(self, code: str) -> tuple[Analysis, Work | None]:
        try:
            tree = ast.parse(code)
            facts = Facts(tree, self.constraints, *self._dispatch())
            live = Liveness(facts)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            msg = exc.msg if isinstance(exc, SyntaxError) else (str(exc) or type(exc).__name__)
            return Analysis(parses=False, syntax_error=msg), None
        static: list[tuple[bool, str]] = []
        for c, nodes in zip(self.constraints, facts.candidates, strict=True):
            if not nodes:
                static.append((False, f"missing {c.label}"))
                continue
            why = ""
            for n in nodes:
                ok, why = static_verdict(n, live, facts)
                if ok:
                    break
            static.append((ok, "" if ok else f"{c.label} does not count: {why}"))
        hardcoded = None
        for lit in facts.literals:
            key = self._hardcoded_key(lit)
            if key is not None and key not in self._allowed_literals:
                hardcoded = ast.unparse(lit)
                break
        values = self.expect.values if self.expect else []
        work: Work | None = None
        loops: int | None = None
        try:
            occurrences = rewrite(tree, values) if self._holds_value(facts) else []
            exec_src = None if ast.JoinedStr in facts.kinds else rewritten_source(code, occurrences)
            same_lines = exec_src is not None
            if exec_src is None:
                exec_src = ast.unparse(tree)
            work = Work(tree, facts, live, occurrences)
            if self.count_loops:
                exec_src, loops = self._instrument(exec_src, code, tree, facts, same_lines)
        except (ValueError, RecursionError):
            exec_src = code
        return Analysis(True, "", exec_src, tuple(static), hardcoded, loops=loops), work

    def _instrument(
        self, src: str, code: str, tree: ast.Module, facts: Facts, same_lines: bool
    ) -> tuple[str, int | None]:
        """(text to run, loops counted): `src` with iteration counters in its loops; a
        loop-free program runs unchanged (0 loops); None if it cannot be instrumented."""
        kinds = facts.kinds
        if ast.For not in kinds and ast.While not in kinds and ast.AsyncFor not in kinds:
            return src, 0
        nodes = loop_nodes(facts.stmts)
        if not nodes:
            return src, 0
        if len(nodes) > COUNTERS_MAX or not can_instrument(tree, code):
            return src, None
        try:
            return instrument(src, tree, nodes, same_lines), len(nodes)
        except (ValueError, RecursionError):
            return src, None

    def _holds_value(self, facts: Facts) -> bool:
        """Whether some literal of the program is a required value (else nothing to rewrite)."""
        if self._value_keys is None:
            values = self.expect.values if self.expect else []
            self._value_keys = {(type(v.value), v.value) for v in values}
        keys = self._value_keys
        if not keys:
            return False
        for lit in facts.literals:
            if type(lit) is ast.Constant:
                v = lit.value  # type: ignore[attr-defined]
            elif type(lit) is ast.UnaryOp and type(lit.operand) is ast.Constant:  # type: ignore[attr-defined]
                v = lit.operand.value  # type: ignore[attr-defined]
                if type(v) in (int, float):
                    v = -v
            else:
                continue
            try:
                if (type(v), v) in keys:
                    return True
            except TypeError:
                return True  # unhashable: let the rewrite decide
        return False

    def _dispatch(self) -> tuple[dict, dict, dict]:
        """Constraint indices by node type / number / string (computed once)."""
        if self._dispatch_cache is None:
            self._dispatch_cache = self._make_dispatch()
        return self._dispatch_cache

    def _make_dispatch(self) -> tuple[dict, dict, dict]:
        dispatch: dict[type, list[int]] = {}
        numbers: dict[Any, list[int]] = {}
        strings: dict[str, list[int]] = {}
        for i, c in enumerate(self.constraints):
            if c.kind == "number":
                numbers.setdefault(c.value, []).append(i)
            elif c.kind == "string":
                strings.setdefault(c.value, []).append(i)
            else:
                for t in c.types or ():
                    dispatch.setdefault(t, []).append(i)
        return (
            {k: tuple(v) for k, v in dispatch.items()},
            {k: tuple(v) for k, v in numbers.items()},
            {k: tuple(v) for k, v in strings.items()},
        )

    # ---- scoring --------------------------------------------------------------------------

    def prepare(self, runner: Any) -> Expectations:
        """Build the task's cases and profiles (runs the patterns once, in the runner)."""
        if self.expect is None:
            self.expect = build_expectations(self.task, cases_runner(runner))
            self._analyses.clear()  # executable texts depend on the required values
            self._value_keys = None
            self._sizes = None
        return self.expect

    def score_many(
        self, codes: list[str], runner: Any, lengths: Sequence[int] | None = None
    ) -> list[ScoreResult]:
        """Score a batch: all programs on all cases in one runner call, then all liveness
        variants in one more. `runner`: a sandbox, its `run_many`, or a RunCases.

        Liveness variants run only for programs that pass some visible case: only those can
        succeed, and only there can a construct's effect on a right output be told from noise.
        Elsewhere the static verdicts give the constraint credit (`static_met`)."""
        clock = time.perf_counter
        t0 = clock()
        run_cases: RunCases = cases_runner(runner)
        expect = self.prepare(run_cases)
        t1 = clock()
        found = [self._analysis(c) for c in codes]
        analyses = [a for a, _ in found]
        work = {c: w for c, (_, w) in zip(codes, found, strict=True) if w is not None}
        todo = list(dict.fromkeys(c for c, a in zip(codes, analyses, strict=True) if a.parses))
        by_code = dict(zip(codes, analyses, strict=True))
        t2 = clock()
        runs: dict[str, list[ExecLike]] = {}
        if todo:
            srcs = [by_code[c].exec_src for c in todo]
            runs = dict(zip(todo, run_cases(srcs, expect.bindings), strict=True))
        t3 = clock()
        visible = expect.visible
        planned = []
        for code in todo:
            a = by_code[code]
            if a.met is not None:
                continue
            if not self.variants_for_all and not self._passes_some(runs[code]):
                static_met(self, a, any(runs[code][j].status == "ok" for j in visible))
                continue
            planned.append((code, plan_variants(self, code, True, work.get(code))))
        variant_srcs = list(dict.fromkeys(s for _, p in planned for s in p.sources()))
        t4 = clock()
        outcome: dict[str, list[ExecLike]] = {}
        if variant_srcs:
            vis_bindings = [expect.cases[j].bindings for j in visible]
            outcome = dict(zip(variant_srcs, run_cases(variant_srcs, vis_bindings), strict=True))
        t5 = clock()
        for code, plan in planned:
            dynamic_met(self, by_code[code], plan, runs[code], outcome)
        lengths = lengths if lengths is not None else [0] * len(codes)
        results = [
            self._result(a, runs.get(c), n)
            for c, a, n in zip(codes, analyses, lengths, strict=True)
        ]
        t6 = clock()
        tm = self.timing
        tm["execute"] += (t3 - t2) + (t5 - t4)
        tm["analyse"] += (t2 - t1) + (t4 - t3) + (t6 - t5)
        tm["prepare"] += t1 - t0
        tm["programs"] += len(todo)
        tm["variants"] += len(variant_srcs)
        return results

    def _passes_some(self, rs: list[ExecLike]) -> bool:
        """Whether a program's output is right on some visible case for some profile."""
        expect = self.expect
        assert expect is not None
        task = self.task
        for j in expect.visible:
            r = rs[j]
            if r.status != "ok":
                continue
            out = normalise_output(r.stdout or "", task)
            if any(prof[j] is not None and prof[j] == out for prof in expect.profiles):
                return True
        return False

    def _result(self, a: Analysis, rs: list[ExecLike] | None, length: int) -> ScoreResult:
        w, expect, task = self.weights, self.expect, self.task
        assert expect is not None
        if not a.parses or rs is None:
            comps = dict.fromkeys(
                ("parses", "runs", "prints", "constraints", "output", "closeness"), 0.0
            )
            comps["length"] = 0.0
            return ScoreResult(task.name, 0.0, False, comps, [f"does not parse: {a.syntax_error}"],
                               "", "error", [], f"SyntaxError: {a.syntax_error}")  # fmt: skip
        outs = [normalise_output(r.stdout or "", task) if r.status == "ok" else None for r in rs]
        vis = expect.visible
        best, best_key = 0, (-1, -1.0, -1.0)
        for k, prof in enumerate(expect.profiles):
            judged = [j for j in vis if prof[j] is not None]
            n = max(1, len(judged))
            right = sum(outs[j] == prof[j] for j in judged) / n
            sim = sum(self._similar(outs[j], prof[j]) for j in judged) / n
            passed_all = all(outs[j] == e for j, e in enumerate(prof) if e is not None)
            key = (int(passed_all), right, sim)
            if key > best_key:
                best, best_key = k, key
        profile = expect.profiles[best]
        cases = [
            CaseResult(
                c.inputs,
                profile[j] if profile[j] is not None else "(any)",
                (rs[j].stdout or "")
                if rs[j].status == "ok"
                else f"[{rs[j].status}] " + (rs[j].error or ""),
                profile[j] is None or outs[j] == profile[j],
                c.hidden,
            )  # fmt: skip
            for j, c in enumerate(expect.cases)
        ]
        loops, iterations = self._loops(a, rs)
        met = a.met or ()
        share = sum(met) / len(met) if met else 1.0
        n_vis = max(1, len(vis))
        comps = {
            "parses": w.parses,
            "runs": w.runs * sum(rs[j].status == "ok" for j in vis) / n_vis,
            "prints": w.prints * sum(bool((rs[j].stdout or "").strip()) for j in vis) / n_vis,
            "constraints": w.constraints * share,
            "output": 0.0 if a.hardcoded is not None else w.output * best_key[1],
            "closeness": 0.0 if a.hardcoded is not None else w.closeness * best_key[2],
        }
        if w.loop_credit:
            comps["loops"] = w.loop_credit if self._loop_task and loops == "grows" else 0.0
        reasons = self._reasons(a, rs, cases)
        success = not reasons
        total = sum(comps.values())
        if success:
            comps["length"] = 0.0
            comps["success"] = 1.0 - total
            score = 1.0
        else:
            comps["length"] = -min(total, w.length * length)
            score = total + comps["length"]
        comps = {k: round(v, 6) for k, v in comps.items()}
        bad = next((r for r in rs if r.status != "ok"), None)
        status, error = (bad.status, bad.error or "") if bad is not None else ("ok", "")
        return ScoreResult(task.name, round(score, 6), success, comps, reasons,
                           rs[0].stdout or "", status, cases, error, loops, iterations)  # fmt: skip

    def _loops(self, a: Analysis, rs: list[ExecLike]) -> tuple[str, tuple[int | None, ...] | None]:
        """(loop label, summed loop-body executions per visible case): `loops.from_runs`."""
        expect = self.expect
        assert expect is not None
        if self._sizes is None and a.loops:
            self._sizes = input_sizes([expect.cases[j].inputs for j in expect.visible])
        return from_runs(a.loops, [rs[j] for j in expect.visible], self._sizes or [])

    def _similar(self, got: str | None, expected: str | None) -> float:
        if got is None or expected is None:
            return 0.0
        key = (got, expected)
        value = self._similarity.get(key)
        if value is None:
            value = output_similarity(got, expected)
            self._similarity.put(key, value)
        return value

    def _reasons(self, a: Analysis, rs: list[ExecLike], cases: list[CaseResult]) -> list[str]:
        reasons: list[str] = []
        bad = next((r for r in rs if r.status != "ok"), None)
        if bad is not None:
            reasons.append(_status_reason(bad.status, bad.error))
        if not any((r.stdout or "").strip() for r in rs):
            reasons.append("prints nothing")
        failed = [c for c in cases if not c.passed and not c.hidden]
        if failed:
            c = failed[0]
            got = c.got if not c.got.startswith("[") else c.got
            reasons.append(
                f"output {_clip(normalise_output(got, self.task))!r} differs from expected "
                f"{_clip(c.expected)!r}" + (f" on {len(failed)} of "
                f"{sum(not x.hidden for x in cases)} visible cases" if len(cases) > 1 else "")
            )  # fmt: skip
        hidden_failed = sum(1 for c in cases if not c.passed and c.hidden)
        if hidden_failed and not failed:
            reasons.append(f"fails {hidden_failed} hidden case(s)")
        reasons.extend(r for r in (a.reasons or ()) if r)
        if a.hardcoded is not None:
            reasons.append(
                f"hard-coded answer: the program contains the literal {_clip(a.hardcoded)}"
            )
        return reasons


def _status_reason(status: str, error: str) -> str:
    if status == "timeout":
        return "timed out"
    if status == "killed":
        return f"killed ({error})" if error else "killed"
    if status == "rejected":
        return f"rejected by the sandbox: {error}"
    return f"failed when run: {error}" if error else "failed when run"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""The cases a program is scored on: a task's own test cases, or cases derived for the legacy
format, and the outputs expected on each.

Both formats become *bindings*: every program is compiled once and run once per case with that
case's globals bound. Constants of a program (and of the valid patterns) equal to a required
number or string are rewritten into loads of reserved globals (`altlasv0`, `altlasv1`, ...; one
name per required value), so changing the value a case binds changes it everywhere the program
uses it, consistently, in the program and in the patterns alike. Each case also binds two
perturbed twins of every value (`altlasp0`, `altlasq0`, ...) that liveness variants use for one
occurrence.

Decisions for the legacy format (no `tests`: a fixed output), written down as asked:

* Which values: the task's required numbers and strings. A constant counts as an occurrence if it
  has the same type and value (`5.0` is not the int 5; `True` is not 1). Constants used as a
  subscript index or slice bound (`numbers[2]`) are left alone: an index names a position, not
  the value, so `numbers[-1]` for "the fifth element" stays equivalent to `numbers[4]`.
  Literal text of an f-string and match patterns are left alone too.
* How many cases, which values (duplicates and cases no pattern has an opinion on are dropped):
  0 "as written" (visible): the task itself;
  1 "shifted" (visible): numbers n+1, strings s+'x';
  one "only V changed" case per required value (visible): numbers 2n+3, strings with the first
     letter's case swapped (catches a value used in a cap or a comparison with a hard-coded twin);
  "all equal" (visible): every number becomes the smallest required number, every string the
     first one (catches wrong thresholds: `15 >= 10` and `15 > 9` fail where 10 > 10 is false);
  "scaled up" (hidden): numbers 3n+4, strings doubled;
  "scaled down" (hidden): numbers n//2-1 (n/2-1 for floats), strings in upper (else lower) case.
  Hidden cases never enter the reward; they only decide success.
* Expected outputs come from the valid patterns, run in the sandbox once per task. A pattern
  counts only if it prints the task's expected output as written. A pattern has *no opinion* on a
  case where it fails, prints nothing, or where a value it does not contain changed (a pattern
  without the 5 cannot say what changing 5 does). Where patterns disagree (`range(1, 5 + 1)`
  and `[1, 2, 3, 4, 5]` react differently to 5 -> 13) each pattern is its own profile: success
  needs one pattern whose outputs the program matches on every case it has an opinion on,
  hidden ones included; output credit takes the best pattern over the visible cases.
* A task without usable patterns keeps only case 0 with the task's expected output.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from engine.tasks import Task, normalise_output, number_matches, string_matches

VALUE_PREFIX = "altlasv"
PERTURB_PREFIXES = ("altlasp", "altlasq")  # two perturbed twins: up and down


@dataclass(frozen=True)
class RequiredValue:
    """A required number or string, with the globals that stand for it in rewritten programs."""

    kind: str  # number | string
    value: Any
    index: int

    @property
    def name(self) -> str:
        return f"{VALUE_PREFIX}{self.index}"

    @property
    def perturbed_names(self) -> tuple[str, ...]:
        return tuple(f"{p}{self.index}" for p in PERTURB_PREFIXES)

    def matches(self, node: ast.AST) -> bool:
        if self.kind == "string":
            return string_matches(self.value, node)
        if not number_matches(self.value, node):
            return False
        const = node.operand if isinstance(node, ast.UnaryOp) else node
        return type(const.value) is type(abs(self.value))  # type: ignore[attr-defined]


def required_values(task: Task) -> list[RequiredValue]:
    """The task's required numbers then strings, each once."""
    seen: list[tuple[str, Any]] = []
    for n in task.required_numbers:
        if ("number", n) not in seen:
            seen.append(("number", n))
    for s in task.required_strings:
        if ("string", s) not in seen:
            seen.append(("string", s))
    return [RequiredValue(k, v, i) for i, (k, v) in enumerate(seen)]


@dataclass(frozen=True)
class ScoreCase:
    """One case as the reward runs it: globals to bind, what users see, hidden or not."""

    bindings: dict[str, Any]
    inputs: dict[str, Any]
    hidden: bool
    label: str
    changed: frozenset[int] = field(default_factory=frozenset)  # required values changed


# --------------------------------------------------------------------------------------------
# Rewriting constants into bindings
# --------------------------------------------------------------------------------------------


def _protected(tree: ast.AST) -> set[int]:
    """Nodes never rewritten: subscript indices and slice bounds, f-string literal text, match
    patterns."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            s = node.slice
            parts = [s.lower, s.upper, s.step] if isinstance(s, ast.Slice) else [s]
            for part in parts:
                if part is not None:
                    out.add(id(part))
                    if isinstance(part, ast.UnaryOp):
                        out.add(id(part.operand))
        elif isinstance(node, ast.JoinedStr):
            out.update(id(v) for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.match_case):
            out.update(id(n) for n in ast.walk(node.pattern))
    return out


class _Rewriter(ast.NodeTransformer):
    def __init__(self, values: list[RequiredValue], protected: set[int]) -> None:
        self.values = values
        self.protected = protected
        self.occurrences: list[tuple[int, ast.Name, ast.expr]] = []

    def _replace(self, node: ast.expr) -> ast.expr | None:
        if id(node) in self.protected:
            return None
        for v in self.values:
            if v.matches(node):
                name = ast.Name(id=v.name, ctx=ast.Load())
                self.occurrences.append((v.index, name, node))
                return ast.copy_location(name, node)
        return None

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        return self._replace(node) or self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return self._replace(node) or node


Occurrence = tuple[int, ast.Name, ast.expr]  # value index, the Name put in, the node it replaced


def rewrite(tree: ast.Module, values: list[RequiredValue]) -> list[Occurrence]:
    """Replace, in place, every occurrence of a required value by a load of its global.
    Returns the occurrences in source order."""
    if not values:
        return []
    if any(
        isinstance(n, ast.Name) and n.id.startswith((VALUE_PREFIX, *PERTURB_PREFIXES))
        for n in ast.walk(tree)
    ):
        return []  # the program names our globals itself: leave it as written
    rw = _Rewriter(values, _protected(tree))
    rw.visit(tree)
    ast.fix_missing_locations(tree)
    return rw.occurrences


def occurrence_variants(tree: ast.Module, occurrences: list[Occurrence]) -> list[list[str]]:
    """Per occurrence, the sources with that occurrence (only) reading each perturbed twin."""
    out = []
    for index, name, _ in occurrences:
        sources = []
        for prefix in PERTURB_PREFIXES:
            name.id = f"{prefix}{index}"
            try:
                sources.append(ast.unparse(tree))
            finally:
                name.id = f"{VALUE_PREFIX}{index}"
        out.append(sources)
    return out


# --------------------------------------------------------------------------------------------
# Values per case
# --------------------------------------------------------------------------------------------


def _number(n: int | float, how: str, smallest: int | float) -> int | float:
    if how == "shift":
        return n + 1
    if how == "single":
        return 2 * n + 3
    if how == "equal":
        return smallest
    if how == "up":
        return 3 * n + 4
    return n // 2 - 1 if isinstance(n, int) else n / 2 - 1


def _swap_first(s: str) -> str:
    for i, ch in enumerate(s):
        if ch.swapcase() != ch:
            return s[:i] + ch.swapcase() + s[i + 1 :]
    return s + "~"


def _string(s: str, how: str, first: str) -> str:
    if how == "shift":
        return s + "x"
    if how == "single":
        return _swap_first(s)
    if how == "equal":
        return first
    if how == "up":
        return s + s if s else "ab"
    for other in (s.upper(), s.lower(), s[::-1] + "!"):
        if other != s:
            return other
    return s + "!"


def perturbed(value: Any) -> tuple[Any, Any]:
    """The two values one occurrence gets in liveness variants, far up and far down (so a
    threshold flips either way): numbers 3v+7 and -(3v+7), strings v+'~' and ''."""
    if isinstance(value, str):
        return (value + "~", "" if value else "~~")
    up = 3 * value + 7
    return (up, -up)


def _value_maps(values: list[RequiredValue]) -> list[tuple[str, bool, list[Any]]]:
    """(label, hidden, value per required value) for every derived case, duplicates removed."""
    nums = [v.value for v in values if v.kind == "number"]
    strs = [v.value for v in values if v.kind == "string"]
    smallest = min(nums) if nums else 0
    first = strs[0] if strs else ""

    def whole(how: str) -> list[Any]:
        return [
            _number(v.value, how, smallest) if v.kind == "number" else _string(v.value, how, first)
            for v in values
        ]

    original = [v.value for v in values]
    maps: list[tuple[str, bool, list[Any]]] = [("as written", False, original)]
    if values:
        maps.append(("shifted", False, whole("shift")))
        for v in values:
            single = list(original)
            single[v.index] = (
                _number(v.value, "single", smallest)
                if v.kind == "number"
                else _string(v.value, "single", first)
            )
            maps.append((f"only {v.value!r} changed", False, single))
        maps.append(("all equal", False, whole("equal")))
        maps.append(("scaled up", True, whole("up")))
        maps.append(("scaled down", True, whole("down")))
    out: list[tuple[str, bool, list[Any]]] = []
    seen: list[list[Any]] = []
    for label, hidden, m in maps:
        key = [(type(x), x) for x in m]
        if key not in seen:
            seen.append(key)
            out.append((label, hidden, m))
    return out


def _bindings(values: list[RequiredValue], current: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v, x in zip(values, current, strict=True):
        out[v.name] = x
        out.update(zip(v.perturbed_names, perturbed(x), strict=True))
    return out


def build_cases(task: Task, values: list[RequiredValue]) -> list[ScoreCase]:
    """Every case before pruning: the task's tests, or the derived legacy cases."""
    original = [v.value for v in values]
    if task.tests:
        base = _bindings(values, original)
        return [
            ScoreCase({**t.bindings(), **base}, t.bindings(), t.hidden, f"case {i}")
            for i, t in enumerate(task.tests)
        ]
    cases = []
    for label, hidden, current in _value_maps(values):
        changed = frozenset(
            v.index
            for v, x in zip(values, current, strict=True)
            if type(x) is not type(v.value) or x != v.value
        )
        shown = {repr(v.value): x for v, x in zip(values, current, strict=True)}
        cases.append(ScoreCase(_bindings(values, current), shown, hidden, label, changed))
    return cases


def task_profile(task: Task, cases: list[ScoreCase]) -> tuple[str | None, ...]:
    """Expected normalised output per case from the task itself: its tests, or (legacy) case 0
    only."""
    if task.tests:
        return tuple(normalise_output(t.expected_output, task) for t in task.tests)
    expected = normalise_output(task.expected_output, task)
    return tuple(expected if not c.changed else None for c in cases)

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


Occurrence = tuple[int, ast.Name, ast.expr]  # value index, the Name put in, the node it replaced

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = tuple(f for f in cls._fields if f != "ctx")  # type: ignore[attr-defined]
        _CHILD_FIELDS[cls] = fields
    return fields


def _protect(node: ast.AST, out: set[int]) -> None:
    """Children of `node` never rewritten: subscript indices and slice bounds, f-string literal
    text, match patterns."""
    cls = type(node)
    if cls is ast.Subscript:
        s = node.slice  # type: ignore[attr-defined]
        parts = [s.lower, s.upper, s.step] if isinstance(s, ast.Slice) else [s]
        for part in parts:
            if part is not None:
                out.add(id(part))
                if isinstance(part, ast.UnaryOp):
                    out.add(id(part.operand))
    elif cls is ast.JoinedStr:
        out.update(id(v) for v in node.values if isinstance(v, ast.Constant))  # type: ignore[attr-defined]
    elif cls is ast.match_case:
        out.update(id(n) for n in ast.walk(node.pattern))  # type: ignore[attr-defined]


def _lookup(node: ast.AST, lookup: dict[tuple[type, Any], RequiredValue]) -> RequiredValue | None:
    if type(node) is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
    elif (
        type(node.op) is ast.USub  # type: ignore[attr-defined]
        and type(node.operand) is ast.Constant  # type: ignore[attr-defined]
        and type(node.operand.value) in (int, float)  # type: ignore[attr-defined]
    ):
        value = -node.operand.value  # type: ignore[attr-defined]
        if not value < 0:
            return None  # `-0`, `--3`: not how a negative required number is written
    else:
        return None
    try:
        return lookup.get((type(value), value))
    except TypeError:  # an unhashable constant (none parse to one, but be safe)
        return None


def rewrite(tree: ast.Module, values: list[RequiredValue]) -> list[Occurrence]:
    """Replace, in place, every occurrence of a required value by a load of its global.
    Returns the occurrences in source order.

    One pre-order walk in field order (the order `ast.NodeTransformer` visits): a matching
    unary minus is replaced whole, otherwise its operand is looked at; nothing is changed if the
    program names one of our globals itself."""
    if not values:
        return []
    prefixes = (VALUE_PREFIX, *PERTURB_PREFIXES)
    # (type, value) -> the value: the same test as `RequiredValue.matches`, as one dict lookup
    lookup: dict[tuple[type, Any], RequiredValue] = {}
    for v in values:
        lookup.setdefault((type(v.value), v.value), v)
    protected: set[int] = set()
    found: list[tuple[int, ast.expr, ast.AST, str, int | None]] = []
    stack: list[tuple[ast.AST, ast.AST | None, str, int | None]] = [(tree, None, "", None)]
    pop, push = stack.pop, stack.append
    while stack:
        node, parent, name, index = pop()
        cls = type(node)
        if cls is ast.Name:
            if node.id.startswith(prefixes):  # type: ignore[attr-defined]
                return []  # the program names our globals itself: leave it as written
            continue
        if (cls is ast.Constant or cls is ast.UnaryOp) and id(node) not in protected:
            v = _lookup(node, lookup)
            if v is not None:
                found.append((v.index, node, parent, name, index))  # type: ignore[arg-type]
                continue
        if cls is ast.Constant:
            continue
        if cls is ast.Subscript or cls is ast.JoinedStr or cls is ast.match_case:
            _protect(node, protected)
        for fname in reversed(_fields(cls)):
            value = getattr(node, fname, None)
            if value.__class__ is list:
                for i in range(len(value) - 1, -1, -1):
                    child = value[i]
                    if isinstance(child, ast.AST):
                        push((child, node, fname, i))
            elif isinstance(value, ast.AST):
                push((value, node, fname, None))
    occurrences: list[Occurrence] = []
    for vi, old, parent, name, index in found:
        new = ast.copy_location(ast.Name(id=f"{VALUE_PREFIX}{vi}", ctx=ast.Load()), old)
        if index is None:
            setattr(parent, name, new)
        else:
            getattr(parent, name)[index] = new
        occurrences.append((vi, new, old))
    return occurrences


def rewritten_source(code: str, occurrences: list[Occurrence]) -> str | None:
    """`code` with each replaced node's span replaced by its global in parentheses: the same
    program as `ast.unparse` of the rewritten tree, without unparsing it. None where spans are
    not simple (a node over several lines, overlaps): unparse then. Not for f-strings (their
    inner positions are unreliable before Python 3.12): the caller checks."""
    if not occurrences:
        return code
    lines = code.splitlines(keepends=True)
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for _, new, old in occurrences:
        lo, hi = getattr(old, "lineno", None), getattr(old, "end_lineno", None)
        col, end = getattr(old, "col_offset", None), getattr(old, "end_col_offset", None)
        if lo is None or lo != hi or col is None or end is None or lo > len(lines):
            return None
        edits.setdefault(lo, []).append((col, end, f"({new.id})"))
    for lo, spans in edits.items():
        raw = lines[lo - 1].encode("utf-8")  # offsets are in UTF-8 bytes
        spans.sort()
        pieces, pos = [], 0
        for col, end, text in spans:
            if col < pos or end > len(raw):
                return None
            pieces += [raw[pos:col], text.encode()]
            pos = end
        pieces.append(raw[pos:])
        lines[lo - 1] = b"".join(pieces).decode("utf-8")
    return "".join(lines)


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

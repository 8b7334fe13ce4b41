"""Required values of a JavaScript program read from the case's globals, as Python's
`engine.reward.cases` does: the derived cases of legacy tasks and the value-liveness variants.

The cases themselves (which values, how many, hidden or not), the expected outputs taken from
the valid patterns, the profiles and the inert values are language-agnostic and reused as they
are (`engine.reward.cases.build_cases`, `engine.reward.expect.build_expectations`). What is
JavaScript here is finding and replacing the occurrences of a required value in the source:

* An occurrence is a literal equal to a required number or string (esprima's ESTree, the JS
  constraint matchers: `5` and `5.0` are the same number in JS), or a negative number written
  `-5` when -5 is required (else the 5 in `-5` is the occurrence). A matched node is replaced
  whole; nothing inside it is looked at.
* Left alone, as in Python: a computed member's index (`nums[2]`, `nums[-1]`: an index names a
  position, not the value), template-literal text (as f-string text), object and class keys
  (a key is syntax, not a value) and directives (`'use strict'`).
* The replacement is a bare global name (`altlasv0`; the twins `altlasp0` / `altlasq0` in
  variants). An identifier is a primary expression like the literal it replaces, so the program
  keeps its shape; parentheses are avoided on purpose (`(altlasv0)` at the start of a line after
  a statement without `;` would become a call). A space is added where the literal touched a
  word (`return"a"`).
* A program that names one of these globals itself is run as written (no occurrences).
* Offsets are esprima's `range` (Python string indices); a range whose text is not the
  literal's own gives up the rewrite for that program (run as written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.languages.javascript.constraints import Node, number_matches, string_matches
from engine.reward.cases import PERTURB_PREFIXES, VALUE_PREFIX, RequiredValue

__all__ = [
    "JSPattern",
    "Occurrence",
    "find_occurrences",
    "js_pattern",
    "may_hold_values",
    "occurrence_sources",
    "parse_ranges",
    "rewritten",
    "value_index",
]

Occurrence = tuple[int, int, int]  # value index, start, end (offsets in the source)
_PREFIXES = (VALUE_PREFIX, *PERTURB_PREFIXES)
_WORD = re.compile(r"[\w$]")  # characters that would glue onto an identifier
_OTHER_BASES = re.compile(r"0[xob]|\d[eE]|\\", re.IGNORECASE)


@dataclass(frozen=True)
class JSPattern:
    """A valid pattern as `build_expectations` reads it (the fields of its Python `_Pattern`)."""

    source: str  # rewritten: values read from the case's globals
    contains: frozenset[int]  # value indices it contains
    variants: list[tuple[int, list[str]]]  # per occurrence: (value index, twin sources)


def parse_ranges(code: str) -> Node | None:
    """ESTree of `code` with `range` offsets, or None when it does not parse."""
    import esprima  # lazily, as the constraint checker does

    try:
        return esprima.parseScript(code, {"range": True}).toDict()
    except Exception:  # esprima raises its own Error for every syntax problem
        return None


def may_hold_values(code: str, values: list[RequiredValue]) -> bool:
    """Cheap text test before a parse with offsets: False only when no literal of `code` can be
    a required value (a number's digits absent and no other base, exponent or escape used; a
    string absent and no escape used)."""
    if not values:
        return False
    if _OTHER_BASES.search(code):
        return True
    for v in values:
        if v.kind == "string":
            if v.value in code:
                return True
        else:
            n = v.value
            digits = str(abs(int(n))) if float(n).is_integer() else str(abs(n)).lstrip("0")
            if digits in code:
                return True
    return False


def _value_of(node: Node, values: list[RequiredValue]) -> int | None:
    t = node["type"]
    if t == "Literal":
        for v in values:
            match = string_matches if v.kind == "string" else number_matches
            if match(v.value, node):
                return v.index
    elif t == "UnaryExpression" and node.get("operator") == "-":
        for v in values:
            if v.kind == "number" and number_matches(v.value, node):
                return v.index
    return None


def _children(node: Node) -> list[tuple[str, Node]]:
    out: list[tuple[str, Node]] = []
    for key, value in node.items():
        if key in ("type", "range", "loc"):
            continue
        if isinstance(value, dict) and "type" in value:
            out.append((key, value))
        elif isinstance(value, list):
            out.extend((key, v) for v in value if isinstance(v, dict) and "type" in v)
    return out


def _protected(node: Node) -> list[Node]:
    """Children of `node` never rewritten (see the module docstring)."""
    t = node["type"]
    if t == "MemberExpression" and node.get("computed"):
        prop = node["property"]
        return [prop, prop["argument"]] if prop["type"] == "UnaryExpression" else [prop]
    if t in ("Property", "MethodDefinition", "PropertyDefinition") and not node.get("computed"):
        return [node["key"]]
    if t == "ExpressionStatement" and node.get("directive") is not None:
        return [node["expression"]]
    return []


def find_occurrences(tree: Node, code: str, values: list[RequiredValue]) -> list[Occurrence]:
    """Every occurrence of a required value in `tree` (parsed from `code` with ranges), in
    source order; none when the program names our globals or an offset looks wrong."""
    if not values:
        return []
    found: list[Occurrence] = []
    protected: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        t = node["type"]
        if t == "Identifier":
            if node.get("name", "").startswith(_PREFIXES):
                return []  # the program names our globals itself: leave it as written
            continue
        if t in ("Literal", "UnaryExpression") and id(node) not in protected:
            index = _value_of(node, values)
            if index is not None:
                lo, hi = node.get("range") or (None, None)
                if lo is None or hi is None or not 0 <= lo < hi <= len(code):
                    return []
                text = code[lo:hi]
                if text != node.get("raw", text) or (t != "Literal" and not text.startswith("-")):
                    return []  # offsets not what we think: run the program as written
                found.append((index, lo, hi))
                continue
        protected.update(id(n) for n in _protected(node))
        stack.extend(child for _, child in _children(node))
    found.sort(key=lambda o: o[1])
    return found


def _name(code: str, lo: int, hi: int, name: str) -> str:
    before = " " if lo > 0 and _WORD.match(code[lo - 1]) else ""
    after = " " if hi < len(code) and _WORD.match(code[hi]) else ""
    return before + name + after


def rewritten(code: str, occurrences: list[Occurrence], perturb: tuple[int, str] = (-1, "")) -> str:
    """`code` with every occurrence reading its value's global; occurrence number `perturb[0]`
    reads the global `perturb[1]` + value index instead (a twin)."""
    pieces, pos = [], 0
    for n, (index, lo, hi) in enumerate(occurrences):
        prefix = perturb[1] if n == perturb[0] else VALUE_PREFIX
        pieces += [code[pos:lo], _name(code, lo, hi, f"{prefix}{index}")]
        pos = hi
    pieces.append(code[pos:])
    return "".join(pieces)


def occurrence_sources(code: str, occurrences: list[Occurrence], n: int) -> list[str]:
    """The sources with occurrence `n` (only) reading each perturbed twin of its value."""
    return [rewritten(code, occurrences, (n, prefix)) for prefix in PERTURB_PREFIXES]


def js_pattern(src: str, values: list[RequiredValue]) -> JSPattern | None:
    """A valid pattern rewritten to read the cases' values (the `pattern` hook of
    `build_expectations`); None when it does not parse."""
    tree = parse_ranges(src)
    if tree is None:
        return None
    occ = find_occurrences(tree, src, values)
    variants = [(index, occurrence_sources(src, occ, n)) for n, (index, _, _) in enumerate(occ)]
    return JSPattern(rewritten(src, occ), frozenset(i for i, _, _ in occ), variants)


def value_index(values: list[RequiredValue], kind: str, value: Any) -> int | None:
    """The index of a required value (a constraint's kind and value), None if not one."""
    for v in values:
        if v.kind == kind and type(v.value) is type(value) and v.value == value:
            return v.index
    return None

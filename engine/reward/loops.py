"""Loop iteration counts per case: counters put into a program's loops, and what they say.

Why: a reward that only compares outputs cannot tell a real loop from a fake one (`for c in
str(n)`, `for n in [n]`), and search that cannot see iteration discards real loops that are one
edit from a solution (docs: the learning notes' second and third experiments). So every program
with a loop is run *instrumented*: `altlasi[k] += 1` at the start of loop k's body and
`altlasi = [0, ...]` before the program. The counters come back with the program's ordinary
per-case results (a fifth element of the sandbox's result, checked on both sides: see
`engine/sandbox/protocol.py`), so there is no extra run, and loop-free programs run unchanged.
The instrumented text is only ever executed by the sandbox, like every program.

`behaviour` turns per-case counts into one label (`LOOP_LABELS`), used as the elite archive's
niche descriptor (engine/search/selection.py) and, if `ScoreWeights.loop_credit` > 0, as a small
reward term:

* `unknown`: no counts (no instrumentation, the program failed on every visible case, a
  language without counters, or counters tampered with),
* `none`: no loop body ran on any case,
* `once`: at most one pass on every case (`for n in [n]`, a loop that always breaks),
* `constant`: the same count > 1 on every case (a loop over a literal range),
* `varies`: the count differs between cases, but does not grow with an input,
* `grows`: the count strictly increases with an input's size (numbers: magnitude; strings,
  lists: length) over the visible cases: among cases that agree on every other input, or, when
  no two cases do, among all cases. Strict on purpose: a digit loop `for c in str(n)` runs once
  per digit, so on n = 4, 7, 1, 10 it gives 1, 1, 1, 2 — it does vary, but it does not grow with
  n, and it would not generalise to a case the task never showed.

A program's label is the highest of its loops' labels in the order above (its most
input-dependent loop). Nothing here knows a task.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

from engine.sandbox.protocol import COUNTER_NAME, COUNTERS_MAX

LOOP_LABELS = ("unknown", "none", "once", "constant", "varies", "grows")
_RANK = {label: i for i, label in enumerate(LOOP_LABELS)}
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_INDENT = " \t\x0c"


def loop_nodes(stmts: Sequence[Any]) -> list[ast.stmt]:
    """The loop statements among `Facts.stmts` (source order; their `.node`)."""
    return [s.node for s in stmts if type(s.node) in _LOOPS]


def instrument(src: str, tree: ast.Module, loops: Sequence[ast.stmt], same_lines: bool) -> str:
    """`src` with loop k counting its body's runs in `altlasi[k]`, and the counters bound first.

    `tree` is the parsed program (`loops` its loop nodes, at most COUNTERS_MAX); `same_lines`
    says whether `src` has the line layout the tree's positions refer to (the reward's rewritten
    text does, an unparsed one does not). A counter goes on its own line before the body's first
    statement; where that cannot be done by text (a body on the header's line, a decorated first
    statement, a continued line, or another layout), the tree is unparsed with the counters in
    it (the inserted nodes are taken out again). ValueError for more than COUNTERS_MAX loops."""
    if not loops:
        return src
    if len(loops) > COUNTERS_MAX:
        raise ValueError(f"more than {COUNTERS_MAX} loops")
    head = f"{COUNTER_NAME} = [0] * {len(loops)}\n"
    text = _by_text(src, loops) if same_lines else None
    if text is None:
        text = _by_tree(tree, loops)
    return head + text


# characters `str.splitlines` ends a line at but Python's tokenizer does not (or a lone \r):
# with any of them the line numbers of the tree and of the text could disagree
_ODD_BREAKS = frozenset("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _by_text(src: str, loops: Sequence[ast.stmt]) -> str | None:
    if not _ODD_BREAKS.isdisjoint(src):
        return None
    lines = src.splitlines(keepends=True)
    inserts: list[tuple[int, str]] = []
    for k, loop in enumerate(loops):
        first = loop.body[0]
        line_no = first.lineno
        if getattr(first, "decorator_list", None) or not 1 <= line_no <= len(lines):
            return None
        line = lines[line_no - 1]
        raw = line.encode("utf-8")[: first.col_offset]
        try:
            indent = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if indent.strip(_INDENT) or (
            line_no > 1 and lines[line_no - 2].rstrip("\r\n").endswith("\\")
        ):
            return None  # the body shares a line with something else, or a line continues
        inserts.append((line_no, f"{indent}{COUNTER_NAME}[{k}] += 1\n"))
    for line_no, text in sorted(inserts, reverse=True):
        lines.insert(line_no - 1, text)
    return "".join(lines)


def _by_tree(tree: ast.Module, loops: Sequence[ast.stmt]) -> str:
    added = []
    try:
        for k, loop in enumerate(loops):
            node = ast.AugAssign(
                target=ast.Subscript(
                    value=ast.Name(id=COUNTER_NAME, ctx=ast.Load()),
                    slice=ast.Constant(value=k),
                    ctx=ast.Store(),
                ),
                op=ast.Add(),
                value=ast.Constant(value=1),
            )
            loop.body.insert(0, node)
            added.append(loop)
        return ast.unparse(tree)
    finally:
        for loop in added:  # the tree is shared with the liveness variants: leave it as it was
            del loop.body[0]


def can_instrument(tree: ast.Module, code: str) -> bool:
    """Whether counters may be bound before the program: not before a `from __future__` import
    (it must come first), not in a program that mentions the counters' name itself."""
    if COUNTER_NAME in code:
        return False
    for stmt in tree.body[:2]:  # a docstring may come first
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            return False
    return True


# --------------------------------------------------------------------------------------------
# What the counts say
# --------------------------------------------------------------------------------------------


def size_of(value: Any) -> float | None:
    """How big an input is, for `grows`: numbers by magnitude, sized values by length."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        v = abs(float(value))
        return v if v == v and v != float("inf") else None
    if isinstance(value, (str, list, tuple, dict)):
        return float(len(value))
    return None


def input_sizes(inputs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
    """Per case, the size of every input that has one (see `size_of`)."""
    out = []
    for case in inputs:
        sizes = {}
        for name, value in case.items():
            s = size_of(value)
            if s is not None:
                sizes[str(name)] = s
        out.append(sizes)
    return out


def _grows(counts: Sequence[int], sizes: Sequence[Mapping[str, float]]) -> bool:
    """Whether `counts` strictly increase with some input's size (see the module docstring)."""
    n = len(counts)
    names = set(sizes[0]) if sizes else set()
    for s in sizes[1:]:
        names &= set(s)
    for x in sorted(names):
        others = [tuple(sorted((k, v) for k, v in s.items() if k != x)) for s in sizes]
        pairs = [(a, b) for a in range(n) for b in range(n)
                 if others[a] == others[b] and sizes[a][x] < sizes[b][x]]  # fmt: skip
        if not pairs:
            pairs = [(a, b) for a in range(n) for b in range(n) if sizes[a][x] < sizes[b][x]]
        if pairs and all(counts[a] < counts[b] for a, b in pairs):
            return True
    return False


def _one_loop(counts: Sequence[int], sizes: Sequence[Mapping[str, float]]) -> str:
    hi = max(counts)
    if hi == 0:
        return "none"
    if hi == 1:
        return "once"
    if min(counts) == hi:
        return "constant"
    return "grows" if _grows(counts, sizes) else "varies"


def behaviour(counts: Sequence[Sequence[int] | None], sizes: Sequence[Mapping[str, float]]) -> str:
    """The label of a program's loops over the visible cases (`LOOP_LABELS`).

    `counts[j]`: per loop, body executions on visible case j (None: unknown there, e.g. the
    case failed); `sizes[j]`: its inputs' sizes (`input_sizes`). Cases without counts are left
    out; "unknown" if none is left or the cases disagree on the number of loops."""
    known = [(c, s) for c, s in zip(counts, sizes, strict=True) if c is not None]
    if not known:
        return "unknown"
    width = len(known[0][0])
    if width == 0 or any(len(c) != width for c, _ in known):
        return "unknown"
    case_sizes = [s for _, s in known]
    best = "none"
    for k in range(width):
        label = _one_loop([c[k] for c, _ in known], case_sizes)
        if _RANK[label] > _RANK[best]:
            best = label
    return best


def from_runs(
    loops: int | None, runs: Sequence[Any], sizes: Sequence[Mapping[str, float]]
) -> tuple[str, tuple[int | None, ...] | None]:
    """(label, summed loop-body executions per case) of one program from its visible runs.

    `loops`: loops instrumented (None: not counted; 0: loop-free); `runs`: its results on the
    visible cases (`.status`, `.iterations`); `sizes`: those cases' input sizes. A count that is
    missing, of the wrong length or from a case that did not run to the end is unknown."""
    if loops is None:
        return "unknown", None
    if loops == 0:
        if any(r.status == "ok" for r in runs):
            return "none", tuple(0 for _ in runs)
        return "unknown", None
    per: list[tuple[int, ...] | None] = []
    for r in runs:
        it = getattr(r, "iterations", None)  # other runners' results may not have it
        ok = r.status == "ok" and type(it) is tuple and len(it) == loops
        per.append(it if ok else None)
    return behaviour(per, sizes), tuple(sum(p) if p is not None else None for p in per)


def rank(label: str) -> int:
    """Position of a label in `LOOP_LABELS` (higher: more input-dependent)."""
    return _RANK.get(label, 0)

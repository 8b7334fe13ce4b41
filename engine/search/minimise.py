"""Minimal solutions: delta-debug a successful program down to a 1-minimal one on its AST.

`minimise(code, succeeds)` repeatedly proposes every single reduction of the current program —
delete a statement, replace a block by its body or its else branch, drop an else branch, replace
a sub-expression by one of its operands (BoolOp, IfExp, BinOp, UnaryOp, Compare, a call's
argument, a subscript's value), drop one element of a list or one argument of a call — shortest
candidates first, and keeps the first one that still succeeds on every case. It stops at a fixed
point: no single reduction of the result succeeds (1-minimal in the delta-debugging sense).

`succeeds(list_of_codes) -> list_of_bools` is called on batches (`batch` candidates at a time), so
the caller can run them in one sandbox message; the minimiser itself never executes code (it only
parses and compiles). Every reduction shrinks the AST, so the loop terminates. The result is plain
Python printed by `ast.unparse`; it need not be expressible in the policy's grammar. If `code`
itself does not succeed, it is returned unchanged.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

Succeeds = Callable[[list[str]], list[bool]]

_BLOCK_FIELDS = ("body", "orelse")


def _sites(tree: ast.AST) -> Iterator[tuple[ast.AST, str, int | None, ast.AST]]:
    """(parent, field, index-or-None, node) for every node below `tree`, in a fixed order."""
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, node in enumerate(value):
                    if isinstance(node, ast.AST):
                        yield parent, name, i, node
            elif isinstance(value, ast.AST):
                yield parent, name, None, value


def _stmt_edits(parent: ast.AST, field: str, i: int, node: ast.stmt) -> Iterator[list[ast.stmt]]:
    """Replacement lists for statement `node` at parent.field[i] (an empty list deletes it)."""
    siblings = getattr(parent, field)
    if len(siblings) > 1 or field == "orelse":
        yield []
    if isinstance(node, (ast.If, ast.For, ast.While)):
        yield list(node.body)
        if node.orelse:
            yield list(node.orelse)
    if isinstance(node, ast.With):
        yield list(node.body)


def _expr_edits(node: ast.expr) -> Iterator[ast.expr]:
    """Smaller expressions that could stand in for `node`."""
    if isinstance(node, ast.BoolOp):
        yield from node.values
        if len(node.values) > 2:
            for k in range(len(node.values)):
                yield ast.BoolOp(node.op, node.values[:k] + node.values[k + 1 :])
    elif isinstance(node, ast.IfExp):
        yield node.body
        yield node.orelse
    elif isinstance(node, ast.BinOp):
        yield node.left
        yield node.right
    elif isinstance(node, ast.UnaryOp):
        yield node.operand
    elif isinstance(node, ast.Compare):
        yield node.left
        yield from node.comparators
        if len(node.ops) > 1:  # drop one link of a chain: a < b < c -> a < c, b < c
            for k in range(len(node.ops)):
                ops = node.ops[:k] + node.ops[k + 1 :]
                comps = node.comparators[:k] + node.comparators[k + 1 :]
                yield ast.Compare(node.left, ops, comps)
            yield ast.Compare(node.comparators[0], node.ops[1:], node.comparators[1:])
    elif isinstance(node, ast.Call):
        yield from (a for a in node.args if not isinstance(a, ast.Starred))
    elif isinstance(node, ast.Subscript):
        yield node.value
    elif isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) > 1:
        for k in range(len(node.elts)):
            yield type(node)(node.elts[:k] + node.elts[k + 1 :], ast.Load())


def _call_arg_drops(node: ast.Call) -> Iterator[ast.Call]:
    if len(node.args) > 1:
        for k in range(len(node.args)):
            yield ast.Call(node.func, node.args[:k] + node.args[k + 1 :], node.keywords)
    for k in range(len(node.keywords)):
        yield ast.Call(node.func, node.args, node.keywords[:k] + node.keywords[k + 1 :])


def reductions(code: str) -> list[str]:
    """Every program one reduction smaller than `code`, compiling, distinct, shortest first."""
    tree = ast.parse(code)
    n_sites = sum(1 for _ in _sites(tree))
    out: dict[str, None] = {}
    for k in range(n_sites):
        for variant in _variants_at(code, k):
            out.setdefault(variant, None)
    current = ast.unparse(tree)
    out.pop(current, None)
    return sorted(out, key=lambda s: (len(s), s))


def _variants_at(code: str, k: int) -> Iterator[str]:
    """Programs with the k-th site (in `_sites` order) reduced one way each."""

    def fresh() -> tuple[ast.Module, tuple[ast.AST, str, int | None, ast.AST]]:
        tree = ast.parse(code)  # a cheap deep copy, and the site order is the same every time
        for j, site in enumerate(_sites(tree)):
            if j == k:
                return tree, site
        raise IndexError(k)

    tree, (parent, field, i, node) = fresh()
    if isinstance(node, ast.stmt) and field in _BLOCK_FIELDS and i is not None:
        n_edits = sum(1 for _ in _stmt_edits(parent, field, i, node))
        if isinstance(node, ast.If) and node.orelse:
            n_edits += 1
        for e in range(n_edits):
            tree, (parent, field, i, node) = fresh()
            edits = list(_stmt_edits(parent, field, i, node))
            if e < len(edits):
                getattr(parent, field)[i : i + 1] = edits[e]
            else:
                node.orelse = []  # drop the whole else/elif chain at once
            yield from _emit(tree)
    elif isinstance(node, ast.expr) and not isinstance(getattr(node, "ctx", None), ast.Store):
        n_edits = sum(1 for _ in _expr_edits(node))
        if isinstance(node, ast.Call):
            n_edits += sum(1 for _ in _call_arg_drops(node))
        for e in range(n_edits):
            tree, (parent, field, i, node) = fresh()
            edits = list(_expr_edits(node))
            if isinstance(node, ast.Call):
                edits += list(_call_arg_drops(node))
            new = edits[e]
            if i is None:
                setattr(parent, field, new)
            else:
                getattr(parent, field)[i] = new
            yield from _emit(tree)


def _emit(tree: ast.Module) -> Iterator[str]:
    if not tree.body:
        return
    try:
        src = ast.unparse(ast.fix_missing_locations(tree))
        compile(
            src, "<minimise>", "exec"
        )  # compile only, never run: e.g. `break` left outside a loop
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return
    yield src


def minimise(code: str, succeeds: Succeeds, batch: int = 64, max_calls: int = 500) -> str:
    """The 1-minimal reduction of `code` that still succeeds (see module docstring).

    `batch`: candidates per `succeeds` call (the first call also re-checks `code` itself);
    `max_calls`: a safety bound on calls, after which the best program so far is returned.
    """
    try:
        ast.parse(code)
    except SyntaxError:
        return code
    current, reduced, calls = code, False, 0
    pending_check = True  # the original is checked together with the first candidates
    failed: set[str] = set()  # never ask twice about a candidate that already failed
    while calls < max_calls:
        cands = [c for c in reductions(current) if c not in failed]
        accepted = None
        for lo in range(0, max(1, len(cands)), batch):
            chunk = cands[lo : lo + batch]
            ask = ([current] if pending_check else []) + chunk
            if not ask:
                break
            got = succeeds(ask)
            calls += 1
            if len(got) != len(ask):
                raise ValueError(f"succeeds returned {len(got)} results for {len(ask)} programs")
            if pending_check:
                pending_check = False
                if not got[0]:
                    return code
                got = got[1:]
            failed.update(c for c, ok in zip(chunk, got, strict=True) if not ok)
            hit = next((c for c, ok in zip(chunk, got, strict=True) if ok), None)
            if hit is not None:
                accepted = hit
                break
            if calls >= max_calls:
                break
        if accepted is None:
            break
        current, reduced = accepted, True
    return current if reduced else code

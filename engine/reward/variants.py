"""Liveness variants: copies of a program with one construct perturbed, run on the visible cases.

A required construct counts only if every variant that runs changes some case's output, and at
least one does (a variant that fails where the program ran proves nothing either way: `'ab' * 3`
with `*` -> `//` fails, and is not held against it). The variants per construct:

  a + b            `a - b` (the swapped operator), `a`, `b`: `x + 0`, `'world' + '\\n'` spent
                   on `end=`, `sum(...) + 0` keep the output for one of them and do not count
  t += x           `t -= x`, removed, `t = x`
  a > b            `a <= b`, `True`, `False`: needs cases on both sides (wrong thresholds and
                   truthiness guards keep one side)
  a and b          `a`, `b`;   not a / ~a  -> `a`
  for / comprehension  the iterable cut to its first element: the loop must iterate more than
                   once on some case and its later iterations must change the output, so a loop
                   over one element, after the last print, or that never runs, earns nothing
  while            `break` appended to the body (catches `while <call>:` that never runs)
  if / x if c else y   the test replaced by True and by False: both branches must matter
  else / elif      the else branch removed
  def f(params)    called with every argument nudged (n+1, s+'x', ...) and with the body
                   replaced by `return <first parameter>`: a function must compute from its
                   arguments; a function without parameters, an identity or a constant one
                   earns nothing
  return v         `return None`, plus the enclosing function's variants
  break / continue removed
Other keywords (lambda, pass, names like `range`) are checked statically only.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.reward.constraints import Constraint

PREAMBLE = """def altlas_first(it):
    for x in it:
        return [x]
    return []
def altlas_bump(v):
    if isinstance(v, bool):
        return not v
    if isinstance(v, (int, float)):
        return v + 1
    if isinstance(v, str):
        return v + 'x'
    if isinstance(v, list):
        return v + v[:1]
    return v
def altlas_nudge(f):
    def g(*args, **kwargs):
        return f(*[altlas_bump(a) for a in args], **kwargs)
    return g
"""

SWAP_BIN: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.MatMult: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
NEGATE_CMP: dict[type, type] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.LtE: ast.Gt,
    ast.Gt: ast.LtE,
    ast.GtE: ast.Lt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}

NO_PARAMETERS = "takes no parameters, so it cannot compute from its arguments"


class Parents:
    """Where each node sits in its parent (to replace it temporarily)."""

    def __init__(self, tree: ast.AST) -> None:
        self.map: dict[int, tuple[ast.AST, str, int | None]] = {}
        self.funcs: dict[int, ast.AST] = {}  # node -> enclosing function
        for node in ast.walk(tree):
            for name, value in ast.iter_fields(node):
                if isinstance(value, list):
                    for i, child in enumerate(value):
                        if isinstance(child, ast.AST):
                            self.map[id(child)] = (node, name, i)
                elif isinstance(value, ast.AST):
                    self.map[id(value)] = (node, name, None)
        stack: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
        while stack:
            node, func = stack.pop()
            if func is not None:
                self.funcs[id(node)] = func
            inner = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            stack.extend((child, inner) for child in ast.iter_child_nodes(node))

    @contextmanager
    def replaced(self, node: ast.AST, new: ast.AST) -> Iterator[bool]:
        where = self.map.get(id(node))
        if where is None:
            yield False
            return
        parent, name, index = where
        if index is None:
            setattr(parent, name, new)
            try:
                yield True
            finally:
                setattr(parent, name, node)
            return
        seq = getattr(parent, name)
        seq[index] = new
        try:
            yield True
        finally:
            seq[index] = node


@contextmanager
def _set(node: ast.AST, attr: str, value: Any) -> Iterator[None]:
    old = getattr(node, attr)
    setattr(node, attr, value)
    try:
        yield
    finally:
        setattr(node, attr, old)


def _src(tree: ast.Module) -> str | None:
    try:
        return PREAMBLE + ast.unparse(ast.fix_missing_locations(tree))
    except (ValueError, TypeError, AttributeError, RecursionError):
        return None


def _swapped(tree: ast.Module, node: ast.AST, op_cls: type | None) -> list[str | None]:
    if op_cls is None:
        return []
    with _set(node, "op", op_cls()):
        return [_src(tree)]


def _replaced(tree: ast.Module, parents: Parents, node: ast.AST, new: ast.AST) -> str | None:
    with parents.replaced(node, new) as ok:
        return _src(tree) if ok else None


def _const(value: Any) -> ast.Constant:
    return ast.Constant(value=value)


def function_variants(tree: ast.Module, node: ast.AST) -> list[str | None] | str:
    """Variants of a def (nudged arguments, identity body), or the reason it cannot count."""
    args = node.args  # type: ignore[attr-defined]
    params = [a.arg for a in args.posonlyargs + args.args]
    if not params:
        return NO_PARAMETERS
    out = []
    nudge = ast.Name(id="altlas_nudge", ctx=ast.Load())
    with _set(node, "decorator_list", [*node.decorator_list, nudge]):  # type: ignore[attr-defined]
        out.append(_src(tree))
    identity = [ast.Return(value=ast.Name(id=params[0], ctx=ast.Load()))]
    with _set(node, "body", identity):
        out.append(_src(tree))
    return out


def variants(
    tree: ast.Module, parents: Parents, node: ast.AST, c: Constraint
) -> list[str | None] | str | None:
    """The variant sources of one candidate (None entries: could not be written); a string is
    the reason the candidate cannot count at all; None means: no dynamic check for this kind."""
    kw = c.value if c.kind == "keyword" else None
    if isinstance(node, ast.BinOp):
        return [
            *_swapped(tree, node, SWAP_BIN.get(type(node.op))),
            _replaced(tree, parents, node, node.left),
            _replaced(tree, parents, node, node.right),
        ]
    if isinstance(node, ast.AugAssign):
        plain = ast.Assign(targets=[node.target], value=node.value)
        return [
            *_swapped(tree, node, SWAP_BIN.get(type(node.op))),
            _replaced(tree, parents, node, ast.Pass()),
            _replaced(tree, parents, node, plain),
        ]
    if isinstance(node, ast.Compare):
        negated = [NEGATE_CMP.get(type(o), type(o))() for o in node.ops]
        with _set(node, "ops", negated):
            out = [_src(tree)]
        out.append(_replaced(tree, parents, node, _const(True)))
        out.append(_replaced(tree, parents, node, _const(False)))
        return out
    if isinstance(node, ast.BoolOp):
        return [_replaced(tree, parents, node, v) for v in node.values]
    if isinstance(node, ast.UnaryOp):
        return [_replaced(tree, parents, node, node.operand)]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.Try)) and kw == "else":
        with _set(node, "orelse", []):
            return [_src(tree)]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        if kw == "if" and isinstance(node, ast.comprehension):
            with _set(node, "ifs", []):
                return [_src(tree)]
        first = ast.Call(
            func=ast.Name(id="altlas_first", ctx=ast.Load()), args=[node.iter], keywords=[]
        )
        with _set(node, "iter", first):
            return [_src(tree)]
    if isinstance(node, ast.While):
        with _set(node, "body", [*node.body, ast.Break()]):
            return [_src(tree)]
    if isinstance(node, ast.If):
        if kw in ("else", "elif"):
            with _set(node, "orelse", []):
                return [_src(tree)]
        out = []
        for value in (True, False):
            with _set(node, "test", _const(value)):
                out.append(_src(tree))
        return out
    if isinstance(node, ast.IfExp):
        if kw == "else":
            return [_replaced(tree, parents, node, node.body)]
        return [
            _replaced(tree, parents, node, node.body),
            _replaced(tree, parents, node, node.orelse),
        ]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return function_variants(tree, node)
    if isinstance(node, ast.Return) and node.value is not None:
        with _set(node, "value", _const(None)):
            out = [_src(tree)]
        func = parents.funcs.get(id(node))
        if func is not None:
            more = function_variants(tree, func)
            if isinstance(more, str):
                return f"its function {more}"
            out += more
        return out
    if isinstance(node, (ast.Break, ast.Continue)):
        return [_replaced(tree, parents, node, ast.Pass())]
    return None


def clone(tree: ast.Module) -> ast.Module:
    """A deep copy (variants are written on a copy so the cached tree stays as parsed)."""
    return copy.deepcopy(tree)

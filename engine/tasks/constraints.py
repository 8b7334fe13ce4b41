"""Constraint tables shared by task validation and the reward: which AST nodes really implement
a required operator, number, string or keyword."""

from __future__ import annotations

import ast
import keyword
from typing import Any

from engine.tasks.model import Task

# Required operators -> the AST operator classes that really implement them.
BINARY_OPERATORS: dict[str, type[ast.operator]] = {
    "+": ast.Add,
    "-": ast.Sub,
    "*": ast.Mult,
    "/": ast.Div,
    "//": ast.FloorDiv,
    "%": ast.Mod,
    "**": ast.Pow,
    "@": ast.MatMult,
    "&": ast.BitAnd,
    "|": ast.BitOr,
    "^": ast.BitXor,
    "<<": ast.LShift,
    ">>": ast.RShift,
}
COMPARE_OPERATORS: dict[str, type[ast.cmpop]] = {
    "==": ast.Eq,
    "!=": ast.NotEq,
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
    "in": ast.In,
    "not in": ast.NotIn,
    "is": ast.Is,
    "is not": ast.IsNot,
}
BOOL_OPERATORS: dict[str, type[ast.boolop]] = {"and": ast.And, "or": ast.Or}
UNARY_OPERATORS: dict[str, type[ast.unaryop]] = {"not": ast.Not, "~": ast.Invert}
AUG_OPERATORS = {f"{k}=": v for k, v in BINARY_OPERATORS.items()}
KNOWN_OPERATORS = (
    set(BINARY_OPERATORS)
    | set(COMPARE_OPERATORS)
    | set(BOOL_OPERATORS)
    | set(UNARY_OPERATORS)
    | set(AUG_OPERATORS)
)


def _has_value_return(n: ast.AST) -> bool:
    return isinstance(n, ast.Return) and n.value is not None


KEYWORD_CHECKS: dict[str, Any] = {
    "for": lambda n: isinstance(n, (ast.For, ast.comprehension)),
    "in": lambda n: (
        isinstance(n, (ast.For, ast.comprehension))
        or (isinstance(n, ast.Compare) and any(isinstance(o, (ast.In, ast.NotIn)) for o in n.ops))
    ),
    "if": lambda n: (
        isinstance(n, (ast.If, ast.IfExp)) or (isinstance(n, ast.comprehension) and bool(n.ifs))
    ),
    "else": lambda n: (
        isinstance(n, ast.IfExp)
        or (isinstance(n, (ast.If, ast.For, ast.While, ast.Try)) and bool(n.orelse))
    ),
    "elif": lambda n: (
        isinstance(n, ast.If) and len(n.orelse) == 1 and isinstance(n.orelse[0], ast.If)
    ),
    "while": lambda n: isinstance(n, ast.While),
    "def": lambda n: isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)),
    "return": _has_value_return,
    "lambda": lambda n: isinstance(n, ast.Lambda),
    "and": lambda n: isinstance(n, ast.BoolOp) and isinstance(n.op, ast.And),
    "or": lambda n: isinstance(n, ast.BoolOp) and isinstance(n.op, ast.Or),
    "not": lambda n: (
        (isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not))
        or (
            isinstance(n, ast.Compare) and any(isinstance(o, (ast.NotIn, ast.IsNot)) for o in n.ops)
        )
    ),
    "is": lambda n: (
        isinstance(n, ast.Compare) and any(isinstance(o, (ast.Is, ast.IsNot)) for o in n.ops)
    ),
    "break": lambda n: isinstance(n, ast.Break),
    "continue": lambda n: isinstance(n, ast.Continue),
    "pass": lambda n: isinstance(n, ast.Pass),
    "True": lambda n: isinstance(n, ast.Constant) and n.value is True,
    "False": lambda n: isinstance(n, ast.Constant) and n.value is False,
    "None": lambda n: isinstance(n, ast.Constant) and n.value is None,
    "import": lambda n: isinstance(n, (ast.Import, ast.ImportFrom)),
    "from": lambda n: isinstance(n, (ast.ImportFrom, ast.YieldFrom)),
    "as": lambda n: (
        (isinstance(n, ast.alias) and n.asname is not None)
        or (isinstance(n, ast.withitem) and n.optional_vars is not None)
        or (isinstance(n, ast.ExceptHandler) and n.name is not None)
    ),
    "class": lambda n: isinstance(n, ast.ClassDef),
    "try": lambda n: isinstance(n, ast.Try),
    "except": lambda n: isinstance(n, ast.ExceptHandler),
    "finally": lambda n: isinstance(n, ast.Try) and bool(n.finalbody),
    "with": lambda n: isinstance(n, (ast.With, ast.AsyncWith)),
    "raise": lambda n: isinstance(n, ast.Raise),
    "assert": lambda n: isinstance(n, ast.Assert),
    "del": lambda n: isinstance(n, ast.Delete),
    "global": lambda n: isinstance(n, ast.Global),
    "nonlocal": lambda n: isinstance(n, ast.Nonlocal),
    "yield": lambda n: isinstance(n, (ast.Yield, ast.YieldFrom)),
    "await": lambda n: isinstance(n, ast.Await),
    "async": lambda n: isinstance(n, (ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith)),
}
assert set(KEYWORD_CHECKS) <= set(keyword.kwlist)


def keyword_matches(kw: str, node: ast.AST) -> bool:
    """Whether `node` is a real construct for required keyword `kw`.

    Python keywords map to node kinds (`for` -> For or a comprehension, `in` -> For,
    comprehension or an `in` comparison, `def` -> FunctionDef, `return` -> Return *with a value*).
    Any other identifier (e.g. `print`, `range`) is matched as a used name or attribute.
    """
    check = KEYWORD_CHECKS.get(kw)
    if check is not None:
        return bool(check(node))
    return (isinstance(node, ast.Name) and node.id == kw) or (
        isinstance(node, ast.Attribute) and node.attr == kw
    )


def operator_matches(op: str, node: ast.AST) -> bool:
    """Whether `node` really applies required operator `op` (not text: a BinOp/AugAssign/
    Compare/BoolOp/UnaryOp with that operator). `+` is `Add` in a BinOp or AugAssign, which
    covers string concatenation; `+=` only an AugAssign."""
    if op in BINARY_OPERATORS:
        cls = BINARY_OPERATORS[op]
        return isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, cls)
    if op in AUG_OPERATORS:
        return isinstance(node, ast.AugAssign) and isinstance(node.op, AUG_OPERATORS[op])
    if op in COMPARE_OPERATORS:
        cmp_cls = COMPARE_OPERATORS[op]
        return isinstance(node, ast.Compare) and any(isinstance(o, cmp_cls) for o in node.ops)
    if op in BOOL_OPERATORS:
        return isinstance(node, ast.BoolOp) and isinstance(node.op, BOOL_OPERATORS[op])
    if op in UNARY_OPERATORS:
        return isinstance(node, ast.UnaryOp) and isinstance(node.op, UNARY_OPERATORS[op])
    return False


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_matches(n: int | float, node: ast.AST) -> bool:
    """An int/float constant equal to `n` (`55` is not 5; `True` is not 1; `5.0` is 5); a
    negative `n` is written `-3`, which Python parses as minus applied to the constant 3."""
    if isinstance(node, ast.Constant):
        return is_number(node.value) and node.value == n
    return (
        n < 0
        and isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and is_number(node.operand.value)
        and -node.operand.value == n
    )


def string_matches(s: str, node: ast.AST) -> bool:
    """A str constant equal to `s`, case-sensitively (a string merely containing it is not)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value == s


def missing_among(task: Task, nodes: list[Any], matchers: tuple[Any, Any, Any, Any]) -> list[str]:
    """Constraints of `task` no node matches; `matchers` are the language's operator, number,
    string and keyword predicates (node kinds differ by language, the rule does not)."""
    missing = []
    kinds = (
        ("operator", task.required_operators),
        ("number", task.required_numbers),
        ("string", task.required_strings),
        ("keyword", task.required_keywords),
    )
    for (kind, wanted), matches in zip(kinds, matchers, strict=True):
        for value in wanted:
            if not any(matches(value, n) for n in nodes):
                missing.append(f"{kind} {value!r}")
    return missing


def missing_constraints(task: Task, tree: ast.AST) -> list[str]:
    """Constraints with no matching construct anywhere in `tree` (presence only)."""
    matchers = (operator_matches, number_matches, string_matches, keyword_matches)
    return missing_among(task, list(ast.walk(tree)), matchers)

"""A task's constraints as one flat list (operators, numbers, strings, keywords), with the AST
node kinds that may satisfy each; the matching rules themselves live in `engine.tasks`."""

from __future__ import annotations

import ast
import keyword
from dataclasses import dataclass
from typing import Any

from engine.tasks import (
    AUG_OPERATORS,
    BINARY_OPERATORS,
    BOOL_OPERATORS,
    COMPARE_OPERATORS,
    UNARY_OPERATORS,
    Task,
    keyword_matches,
    number_matches,
    operator_matches,
    string_matches,
)


@dataclass(frozen=True)
class Constraint:
    """One required construct: kind is operator | number | string | keyword."""

    kind: str
    value: Any
    label: str
    types: tuple[type, ...] | None  # node classes that may satisfy it (None: any)

    def matches(self, node: ast.AST) -> bool:
        if self.kind == "operator":
            return operator_matches(self.value, node)
        if self.kind == "number":
            return number_matches(self.value, node)
        if self.kind == "string":
            return string_matches(self.value, node)
        return keyword_matches(self.value, node)

    @property
    def is_value(self) -> bool:
        return self.kind in ("number", "string")


KEYWORD_TYPES: dict[str, tuple[type, ...]] = {
    "for": (ast.For, ast.comprehension),
    "in": (ast.For, ast.comprehension, ast.Compare),
    "if": (ast.If, ast.IfExp, ast.comprehension),
    "else": (ast.If, ast.IfExp, ast.For, ast.While, ast.Try),
    "elif": (ast.If,),
    "while": (ast.While,),
    "def": (ast.FunctionDef, ast.AsyncFunctionDef),
    "return": (ast.Return,),
    "lambda": (ast.Lambda,),
    "and": (ast.BoolOp,),
    "or": (ast.BoolOp,),
    "not": (ast.UnaryOp, ast.Compare),
    "is": (ast.Compare,),
    "break": (ast.Break,),
    "continue": (ast.Continue,),
    "pass": (ast.Pass,),
    "True": (ast.Constant,),
    "False": (ast.Constant,),
    "None": (ast.Constant,),
}


def operator_types(op: str) -> tuple[type, ...]:
    """AST node classes that can carry operator `op`."""
    if op in BINARY_OPERATORS:
        return (ast.BinOp, ast.AugAssign)
    if op in AUG_OPERATORS:
        return (ast.AugAssign,)
    if op in COMPARE_OPERATORS:
        return (ast.Compare,)
    if op in BOOL_OPERATORS:
        return (ast.BoolOp,)
    if op in UNARY_OPERATORS:
        return (ast.UnaryOp,)
    return ()


def task_constraints(task: Task) -> list[Constraint]:
    """The task's constraints in a fixed order: operators, numbers, strings, keywords."""
    out = [
        Constraint("operator", op, f"operator {op!r}", operator_types(op))
        for op in task.required_operators
    ]
    out += [
        Constraint("number", n, f"number {n!r}", (ast.Constant, ast.UnaryOp))
        for n in task.required_numbers
    ]
    out += [
        Constraint("string", s, f"string {s!r}", (ast.Constant,)) for s in task.required_strings
    ]
    for kw in task.required_keywords:
        types = KEYWORD_TYPES.get(kw)
        if types is None and kw.isidentifier() and not keyword.iskeyword(kw):
            types = (ast.Name, ast.Attribute)
        out.append(Constraint("keyword", kw, f"keyword {kw!r}", types))
    return out

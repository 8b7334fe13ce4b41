"""The reward: one function, one breakdown, shown to users and trained on.

Score of a program for a task (weights in `ScoreWeights`)::

    0.10  parses
    0.30  x share of the task's constraints really met (see below)
    0.10  runs without error
    0.10  prints something
    0.30  x output similarity (difflib ratio; numeric closeness when both are numbers)
    0.05  x structural similarity to the closest valid pattern (bag of AST node kinds)

A non-success is capped at 0.9; a success scores exactly 1.0. `components` holds each part's
contribution and, so that the breakdown always adds up to the score, a negative `cap` entry when
the cap applied or a `success` entry with the remainder up to 1.0.

Success = the output equals the expected output under the task's case/whitespace rules
(`normalise_output`) AND every constraint is really met AND the answer is not hard-coded AND
the program ran without error.

Decisions, each aimed at a hack the earlier prototype's learner found:

Constraints are checked on the AST, never on text.
  * number n: an int/float constant equal to n (`55` is not 5, `True` is not 1, `5.0` is 5).
  * operator: a real BinOp/AugAssign (arithmetic; `+` also covers string concatenation),
    Compare, BoolOp or UnaryOp node with that operator. `-` is binary subtraction only.
  * string s: a str constant *equal* to s, case-sensitively ('hello world' is not 'hello').
  * keyword: a real construct (`for` -> For or comprehension, `in` -> For, comprehension or an
    `in` test, `if` -> If/IfExp, `def` -> FunctionDef, `return` -> Return with a value, ...;
    see `engine.tasks.KEYWORD_CHECKS`); other identifiers (`print`, `range`) as used names.
  Comments and string contents count for nothing.

A construct only counts if it can affect the output (static dataflow, every program):
  Output comes from `print` calls (also inside called functions). A statement is live if it
  prints, or assigns/mutates a name whose value reaches a print, or is a compound statement
  containing a live statement; a function is live only if it is called where its result or
  its printing matters. Expressions skipped by constant short-circuits (`8 or 5+3`,
  `0 and x`, `a if True else b`) are dead. Vacuous constructs do not count: a `def` never called
  (or whose call's result is thrown away and which does not print), `return` without a value or
  returning None, `if`/`for`/`while` whose body is only pass/break/continue or contains nothing
  live, `if` with a constant test (`if True:`), a loop over an empty literal iterable
  (`range(0)`, `range(5, 1)`, `[]`, `''`), `while` with a falsy constant test.

Ablation confirms it (only for success candidates: right output, static checks passed): each
  constraint's construct is perturbed and the variants are run (one extra `run_many` call for
  the whole batch). A constraint whose variants never change the program's behaviour is not
  met ("number 5 does not affect the output").
  * numbers/strings: every occurrence of the value is replaced consistently by several other
    values (n+1, n-1, -(n+1), 3n+7; s+'~', ''). Consistent replacement defeats `4+4+5-5`.
    Exception: a value the task's own valid patterns also leave inert (list_operations' `1` in
    `[1, 2, 3, 4, 5]`) is accepted.
  * operators: the op swapped (`+` -> `-`, `*` -> `//`, `>` -> `<=`, and <-> or) - for a
    BinOp/AugAssign this swap *must* change the output if it runs, so the no-ops `x + 0`,
    `x * 1` do not count -, the operands exchanged (string concatenation), an AugAssign
    removed; keywords: loop body removed and loop shortened by one
    element, `while` removed, `if` test negated, function body replaced by `return None`,
    returned values replaced by None and doubled (`return X * 2`).
  Only a variant that runs without error and prints something different is evidence: a variant
  that merely crashes (`0*(1/(5+3))` with 3 -> -5, `f(10, 20) * 0` with f returning None)
  proves nothing about the output.
  Numbers and strings must also behave *as in the task's own valid patterns* (run with the same
  replacements): the program must print what some pattern prints for at least one replacement
  value (consistently replaced, or at one occurrence only, since a number may play two roles as
  in `i = 1` ... `i += 1`), and if a consistent replacement makes it print a different,
  non-empty answer than every pattern, it must also agree with a pattern on some replacement
  that changes its output. So `print(int(5 > 3) + 7)` (prints 8, depends on 5 and 3, but with
  5 -> 6 still 8 where `print(5+3)` prints 9) fails, and so does a learner's find for
  conditional_check that prints 'Greater' when `10 > 15` is false and 9 otherwise; an `if`
  without `else` (prints nothing instead of 'Less or equal') passes.
  This rejects honest programs that use a required number in a role no valid pattern gives it
  (`numbers[-3]` instead of `numbers[2]`); a task that wants to allow those lists them as
  valid patterns.
  Known limit: all of this checks that constructs influence the output as in some valid pattern
  for a few perturbations, not that the program is the intended one; an expression tailored to
  agree with a pattern on one tested value can still pass.

Hard-coded answers are never a success and get no output-similarity credit (so `print(8)` scores
below an honest wrong attempt like `print(5-3)`): a literal anywhere in the program, live or dead,
equal to the expected output, compared as text under the task's rules (`'8'`, `' 8 '`,
`'hello' 'world'` which Python joins, an f-string of constants) or as a number (`8`, `8.0`,
`'8.0'`, `-8`). Exempt: literals the task's own valid patterns contain too (`'Greater'` in
conditional_check). Multi-line expected outputs are only checked as a whole. Arithmetic on
other literals (`print(16/2)`, `print(chr(56))`) is not a literal of the answer: such programs
fail on the constraints instead (no `+`, no 5 and 3), and the ablation rules above catch the
ones that dress a constant up with the required pieces (`4+4+0*(5+3)`).

`TaskScorer.score_many` calls `run_many` at most twice (all programs once, then all ablation
variants once, together with the task's own patterns under the same replacements the first time
they are needed) and caches analyses, ablation verdicts and pattern reactions. Everything the
scorer executes goes through `run_many` (the sandbox).
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engine.tasks import (
    AUG_OPERATORS,
    BINARY_OPERATORS,
    BOOL_OPERATORS,
    COMPARE_OPERATORS,
    UNARY_OPERATORS,
    Task,
    is_number,
    keyword_matches,
    normalise_output,
    number_matches,
    operator_matches,
    string_matches,
)

__all__ = [
    "Analysis",
    "ScoreResult",
    "ScoreWeights",
    "TaskScorer",
    "normalise_output",
    "output_similarity",
    "score_program",
]


class ExecLike(Protocol):
    """What `run_many` returns per program (the sandbox's ExecResult)."""

    status: str
    stdout: str
    error: str


RunMany = Callable[[list[str]], Sequence[ExecLike]]


@dataclass(frozen=True)
class ScoreWeights:
    """Weights of the reward's parts."""

    parses: float = 0.1  # the program parses
    constraints: float = 0.3  # times the share of constraints really met
    runs: float = 0.1  # ran without error or timeout
    prints: float = 0.1  # printed something
    output: float = 0.3  # times output similarity to the expected output
    structure: float = 0.05  # times AST similarity to the closest valid pattern
    max_partial: float = 0.9  # cap for anything short of a success
    hardcoded_output: float = 0.0  # share of output credit a hard-coded answer keeps
    # Share of a constraint's credit for a construct that is present but cannot affect the output
    # (an uncalled def, a dead branch): a stepping stone for partial credit only, never a success.
    vacuous_credit: float = 0.5


@dataclass
class ScoreResult:
    """A program's score with its breakdown."""

    task: str
    score: float
    success: bool
    components: dict[str, float]
    reasons: list[str]
    stdout: str
    status: str

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
        }


@dataclass
class Analysis:
    """Static facts about one program (cached by text)."""

    parses: bool
    syntax_error: str = ""
    met: tuple[bool, ...] = ()  # per constraint (task order: operators, numbers, strings, keywords)
    present: tuple[bool, ...] = ()  # per constraint: the construct occurs, live or not
    reasons: tuple[str, ...] = ()  # why constraints are not met
    hardcoded: str | None = None  # the offending literal, if any
    structure: float = 0.0

    @property
    def constraints_share(self) -> float:
        return sum(self.met) / len(self.met) if self.met else 1.0


# --------------------------------------------------------------------------------------------
# Constraints as a flat list
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Constraint:
    kind: str  # operator | number | string | keyword
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


_KEYWORD_TYPES: dict[str, tuple[type, ...]] = {
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


def _operator_types(op: str) -> tuple[type, ...]:
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


def _constraints(task: Task) -> list[_Constraint]:
    out = [
        _Constraint("operator", op, f"operator {op!r}", _operator_types(op))
        for op in task.required_operators
    ]
    out += [
        _Constraint("number", n, f"number {n!r}", (ast.Constant, ast.UnaryOp))
        for n in task.required_numbers
    ]
    out += [
        _Constraint("string", s, f"string {s!r}", (ast.Constant,)) for s in task.required_strings
    ]
    for kw in task.required_keywords:
        types = _KEYWORD_TYPES.get(kw)
        if types is None and kw.isidentifier() and not _is_python_keyword(kw):
            types = (ast.Name, ast.Attribute)
        out.append(_Constraint("keyword", kw, f"keyword {kw!r}", types))
    return out


def _is_python_keyword(word: str) -> bool:
    import keyword

    return keyword.iskeyword(word)


# --------------------------------------------------------------------------------------------
# Output comparison
# --------------------------------------------------------------------------------------------


def _as_number(text: str) -> float | None:
    if not text or len(text) > 40:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def output_similarity(got: str, expected: str) -> float:
    """Similarity in [0, 1] of two normalised outputs.

    Equal: 1. Both numbers: 0.8 x closeness (1 / (1 + relative distance)) + 0.2 x text ratio, so
    `8.0` for `8` is close but below an exact match. Otherwise difflib's ratio (output truncated
    to keep it cheap).
    """
    if got == expected:
        return 1.0
    if not got or not expected:
        return 0.0
    limit = 4 * len(expected) + 64
    got = got[:limit]
    ratio = difflib.SequenceMatcher(None, got, expected, autojunk=False).ratio()
    a, b = _as_number(got), _as_number(expected)
    if a is not None and b is not None:
        closeness = 1.0 / (1.0 + abs(a - b) / max(1.0, abs(b)))
        return min(0.99, 0.8 * closeness + 0.2 * ratio)
    return min(0.99, ratio)


# --------------------------------------------------------------------------------------------
# Static analysis
# --------------------------------------------------------------------------------------------

_JUNK_BODY = (ast.Pass, ast.Break, ast.Continue)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _is_output_call(node: ast.Call) -> bool:
    """`print(...)` or `sys.stdout.write(...)` / `.writelines(...)`."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "print"
    return (
        isinstance(func, ast.Attribute)
        and func.attr in ("write", "writelines")
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "stdout"
    )


def _only_junk(body: list[ast.stmt]) -> bool:
    return all(
        isinstance(s, _JUNK_BODY) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


def _target_names(target: ast.AST, out: list[str]) -> None:
    """Names a target defines or mutates (`a`, `a[i]`, `a.x`, `a, b`)."""
    while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        target = target.value
    if isinstance(target, ast.Name):
        out.append(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _target_names(elt, out)


def _empty_iterable(node: ast.expr) -> bool:
    """A literal iterable that is certainly empty: [], (), {}, '', range(0), range(5, 1)."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return not node.elts
    if isinstance(node, ast.Dict):
        return not node.keys
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, bytes)) and not node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and not node.keywords
        and 1 <= len(node.args) <= 3
    ):
        args = []
        for a in node.args:
            v = _const_int(a)
            if v is None:
                return False
            args.append(v)
        if len(args) == 3 and args[2] == 0:
            return False
        try:
            return len(range(*args)) == 0
        except (TypeError, ValueError, OverflowError):
            return False
    return False


def _dead_body(node: ast.If | ast.While | ast.For) -> list[ast.stmt]:
    """The statements of `node` that can never run (statically obvious cases only)."""
    if isinstance(node, ast.For):
        return node.body if _empty_iterable(node.iter) else []
    t = _truthiness(node.test)
    if t is None:
        return []
    if isinstance(node, ast.While):
        return node.body if t is False else []
    return node.orelse if t else node.body


def _const_int(node: ast.expr) -> int | None:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _const_int(node.operand)
        return None if inner is None else -inner
    return None


def _truthiness(node: ast.expr) -> bool | None:
    if isinstance(node, ast.Constant):
        try:
            return bool(node.value)
        except Exception:  # noqa: BLE001
            return None
    return None


def _literal_text(node: ast.AST) -> tuple[str, float | None] | None:
    """(text, number) of a literal node, or None if not a literal."""
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, str):
            return v, _as_number(v.strip())
        if isinstance(v, bool) or v is None:
            return str(v), None
        if isinstance(v, (int, float)):
            return str(v), float(v) if math.isfinite(v) else None
        if isinstance(v, complex):
            return str(v), None
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if isinstance(node.operand, ast.Constant) and is_number(node.operand.value):
            v = -node.operand.value
            return str(v), float(v) if math.isfinite(v) else None
        return None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif (
                isinstance(part, ast.FormattedValue)
                and isinstance(part.value, ast.Constant)
                and part.format_spec is None
                and part.conversion == -1
            ):
                parts.append(str(part.value.value))
            else:
                return None
        text = "".join(parts)
        return text, _as_number(text.strip())
    return None


_SKIP_FIELDS = frozenset({"ctx", "type_comment", "type_ignores"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}

# Node roles for the single walk.
_R_OTHER, _R_STMT, _R_CONST, _R_LIT, _R_CALL, _R_NAME, _R_ATTR, _R_BOOL, _R_IFEXP, _R_FSTR = range(
    10
)
_ROLES: dict[type, int] = {
    ast.Constant: _R_CONST,
    ast.UnaryOp: _R_LIT,
    ast.Call: _R_CALL,
    ast.Name: _R_NAME,
    ast.Attribute: _R_ATTR,
    ast.BoolOp: _R_BOOL,
    ast.IfExp: _R_IFEXP,
    ast.JoinedStr: _R_FSTR,
}


def _role(cls: type) -> int:
    role = _ROLES.get(cls)
    if role is None:
        role = _R_STMT if issubclass(cls, ast.stmt) else _R_OTHER
        _ROLES[cls] = role
    return role


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = tuple(f for f in cls._fields if f not in _SKIP_FIELDS)  # type: ignore[attr-defined]
        _CHILD_FIELDS[cls] = fields
    return fields


class _Stmt:
    """What one statement uses, defines and calls (its own expressions, not its body's)."""

    __slots__ = (
        "node",
        "owner",
        "parent",
        "dead",
        "live",
        "uses",
        "defines",
        "value_calls",
        "exec_call",
        "outputs",
        "methods_on",
    )

    def __init__(self, node: ast.stmt, owner: str | None, parent: _Stmt | None, dead: bool) -> None:
        self.node = node
        self.owner = owner
        self.parent = parent
        self.dead = dead
        self.live = False
        self.uses: set[str] = set()
        self.defines: list[str] = []
        self.value_calls: set[str] = set()  # user functions whose result this statement uses
        self.exec_call: str | None = None  # `f(...)` as a whole expression statement
        self.outputs = False  # calls print / sys.stdout.write
        self.methods_on: set[str] = set()  # names whose methods it calls (x.append(...))


class _Facts:
    """One walk over the tree: statements with their uses, functions, constraint candidates
    (with the statement they sit in and whether they sit in a dead sub-expression), literals,
    node kinds."""

    __slots__ = ("stmts", "info", "defs", "printing", "candidates", "where", "kinds", "literals")

    def __init__(
        self,
        tree: ast.Module,
        constraints: list[_Constraint],
        dispatch: dict[type, tuple[int, ...]],
        numbers: dict[int | float, tuple[int, ...]] | None = None,
        strings: dict[str, tuple[int, ...]] | None = None,
    ) -> None:
        numbers = numbers or {}
        strings = strings or {}
        self.stmts: list[_Stmt] = []
        self.info: dict[int, _Stmt] = {}
        self.defs: dict[str, ast.AST] = {}
        self.printing: set[str] = set()
        self.candidates: list[list[ast.AST]] = [[] for _ in constraints]
        self.where: dict[int, tuple[_Stmt | None, bool]] = {}
        kinds: dict[type, int] = {}
        self.kinds = kinds
        literals: list[ast.AST] = []
        self.literals = literals
        candidates = self.candidates
        where = self.where
        generic = [i for i, c in enumerate(constraints) if c.types is None]
        stack: list[tuple[ast.AST, _Stmt | None, str | None, bool]] = [(tree, None, None, False)]
        pop, push = stack.pop, stack.append
        while stack:
            node, st, owner, dead = pop()
            cls = type(node)
            kinds[cls] = kinds.get(cls, 0) + 1
            role = _ROLES.get(cls)
            if role is None:
                role = _role(cls)
            found: tuple[int, ...] | None = dispatch.get(cls)
            child_owner = owner
            if role == _R_STMT:
                st = _Stmt(node, owner, st, dead)  # type: ignore[arg-type]
                self.stmts.append(st)
                self.info[id(node)] = st
                if cls in _FUNCS:
                    self.defs[node.name] = node  # type: ignore[attr-defined]
                    child_owner = node.name  # type: ignore[attr-defined]
                elif cls is ast.Assign:
                    for t in node.targets:  # type: ignore[attr-defined]
                        _target_names(t, st.defines)
                elif cls is ast.AugAssign or cls is ast.AnnAssign:
                    _target_names(node.target, st.defines)  # type: ignore[attr-defined]
                    if cls is ast.AugAssign and not dead:
                        st.uses.update(st.defines)  # x += 1 reads x
                elif cls is ast.For or cls is ast.AsyncFor:
                    _target_names(node.target, st.defines)  # type: ignore[attr-defined]
                elif cls is ast.ClassDef:
                    st.defines.append(node.name)  # type: ignore[attr-defined]
                elif cls is ast.Import or cls is ast.ImportFrom:
                    st.defines.extend(
                        (a.asname or a.name).split(".")[0]
                        for a in node.names  # type: ignore[attr-defined]
                    )
                elif cls is ast.Delete:
                    for t in node.targets:  # type: ignore[attr-defined]
                        _target_names(t, st.defines)
                elif (cls is ast.Global or cls is ast.Nonlocal) and owner is not None:
                    self.printing.add(owner)  # writes outer names: run for its effect
                if cls is ast.If or cls is ast.While or cls is ast.For:
                    body = _dead_body(node)  # type: ignore[arg-type]
                    if body:
                        # Push the statements that can never run as dead, the rest normally.
                        for name in _child_fields(cls):
                            value = getattr(node, name, None)
                            if value.__class__ is list:
                                flag = dead or value is body
                                for child in reversed(value):
                                    push((child, st, child_owner, flag))
                            elif isinstance(value, ast.AST):
                                push((value, st, child_owner, dead))
                        found and self._candidate(node, found, constraints, st, dead)
                        continue
            elif role == _R_CONST:
                literals.append(node)
                v = node.value  # type: ignore[attr-defined]
                tv = type(v)
                if tv is int or tv is float:
                    found = numbers.get(v)
                elif tv is str:
                    found = strings.get(v)
                found = found or dispatch.get(cls)
            elif role == _R_NAME:
                if not dead and st is not None and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                    st.uses.add(node.id)  # type: ignore[attr-defined]
            elif role == _R_ATTR:
                if not dead and st is not None:
                    st.uses.add(node.attr)  # type: ignore[attr-defined]  # over-approximate
            elif role == _R_CALL:
                func = node.func  # type: ignore[attr-defined]
                output = _is_output_call(node)  # type: ignore[arg-type]
                if output and owner is not None:
                    self.printing.add(owner)
                if not dead and st is not None:
                    if output:
                        st.outputs = True
                    if isinstance(func, ast.Name):
                        if type(st.node) is ast.Expr and st.node.value is node:  # type: ignore[attr-defined]
                            st.exec_call = func.id
                        else:
                            st.value_calls.add(func.id)
                    elif isinstance(func, ast.Attribute):
                        st.value_calls.add(func.attr)  # a method defined here, if any
                        base = func.value
                        while isinstance(base, (ast.Attribute, ast.Subscript)):
                            base = base.value
                        if isinstance(base, ast.Name):
                            st.methods_on.add(base.id)
            elif role == _R_LIT:
                literals.append(node)
                operand = node.operand  # type: ignore[attr-defined]
                if type(node.op) is ast.USub and type(operand) is ast.Constant:  # type: ignore[attr-defined]
                    v = operand.value
                    if (type(v) is int or type(v) is float) and v > 0:
                        found = numbers.get(-v) or found  # a negative required number
            elif role == _R_BOOL:
                # `8 or x`, `0 and x`: what follows a deciding constant never runs.
                stop_on = isinstance(node.op, ast.Or)  # type: ignore[attr-defined]
                flag = dead
                pending = []
                for v in node.values:  # type: ignore[attr-defined]
                    pending.append((v, st, child_owner, flag))
                    t = _truthiness(v)
                    if t is not None and t == stop_on:
                        flag = True
                stack.extend(reversed(pending))
                found and self._candidate(node, found, constraints, st, dead)
                continue
            elif role == _R_IFEXP:
                t = _truthiness(node.test)  # type: ignore[attr-defined]
                push((node.orelse, st, child_owner, dead or t is True))  # type: ignore[attr-defined]
                push((node.body, st, child_owner, dead or t is False))  # type: ignore[attr-defined]
                push((node.test, st, child_owner, dead))  # type: ignore[attr-defined]
                found and self._candidate(node, found, constraints, st, dead)
                continue
            elif role == _R_FSTR:
                literals.append(node)
                # Its constant parts are not separate literals; its {expressions} are code.
                for part in node.values:  # type: ignore[attr-defined]
                    if type(part) is ast.FormattedValue:
                        push((part, st, child_owner, dead))
                found and self._candidate(node, found, constraints, st, dead)
                continue
            if found:
                self._candidate(node, found, constraints, st, dead)
            if generic:
                for i in generic:
                    if constraints[i].matches(node):
                        candidates[i].append(node)
                        where[id(node)] = (st, dead)
            fields = _CHILD_FIELDS.get(cls)
            if fields is None:
                fields = _child_fields(cls)
            for name in fields:
                value = getattr(node, name, None)
                if value.__class__ is list:
                    for child in reversed(value):
                        if isinstance(child, ast.AST):
                            push((child, st, child_owner, dead))
                elif isinstance(value, ast.AST):
                    push((value, st, child_owner, dead))
        # A function that calls a printing function prints too.
        grew = True
        while grew:
            grew = False
            for st in self.stmts:
                if (
                    st.owner is not None
                    and st.owner not in self.printing
                    and (
                        (st.exec_call in self.printing)
                        or any(c in self.printing for c in st.value_calls)
                    )
                ):
                    self.printing.add(st.owner)
                    grew = True

    def _candidate(
        self,
        node: ast.AST,
        found: tuple[int, ...],
        constraints: list[_Constraint],
        st: _Stmt | None,
        dead: bool,
    ) -> None:
        for i in found:
            c = constraints[i]
            if c.kind in ("number", "string") or c.matches(node):
                self.candidates[i].append(node)
                self.where[id(node)] = (st, dead)


class _Liveness:
    """Which statements can affect the output (flow-insensitive fixpoint over names)."""

    def __init__(self, facts: _Facts) -> None:
        self.f = facts
        self.names: set[str] = set()
        self.value_funcs: set[str] = set()  # functions whose return value reaches output
        self.exec_funcs: set[str] = set()  # functions run for their printing
        printing = facts.printing
        changed = True
        while changed:
            changed = False
            for st in facts.stmts:
                if st.live or st.dead:
                    continue
                if st.owner is not None and not self.func_live(st.owner):
                    continue
                cls = type(st.node)
                if cls is ast.Expr:
                    live = (
                        st.outputs
                        or st.exec_call in printing
                        or any(c in printing for c in st.value_calls)
                        or not self.names.isdisjoint(st.methods_on)
                        or (
                            isinstance(st.node.value, (ast.Yield, ast.YieldFrom))  # type: ignore[attr-defined]
                            and st.owner in self.value_funcs
                        )
                    )
                elif cls is ast.Return:
                    live = st.owner in self.value_funcs
                else:
                    live = not self.names.isdisjoint(st.defines)
                if live:
                    self._mark(st)
                    changed = True

    def func_live(self, name: str) -> bool:
        return name in self.value_funcs or name in self.exec_funcs

    def _mark(self, st: _Stmt | None) -> None:
        """Mark a statement live with its enclosing compound statements (not a def)."""
        while st is not None and not st.live and type(st.node) not in _FUNCS:
            st.live = True
            self.names |= st.uses
            self.value_funcs |= st.value_calls
            if st.exec_call is not None and st.exec_call in self.f.defs:
                self.exec_funcs.add(st.exec_call)
            st = st.parent

    def stmt_live(self, node: ast.AST) -> bool:
        st = self.f.info.get(id(node))
        return st is not None and st.live

    def node_live(self, node: ast.AST) -> bool:
        """An expression node is live if not in a dead sub-expression and its statement is
        live (for a def's defaults and decorators: the function is live)."""
        st, dead = self.f.where.get(id(node), (None, True))
        if dead or st is None:
            return False
        if type(st.node) in _FUNCS:
            return self.func_live(st.node.name)  # type: ignore[attr-defined]
        return st.live


def _comprehension_owners(tree: ast.AST) -> dict[int, ast.AST]:
    """comprehension -> the ListComp/SetComp/GeneratorExp/DictComp it belongs to."""
    owners: dict[int, ast.AST] = {}
    for n in ast.walk(tree):
        if isinstance(n, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for g in n.generators:
                owners[id(g)] = n
    return owners


def _comprehension_uses(owner: ast.AST) -> list[ast.AST]:
    """What a comprehension's loop variable must reach: its element (and filters)."""
    parts: list[ast.AST] = []
    if isinstance(owner, ast.DictComp):
        parts += [owner.key, owner.value]
    else:
        parts.append(owner.elt)  # type: ignore[attr-defined]
    for g in owner.generators:  # type: ignore[attr-defined]
        parts.extend(g.ifs)
    return parts


def _uses_target(target: ast.AST, body: list) -> bool:
    """A loop counts only if its variable is read in its body: `for x in ...: print(7)` is a
    repetition device, not a loop over the data (found gamed as a truthiness guard)."""
    names = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    if not names:
        return True
    for part in body:
        for n in ast.walk(part):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in names:
                return True
    return False


def _carries_state(body: list) -> bool:
    """The body updates a variable from its own value (`t += i`, `t = t * 2`): each iteration
    builds on the last, so the loop does work even when its variable is unused."""
    for part in body:
        for n in ast.walk(part):
            if isinstance(n, ast.AugAssign):
                return True
            if isinstance(n, ast.Assign):
                targets = {t.id for t in n.targets if isinstance(t, ast.Name)}
                if any(isinstance(v, ast.Name) and v.id in targets for v in ast.walk(n.value)):
                    return True
    return False


def _node_live(
    node: ast.AST, live: _Liveness, facts: _Facts, owners: dict[int, ast.AST] | None = None
) -> tuple[bool, str]:
    """(counts, why not) for one candidate construct."""
    if isinstance(node, ast.stmt):
        cls = type(node)
        st = facts.info[id(node)]
        if st.dead:
            return False, "it can never run"
        if cls in _FUNCS:
            name = node.name  # type: ignore[attr-defined]
            if not live.func_live(name):
                return False, f"function {name!r} is never called where it affects the output"
            if _only_junk(node.body):  # type: ignore[attr-defined]
                return False, f"function {name!r} does nothing"
            return True, ""
        if cls in (ast.Break, ast.Continue, ast.Pass):
            parent = st.parent
            return (parent is not None and parent.live), "it cannot affect the output"
        if not st.live:
            return False, "it cannot affect the output"
        if cls is ast.Return:
            value = node.value  # type: ignore[attr-defined]
            if value is None or (isinstance(value, ast.Constant) and value.value is None):
                return False, "the return gives no value"
            return True, ""
        if cls in _LOOPS or cls is ast.If:
            body_live = any(live.stmt_live(b) for b in node.body)  # type: ignore[attr-defined]
            if _only_junk(node.body):  # type: ignore[attr-defined]
                return False, "its body is only pass/break/continue"
            if not body_live and not (
                cls is ast.If and any(live.stmt_live(b) for b in node.orelse)  # type: ignore[attr-defined]
            ):
                return False, "its body cannot affect the output"
            if cls is ast.If and _truthiness(node.test) is not None:  # type: ignore[attr-defined]
                return False, "its condition is a constant"
            if cls is ast.While and _truthiness(node.test) is False:  # type: ignore[attr-defined]
                return False, "its condition is always false"
            if cls in (ast.For, ast.AsyncFor) and _empty_iterable(node.iter):  # type: ignore[attr-defined]
                return False, "it loops over an empty iterable"
            if (
                cls in (ast.For, ast.AsyncFor)
                and not _uses_target(node.target, node.body)  # type: ignore[attr-defined]
                and not _carries_state(node.body)  # type: ignore[attr-defined]
            ):
                return (
                    False,
                    "its body never uses the loop variable nor carries a value across iterations",
                )
        return True, ""
    if isinstance(node, ast.comprehension):
        if not live.node_live(node):
            return False, "it cannot affect the output"
        if _empty_iterable(node.iter):
            return False, "it loops over an empty iterable"
        owner = (owners or {}).get(id(node))
        if owner is not None and not _uses_target(node.target, _comprehension_uses(owner)):
            return False, "its element never uses the loop variable"
        return True, ""
    if isinstance(node, ast.expr):
        if not live.node_live(node):
            return False, "it cannot affect the output"
        if isinstance(node, ast.IfExp) and _truthiness(node.test) is not None:
            return False, "its condition is a constant"
        return True, ""
    return True, ""  # alias, withitem, handler: presence is all we can say


# --------------------------------------------------------------------------------------------
# Ablation
# --------------------------------------------------------------------------------------------

# The other operator a BinOp/AugAssign is tried with. It must change the output: `x + 0`,
# `x * 1`, `x - 0`, `x ** 1` are no-ops whose operator does nothing.
_SWAP_BIN: dict[type, type] = {
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
_NEGATE_CMP: dict[type, type] = {
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
_MAX_OCCURRENCES = 6


def _number_values(n: int | float) -> list[int | float]:
    values = [n + 1, n - 1, -(n + 1), 3 * n + 7]
    return [v for i, v in enumerate(values) if v != n and v not in values[:i]]


def _string_values(s: str) -> list[str]:
    return [s + "~", ""] if s else ["~"]


def _substitute(tree: ast.Module, nodes: list[ast.AST], values: list[Any]) -> list[str]:
    """Sources with every node in `nodes` set to each value in turn (tree restored). A node is
    a constant, or `-constant` for a negative number (its operand then gets the opposite)."""
    out = []
    targets = [(n.operand, -1) if isinstance(n, ast.UnaryOp) else (n, 1) for n in nodes]
    originals = [t.value for t, _ in targets]  # type: ignore[attr-defined]
    try:
        for v in values:
            for t, sign in targets:
                t.value = v if sign > 0 else -v  # type: ignore[attr-defined]
            out.append(ast.unparse(tree))
    finally:
        for (t, _), o in zip(targets, originals, strict=True):
            t.value = o  # type: ignore[attr-defined]
    return out


class _Parents:
    def __init__(self, tree: ast.AST) -> None:
        self.map: dict[int, tuple[ast.AST, str, int | None]] = {}
        for node in ast.walk(tree):
            for name, value in ast.iter_fields(node):
                if isinstance(value, list):
                    for i, child in enumerate(value):
                        if isinstance(child, ast.AST):
                            self.map[id(child)] = (node, name, i)
                elif isinstance(value, ast.AST):
                    self.map[id(value)] = (node, name, None)

    def replaced(self, tree: ast.Module, node: ast.AST, new: ast.AST) -> str | None:
        where = self.map.get(id(node))
        if where is None:
            return None
        parent, name, index = where
        if index is None:
            setattr(parent, name, new)
            try:
                return ast.unparse(tree)
            finally:
                setattr(parent, name, node)
        seq = getattr(parent, name)
        seq[index] = new
        try:
            return ast.unparse(tree)
        finally:
            seq[index] = node


def _with_attr(tree: ast.Module, node: ast.AST, attr: str, value: Any) -> str:
    old = getattr(node, attr)
    setattr(node, attr, value)
    try:
        return ast.unparse(tree)
    finally:
        setattr(node, attr, old)


def _doubled_returns(tree: ast.Module, returns: list[ast.Return]) -> str | None:
    """Every `return X` as `return X * 2`: a changed value of the same type (mostly)."""
    if not returns:
        return None
    olds = [r.value for r in returns]
    try:
        for r, old in zip(returns, olds, strict=True):
            r.value = ast.BinOp(left=old, op=ast.Mult(), right=ast.Constant(2))  # type: ignore[arg-type]
        return ast.unparse(tree)
    finally:
        for r, old in zip(returns, olds, strict=True):
            r.value = old


def _shortened(iterable: ast.expr) -> ast.expr:
    """`list(<iterable>)[1:]`: the same loop, one element less."""
    call = ast.Call(func=ast.Name(id="list", ctx=ast.Load()), args=[iterable], keywords=[])
    return ast.Subscript(value=call, slice=ast.Slice(lower=ast.Constant(1)), ctx=ast.Load())


def _not(test: ast.expr) -> ast.expr:
    return ast.UnaryOp(op=ast.Not(), operand=test)


def _structural_variants(
    tree: ast.Module, parents: _Parents, node: ast.AST, c: _Constraint
) -> list[tuple[str, bool]]:
    """(variant, must_change) pairs. The construct counts if some variant changes the output
    and no `must_change` variant that runs leaves it unchanged."""
    out: list[str | None] = []
    must: list[str | None] = []
    if c.kind == "operator":
        if isinstance(node, ast.BinOp):
            must.append(_with_attr(tree, node, "op", _SWAP_BIN.get(type(node.op), ast.Sub)()))
            # Exchanged operands: what shows that string concatenation matters.
            swapped = ast.BinOp(left=node.right, op=node.op, right=node.left)
            out.append(parents.replaced(tree, node, swapped))
        elif isinstance(node, ast.AugAssign):
            must.append(_with_attr(tree, node, "op", _SWAP_BIN.get(type(node.op), ast.Sub)()))
            out.append(parents.replaced(tree, node, ast.Pass()))
        elif isinstance(node, ast.Compare):
            ops = [(_NEGATE_CMP[type(o)]() if type(o) in _NEGATE_CMP else o) for o in node.ops]
            out.append(_with_attr(tree, node, "ops", ops))
        elif isinstance(node, ast.BoolOp):
            other = ast.And() if isinstance(node.op, ast.Or) else ast.Or()
            out.append(_with_attr(tree, node, "op", other))
            out.append(parents.replaced(tree, node, node.values[0]))
            out.append(parents.replaced(tree, node, node.values[-1]))
        elif isinstance(node, ast.UnaryOp):
            out.append(parents.replaced(tree, node, node.operand))
    elif c.kind == "keyword":
        if isinstance(node, (ast.For, ast.AsyncFor)):
            out.append(_with_attr(tree, node, "body", [ast.Pass()]))
            out.append(_with_attr(tree, node, "iter", _shortened(node.iter)))
        elif isinstance(node, ast.comprehension):
            out.append(_with_attr(tree, node, "iter", _shortened(node.iter)))
            if node.ifs:
                out.append(_with_attr(tree, node, "ifs", [_not(node.ifs[0]), *node.ifs[1:]]))
        elif isinstance(node, ast.While):
            out.append(parents.replaced(tree, node, ast.Pass()))
        elif isinstance(node, (ast.If, ast.IfExp)):
            out.append(_with_attr(tree, node, "test", _not(node.test)))
        elif isinstance(node, ast.Compare):
            ops = [(_NEGATE_CMP[type(o)]() if type(o) in _NEGATE_CMP else o) for o in node.ops]
            out.append(_with_attr(tree, node, "ops", ops))
        elif isinstance(node, _FUNCS):
            out.append(_with_attr(tree, node, "body", [ast.Return(value=ast.Constant(None))]))
            returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value]
            out.append(_doubled_returns(tree, returns))
        elif isinstance(node, ast.Return):
            out.append(_with_attr(tree, node, "value", ast.Constant(None)))
            if node.value is not None:
                out.append(_doubled_returns(tree, [node]))
        elif isinstance(node, ast.Lambda):
            out.append(_with_attr(tree, node, "body", ast.Constant(None)))
        elif isinstance(node, ast.BoolOp):
            out.append(parents.replaced(tree, node, node.values[-1]))
        elif isinstance(node, ast.UnaryOp):
            out.append(parents.replaced(tree, node, node.operand))
    return [(s, True) for s in must if s is not None] + [(s, False) for s in out if s is not None]


# --------------------------------------------------------------------------------------------
# The scorer
# --------------------------------------------------------------------------------------------


class TaskScorer:
    """Scores programs for one task; caches analyses and ablation verdicts by program text."""

    cache_size = 50_000

    def __init__(self, task: Task, weights: ScoreWeights | None = None) -> None:
        self.task = task
        self.weights = weights or ScoreWeights()
        self.constraints = _constraints(task)
        self.expected = normalise_output(task.expected_output, task)
        self._expected_number = _as_number(self.expected)
        dispatch: dict[type, list[int]] = {}
        numbers: dict[int | float, list[int]] = {}
        strings: dict[str, list[int]] = {}
        for i, c in enumerate(self.constraints):
            if c.kind == "number":
                numbers.setdefault(c.value, []).append(i)
            elif c.kind == "string":
                strings.setdefault(c.value, []).append(i)
            else:
                for t in c.types or ():
                    dispatch.setdefault(t, []).append(i)
        self._dispatch = {k: tuple(v) for k, v in dispatch.items()}
        self._numbers = {k: tuple(v) for k, v in numbers.items()}
        self._strings = {k: tuple(v) for k, v in strings.items()}
        self._pattern_kinds: list[tuple[dict[type, int], int]] = []
        self._allowed_literals: set[str] = set()
        for src in task.valid_patterns:
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            facts = _Facts(tree, [], {})
            self._pattern_kinds.append((facts.kinds, sum(facts.kinds.values())))
            for lit in facts.literals:
                key = self._hardcoded_key(lit)
                if key is not None:
                    self._allowed_literals.add(key)
        self._analyses: dict[str, Analysis] = {}
        self._ablations: dict[str, tuple[tuple[int, str], ...]] = {}
        self._pattern_profiles: dict[int, tuple[bool, list[set[str]] | None]] = {}

    # ---- static ---------------------------------------------------------------------------

    def _hardcoded_key(self, node: ast.AST) -> str | None:
        """A key naming the literal if it equals the expected output, else None."""
        if type(node) is ast.Constant:
            v = node.value
            tv = type(v)
            if tv is int or tv is float:  # the common case, decided without text
                if self._expected_number is not None and v == self._expected_number:
                    return f"n:{self._expected_number!r}"
                return None
        lit = _literal_text(node)
        if lit is None:
            return None
        text, number = lit
        if normalise_output(text, self.task) == self.expected and self.expected:
            return "s:" + self.expected
        if (
            number is not None
            and self._expected_number is not None
            and number == self._expected_number
        ):
            return f"n:{self._expected_number!r}"
        return None

    def analyse(self, code: str) -> Analysis:
        """Static facts: parses, constraints really met, hard-coded literal, structure."""
        cached = self._analyses.get(code)
        if cached is not None:
            return cached
        result = self._analyse(code)
        if len(self._analyses) >= self.cache_size:
            self._analyses.clear()
        self._analyses[code] = result
        return result

    def _analyse(self, code: str) -> Analysis:
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError) as exc:
            msg = exc.msg if isinstance(exc, SyntaxError) else str(exc)
            return Analysis(
                parses=False, syntax_error=msg, met=tuple(False for _ in self.constraints)
            )
        except (RecursionError, MemoryError):
            return Analysis(
                parses=False,
                syntax_error="too deeply nested",
                met=tuple(False for _ in self.constraints),
            )
        facts = _Facts(tree, self.constraints, self._dispatch, self._numbers, self._strings)
        owners = _comprehension_owners(tree) if ast.comprehension in facts.kinds else None
        live = _Liveness(facts)
        met: list[bool] = []
        reasons: list[str] = []
        present = tuple(bool(nodes) for nodes in facts.candidates)
        for c, nodes in zip(self.constraints, facts.candidates, strict=True):
            if not nodes:
                met.append(False)
                reasons.append(f"missing {c.label}")
                continue
            why = ""
            ok = False
            for n in nodes:
                ok, why = _node_live(n, live, facts, owners)
                if ok:
                    break
            met.append(ok)
            if not ok:
                reasons.append(f"{c.label} does not count: {why}")
        hardcoded = None
        for lit in facts.literals:
            key = self._hardcoded_key(lit)
            if key is not None and key not in self._allowed_literals:
                hardcoded = ast.unparse(lit)
                break
        structure = 0.0
        if self._pattern_kinds:
            mine = facts.kinds
            total_mine = sum(mine.values())
            for pk, total_p in self._pattern_kinds:
                inter = 0
                for k, v in pk.items():
                    m = mine.get(k)
                    if m:
                        inter += m if m < v else v
                union = total_mine + total_p - inter
                if union:
                    structure = max(structure, inter / union)
        return Analysis(
            parses=True,
            met=tuple(met),
            present=present,
            reasons=tuple(reasons),
            hardcoded=hardcoded,
            structure=structure,
        )

    # ---- scoring --------------------------------------------------------------------------

    def score_many(self, codes: list[str], run_many: RunMany) -> list[ScoreResult]:
        """Score a batch: one `run_many` call for the programs, one more for ablation variants
        of the success candidates (if any need checking)."""
        analyses = [self.analyse(c) for c in codes]
        to_run = list(dict.fromkeys(c for c, a in zip(codes, analyses, strict=True) if a.parses))
        results: dict[str, ExecLike] = {}
        if to_run:
            for c, r in zip(to_run, run_many(to_run), strict=True):
                results[c] = r
        candidates = [
            c
            for c in to_run
            if results[c].status == "ok"
            and normalise_output(results[c].stdout or "", self.task) == self.expected
            and all(self.analyse(c).met)
            and self.analyse(c).hardcoded is None
        ]
        self._ablate([c for c in candidates if c not in self._ablations], results, run_many)
        return [self._result(c, a, results.get(c)) for c, a in zip(codes, analyses, strict=True)]

    def _result(self, code: str, a: Analysis, r: ExecLike | None) -> ScoreResult:
        w = self.weights
        comps: dict[str, float] = {}
        reasons: list[str] = []
        if not a.parses:
            comps = dict.fromkeys(
                ("parses", "constraints", "runs", "prints", "output", "structure"), 0.0
            )
            return ScoreResult(
                self.task.name,
                0.0,
                False,
                comps,
                [f"does not parse: {a.syntax_error}"],
                "",
                "error",  # not run: a SyntaxError is what running it would give
            )
        assert r is not None
        status = r.status
        stdout = r.stdout or ""
        dead = self._ablations.get(code, ())
        met = list(a.met)
        for i, _ in dead:
            if i >= 0:
                met[i] = False
        vacuous = sum(1 for m, p in zip(met, a.present, strict=False) if p and not m)
        share = (sum(met) + w.vacuous_credit * vacuous) / len(met) if met else 1.0
        got = normalise_output(stdout, self.task)
        similarity = output_similarity(got, self.expected)
        comps["parses"] = w.parses
        comps["constraints"] = w.constraints * share
        comps["runs"] = w.runs if status == "ok" else 0.0
        comps["prints"] = w.prints if stdout.strip() else 0.0
        output_factor = w.hardcoded_output if a.hardcoded is not None else 1.0
        comps["output"] = w.output * similarity * output_factor
        comps["structure"] = w.structure * a.structure
        if status != "ok":
            reasons.append(_status_reason(status, r.error))
        if not stdout.strip():
            reasons.append("prints nothing")
        elif got != self.expected:
            reasons.append(f"output {_clip(got)!r} differs from expected {_clip(self.expected)!r}")
        reasons.extend(a.reasons)
        reasons.extend(why for _, why in dead)
        if a.hardcoded is not None:
            reasons.append(
                f"hard-coded answer: the program contains the literal {_clip(a.hardcoded)}"
            )
        total = sum(comps.values())
        success = not reasons
        if success:
            comps["success"] = 1.0 - total
            score = 1.0
        else:
            score = min(total, w.max_partial)
            if score < total:
                comps["cap"] = score - total
        comps = {k: round(v, 6) for k, v in comps.items()}
        return ScoreResult(self.task.name, round(score, 6), success, comps, reasons, stdout, status)

    def _ablate(self, codes: list[str], results: dict[str, ExecLike], run_many: RunMany) -> None:
        if not codes:
            return
        # (code, constraint, value index | -1, consistent, occurrence | -1, must_change, variant)
        plan: list[tuple[str, int, int, bool, int, bool, str]] = []
        broken: set[str] = set()
        for code in codes:
            try:
                plan.extend(self._plan(code))
            except (RecursionError, ValueError, TypeError, AttributeError):
                broken.add(code)
        # The task's own patterns under the same replacements run in the same batch (once per
        # scorer): the scorer never executes anything outside `run_many`.
        profiles_needed = {i for _, i, k, *_ in plan if k >= 0 and i not in self._pattern_profiles}
        pattern_sources = {i: self._pattern_sources(i) for i in sorted(profiles_needed)}
        variants = list(
            dict.fromkeys(
                [p[-1] for p in plan]
                + [x for srcs in pattern_sources.values() for s, _, v in srcs for x in (s, v)]
            )
        )
        outcome: dict[str, ExecLike] = {}
        if variants:
            outcome = dict(zip(variants, run_many(variants), strict=True))
        for i, srcs in pattern_sources.items():
            self._pattern_profiles[i] = self._profile(i, srcs, outcome)
        changed: set[tuple[str, int]] = set()
        like_patterns: set[tuple[str, int]] = set()  # agrees with a pattern at some value
        like_when_changed: set[tuple[str, int]] = set()  # ... at a value that changes the output
        contradicts: set[tuple[str, int]] = set()  # prints another answer than the patterns
        tried: set[tuple[str, int]] = set()
        occ_changed: set[tuple[str, int, int]] = set()
        occ_unchanged: set[tuple[str, int, int]] = set()
        for code, i, k, consistent, occ, must, src in plan:
            tried.add((code, i))
            r = outcome[src]
            if r.status != "ok":
                # A variant that merely crashes (None * 0, 1 / 0) proves nothing.
                continue
            out = normalise_output(r.stdout or "", self.task)
            differs = out != normalise_output(results[code].stdout or "", self.task)
            if occ >= 0:
                if differs:
                    occ_changed.add((code, i, occ))
                elif must:
                    occ_unchanged.add((code, i, occ))
            elif consistent and differs:
                changed.add((code, i))
            if k >= 0:
                expected = self._pattern_profile(i)[1]
                if expected is None or out in expected[k]:
                    like_patterns.add((code, i))
                    if expected is None or (differs and out):
                        like_when_changed.add((code, i))
                elif consistent and differs and out:
                    contradicts.add((code, i))
        for code, i, _occ in occ_changed - occ_unchanged:
            changed.add((code, i))
        for code in codes:
            dead: list[tuple[int, str]] = [(-1, "the program is too complex to check")]
            if code not in broken:
                dead = []
            for i, c in enumerate(self.constraints):
                if (code, i) not in tried:
                    continue
                value_kind = c.kind in ("number", "string")
                if (code, i) not in changed and not (
                    value_kind and not self._pattern_profile(i)[0]
                ):
                    dead.append((i, f"{c.label} does not affect the output"))
                elif value_kind and (
                    (code, i) not in like_patterns
                    or ((code, i) in contradicts and (code, i) not in like_when_changed)
                ):
                    dead.append(
                        (
                            i,
                            f"changing {c.label.split(' ', 1)[1]} does not change the output the"
                            " way it changes the task's valid patterns",
                        )
                    )
            if len(self._ablations) >= self.cache_size:
                self._ablations.clear()
            self._ablations[code] = tuple(dead)

    def _plan(self, code: str) -> list[tuple[str, int, int, bool, int, bool, str]]:
        """Ablation variants of one program: (code, constraint index, value index, consistent,
        source). The value index is -1 for structural variants; `consistent` is False for a
        value replaced at one occurrence only (used only to compare with the patterns: a
        number may play two roles, like `i = 1` and `i += 1`)."""
        plan = []
        tree = ast.parse(code)
        facts = _Facts(tree, self.constraints, self._dispatch, self._numbers, self._strings)
        owners = _comprehension_owners(tree) if ast.comprehension in facts.kinds else None
        live = _Liveness(facts)
        parents = _Parents(tree)
        for i, (c, nodes) in enumerate(zip(self.constraints, facts.candidates, strict=True)):
            if c.kind in ("number", "string"):
                values = _number_values(c.value) if c.kind == "number" else _string_values(c.value)
                for k, src in enumerate(_substitute(tree, nodes, values)):  # type: ignore[arg-type]
                    plan.append((code, i, k, True, -1, False, src))
                if len(nodes) > 1:
                    for node in nodes[:_MAX_OCCURRENCES]:
                        for k, src in enumerate(_substitute(tree, [node], values)):  # type: ignore[list-item]
                            plan.append((code, i, k, False, -1, False, src))
                continue
            counted = [n for n in nodes if _node_live(n, live, facts, owners)[0]][:_MAX_OCCURRENCES]
            for occ, n in enumerate(counted):
                for src, must in _structural_variants(tree, parents, n, c):
                    plan.append((code, i, -1, True, occ, must, src))
        return plan

    def _pattern_sources(self, i: int) -> list[tuple[str, int, str]]:
        """(pattern, value index, pattern with constraint i's value replaced)."""
        c = self.constraints[i]
        values = _number_values(c.value) if c.kind == "number" else _string_values(c.value)
        sources: list[tuple[str, int, str]] = []
        for src in self.task.valid_patterns:
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            nodes = [n for n in ast.walk(tree) if c.matches(n)]
            for k, variant in enumerate(_substitute(tree, nodes, values) if nodes else []):  # type: ignore[arg-type]
                sources.append((src, k, variant))
        return sources

    def _profile(
        self, i: int, sources: list[tuple[str, int, str]], outcome: dict[str, ExecLike]
    ) -> tuple[bool, list[set[str]] | None]:
        """How the valid patterns react when constraint i's value is replaced: (whether any
        output changes, per replacement value the set of their outputs); None instead of the
        sets when no pattern contains the value (then nothing is compared: strict)."""
        if not sources:
            return True, None
        c = self.constraints[i]
        count = len(_number_values(c.value) if c.kind == "number" else _string_values(c.value))
        outputs: list[set[str]] = [set() for _ in range(count)]
        responds = False
        for src, k, variant in sources:
            r = outcome[variant]
            if r.status != "ok":
                continue
            out = normalise_output(r.stdout or "", self.task)
            outputs[k].add(out)
            responds = responds or out != normalise_output(outcome[src].stdout or "", self.task)
        return responds, outputs

    def _pattern_profile(self, i: int) -> tuple[bool, list[set[str]] | None]:
        return self._pattern_profiles.get(i, (True, None))


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


def score_program(task: Task, code: str, run_many: RunMany | None = None) -> ScoreResult:
    """Score one program (`altlas-tui score`). Without `run_many`, runs it in a fresh Sandbox."""
    scorer = TaskScorer(task)
    if run_many is not None:
        return scorer.score_many([code], run_many)[0]
    from engine.sandbox import Sandbox

    with Sandbox() as sandbox:
        return scorer.score_many([code], sandbox.run_many)[0]

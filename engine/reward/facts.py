"""Static facts about a program: one AST walk (statements, uses, definitions, constraint
candidates, literals) and a flow-insensitive liveness fixpoint (which statements can reach the
output). Cheap pre-filter of the reward: a construct these say is dead earns nothing and is not
run as a variant; everything they call live is still checked dynamically on the cases."""

from __future__ import annotations

import ast
import math

from engine.reward.compare import as_number
from engine.reward.constraints import Constraint
from engine.tasks import is_number

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
            return v, as_number(v.strip())
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
        return text, as_number(text.strip())
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


class Stmt:
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

    def __init__(self, node: ast.stmt, owner: str | None, parent: Stmt | None, dead: bool) -> None:
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


class Facts:
    """One walk over the tree: statements with their uses, functions, constraint candidates
    (with the statement they sit in and whether they sit in a dead sub-expression), literals,
    node kinds."""

    __slots__ = ("stmts", "info", "defs", "printing", "candidates", "where", "kinds", "literals")

    def __init__(
        self,
        tree: ast.Module,
        constraints: list[Constraint],
        dispatch: dict[type, tuple[int, ...]],
        numbers: dict[int | float, tuple[int, ...]] | None = None,
        strings: dict[str, tuple[int, ...]] | None = None,
    ) -> None:
        numbers = numbers or {}
        strings = strings or {}
        self.stmts: list[Stmt] = []
        self.info: dict[int, Stmt] = {}
        self.defs: dict[str, ast.AST] = {}
        self.printing: set[str] = set()
        self.candidates: list[list[ast.AST]] = [[] for _ in constraints]
        self.where: dict[int, tuple[Stmt | None, bool]] = {}
        kinds: dict[type, int] = {}
        self.kinds = kinds
        literals: list[ast.AST] = []
        self.literals = literals
        candidates = self.candidates
        where = self.where
        generic = [i for i, c in enumerate(constraints) if c.types is None]
        stack: list[tuple[ast.AST, Stmt | None, str | None, bool]] = [(tree, None, None, False)]
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
                st = Stmt(node, owner, st, dead)  # type: ignore[arg-type]
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
        constraints: list[Constraint],
        st: Stmt | None,
        dead: bool,
    ) -> None:
        for i in found:
            c = constraints[i]
            if c.kind in ("number", "string") or c.matches(node):
                self.candidates[i].append(node)
                self.where[id(node)] = (st, dead)

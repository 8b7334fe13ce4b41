"""Static liveness: which statements can affect the output (a flow-insensitive fixpoint over
names), and the static verdict on one constraint candidate. A cheap, sound-enough pre-filter:
what it calls dead earns nothing; what it calls live is still checked on the cases."""

from __future__ import annotations

import ast

from engine.reward.facts import (
    _FUNCS,
    _LOOPS,
    Facts,
    Stmt,
    _empty_iterable,
    _only_junk,
    _truthiness,
)


class Liveness:
    """Which statements can affect the output (flow-insensitive fixpoint over names)."""

    def __init__(self, facts: Facts) -> None:
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

    def _mark(self, st: Stmt | None) -> None:
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


def static_verdict(node: ast.AST, live: Liveness, facts: Facts) -> tuple[bool, str]:
    """(may count, why not) for one candidate construct, from the static facts alone."""
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
            if _only_junk(node.body):  # type: ignore[attr-defined]
                return False, "its body is only pass/break/continue"
            body_live = any(live.stmt_live(b) for b in node.body)  # type: ignore[attr-defined]
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
        return True, ""
    if isinstance(node, ast.comprehension):
        if not live.node_live(node):
            return False, "it cannot affect the output"
        if _empty_iterable(node.iter):
            return False, "it loops over an empty iterable"
        return True, ""
    if isinstance(node, ast.expr):
        if not live.node_live(node):
            return False, "it cannot affect the output"
        if isinstance(node, ast.IfExp) and _truthiness(node.test) is not None:
            return False, "its condition is a constant"
        return True, ""
    return True, ""  # alias, withitem, handler: presence is all we can say

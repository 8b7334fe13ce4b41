"""Scope of a partial program: which names are bound, and how one token changes that.

Scope is interned apart from the parse stack (see `engine.grammar.table`), so the two do not
multiply in the state table; this module holds its values and its transition function.
"""

from __future__ import annotations

from typing import NamedTuple

MAX_SLOTS = 11  # names (variables, inputs, functions) a grammar may offer
K_NONE, K_TARGET, K_PARAM, K_FUNCNAME, K_COMMIT, K_DEDENT0, K_EOS = range(7)
N_KINDS = 7


class Scope(NamedTuple):
    """Which names are bound, as bitmasks over name slots."""

    defined: int
    pending: int  # bound by the current statement, visible after its ':' or NEWLINE
    saved: int  # `defined` before the current def (restored when its body ends), -1 outside
    last: int  # slot of the latest assignment target, -1 if none


def scope_after(sc: Scope, kind: int, slot: int) -> Scope:
    """Scope after a token with scope effect `kind` (`slot`: the token's name slot, or -1).

    - a target or parameter is pending until its statement ends (`x = x + 1` reads the old x);
    - `:` or NEWLINE binds what is pending and forgets the last assignment target;
    - a function name: `defined` plus the function is saved and restored when its body ends (its
      parameters go out of scope; the function is callable after its body, not inside it);
    - EOS: the finished state has no scope.
    """
    bit = 1 << slot if slot >= 0 else 0
    if kind == K_TARGET:
        return sc._replace(pending=sc.pending | bit, last=slot)
    if kind == K_PARAM:
        return sc._replace(pending=sc.pending | bit)
    if kind == K_FUNCNAME:
        return sc._replace(saved=sc.defined | bit)
    if kind == K_COMMIT:
        return Scope(sc.defined | sc.pending, 0, sc.saved, -1)
    if kind == K_DEDENT0 and sc.saved >= 0:
        return sc._replace(defined=sc.saved, saved=-1)
    if kind == K_EOS:
        return EMPTY
    return sc


EMPTY = Scope(0, 0, -1, -1)

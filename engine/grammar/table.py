"""Syntax masks: at every step, the tokens that keep the program syntactically completable in budget.

The policy writes programs in a Python subset described by an LL(1) grammar (statements: assignment,
augmented assignment, print, calls of own functions, return, break; blocks: if/elif/else, for, while,
def; expressions with the usual precedence, ternaries, lists, comprehensions, subscripts and a few
builtins). A parser state is the grammar stack plus a little scope information:

- names are readable only after they were bound (`x = ...`, `for x in`, parameters), and a function's
  parameters are forgotten when its body ends; a task's input names are bound from the first token
  (they are globals set before the program runs) and may be reassigned;
- augmented assignment (`x += 1`) only to bound names; `return` only inside functions; `break` only
  inside loops; blocks nest at most `max_depth` deep; a program ends only after it printed something.

A state id is one int64: an interned grammar state (parse stack, and whether a print was written)
in the low bits and an interned scope (which names are bound) above. For each grammar state we keep
one row of "cost" per token: 1 + the fewest tokens needed to finish the program after taking that
token (a large number when the token is not allowed). At a step with `remaining` tokens left, the
mask is `cost <= remaining`, minus the tokens the scope forbids (one lookup in a table of token
masks per combination of unbound names); so sampling never writes itself into a corner and every
finished sample parses. Rows and transitions are stored once and reused by every sample and batch
that reaches the same state, so a batch step is a few fancy-indexes. The same stored masks are
re-applied when the trainer computes log-probabilities.

Keeping scope out of the interned state keeps the table small (scope and stack multiply), and the
table is bounded: between batches, `maybe_reset` drops the least recently used half of the states
when there are more than STATE_LIMIT (ids change then; nothing else is lost, and dropped states are
rebuilt on demand). Masks never depend on the table's history: the same seed samples the same
programs with or without compaction (tested against a frozen copy of the unbounded grammar).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine.grammar.scope import (
    EMPTY,
    K_COMMIT,
    K_DEDENT0,
    K_EOS,
    K_FUNCNAME,
    K_NONE,
    K_PARAM,
    K_TARGET,
    MAX_SLOTS,
    N_KINDS,
    Scope,
    scope_after,
)
from engine.grammar.syntax import BLOCKED, PRINT_COST, Syntax
from engine.tokenizer import Tokenizer

STATE_LIMIT = 30_000  # grammar states kept before the least recently used half is dropped


class _GKey(NamedTuple):
    """A grammar state without scope: the parse stack and whether a print was written."""

    stack: tuple[int, ...]
    printed: bool


# A state id is an int64: the grammar state in the low G_BITS, an interned scope id above it.
G_BITS = 22
G_MASK = (1 << G_BITS) - 1


class Grammar(Syntax):
    """Incremental, table-driven syntax masks over a tokenizer's vocabulary."""

    def __init__(
        self, tok: Tokenizer, max_depth: int = 2, max_names: int = 4, max_functions: int = 1
    ):
        super().__init__(tok, max_depth, max_names, max_functions)
        self._generative: list[int] | None = None
        self._init_tables()

    def _init_tables(self) -> None:
        V = self.vocab_size
        # name slots: the scope bitmasks index names by slot, not by token id
        self._slot_tokens = np.array(sorted(self.var_ids | self.func_ids), dtype=np.int64)
        n_slots = len(self._slot_tokens)
        if n_slots > MAX_SLOTS:
            raise ValueError(f"grammar: {n_slots} names, at most {MAX_SLOTS} fit the state id")
        self._slot_of = np.full(V, -1, dtype=np.int64)
        self._slot_of[self._slot_tokens] = np.arange(n_slots)
        self._slot_range = np.arange(n_slots, dtype=np.int64)
        self._augop_ids = (
            self.term_ids[self.sym["AUGOP"]]
            if "AUGOP" in self.sym
            else np.array([], dtype=np.int64)
        )
        self._print_id = self.tok.index["print"]
        kinds = {"TARGET": K_TARGET, "PARAM": K_PARAM, "FUNCNAME": K_FUNCNAME,
                 "':'": K_COMMIT, "NEWLINE": K_COMMIT}  # fmt: skip
        self._term_kind = [kinds.get(name, K_NONE) for name in self.term_names]
        # per token: its scope effect and name slot folded into one column of the scope table
        self._n_slots = n_slots
        self._slot_cols = n_slots + 1
        # int8 tables: terminal classes and scope columns must fit
        assert self.n_term < 127 and N_KINDS * self._slot_cols < 127
        # tokens that scope rules may block, by bitmask (name slots, then "augmented assignment")
        codes = np.arange(1 << (n_slots + 1), dtype=np.int64)[:, None]
        bits = ((codes >> np.arange(n_slots + 1)) & 1).astype(bool)
        block = np.zeros((len(codes), V), dtype=bool)
        block[:, self._slot_tokens] = bits[:, :n_slots]
        if len(self._augop_ids):
            block[:, self._augop_ids] |= bits[:, n_slots:]
        self._allow = ~block  # stored inverted: mask() ANDs it in
        # scopes: interned; their transitions in a table (-1: not computed yet)
        self._scopes: list[Scope] = []
        self._scope_index: dict[Scope, int] = {}
        self._sc_defined = np.zeros(64, dtype=np.int64)
        self._sc_aug_ok = np.zeros(64, dtype=bool)
        self._sc_trans = np.full((64, N_KINDS * self._slot_cols), -1, dtype=np.int32)
        self._intern_scope(EMPTY)  # id 0: the finished state has scope 0, so its id is `done`
        self._load_terms = {self.sym[n] for n in ("VARLOAD", "FUNCLOAD") if n in self.sym}
        # grammar states: (stack, printed), interned; scope lives in the high bits of a state id
        self._keys: list[_GKey] = []
        self._key_index: dict[_GKey, int] = {}
        self._trans = np.full((256, V), -1, dtype=np.int32)  # known transitions
        self._kind = np.zeros((256, V), dtype=np.int8)  # scope-table column (effect, name slot)
        self._rows = np.full((256, V), BLOCKED, dtype=np.int16)  # costs before scope rules
        self._cls = np.full((256, V), -1, dtype=np.int8)  # terminal class of each token
        self._load_slots = np.zeros(256, dtype=np.int64)  # slots that must be bound to be read
        self._has_aug = np.zeros(256, dtype=bool)  # augmented assignment possible here
        self._stamp = np.zeros(256, dtype=np.int64)  # batch (epoch) each state was last used in
        self._epoch = 1
        self.compactions = 0
        self._start_g = self._intern(_GKey((self.sym["program"],), False))
        # DONE: after EOS only padding, at no cost
        self.done = len(self._keys)
        self._keys.append(_GKey((), True))
        self._ensure_rows(self.done + 1)
        self._rows[self.done, :] = BLOCKED
        self._rows[self.done, self.tok.pad] = 0
        self._trans[self.done, :] = self.done
        bound = 0  # input names are bound before the first token
        for tok_id in self.input_ids:
            bound |= 1 << int(self._slot_of[tok_id])
        self.start = self._start_g | (self._intern_scope(EMPTY._replace(defined=bound)) << G_BITS)

    def _ensure_rows(self, n: int) -> None:
        size = self._rows.shape[0]
        if n <= size:
            return
        size = max(n, 2 * size)

        def grow(a: np.ndarray, fill: int | bool) -> np.ndarray:
            out = np.full((size,) + a.shape[1:], fill, dtype=a.dtype)
            out[: a.shape[0]] = a
            return out

        self._rows, self._trans = grow(self._rows, BLOCKED), grow(self._trans, -1)
        self._kind, self._cls = grow(self._kind, 0), grow(self._cls, -1)
        self._load_slots, self._has_aug = grow(self._load_slots, 0), grow(self._has_aug, False)
        self._stamp = grow(self._stamp, 0)

    def _intern(self, key: _GKey) -> int:
        g = self._key_index.get(key)
        if g is not None:
            return g
        g = len(self._keys)
        if g >= 1 << G_BITS:
            raise RuntimeError("grammar: state table full")
        self._keys.append(key)
        self._key_index[key] = g
        self._ensure_rows(g + 1)
        row, cls, names = self._stack_row(key.stack)
        row = row.copy()
        if not key.printed:  # a program ends only after a print: reserve room for one
            row[self.tok.eos] = BLOCKED
            allowed = row < BLOCKED
            row[allowed] += PRINT_COST
            if allowed[self._print_id]:
                row[self._print_id] -= PRINT_COST
        self._rows[g] = np.minimum(row, BLOCKED)
        self._cls[g] = cls
        load = 0
        if "VARLOAD" in names or "FUNCLOAD" in names:
            for slot, tok_id in enumerate(self._slot_tokens.tolist()):
                if cls[tok_id] in self._load_terms:
                    load |= 1 << slot
        self._load_slots[g] = load
        self._has_aug[g] = "AUGOP" in names
        return g

    def _next_g(self, g: int, tok_id: int) -> int:
        """Grammar-state transition (fills the transition and scope-effect tables)."""
        got = int(self._trans[g, tok_id])
        if got >= 0:
            return got
        term = int(self._cls[g, tok_id])
        if term < 0 or self._rows[g, tok_id] >= BLOCKED:
            raise ValueError(f"token {self.tok.tokens[tok_id]!r} not allowed here")
        name = self.names[term]
        if name == "EOS":
            nxt, kind = self.done, K_EOS
        else:
            key = self._keys[g]
            stack = self._advance_full(key.stack, term)
            kind = self._term_kind[term]
            if name == "DEDENT" and self._depth(stack) == 0:
                kind = K_DEDENT0  # may close a def body: its parameters go out of scope
            nxt = self._intern(_GKey(stack, key.printed or name == "'print'"))
        self._trans[g, tok_id] = nxt
        self._kind[g, tok_id] = kind * self._slot_cols + int(self._slot_of[tok_id]) + 1
        return nxt

    def _intern_scope(self, sc: Scope) -> int:
        i = self._scope_index.get(sc)
        if i is not None:
            return i
        i = len(self._scopes)
        if i >= 1 << (63 - G_BITS):
            raise RuntimeError("grammar: scope table full")
        self._scopes.append(sc)
        self._scope_index[sc] = i
        if i >= len(self._sc_defined):
            n = 2 * len(self._sc_defined)
            self._sc_defined = np.resize(self._sc_defined, n)
            self._sc_aug_ok = np.resize(self._sc_aug_ok, n)
            grown = np.full((n, self._sc_trans.shape[1]), -1, dtype=np.int32)
            grown[: len(self._sc_trans)] = self._sc_trans
            self._sc_trans = grown
        self._sc_defined[i] = sc.defined
        # `x += ...` only to a name bound before this statement
        self._sc_aug_ok[i] = sc.last >= 0 and bool((sc.defined >> sc.last) & 1)
        return i

    def _scope_step(self, scope: np.ndarray, col: np.ndarray) -> np.ndarray:
        nxt = self._sc_trans[scope, col]
        for b in np.nonzero(nxt < 0)[0].tolist():
            kind, slot = divmod(int(col[b]), self._slot_cols)
            sc = self._scopes[int(scope[b])]
            n = self._intern_scope(scope_after(sc, kind, slot - 1))
            self._sc_trans[scope[b], col[b]] = n
            nxt[b] = n
        return nxt.astype(np.int64)

    def step(self, sids: np.ndarray, toks: np.ndarray) -> np.ndarray:
        """Next states of a batch (vectorised over known transitions and scope updates)."""
        g = sids & G_MASK
        nxt = self._trans[g, toks].astype(np.int64)
        for b in np.nonzero(nxt < 0)[0].tolist():
            nxt[b] = self._next_g(int(g[b]), int(toks[b]))
        self._stamp[nxt] = self._epoch
        scope = sids >> G_BITS
        col = self._kind[g, toks]
        if (col >= self._slot_cols).any():  # some token changes its sample's scope
            scope = self._scope_step(scope, col)
        return nxt | (scope << G_BITS)

    def next_state(self, sid: int, tok_id: int) -> int:
        """The state after writing `tok_id` in state `sid` (which must allow it)."""
        if not self.mask(np.array([sid]), np.array([BLOCKED - 1]))[0, tok_id]:
            raise ValueError(f"token {self.tok.tokens[tok_id]!r} not allowed here")
        return int(self.step(np.array([sid], dtype=np.int64), np.array([tok_id]))[0])

    def mask(self, sids: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        """(B, V) bool: tokens allowed in each state with `remaining` tokens of budget (EOS included)."""
        sids = np.asarray(sids, dtype=np.int64)
        g = sids & G_MASK
        m = self._rows[g] <= np.asarray(remaining)[:, None]
        scope = sids >> G_BITS
        # scope rules: names this state may read that are not bound, augmented assignment to an
        # unbound target; one lookup into a table of token masks per combination
        block = self._load_slots[g] & ~self._sc_defined[scope]
        block |= (self._has_aug[g] & ~self._sc_aug_ok[scope]).astype(np.int64) << self._n_slots
        if block.any():
            m &= self._allow[block]
        return m

    def allowed(self, sid: int, remaining: int) -> list[int]:
        return np.nonzero(self.mask(np.array([sid]), np.array([remaining]))[0])[0].tolist()

    def maybe_reset(self, limit: int = STATE_LIMIT) -> bool:
        """Compact the state table when it holds more than `limit` states (between batches only).

        Keeps the `limit // 2` most recently used states (LRU at batch granularity; the start and
        finished states always), renumbers them, and forgets transitions into dropped states,
        which are rebuilt on demand. Returns whether state ids changed. Nothing is thrown away
        cold: the states the current policy visits stay warm.
        """
        self._epoch += 1
        n = len(self._keys)
        if n <= limit:
            return False
        recent = np.argsort(-self._stamp[:n], kind="stable")[: max(2, limit // 2)]
        keep = np.union1d(recent, [self._start_g, self.done])  # sorted: start 0, done 1 stay
        new_id = np.full(self._rows.shape[0], -1, dtype=np.int32)
        new_id[keep] = np.arange(len(keep), dtype=np.int32)
        k = len(keep)
        trans = self._trans[keep]
        known = trans >= 0
        trans[known] = new_id[trans[known]]
        for name, fill in (("_rows", BLOCKED), ("_trans", -1), ("_kind", 0), ("_cls", -1),
                           ("_load_slots", 0), ("_has_aug", False), ("_stamp", 0)):  # fmt: skip
            a = getattr(self, name)
            a[:k] = trans if name == "_trans" else a[keep]
            a[k:] = fill
        self._keys = [self._keys[i] for i in keep.tolist()]
        self._key_index = {key: i for i, key in enumerate(self._keys)}
        # memo tables keyed by whole stacks grow with the states: rebuilt on demand
        self._minlen_cache.clear()
        for memo in (self._advance_cache, self._valid_cache, self._stack_rows):
            if len(memo) > limit:  # keyed by stack tops: small, but bound them all the same
                memo.clear()
        self.compactions += 1
        return True

    @property
    def n_states(self) -> int:
        return len(self._keys)

    def generative_ids(self) -> list[int]:
        """Token ids the grammar can ever produce (for token analytics); fixed per grammar."""
        if self._generative is None:
            out: set[int] = {self.tok.eos}
            for term in range(self.n_term):
                out.update(self.term_ids[term].tolist())
            self._generative = sorted(out)
        return self._generative

    def trace(self, ids: list[int], budget: int) -> tuple[list[int], bool]:
        """Replay `ids` (ending with EOS or not); return the state ids visited and whether all were allowed."""
        sid, states, remaining = self.start, [], budget
        for tid in ids:
            states.append(sid)
            if not self.mask(np.array([sid]), np.array([remaining]))[0, tid]:
                return states, False
            sid = int(self.step(np.array([sid], dtype=np.int64), np.array([tid]))[0])
            remaining -= 1
        return states, True

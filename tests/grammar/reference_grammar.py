"""Reference for tests: the unbounded grammar (states keyed by stack and scope together).

A frozen copy of engine/grammar.py before its state table was bounded; the bounded grammar must
produce the same masks. Original docstring follows.

Syntax masks: at every step, the tokens that keep the program syntactically completable in budget.

The policy writes programs in a Python subset described by an LL(1) grammar (statements: assignment,
augmented assignment, print, calls of own functions, return, break; blocks: if/elif/else, for, while,
def; expressions with the usual precedence, ternaries, lists, comprehensions, subscripts and a few
builtins). A parser state is the grammar stack plus a little scope information:

- names are readable only after they were bound (`x = ...`, `for x in`, parameters), and a function's
  parameters are forgotten when its body ends; a task's input names are bound from the first token
  (they are globals set before the program runs) and may be reassigned;
- augmented assignment (`x += 1`) only to bound names; `return` only inside functions; `break` only
  inside loops; blocks nest at most `max_depth` deep; a program ends only after it printed something.

States are interned to integers. For each state we keep one row of "cost" per token: 1 + the fewest
tokens needed to finish the program after taking that token (a large number when the token is not
allowed). At a step with `remaining` tokens left, the mask is `cost <= remaining`; so sampling never
writes itself into a corner and every finished sample parses. Rows are stored once and reused by
every sample and batch that reaches the same state, so a batch step is one fancy-index plus a dict
lookup per sample. The same stored masks are re-applied when the trainer computes log-probabilities.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine.tokenizer import BUILTINS, DIGITS, FUNCTIONS, VARIABLES, Tokenizer

BLOCKED = 30000  # cost of a token that is not allowed (int16 friendly)
PRINT_COST = 5  # fewest tokens of a print statement: print ( 1 ) NEWLINE

IO_DIGITS = ("0", "1", "2")  # number literals offered to tasks with inputs (plus their own)

# Builtins usable inside expressions (print is a statement of its own).
EXPR_BUILTINS = tuple(
    b for b in BUILTINS if b in ("range", "sum", "len", "str", "int", "abs", "min", "max")
)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _StateKey(NamedTuple):
    stack: tuple[int, ...]
    defined: int  # bitmask over token ids of bound names
    pending: int  # names bound by the current statement, visible after its ':' or NEWLINE
    last_target: int  # token id of the latest assignment target, -1 if none
    saved: int  # `defined` before the current def (restored when its body ends), -1 outside
    printed: bool


class Grammar:
    """Incremental, table-driven syntax masks over a tokenizer's vocabulary."""

    def __init__(
        self, tok: Tokenizer, max_depth: int = 2, max_names: int = 4, max_functions: int = 1
    ):
        self.tok = tok
        self.max_depth = max_depth
        V = len(tok)
        self.vocab_size = V
        idx = tok.index

        def ids(names) -> frozenset[int]:
            return frozenset(idx[n] for n in names if n in idx)

        inputs = [n for n in tok.input_names if n in idx]
        literals = [t for t in tok.task_tokens if t not in inputs]
        numbers = [t for t in literals if _is_number(t)]
        strings = [t for t in literals if t.startswith(("'", '"'))]
        # Tasks with inputs compute from them: a few small constants suffice (and a small
        # vocabulary keeps search feasible); legacy tasks keep every digit.
        digits = IO_DIGITS if inputs else DIGITS
        free = [v for v in VARIABLES if v not in inputs]
        n_free = max(2, max_names - len(inputs)) if inputs else max_names
        self.input_ids = ids(inputs)
        self.var_ids = ids(free[:n_free]) | self.input_ids
        self.func_ids = ids(FUNCTIONS[:max_functions])
        classes: dict[str, frozenset[int]] = {
            "NUMBER": ids(list(digits) + numbers),
            "STRING": ids(strings),
            "TARGET": self.var_ids,
            "VARLOAD": self.var_ids,
            "PARAM": self.var_ids,
            "FUNCNAME": self.func_ids,
            "FUNCLOAD": self.func_ids,
            "BUILTIN": ids(EXPR_BUILTINS),
            "AUGOP": ids(["+=", "-=", "*="]),
            "ADDOP": ids(["+", "-"]),
            "MULOP": ids(["*", "/", "//", "%"]),
            "COMPOP": ids(["<", ">", "<=", ">=", "==", "!=", "in"]),
            "BOOL": ids(["True", "False"]),
            "EOS": frozenset([tok.eos]),
            "NEWLINE": frozenset([tok.newline]),
            "INDENT": frozenset([tok.indent]),
            "DEDENT": frozenset([tok.dedent]),
        }
        for lit in ("print", "(", ")", "[", "]", ",", ":", "=", "-", "if", "elif", "else", "for",
                    "in", "while", "def", "return", "break", "and", "or", "not"):  # fmt: skip
            classes[repr(lit)] = ids([lit])
        self._build_rules(classes)
        self._compile(classes)
        self._generative: list[int] | None = None
        self._init_tables()

    # -- grammar ----------------------------------------------------------------------------------

    def _build_rules(self, classes: dict[str, frozenset[int]]) -> None:
        R: dict[str, list[list[str]]] = {}

        def rule(name: str, *alts: list[str]) -> None:
            R[name] = [list(a) for a in alts]

        q = repr  # terminal spelled as its quoted literal, e.g. "'('"
        D = self.max_depth
        # Functions are defined first, before the code that calls them: a def after the last
        # statement that could call it is dead code by construction.
        rule("program", ["prelude", "block|0|0|0", "EOS"])
        rule(
            "prelude",
            [q("def"), "FUNCNAME", q("("), "params", q(")"), q(":"), "suite|1|0|1", "prelude"],
            [],
        )
        for func in (0, 1):
            for loop in (0, 1):
                for d in range(D + 1):
                    c = f"{func}|{loop}|{d}"
                    inner = f"{func}|{loop}|{d + 1}"
                    rule(f"block|{c}", [f"stmt|{c}", f"rest|{c}"])
                    rule(f"rest|{c}", [f"stmt|{c}", f"rest|{c}"], [])
                    alts = [[f"simple|{func}|{loop}", "NEWLINE"]]
                    if d < D:
                        alts.append([q("if"), "expr", q(":"), f"suite|{inner}", f"else|{c}"])
                        rule(
                            f"else|{c}",
                            [q("else"), q(":"), f"suite|{inner}"],
                            [q("elif"), "expr", q(":"), f"suite|{inner}", f"else|{c}"],
                            [],
                        )
                        loop_inner = f"{func}|1|{d + 1}"
                        alts.append(
                            [q("for"), "TARGET", q("in"), "expr", q(":"), f"suite|{loop_inner}"]
                        )
                        alts.append([q("while"), "expr", q(":"), f"suite|{loop_inner}"])
                    rule(f"stmt|{c}", *alts)
                    if d >= 1:
                        rule(f"suite|{c}", ["NEWLINE", "INDENT", f"block|{c}", "DEDENT"])
                simple = [
                    [q("print"), q("("), "args", q(")")],
                    ["TARGET", "assign"],
                    ["FUNCLOAD", q("("), "args_opt", q(")")],
                ]
                if func:
                    simple.append([q("return"), "expr"])
                if loop:
                    simple.append([q("break")])
                rule(f"simple|{func}|{loop}", *simple)
        rule("assign", [q("="), "expr"], ["AUGOP", "expr"])
        rule("params", ["PARAM", "params_rest"], [])
        rule("params_rest", [q(","), "PARAM", "params_rest"], [])
        rule("args", ["expr", "args_rest"])
        rule("args_rest", [q(","), "expr", "args_rest"], [])
        rule("args_opt", ["args"], [])
        rule("expr", ["or", "ternary"])
        rule("ternary", [q("if"), "or", q("else"), "expr"], [])
        rule("or", ["and", "or_rest"])
        rule("or_rest", [q("or"), "and", "or_rest"], [])
        rule("and", ["not", "and_rest"])
        rule("and_rest", [q("and"), "not", "and_rest"], [])
        rule("not", [q("not"), "not"], ["comparison"])
        rule("comparison", ["arith", "comp_rest"])
        rule("comp_rest", ["COMPOP", "arith", "comp_rest"], [])
        rule("arith", ["term", "arith_rest"])
        rule("arith_rest", ["ADDOP", "term", "arith_rest"], [])
        rule("term", ["factor", "term_rest"])
        rule("term_rest", ["MULOP", "factor", "term_rest"], [])
        rule("factor", [q("-"), "factor"], ["atom"])
        rule(
            "atom",
            ["VARLOAD", "subscript"],
            ["NUMBER"],
            ["STRING"],
            ["BOOL"],
            [q("("), "expr", q(")")],
            [q("["), "list_body", q("]")],
            ["BUILTIN", q("("), "args", q(")")],
            ["FUNCLOAD", q("("), "args_opt", q(")")],
        )
        rule("subscript", [q("["), "expr", q("]")], [])
        rule("list_body", ["expr", "list_rest"], [])
        rule("list_rest", [q(","), "expr", "list_more"], [q("for"), "TARGET", q("in"), "or"], [])
        rule("list_more", [q(","), "expr", "list_more"], [])
        # drop alternatives that use an empty terminal class (e.g. a task without strings)
        for name, alts in R.items():
            R[name] = [a for a in alts if all(s in R or classes.get(s) for s in a)]
        self.rules = R

    def _compile(self, classes: dict[str, frozenset[int]]) -> None:
        terminals = sorted(
            {s for alts in self.rules.values() for a in alts for s in a if s not in self.rules}
        )
        self.term_names = terminals
        self.term_ids = [np.array(sorted(classes[t]), dtype=np.int64) for t in terminals]
        nts = sorted(self.rules)
        self.sym: dict[str, int] = {t: i for i, t in enumerate(terminals)}
        self.sym.update({n: len(terminals) + i for i, n in enumerate(nts)})
        self.n_term = len(terminals)
        self.names = terminals + nts
        self.prods: dict[int, list[tuple[int, ...]]] = {
            self.sym[n]: [tuple(self.sym[s] for s in a) for a in alts]
            for n, alts in self.rules.items()
        }
        # nullable, FIRST, minimal length: fixed points
        n_sym = len(self.names)
        nullable = [False] * n_sym
        first: list[set[int]] = [{i} if i < self.n_term else set() for i in range(n_sym)]
        minlen = [1 if i < self.n_term else 10**6 for i in range(n_sym)]
        changed = True
        while changed:
            changed = False
            for nt, alts in self.prods.items():
                for alt in alts:
                    length = sum(minlen[s] for s in alt)
                    if length < minlen[nt]:
                        minlen[nt], changed = length, True
                    if all(nullable[s] for s in alt) and not nullable[nt]:
                        nullable[nt], changed = True, True
                    for s in alt:
                        if not first[s] <= first[nt]:
                            first[nt] |= first[s]
                            changed = True
                        if not nullable[s]:
                            break
        self.nullable, self.first, self.minlen = nullable, first, minlen
        # the first terminals of each alternative, to pick the production for a terminal
        self.alt_first: dict[int, list[set[int]]] = {}
        for nt, alts in self.prods.items():
            firsts = []
            for alt in alts:
                f: set[int] = set()
                for s in alt:
                    f |= first[s]
                    if not nullable[s]:
                        break
                firsts.append(f)
            self.alt_first[nt] = firsts
        self.t = {name: self.sym[name] for name in terminals}

    # -- stack operations (memoised) --------------------------------------------------------------

    def _init_tables(self) -> None:
        self._valid_cache: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._minlen_cache: dict[tuple[int, ...], int] = {}
        self._stack_rows: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, frozenset[str]]] = {}
        self._bound_ids = sorted(self.var_ids | self.func_ids)
        self._augop_ids = (
            self.term_ids[self.sym["AUGOP"]]
            if "AUGOP" in self.sym
            else np.array([], dtype=np.int64)
        )
        self._print_id = self.tok.index["print"]
        self._advance_cache: dict[tuple[tuple[int, ...], int], tuple[int, ...]] = {}
        self._keys: list[_StateKey] = []
        self._key_index: dict[_StateKey, int] = {}
        self._trans = np.full((1024, self.vocab_size), -1, dtype=np.int32)  # known transitions
        self._rows = np.full((1024, self.vocab_size), BLOCKED, dtype=np.int16)
        self._tokclass: list[np.ndarray] = []
        # the program symbol expands to block EOS; keep EOS terminal at the bottom
        start = (self.sym["program"],)
        bound = 0  # input names are bound before the first token
        for tok_id in self.input_ids:
            bound |= 1 << tok_id
        self.start = self._intern(_StateKey(start, bound, 0, -1, -1, False))
        # DONE: after EOS only padding, at no cost
        self.done = len(self._keys)
        self._keys.append(_StateKey((), 0, 0, -1, -1, True))
        self._tokclass.append(np.full(self.vocab_size, -1, dtype=np.int32))
        self._ensure_rows(self.done + 1)
        self._rows[self.done, :] = BLOCKED
        self._rows[self.done, self.tok.pad] = 0
        self._trans[self.done, :] = self.done

    def _valid(self, stack: tuple[int, ...]) -> tuple[int, ...]:
        got = self._valid_cache.get(stack)
        if got is None:
            out: set[int] = set()
            for s in reversed(stack):
                out |= self.first[s]
                if not self.nullable[s]:
                    break
            got = tuple(sorted(out))
            self._valid_cache[stack] = got
        return got

    def _advance(self, stack: tuple[int, ...], term: int) -> tuple[int, ...]:
        key = (stack, term)
        got = self._advance_cache.get(key)
        if got is not None:
            return got
        st = list(stack)
        while st:
            top = st.pop()
            if top < self.n_term:
                if top != term:
                    raise ValueError(f"grammar: expected {self.names[top]}, got {self.names[term]}")
                break
            for alt, f in zip(self.prods[top], self.alt_first[top], strict=True):
                if term in f:
                    st.extend(reversed(alt))
                    break
            else:
                if not self.nullable[top]:
                    raise ValueError(f"grammar: {self.names[term]} cannot follow {self.names[top]}")
        got = tuple(st)
        self._advance_cache[key] = got
        return got

    def _stack_minlen(self, stack: tuple[int, ...]) -> int:
        got = self._minlen_cache.get(stack)
        if got is None:
            got = self._minlen_cache[stack] = sum(self.minlen[s] for s in stack)
        return got

    def _depth(self, stack: tuple[int, ...]) -> int:
        return stack.count(self.t["DEDENT"])

    # -- states -----------------------------------------------------------------------------------

    def _ensure_rows(self, n: int) -> None:
        if n > self._rows.shape[0]:
            size = max(n, 2 * self._rows.shape[0])
            grown = np.full((size, self.vocab_size), BLOCKED, dtype=np.int16)
            grown[: self._rows.shape[0]] = self._rows
            self._rows = grown
            trans = np.full((size, self.vocab_size), -1, dtype=np.int32)
            trans[: self._trans.shape[0]] = self._trans
            self._trans = trans

    def step(self, sids: np.ndarray, toks: np.ndarray) -> np.ndarray:
        """Next states of a batch (vectorised over known transitions)."""
        nxt = self._trans[sids, toks]
        for b in np.nonzero(nxt < 0)[0].tolist():
            nxt[b] = self.next_state(int(sids[b]), int(toks[b]))
        return nxt.astype(np.int64)

    def _intern(self, key: _StateKey) -> int:
        sid = self._key_index.get(key)
        if sid is not None:
            return sid
        sid = len(self._keys)
        self._keys.append(key)
        self._key_index[key] = sid
        self._ensure_rows(sid + 1)
        row, tokclass = self._make_row(key)
        self._rows[sid] = row
        self._tokclass.append(tokclass)
        return sid

    def _split(self, stack: tuple[int, ...]) -> int:
        """Index of the topmost non-nullable symbol: parsing the next token never looks below it."""
        for i in range(len(stack) - 1, -1, -1):
            if not self.nullable[stack[i]]:
                return i
        return 0

    def _stack_row(self, stack: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, frozenset[str]]:
        """Costs and terminal class per token for a grammar stack, before scope rules.

        Only the top of the stack (down to its first non-nullable symbol) decides which tokens are
        valid and what they cost beyond the fixed cost of the rest, so rows are memoised per top.
        """
        i = self._split(stack)
        top, below = stack[i:], self._stack_minlen(stack[:i])
        got = self._stack_rows.get(top)
        if got is None:
            row = np.full(self.vocab_size, BLOCKED, dtype=np.int32)
            cls = np.full(self.vocab_size, -1, dtype=np.int32)
            names: set[str] = set()
            for term in self._valid(top):
                ids = self.term_ids[term]
                free = ids[cls[ids] < 0]  # LL(1) preference: the first class keeps a token
                if not len(free):
                    continue
                row[free] = 1 + self._stack_minlen(self._advance(top, term))
                cls[free] = term
                names.add(self.names[term])
            got = (row, cls, frozenset(names))
            self._stack_rows[top] = got
        row, cls, names = got
        return (row + below if below else row), cls, names

    def _advance_full(self, stack: tuple[int, ...], term: int) -> tuple[int, ...]:
        i = self._split(stack)
        return stack[:i] + self._advance(stack[i:], term)

    def _make_row(self, key: _StateKey) -> tuple[np.ndarray, np.ndarray]:
        row, cls, names = self._stack_row(key.stack)
        row = row.copy()
        if "VARLOAD" in names or "FUNCLOAD" in names:
            for tok_id in self._bound_ids:
                if not (key.defined >> tok_id) & 1:
                    term = cls[tok_id]
                    if term >= 0 and self.names[term] in ("VARLOAD", "FUNCLOAD"):
                        row[tok_id] = BLOCKED
        if "AUGOP" in names and not (key.last_target >= 0 and (key.defined >> key.last_target) & 1):
            row[self._augop_ids] = BLOCKED
        if not key.printed:
            row[self.tok.eos] = BLOCKED
            allowed = row < BLOCKED
            row[allowed] += PRINT_COST
            if allowed[self._print_id]:
                row[self._print_id] -= PRINT_COST
        return np.minimum(row, BLOCKED).astype(np.int16), cls

    def next_state(self, sid: int, tok_id: int) -> int:
        """The state after writing `tok_id` in state `sid` (which must allow it)."""
        got = int(self._trans[sid, tok_id])
        if got >= 0:
            return got
        if sid == self.done:
            return self.done
        key = self._keys[sid]
        term = int(self._tokclass[sid][tok_id])
        if term < 0 or self._rows[sid, tok_id] >= BLOCKED:
            raise ValueError(f"token {self.tok.tokens[tok_id]!r} not allowed here")
        name = self.names[term]
        if name == "EOS":
            nxt = self.done
        else:
            stack = self._advance_full(key.stack, term)
            defined, pending, last, saved, printed = (
                key.defined,
                key.pending,
                key.last_target,
                key.saved,
                key.printed,
            )
            bit = 1 << tok_id
            if name == "TARGET":
                pending |= bit
                last = tok_id
            elif name == "PARAM":
                pending |= bit
            elif name == "FUNCNAME":  # callable after its body, not inside it (no recursion)
                saved = defined | bit
            elif name == "'print'":
                printed = True
            elif name in ("':'", "NEWLINE"):
                defined |= pending
                pending, last = 0, -1
            elif name == "DEDENT" and saved >= 0 and self._depth(stack) == 0:
                defined, saved = saved, -1
            nxt = self._intern(_StateKey(stack, defined, pending, last, saved, printed))
        self._trans[sid, tok_id] = nxt
        return nxt

    def mask(self, sids: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        """(B, V) bool: tokens allowed in each state with `remaining` tokens of budget (EOS included)."""
        return self._rows[sids] <= remaining[:, None]

    def allowed(self, sid: int, remaining: int) -> list[int]:
        return np.nonzero(self._rows[sid] <= remaining)[0].tolist()

    def maybe_reset(self, limit: int = 300_000) -> bool:
        """Forget interned states when there are too many (between batches only: ids change)."""
        if len(self._keys) <= limit:
            return False
        self._init_tables()
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
            if self._rows[sid, tid] > remaining:
                return states, False
            sid = self.next_state(sid, tid)
            remaining -= 1
        return states, True

"""Syntax masks for a JavaScript subset: same table-driven LL(1) machinery and API as engine.grammar.

The subset (comparable to the Python one): `let`/`const` declarations, assignment and `+= -= *= /=`,
`++`/`--`, `console.log(...)`, calls of own functions, `return` (in functions), `break` (in loops);
blocks `if`/`else if`/`else`, `while`, `for (let i = ...; ...; ...)`, `for (const x of ...)`,
`function f(a, b) {...}`; expressions with JavaScript precedence (`?:`, `||`, `&&`, `=== !==`,
`< > <= >=`, `+ -`, `* / %`, unary `- !`), array literals, indexing, `.length`, and a few builtins
(`Math.max/min/abs/floor`, `String`, `Number`).

Scope rules keep every sample free of early errors and of ReferenceErrors: a name is readable only
after its declaration statement ended (`let x = x` is impossible: TDZ), `let`/`const` never
redeclare a name of the same scope (a SyntaxError in JavaScript), blocks end their declarations,
a `for` header's `let` lives until the loop's `}`, a function's parameters until its `}`, `const`
names are never assigned, assignments only to declared names, `return` only in functions, `break`
only in loops, a program ends only after it printed. A task's input names (globals bound before
the program runs) are readable and assignable from the first token and never redeclared at the
top level; such tasks get the digits 0-2 plus their own numbers (as Python's grammar).

States, rows of costs, masks, `step`, `trace`, `maybe_reset`: exactly as in engine.grammar (see its
docstring): the mask at a step is `cost <= remaining`, so every finished sample parses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine.languages.javascript.tokenizer import (
    DIGITS,
    FUNCTIONS,
    PRINT,
    VARIABLES,
    Tokenizer,
)

BLOCKED = 30000  # cost of a token that is not allowed (int16 friendly)
PRINT_COST = 5  # fewest tokens of a print statement: console.log ( 1 ) ;

IO_DIGITS = ("0", "1", "2")  # number literals offered to tasks with inputs (plus their own)
EXPR_BUILTINS = ("Math.max", "Math.min", "Math.abs", "Math.floor", "String", "Number")


class _Scope(NamedTuple):
    defined: int
    consts: int
    declared: int


class _StateKey(NamedTuple):
    stack: tuple[int, ...]
    defined: int  # bitmask over token ids of readable names
    consts: int  # names bound by const (never assigned)
    declared: int  # names declared in the current scope (no redeclaration)
    pending: int  # names declared by the current statement, readable after it
    scopes: tuple[_Scope, ...]  # enclosing scopes, restored when a block ends
    func: int  # token id of the function being defined, -1 outside
    printed: bool


class Grammar:
    """Incremental, table-driven syntax masks over a JavaScript tokenizer's vocabulary."""

    def __init__(
        self, tok: Tokenizer, max_depth: int = 2, max_names: int = 4, max_functions: int = 1
    ):
        self.tok = tok
        self.max_depth = max_depth
        self.vocab_size = len(tok)
        idx = tok.index

        def ids(names) -> frozenset[int]:
            return frozenset(idx[n] for n in names if n in idx)

        inputs = [n for n in getattr(tok, "input_names", ()) if n in idx]
        literals = [t for t in tok.task_tokens if t not in inputs]
        numbers = [t for t in literals if not t.startswith(("'", '"'))]
        strings = [t for t in literals if t.startswith(("'", '"'))]
        # As in Python's grammar: tasks with inputs compute from them, so a few small constants
        # suffice, and the inputs take the place of some free names.
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
            "CONST_TARGET": self.var_ids,
            "ASSIGN_TARGET": self.var_ids,
            "VARLOAD": self.var_ids,
            "PARAM": self.var_ids,
            "FUNCNAME": self.func_ids,
            "FUNCLOAD": self.func_ids,
            "BUILTIN": ids(EXPR_BUILTINS),
            "AUGOP": ids(["+=", "-=", "*=", "/="]),
            "INCDEC": ids(["++", "--"]),
            "ADDOP": ids(["+", "-"]),
            "MULOP": ids(["*", "/", "%"]),
            "RELOP": ids(["<", ">", "<=", ">="]),
            "EQOP": ids(["===", "!=="]),
            "UNOP": ids(["-", "!"]),
            "BOOL": ids(["true", "false"]),
            "EOS": frozenset([tok.eos]),
            # Closing braces and parentheses with a scope effect are classes of their own.
            "BLOCK_END": ids(["}"]),
            "FOR_END": ids(["}"]),
            "FUNC_END": ids(["}"]),
            "FUNC_OPEN": ids(["{"]),  # a function body shares its parameters' scope
            "HEAD_END": ids([")"]),
            "STMT_END": ids([";"]),
        }
        for lit in (PRINT, "(", ")", "[", "]", ",", ";", "=", "{", "?", ":", ".length", "||", "&&",
                    "let", "const", "if", "else", "for", "of", "while", "function", "return",
                    "break"):  # fmt: skip
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

        q = repr
        D = self.max_depth
        rule("program", ["prelude", "block|0|0|0", "EOS"])
        rule(
            "prelude",
            [
                q("function"),
                "FUNCNAME",
                q("("),
                "params",
                "HEAD_END",
                "FUNC_OPEN",
                "fbody",
                "prelude",
            ],
            [],
        )
        rule("fbody", ["block|1|0|1", "FUNC_END"])
        for func in (0, 1):
            for loop in (0, 1):
                for d in range(D + 1):
                    c = f"{func}|{loop}|{d}"
                    inner = f"{func}|{loop}|{d + 1}"
                    loop_inner = f"{func}|1|{d + 1}"
                    rule(f"block|{c}", [f"stmt|{c}", f"rest|{c}"])
                    rule(f"rest|{c}", [f"stmt|{c}", f"rest|{c}"], [])
                    alts = [[f"simple|{func}|{loop}", "STMT_END"]]
                    if d < D:
                        alts.append([q("if"), q("("), "expr", q(")"), f"suite|{inner}",
                                     f"else|{c}"])  # fmt: skip
                        rule(f"else|{c}", [q("else"), f"elsebody|{c}"], [])
                        rule(
                            f"elsebody|{c}",
                            [f"suite|{inner}"],
                            [q("if"), q("("), "expr", q(")"), f"suite|{inner}", f"else|{c}"],
                        )
                        alts.append([q("while"), q("("), "expr", q(")"), f"suite|{loop_inner}"])
                        alts.append([q("for"), q("("), "forhead", q("{"),
                                     f"block|{loop_inner}", "FOR_END"])  # fmt: skip
                    rule(f"stmt|{c}", *alts)
                    if d >= 1:
                        rule(f"suite|{c}", [q("{"), f"block|{c}", "BLOCK_END"])
                simple = [
                    [q("let"), "TARGET", q("="), "expr"],
                    [q("const"), "CONST_TARGET", q("="), "expr"],
                    ["ASSIGN_TARGET", "assign"],
                    [q(PRINT), q("("), "args", q(")")],
                    ["FUNCLOAD", q("("), "args_opt", q(")")],
                ]
                if func:
                    simple.append([q("return"), "expr"])
                if loop:
                    simple.append([q("break")])
                rule(f"simple|{func}|{loop}", *simple)
        rule(
            "forhead",
            [q("let"), "TARGET", q("="), "expr", "STMT_END", "expr", q(";"), "update", "HEAD_END"],
            [q("const"), "CONST_TARGET", q("of"), "expr", "HEAD_END"],
        )
        rule("update", ["ASSIGN_TARGET", "assign"])
        rule("assign", [q("="), "expr"], ["AUGOP", "expr"], ["INCDEC"])
        rule("params", ["PARAM", "params_rest"], [])
        rule("params_rest", [q(","), "PARAM", "params_rest"], [])
        rule("args", ["expr", "args_rest"])
        rule("args_rest", [q(","), "expr", "args_rest"], [])
        rule("args_opt", ["args"], [])
        rule("expr", ["or", "ternary"])
        rule("ternary", [q("?"), "expr", q(":"), "expr"], [])
        rule("or", ["and", "or_rest"])
        rule("or_rest", [q("||"), "and", "or_rest"], [])
        rule("and", ["eq", "and_rest"])
        rule("and_rest", [q("&&"), "eq", "and_rest"], [])
        rule("eq", ["rel", "eq_rest"])
        rule("eq_rest", ["EQOP", "rel", "eq_rest"], [])
        rule("rel", ["add", "rel_rest"])
        rule("rel_rest", ["RELOP", "add", "rel_rest"], [])
        rule("add", ["term", "add_rest"])
        rule("add_rest", ["ADDOP", "term", "add_rest"], [])
        rule("term", ["unary", "term_rest"])
        rule("term_rest", ["MULOP", "unary", "term_rest"], [])
        rule("unary", ["UNOP", "unary"], ["atom"])
        rule(
            "atom",
            ["VARLOAD", "postfix"],
            ["NUMBER"],
            ["STRING"],
            ["BOOL"],
            [q("("), "expr", q(")")],
            [q("["), "list_body", q("]")],
            ["BUILTIN", q("("), "args", q(")")],
            ["FUNCLOAD", q("("), "args_opt", q(")")],
        )
        rule("postfix", [q("["), "expr", q("]")], [q(".length")], [])
        rule("list_body", ["expr", "list_rest"], [])
        rule("list_rest", [q(","), "expr", "list_rest"], [])
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
        n_sym = len(self.names)
        nullable = [False] * n_sym
        first: list[set[int]] = [{i} if i < self.n_term else set() for i in range(n_sym)]
        # Names usable only once declared are weighted so that the cheapest way to finish is
        # always one that exists whatever is in scope (`console.log(1);`, not `x++;` or `f();`):
        # costs may then overestimate, which only makes masks more cautious, never wrong.
        weight = {self.sym[t]: 3 for t in ("ASSIGN_TARGET", "FUNCLOAD") if t in self.sym}
        minlen = [weight.get(i, 1) if i < self.n_term else 10**6 for i in range(n_sym)]
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

    # -- stack operations (memoised) --------------------------------------------------------------

    def _init_tables(self) -> None:
        self._valid_cache: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._minlen_cache: dict[tuple[int, ...], int] = {}
        self._stack_rows: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, frozenset[str]]] = {}
        self._advance_cache: dict[tuple[tuple[int, ...], int], tuple[int, ...]] = {}
        self._print_id = self.tok.index[PRINT]
        self._params_rest = self.sym.get("params_rest", -1)
        self._name_classes = {"VARLOAD", "FUNCLOAD", "ASSIGN_TARGET", "TARGET", "CONST_TARGET"}
        self._keys: list[_StateKey] = []
        self._key_index: dict[_StateKey, int] = {}
        self._trans = np.full((1024, self.vocab_size), -1, dtype=np.int32)
        self._rows = np.full((1024, self.vocab_size), BLOCKED, dtype=np.int16)
        self._tokclass: list[np.ndarray] = []
        start = (self.sym["program"],)
        # inputs: readable and assignable at once, never redeclared at the top level (`let n`
        # there would hide the input; a nested block may shadow it, TDZ-safe like any name)
        bound = sum(1 << t for t in self.input_ids)
        self.start = self._intern(_StateKey(start, bound, 0, bound, 0, (), -1, False))
        self.done = len(self._keys)
        self._keys.append(_StateKey((), 0, 0, 0, 0, (), -1, True))
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

    def _ensure_rows(self, n: int) -> None:
        if n > self._rows.shape[0]:
            size = max(n, 2 * self._rows.shape[0])
            grown = np.full((size, self.vocab_size), BLOCKED, dtype=np.int16)
            grown[: self._rows.shape[0]] = self._rows
            self._rows = grown
            trans = np.full((size, self.vocab_size), -1, dtype=np.int32)
            trans[: self._trans.shape[0]] = self._trans
            self._trans = trans

    def _split(self, stack: tuple[int, ...]) -> int:
        for i in range(len(stack) - 1, -1, -1):
            if not self.nullable[stack[i]]:
                return i
        return 0

    def _stack_row(self, stack: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, frozenset[str]]:
        """Costs and terminal class per token for a grammar stack, before scope rules."""
        i = self._split(stack)
        top, below = stack[i:], self._stack_minlen(stack[:i])
        got = self._stack_rows.get(top)
        if got is None:
            row = np.full(self.vocab_size, BLOCKED, dtype=np.int32)
            cls = np.full(self.vocab_size, -1, dtype=np.int32)
            names: set[str] = set()
            for term in self._valid(top):
                ids = self.term_ids[term]
                free = ids[cls[ids] < 0]
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

    # -- states -----------------------------------------------------------------------------------

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

    def _make_row(self, key: _StateKey) -> tuple[np.ndarray, np.ndarray]:
        row, cls, names = self._stack_row(key.stack)
        row = row.copy()
        if names & self._name_classes:
            readable = key.defined & ~key.pending
            for tok_id in sorted(self.var_ids | self.func_ids):
                term = cls[tok_id]
                if term < 0:
                    continue
                name = self.names[term]
                bit = 1 << tok_id
                if name in ("VARLOAD", "FUNCLOAD"):
                    ok = bool(readable & bit)
                elif name == "ASSIGN_TARGET":
                    ok = bool(readable & bit) and not key.consts & bit
                elif name in ("TARGET", "CONST_TARGET"):
                    ok = not key.declared & bit
                else:
                    continue
                if not ok:
                    row[tok_id] = BLOCKED
        all_vars = sum(1 << t for t in self.var_ids)
        if key.declared & all_vars == all_vars:  # no name left to declare in this scope
            for word in ("let", "const"):
                if "'" + word + "'" in names:
                    row[self.tok.index[word]] = BLOCKED
            if key.stack and key.stack[-1] == self._params_rest:
                row[self.tok.index[","]] = BLOCKED
        if "PARAM" in names:
            for tok_id in self.var_ids:
                if key.declared >> tok_id & 1:  # duplicate parameter names
                    row[tok_id] = BLOCKED
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
            nxt = self._intern(self._apply(key, name, tok_id))
        self._trans[sid, tok_id] = nxt
        return nxt

    def _apply(self, key: _StateKey, name: str, tok_id: int) -> _StateKey:
        """Scope bookkeeping for one token of terminal class `name`."""
        stack = self._advance_full(key.stack, self.sym[name])
        defined, consts, declared, pending = key.defined, key.consts, key.declared, key.pending
        scopes, func, printed = key.scopes, key.func, key.printed
        bit = 1 << tok_id
        here = _Scope(defined, consts, declared)
        if name in ("TARGET", "CONST_TARGET", "PARAM"):
            pending |= bit
            declared |= bit
            consts = consts | bit if name == "CONST_TARGET" else consts & ~bit
        elif name in ("STMT_END", "HEAD_END"):  # a declaration is readable after its statement
            defined |= pending
            pending = 0
        elif name in ("'{'", "'for'"):
            scopes = (*scopes, here)
            declared = 0
        elif name == "FUNCNAME":  # callable after its body, not inside it (no recursion)
            scopes = (*scopes, here)
            declared, func = 0, tok_id
        elif name == "BLOCK_END":
            defined, consts, declared = scopes[-1]
            scopes = scopes[:-1]
        elif name == "FOR_END":  # the body's scope and the header's
            defined, consts, declared = scopes[-2]
            scopes = scopes[:-2]
        elif name == "FUNC_END":
            defined, consts, declared = scopes[-1]
            scopes = scopes[:-1]
            defined |= 1 << func
            declared |= 1 << func
            func = -1
        elif name == f"'{PRINT}'":
            printed = True
        return _StateKey(stack, defined, consts, declared, pending, scopes, func, printed)

    def mask(self, sids: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        """(B, V) bool: tokens allowed in each state with `remaining` tokens of budget."""
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
        """Token ids the grammar can ever produce; fixed per grammar."""
        if self._generative is None:
            out: set[int] = {self.tok.eos}
            for term in range(self.n_term):
                out.update(self.term_ids[term].tolist())
            self._generative = sorted(out)
        return self._generative

    def trace(self, ids: list[int], budget: int) -> tuple[list[int], bool]:
        """Replay `ids`; return the state ids visited and whether all were allowed."""
        sid, states, remaining = self.start, [], budget
        for tid in ids:
            states.append(sid)
            if self._rows[sid, tid] > remaining:
                return states, False
            sid = self.next_state(sid, tid)
            remaining -= 1
        return states, True

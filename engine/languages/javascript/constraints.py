"""Task constraints checked on the JavaScript AST (ESTree, via esprima), with Python's meaning.

  * operator: a real BinaryExpression / LogicalExpression / UnaryExpression / AssignmentExpression
    (`+=` counts for `+`) / UpdateExpression (`++` counts for `+`) with that operator; Python
    spellings map to their JavaScript twins (`==` -> `==`/`===`, `and` -> `&&`, `not` -> `!`).
    `-` is binary subtraction only.
  * number n: a numeric literal equal to n (`55` is not 5, `true` is not 1); negative n as `-n`.
  * string s: a string literal, or a template piece, equal to s (case-sensitive).
  * keyword: a real construct (`for` -> for/for-of/for-in, `if` -> if or `?:`, `function` ->
    function or arrow, `return` -> return with a value, `let`/`const`/`var` -> that declaration);
    any other identifier (`console`, `log`, `Math`) as a used name or property.

A construct counts only if it can affect the output (static, flow-insensitive dataflow, as for
Python): output comes from `console.log` calls, also inside called functions. A statement is live
if it prints, or declares/assigns a name that a live statement reads, or is a `return` of a
function whose result is used; a compound statement is live if it holds a live statement and its
test is not a constant; a function is live if a live statement calls it. Expressions skipped by
constant short-circuits (`true || x`, `false && x`, `true ? a : b`) and branches of constant tests
(`if (false)`, `while (false)`) are dead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.tasks.constraints import missing_among

Node = dict[str, Any]

OPERATOR_ALIASES: dict[str, tuple[str, ...]] = {
    "==": ("==", "==="),
    "!=": ("!=", "!=="),
    "and": ("&&",),
    "or": ("||",),
    "not": ("!",),
}
KEYWORD_NODES: dict[str, Any] = {
    "for": lambda n: n["type"] in ("ForStatement", "ForOfStatement", "ForInStatement"),
    "of": lambda n: n["type"] == "ForOfStatement",
    "in": lambda n: (
        n["type"] == "ForInStatement" or (n["type"] == "BinaryExpression" and n["operator"] == "in")
    ),
    "while": lambda n: n["type"] in ("WhileStatement", "DoWhileStatement"),
    "do": lambda n: n["type"] == "DoWhileStatement",
    "if": lambda n: n["type"] in ("IfStatement", "ConditionalExpression"),
    "else": lambda n: (
        n["type"] == "ConditionalExpression"
        or (n["type"] == "IfStatement" and n.get("alternate") is not None)
    ),
    "function": lambda n: (
        n["type"] in ("FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression")
    ),
    "return": lambda n: n["type"] == "ReturnStatement" and n.get("argument") is not None,
    "let": lambda n: n["type"] == "VariableDeclaration" and n["kind"] == "let",
    "const": lambda n: n["type"] == "VariableDeclaration" and n["kind"] == "const",
    "var": lambda n: n["type"] == "VariableDeclaration" and n["kind"] == "var",
    "break": lambda n: n["type"] == "BreakStatement",
    "continue": lambda n: n["type"] == "ContinueStatement",
    "true": lambda n: n["type"] == "Literal" and n.get("value") is True,
    "false": lambda n: n["type"] == "Literal" and n.get("value") is False,
    "null": lambda n: n["type"] == "Literal" and n.get("raw") == "null",
    "typeof": lambda n: n["type"] == "UnaryExpression" and n["operator"] == "typeof",
    "new": lambda n: n["type"] == "NewExpression",
    "class": lambda n: n["type"] in ("ClassDeclaration", "ClassExpression"),
}
_FUNCS = ("FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression")
_LOOPS = ("ForStatement", "ForOfStatement", "ForInStatement", "WhileStatement", "DoWhileStatement")
_COMPOUND = ("IfStatement", "BlockStatement", *_LOOPS)


def parse(source: str) -> Node | None:
    """ESTree of `source` as plain dicts, or None when it does not parse."""
    import esprima  # lazily: only constraint checks need it

    try:
        return esprima.parseScript(source).toDict()
    except Exception:  # esprima raises its own Error for every syntax problem
        return None


def children(node: Node) -> Iterator[Node]:
    for key, value in node.items():
        if key in ("type", "loc", "range"):
            continue
        if isinstance(value, dict) and "type" in value:
            yield value
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, dict) and "type" in v:
                    yield v


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(children(n))


def operator_matches(op: str, node: Node) -> bool:
    """Whether `node` really applies required operator `op` (see module docstring)."""
    ops = OPERATOR_ALIASES.get(op, (op,))
    t = node["type"]
    if t in ("BinaryExpression", "LogicalExpression"):
        return node["operator"] in ops
    if t == "UnaryExpression":
        return node["operator"] in ops and op not in ("-", "+")
    if t == "AssignmentExpression":
        return node["operator"] in ops or node["operator"] in tuple(o + "=" for o in ops)
    if t == "UpdateExpression":
        return (node["operator"] == "++" and "+" in ops) or (
            node["operator"] == "--" and "-" in ops
        )
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_matches(n: int | float, node: Node) -> bool:
    if node["type"] == "Literal":
        return _is_number(node.get("value")) and node["value"] == n
    return (
        n < 0
        and node["type"] == "UnaryExpression"
        and node["operator"] == "-"
        and node["argument"]["type"] == "Literal"
        and _is_number(node["argument"].get("value"))
        and -node["argument"]["value"] == n
    )


def string_matches(s: str, node: Node) -> bool:
    if node["type"] == "Literal":
        return isinstance(node.get("value"), str) and node["value"] == s
    if node["type"] == "TemplateElement":
        return (node.get("value") or {}).get("cooked") == s
    return False


def keyword_matches(kw: str, node: Node) -> bool:
    check = KEYWORD_NODES.get(kw)
    if check is not None:
        return bool(check(node))
    if node["type"] == "Identifier":
        return node["name"] == kw
    return False


def _constant(node: Node | None) -> bool | None:
    """Truthiness of a literal test, None when not a literal."""
    if node is None:
        return None
    if node["type"] == "Literal" and not node.get("regex"):
        return bool(node.get("value"))
    if node["type"] == "ArrayExpression":
        return True
    return None


def _is_print(call: Node) -> bool:
    c = call.get("callee") or {}
    return (
        c.get("type") == "MemberExpression"
        and not c.get("computed")
        and (c.get("object") or {}).get("type") == "Identifier"
        and c["object"]["name"] == "console"
        and (c.get("property") or {}).get("name") in ("log", "info", "debug")
    )


@dataclass
class _Stmt:
    node: Node
    owner: str | None  # enclosing function name (None: top level or anonymous)
    parent: _Stmt | None
    dead: bool
    reads: set[str] = field(default_factory=set)
    defines: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    value_calls: set[str] = field(default_factory=set)  # calls whose result is used
    prints: bool = False
    live: bool = False


class Analysis:
    """Liveness facts for one program; `missing(task)` lists unmet constraints."""

    def __init__(self, tree: Node) -> None:
        self.tree = tree
        self.stmts: list[_Stmt] = []
        self.where: dict[int, tuple[_Stmt | None, bool]] = {}  # id(node) -> (statement, dead)
        self.functions: dict[str, Node] = {}
        self._visit_body(tree.get("body", []), None, None, False)
        self.live_funcs: set[str] = set()
        self.value_funcs: set[str] = set()
        self._fixed_point()

    # -- collection -------------------------------------------------------------------------------

    def _visit_body(self, body: list[Node], owner: str | None, parent: _Stmt | None, dead: bool):
        for s in body:
            self._visit_stmt(s, owner, parent, dead)

    def _visit_stmt(self, node: Node, owner: str | None, parent: _Stmt | None, dead: bool) -> None:
        t = node["type"]
        st = _Stmt(node, owner, parent, dead)
        self.stmts.append(st)
        self.where[id(node)] = (st, dead)
        if t == "FunctionDeclaration":
            name = (node.get("id") or {}).get("name")
            if name:
                self.functions[name] = node
                st.defines.add(name)
            self._visit_function(node, name, st, dead)
            return
        if t == "BlockStatement":
            self._visit_body(node["body"], owner, st, dead)
        elif t == "IfStatement":
            c = _constant(node["test"])
            self._expr(node["test"], st, dead, used=True)
            self._visit_stmt(node["consequent"], owner, st, dead or c is False)
            if node.get("alternate"):
                self._visit_stmt(node["alternate"], owner, st, dead or c is True)
        elif t in ("WhileStatement", "DoWhileStatement"):
            c = _constant(node["test"])
            self._expr(node["test"], st, dead, used=True)
            self._visit_stmt(
                node["body"], owner, st, dead or (c is False and t == "WhileStatement")
            )
        elif t == "ForStatement":
            if node.get("init"):
                if node["init"]["type"] == "VariableDeclaration":
                    self._declaration(node["init"], st, dead)
                else:
                    self._expr(node["init"], st, dead, used=False)
            if node.get("test"):
                self._expr(node["test"], st, dead, used=True)
            if node.get("update"):
                self._expr(node["update"], st, dead, used=False)
            c = _constant(node.get("test"))
            self._visit_stmt(node["body"], owner, st, dead or c is False)
        elif t in ("ForOfStatement", "ForInStatement"):
            left = node["left"]
            if left["type"] == "VariableDeclaration":
                for d in left["declarations"]:
                    self._target(d["id"], st, dead)
            else:
                self._target(left, st, dead)
            right = node["right"]
            self._expr(right, st, dead, used=True)
            empty = (
                right["type"] in ("ArrayExpression",)
                and not right["elements"]
                or (right["type"] == "Literal" and right.get("value") == "")
            )
            self._visit_stmt(node["body"], owner, st, dead or empty)
        elif t == "VariableDeclaration":
            self._declaration(node, st, dead)
        elif t == "ExpressionStatement":
            self._expr(node["expression"], st, dead, used=False)
        elif t == "ReturnStatement":
            if node.get("argument"):
                self._expr(node["argument"], st, dead, used=True)
        else:
            for ch in children(node):
                self._expr(ch, st, dead, used=True)

    def _visit_function(self, node: Node, name: str | None, st: _Stmt, dead: bool) -> None:
        if name is None:
            # An anonymous function (IIFE, callback) counts as called by the statement holding
            # it, with its result used: the generous reading, as a builtin may call it.
            name = f"<anonymous@{id(node)}>"
            self.functions[name] = node
            if not dead:
                st.calls.add(name)
                st.value_calls.add(name)
        for p in node.get("params", []):
            self.where[id(p)] = (st, dead)
        body = node["body"]
        if body["type"] == "BlockStatement":
            self._visit_body(body["body"], name, None, dead)
        else:  # arrow with an expression body: its value is the function's result
            self._expr(body, st, dead, used=True)

    def _declaration(self, node: Node, st: _Stmt, dead: bool) -> None:
        self.where[id(node)] = (st, dead)
        for d in node["declarations"]:
            init = d.get("init")
            if init is not None and init["type"] in (
                "FunctionExpression",
                "ArrowFunctionExpression",
            ):
                name = d["id"].get("name")
                if name:
                    self.functions[name] = init
                    st.defines.add(name)
                    self.where[id(init)] = (st, dead)
                    self._visit_function(init, name, st, dead)
                continue
            self._target(d["id"], st, dead)
            if init is not None:
                self._expr(init, st, dead, used=True)

    def _target(self, node: Node, st: _Stmt, dead: bool) -> None:
        self.where[id(node)] = (st, dead)
        if node["type"] == "Identifier":
            st.defines.add(node["name"])
        elif node["type"] == "MemberExpression":  # a[i] = v mutates a; the index is read
            base = node
            while base["type"] == "MemberExpression":
                if base.get("computed"):
                    self._expr(base["property"], st, dead, used=True)
                base = base["object"]
            if base["type"] == "Identifier":
                st.defines.add(base["name"])
                self.where[id(base)] = (st, dead)
        else:
            for ch in walk(node):
                self.where[id(ch)] = (st, dead)
                if ch["type"] == "Identifier":
                    st.defines.add(ch["name"])

    def _expr(self, node: Node, st: _Stmt, dead: bool, used: bool) -> None:
        self.where[id(node)] = (st, dead)
        t = node["type"]
        if t == "Identifier":
            if not dead:
                st.reads.add(node["name"])
        elif t == "AssignmentExpression":
            self._target(node["left"], st, dead)
            if node["operator"] != "=" and node["left"]["type"] == "Identifier" and not dead:
                st.reads.add(node["left"]["name"])
            self._expr(node["right"], st, dead, used=True)
        elif t == "UpdateExpression":
            self._target(node["argument"], st, dead)
            if node["argument"]["type"] == "Identifier" and not dead:
                st.reads.add(node["argument"]["name"])
        elif t == "CallExpression":
            callee = node["callee"]
            if _is_print(node):
                if not dead:
                    st.prints = True
                self.where[id(callee)] = (st, dead)
                for part in walk(callee):
                    self.where[id(part)] = (st, dead)
            elif callee["type"] == "Identifier":
                self.where[id(callee)] = (st, dead)
                if not dead:
                    st.calls.add(callee["name"])
                    if used:
                        st.value_calls.add(callee["name"])
                    st.reads.add(callee["name"])
            else:
                self._expr(callee, st, dead, used=True)
            for a in node["arguments"]:
                self._expr(a, st, dead, used=True)
        elif t == "LogicalExpression":
            c = _constant(node["left"])
            self._expr(node["left"], st, dead, used=True)
            skip = (node["operator"] == "||" and c is True) or (
                node["operator"] == "&&" and c is False
            )
            self._expr(node["right"], st, dead or skip, used=used)
        elif t == "ConditionalExpression":
            c = _constant(node["test"])
            self._expr(node["test"], st, dead, used=True)
            self._expr(node["consequent"], st, dead or c is False, used=used)
            self._expr(node["alternate"], st, dead or c is True, used=used)
        elif t in ("FunctionExpression", "ArrowFunctionExpression"):
            self._visit_function(node, None, st, dead)
        elif t == "MemberExpression":
            self._expr(node["object"], st, dead, used=True)
            if node.get("computed"):
                self._expr(node["property"], st, dead, used=True)
            else:
                self.where[id(node["property"])] = (st, dead)
        elif t == "Property":
            if node.get("computed"):
                self._expr(node["key"], st, dead, used=True)
            else:
                self.where[id(node["key"])] = (st, dead)
            self._expr(node["value"], st, dead, used=True)
        else:
            for ch in children(node):
                self._expr(ch, st, dead, used=True)

    # -- liveness ---------------------------------------------------------------------------------

    def _owner_live(self, st: _Stmt) -> bool:
        return st.owner is None or st.owner in self.live_funcs

    def _fixed_point(self) -> None:
        names: set[str] = set()
        changed = True
        while changed:
            changed = False
            for st in self.stmts:
                if st.live or st.dead or not self._owner_live(st):
                    continue
                n = st.node
                simple = n["type"] not in _COMPOUND and n["type"] != "FunctionDeclaration"
                live = False
                if simple:
                    live = (
                        st.prints
                        or bool(st.defines & names)
                        or (
                            n["type"] == "ReturnStatement"
                            and n.get("argument") is not None
                            and st.owner in self.value_funcs
                        )
                        or bool(st.calls & self._printing_funcs())
                    )
                elif n["type"] in _LOOPS and st.defines & names:
                    live = True  # a loop variable read by a live statement
                if live:
                    self._mark(st, names)
                    changed = True
            # arrow/function expressions bound to names: their body is visited with the name
        self.names = names

    def _printing_funcs(self) -> set[str]:
        return {s.owner for s in self.stmts if s.prints and s.owner and not s.dead}

    def _mark(self, st: _Stmt | None, names: set[str]) -> None:
        while st is not None and not st.live:
            st.live = True
            names |= st.reads
            for f in st.calls:
                if f in self.functions:
                    self.live_funcs.add(f)
            self.value_funcs |= st.value_calls & set(self.functions)
            if st.node["type"] == "FunctionDeclaration":
                break
            st = st.parent

    def node_live(self, node: Node) -> bool:
        """An expression or statement node is live: its statement is live and it is not dead."""
        st, dead = self.where.get(id(node), (None, True))
        if dead or st is None:
            return False
        if node["type"] in _FUNCS:
            return any(f is node and n in self.live_funcs for n, f in self.functions.items())
        if node["type"] in ("IfStatement", *_LOOPS):
            if node["type"] == "IfStatement" and _constant(node["test"]) is not None:
                return False
            if node["type"] == "WhileStatement" and _constant(node["test"]) is False:
                return False
        return st.live and self._owner_live(st)


def missing_constraints(task: Any, source: str) -> list[str]:
    """Constraints of `task` with no live matching construct in `source` (all, if unparsable)."""
    tree = parse(source)
    wanted = (
        [f"operator {op!r}" for op in task.required_operators]
        + [f"number {n!r}" for n in task.required_numbers]
        + [f"string {s!r}" for s in task.required_strings]
        + [f"keyword {k!r}" for k in task.required_keywords]
    )
    if tree is None:
        return wanted
    a = Analysis(tree)
    nodes = [n for n in walk(tree) if a.node_live(n)]
    matchers = (operator_matches, number_matches, string_matches, keyword_matches)
    return missing_among(task, nodes, matchers)

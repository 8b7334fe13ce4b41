"""Minimal JavaScript solutions: delta debugging on the program text, guided by esprima's tree.

The JavaScript twin of `engine/search/minimise.py`, with the same contract: `minimise(code,
succeeds)` proposes every single reduction of the current program, shortest candidates first,
keeps the first that still succeeds (`succeeds` is the task's own reward, run in the sandbox on
batches), and stops at a fixed point where no single reduction succeeds (1-minimal). Reductions
are text splices at esprima's `range` offsets, so the rest of the program keeps its layout:

* a statement of a block or of the program is deleted;
* an `if`/`for`/`while` is replaced by its body's statements, an `if` by its `else` branch, and
  an `else` branch is dropped;
* an expression is replaced by one of its parts: either operand of a binary or logical
  operator, the operand of a unary operator, a branch of `?:`, a call's only argument
  (`Math.max(x)` -> `x`), the right side of `x = e` used as a value;
* one element of an array literal or one argument of a call is dropped.

Every candidate is shorter than the program it came from, so the loop ends. The minimiser never
executes code: it parses with esprima only; candidates that do not parse are skipped. If `code`
does not parse or does not succeed, it is returned unchanged.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from typing import Any

Succeeds = Callable[[list[str]], list[bool]]
Node = dict[str, Any]

_STATEMENT_LISTS = ("body", "consequent")  # Program/BlockStatement body, SwitchCase consequent
_LOOPS = ("ForStatement", "WhileStatement", "DoWhileStatement", "ForInStatement", "ForOfStatement")


def _parse(code: str) -> Node | None:
    import esprima  # lazily, as the constraint checker does

    try:
        return esprima.parseScript(code, {"range": True}).toDict()
    except Exception:  # esprima raises its own Error for every syntax problem
        return None


def _children(node: Node) -> Iterator[Node]:
    for key, value in node.items():
        if key in ("type", "range", "loc"):
            continue
        if isinstance(value, dict) and "type" in value:
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, dict) and "type" in v)


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(_children(n))))


def _indent_at(code: str, pos: int) -> str:
    """The whitespace between the start of `pos`'s line and `pos` ("" if other text is there)."""
    line_start = code.rfind("\n", 0, pos) + 1
    lead = code[line_start:pos]
    return lead if not lead.strip() else ""


def _body_text(code: str, stmt: Node, at: int | None = None) -> str | None:
    """The statements inside `stmt` (a block's contents, or the single statement), re-indented
    to sit at offset `at` (where the replaced statement started)."""
    if stmt.get("type") == "BlockStatement":
        body = stmt.get("body") or []
        if not body:
            return None
        start, end = body[0]["range"][0], body[-1]["range"][1]
    else:
        start, end = stmt["range"]
    lines = textwrap.dedent(_indent_at(code, start) + code[start:end]).splitlines()
    pad = _indent_at(code, at) if at is not None else ""
    return "\n".join([lines[0].lstrip()] + [pad + ln for ln in lines[1:]])


def _splice(code: str, rng: list[int], text: str) -> str:
    return code[: rng[0]] + text + code[rng[1] :]


def _paren(code: str, node: Node) -> str:
    return "(" + code[node["range"][0] : node["range"][1]] + ")"


def _candidates(code: str, tree: Node) -> Iterator[str]:
    """Every single reduction of `code` (may repeat; the caller dedups)."""
    for node in _walk(tree):
        kind = node.get("type")
        # statements: delete one from any statement list
        for field in _STATEMENT_LISTS:
            stmts = node.get(field)
            if isinstance(stmts, list) and kind in ("Program", "BlockStatement", "SwitchCase"):
                for s in stmts:
                    yield _splice(code, s["range"], "")
        if kind == "IfStatement":
            for branch in (node.get("consequent"), node.get("alternate")):
                if branch is not None:
                    inner = _body_text(code, branch, node["range"][0])
                    yield _splice(code, node["range"], inner or "")
            alt = node.get("alternate")
            if alt is not None:
                cons = node["consequent"]
                yield code[: cons["range"][1]] + code[alt["range"][1] :]
        elif kind == "FunctionDeclaration" and node.get("id"):
            yield _inline_function(code, tree, node)
        elif kind in _LOOPS:
            inner = _body_text(code, node["body"], node["range"][0])
            yield _splice(code, node["range"], inner or "")
        # expressions: stand-ins from their parts
        parts: list[Node] = []
        if kind in ("BinaryExpression", "LogicalExpression"):
            parts = [node["left"], node["right"]]
        elif kind == "UnaryExpression":
            parts = [node["argument"]]
        elif kind == "ConditionalExpression":
            parts = [node["consequent"], node["alternate"]]
        elif kind == "CallExpression" and len(node.get("arguments") or []) == 1:
            parts = [node["arguments"][0]]
        elif kind == "ArrayExpression" and len(node.get("elements") or []) == 1:
            parts = [e for e in node["elements"] if e is not None]
        elif kind == "AssignmentExpression" and node.get("operator") == "=":
            parts = [node["right"]]
        for part in parts:
            if part.get("type") == "SpreadElement":
                continue
            yield _splice(code, node["range"], _paren(code, part))
            yield _splice(code, node["range"], code[part["range"][0] : part["range"][1]])
        # lists: drop one array element or call argument
        items = node.get("elements") if kind == "ArrayExpression" else None
        if kind in ("CallExpression", "NewExpression"):
            items = node.get("arguments")
        if kind in ("FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"):
            items = node.get("params")
        if items:
            for i, item in enumerate(items):
                if item is None:
                    continue
                start = item["range"][0] if i == 0 else items[i - 1]["range"][1]
                end = items[i + 1]["range"][0] if i == 0 and len(items) > 1 else item["range"][1]
                yield code[:start] + code[end:]
        # a parenthesised expression's brackets (esprima keeps no node for them)
        if kind not in (None, "Program") and "range" in node:
            s, e = node["range"]
            if s > 0 and e < len(code) and code[s - 1] == "(" and code[e] == ")":
                before = code[: s - 1].rstrip()
                if not before or not (before[-1].isalnum() or before[-1] in "_$)]"):
                    yield code[: s - 1] + code[s:e] + code[e + 1 :]


def _inline_function(code: str, tree: Node, fn: Node) -> str:
    """The function's body in place of its declaration, statements that only call it removed
    (a wrapper the program does not need: `function f() { console.log(x) } f();`)."""
    name = fn["id"].get("name")
    cuts = []
    for node in _walk(tree):
        if node.get("type") != "ExpressionStatement":
            continue
        call = node.get("expression") or {}
        callee = call.get("callee") or {}
        if call.get("type") == "CallExpression" and callee.get("name") == name:
            cuts.append((node["range"], ""))
    cuts.append((fn["range"], _body_text(code, fn["body"], fn["range"][0]) or ""))
    out = code
    for rng, text in sorted(cuts, key=lambda c: c[0][0], reverse=True):
        out = _splice(out, rng, text)
    return out


def minimise(code: str, succeeds: Succeeds, batch: int = 32, max_rounds: int = 200) -> str:
    """The 1-minimal reduction of `code` that still succeeds (see the module docstring)."""
    if _parse(code) is None or not succeeds([code])[0]:
        return code
    current = code
    for _ in range(max_rounds):
        tree = _parse(current)
        if tree is None:
            break
        seen: set[str] = set()
        cands = []
        for c in _candidates(current, tree):
            c = "\n".join(ln.rstrip() for ln in c.splitlines() if ln.strip()) + "\n"
            if len(c) < len(current) and c not in seen and c.strip():
                seen.add(c)
                cands.append(c)
        cands = [c for c in sorted(cands, key=len) if _parse(c) is not None]
        found = None
        for i in range(0, len(cands), batch):
            chunk = cands[i : i + batch]
            ok = succeeds(chunk)
            found = next((c for c, good in zip(chunk, ok, strict=True) if good), None)
            if found is not None:
                break
        if found is None:
            break
        current = found
    return current

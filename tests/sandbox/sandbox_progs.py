"""Seeded generator of programs in the style the policy writes (shared by tests and the bench)."""

from __future__ import annotations

import random

NAMES = ("x", "y", "s", "n")
OPS = ("+", "-", "*", "//", "%", "/")
CMPS = ("<", ">", "==", "!=", "<=", ">=")


def _atom(rng: random.Random, defined: list[str]) -> str:
    if defined and rng.random() < 0.6:
        return rng.choice(defined)
    return str(rng.randint(0, 20))


def _expr(rng: random.Random, defined: list[str], depth: int = 0) -> str:
    r = rng.random()
    if depth >= 2 or r < 0.35:
        return _atom(rng, defined)
    if r < 0.8:
        return (
            f"{_expr(rng, defined, depth + 1)} {rng.choice(OPS)} {_expr(rng, defined, depth + 1)}"
        )
    if r < 0.9:
        return f"({_expr(rng, defined, depth + 1)})"
    fn = rng.choice(("abs", "len(str", "max", "min"))
    if fn == "len(str":
        return f"len(str({_expr(rng, defined, depth + 1)}))"
    if fn == "abs":
        return f"abs({_expr(rng, defined, depth + 1)})"
    return f"{fn}({_expr(rng, defined, depth + 1)}, {_expr(rng, defined, depth + 1)})"


def _stmt(rng: random.Random, defined: list[str], indent: str, depth: int) -> list[str]:
    r = rng.random()
    if r < 0.35:
        name = rng.choice(NAMES)
        line = f"{indent}{name} = {_expr(rng, defined)}"
        if name not in defined:
            defined.append(name)
        return [line]
    if r < 0.6:
        return [f"{indent}print({_expr(rng, defined)})"]
    if r < 0.65:
        return [f"{indent}print({rng.choice(['undefined_name', 'x', 'n'])})"]
    if r < 0.7:
        return [
            f"{indent}print('{rng.choice(['Greater', 'Less', 'Hello', ''])}' + {_atom(rng, defined)})"
        ]
    if depth >= 2:
        return [f"{indent}print({_expr(rng, defined)})"]
    if r < 0.82:
        var = rng.choice(("i", "j"))
        inner = defined + [var]
        lines = [f"{indent}for {var} in range({rng.randint(0, 3)}, {rng.randint(3, 8)}):"]
        for _ in range(rng.randint(1, 2)):
            lines += _stmt(rng, inner, indent + "    ", depth + 1)
        return lines
    if r < 0.94:
        lines = [f"{indent}if {_expr(rng, defined)} {rng.choice(CMPS)} {_expr(rng, defined)}:"]
        lines += _stmt(rng, list(defined), indent + "    ", depth + 1)
        if rng.random() < 0.5:
            lines.append(f"{indent}else:")
            lines += _stmt(rng, list(defined), indent + "    ", depth + 1)
        return lines
    a, b = rng.sample(("a", "b", "c"), 2)
    body = _expr(rng, [a, b])
    call = f"f({_atom(rng, defined)}, {_atom(rng, defined)})"
    return [f"{indent}def f({a}, {b}):", f"{indent}    return {body}", f"{indent}print({call})"]


def generate(rng: random.Random) -> str:
    """One short program: assignments, prints, loops, ifs, small functions (some raise)."""
    defined: list[str] = []
    lines: list[str] = []
    for _ in range(rng.randint(1, 4)):
        lines += _stmt(rng, defined, "", 0)
    return "\n".join(lines) + "\n"


TYPICAL = (
    "print(5+3)",
    "x = 5\ny = 3\nprint(x + y)",
    "s = 0\nfor i in range(1, 6):\n    s += i\nprint(s)",
    "def f(a, b):\n    return (a + b) / 2\nprint(f(10, 20))",
    "if 15 > 10:\n    print('Greater')",
    "print(q)",
    "print(10 / 0)",
    "print('a' + 1)",
)

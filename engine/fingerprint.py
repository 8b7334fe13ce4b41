"""Program fingerprints and exploration boosts (the repetition penalty lives in the reward:
`engine.reward.shaping.ShapeMemory`, re-exported here).

Two fingerprints per program: the normalised text (comments, blank lines and spacing do not matter)
and a syntax-aware shape (names and literal values abstracted), so `x = 5; print(x + 3)` and
`y = 2; print(y + 9)` share a shape. The trainer takes shapes from the token ids it sampled
(`TokenShapes`: one table lookup per token, no parse; a run of digits is one number), the text
fingerprint for the displayed program only; `shape_fingerprint` is the same idea on source text. Repeating a failing shape costs a little reward (growing with
the repetitions, bounded); when most recent programs are repeats, the entropy bonus is raised for a
while and decays back.
"""

from __future__ import annotations

import ast
import hashlib
import io
import keyword
import tokenize
from collections import deque

import numpy as np

from engine.reward.shaping import ShapeMemory

__all__ = [
    "ExplorationBoost",
    "ShapeMemory",
    "TokenShapes",
    "shape_fingerprint",
    "text_fingerprint",
]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=6).hexdigest()


def normalise_text(code: str) -> str:
    """Code with comments, blank lines and insignificant spacing removed."""
    try:
        toks = tokenize.generate_tokens(io.StringIO(code).readline)
        parts = []
        for t in toks:
            if t.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING):
                continue
            if t.type == tokenize.NEWLINE:
                parts.append("\n")
            elif t.type == tokenize.INDENT:
                parts.append("<in>")
            elif t.type == tokenize.DEDENT:
                parts.append("<de>")
            else:
                parts.append(t.string + " ")
        return "".join(parts).strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return " ".join(code.split())


def text_fingerprint(code: str) -> str:
    """Hash of the normalised text."""
    return _digest(normalise_text(code))


class _Abstract(ast.NodeTransformer):
    """Names become `_`, literal values become their type."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id="_", ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.copy_location(ast.arg(arg="_"), node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.name = "_"
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.copy_location(ast.Constant(value=type(node.value).__name__), node)


def shape(code: str) -> str:
    """The program's AST with identifiers and literals abstracted (or '' if it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    try:
        return ast.dump(_Abstract().visit(tree), annotate_fields=False)
    except RecursionError:
        return ""


def shape_fingerprint(code: str) -> str:
    """Hash of the abstracted AST: programs that differ only in names and numbers share it."""
    s = shape(code)
    return _digest(s) if s else "unparsed"


class TokenShapes:
    """Shape fingerprints of sampled token rows: identifiers become one class, number and string
    literals another each (a run of number pieces is one number), everything else stays itself.
    Programs that differ only in names and literal values share a shape, as with
    `shape_fingerprint`; unlike it, redundant parentheses count (the grammar rarely writes them)."""

    NAME, NUMBER, STRING = -1, -2, -3

    def __init__(self, tokens: list[str]) -> None:
        words = set(keyword.kwlist) | {"True", "False", "None"}
        cls = np.arange(len(tokens), dtype=np.int32)
        for i, t in enumerate(tokens):
            if t[:1] in ("'", '"'):
                cls[i] = self.STRING
            elif t[:1].isdigit():
                cls[i] = self.NUMBER
            elif t.isidentifier() and t not in words:
                cls[i] = self.NAME
        self.classes = cls

    def of(self, row: np.ndarray) -> str:
        """The fingerprint of one row of token ids (without padding)."""
        c = self.classes[row]
        if len(c) > 1:  # digits written piece by piece are one number
            keep = np.ones(len(c), dtype=bool)
            keep[1:] = ~((c[1:] == self.NUMBER) & (c[:-1] == self.NUMBER))
            c = c[keep]
        return hashlib.blake2b(c.tobytes(), digest_size=6).hexdigest()


class ExplorationBoost:
    """Raises the entropy bonus when recent batches are mostly repeats, then decays it back."""

    def __init__(
        self, threshold: float = 0.85, window: int = 10, strength: float = 0.1, duration: int = 150
    ):
        self.threshold, self.strength, self.duration = threshold, strength, duration
        self.recent: deque[float] = deque(maxlen=window)
        self.left = 0
        self.boosts = 0

    @property
    def value(self) -> float:
        """Extra entropy weight now (linear decay over the boost)."""
        if self.left <= 0:
            return 0.0
        return self.strength * self.left / self.duration

    def observe(self, repeat_share: float) -> str | None:
        """Record a batch's share of repeated programs; returns a message when a boost starts or ends."""
        self.recent.append(repeat_share)
        if self.left > 0:
            self.left -= 1
            if self.left == 0:
                self.recent.clear()
                return "exploration boost ended"
            return None
        full = len(self.recent) == self.recent.maxlen
        if self.strength > 0 and full and sum(self.recent) / len(self.recent) >= self.threshold:
            self.left = self.duration
            self.boosts += 1
            share = sum(self.recent) / len(self.recent)
            return f"exploration boost: {100 * share:.0f}% of recent programs were repeats; entropy bonus +{self.strength:g}"
        return None

"""Python pieces at keyword/operator/literal granularity, and their translation back to runnable code.

The vocabulary is a fixed, task-agnostic base (keywords, a few builtins, short names, digits,
operators, punctuation, layout tokens) plus what a task names itself: its input names (tasks with
test cases bind them as globals before the program runs), its required numbers and strings, quoted
strings in its description, and the literals and names of its valid patterns (the latter only so
that any pattern can be encoded; the grammar decides what the policy may write).
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
from collections.abc import Iterable, Sequence

PAD, SOS, EOS, UNK = "<pad>", "<sos>", "<eos>", "<unk>"
NEWLINE, INDENT, DEDENT = "<newline>", "<indent>", "<dedent>"
SPECIALS = (PAD, SOS, EOS, UNK, NEWLINE, INDENT, DEDENT)

KEYWORDS = (
    "if", "elif", "else", "for", "in", "while", "def", "return", "and", "or", "not",
    "pass", "break", "continue", "True", "False", "None", "lambda", "is",
)  # fmt: skip
BUILTINS = ("print", "range", "sum", "len", "str", "int", "float", "abs", "min", "max", "list")
VARIABLES = ("x", "y", "i", "n", "a", "b", "s", "t")  # names the policy may bind
FUNCTIONS = ("f", "g")  # names the policy may define functions under
DIGITS = tuple(str(d) for d in range(10))
OPERATORS = (
    "+", "-", "*", "/", "//", "%", "**", "=", "+=", "-=", "*=", "/=",
    "==", "!=", "<", ">", "<=", ">=",
)  # fmt: skip
PUNCTUATION = ("(", ")", "[", "]", "{", "}", ",", ":", ".")
BASE_VOCAB = (
    SPECIALS + KEYWORDS + BUILTINS + VARIABLES + FUNCTIONS + DIGITS + OPERATORS + PUNCTUATION
)

_QUOTED = re.compile(r"'([^'\n]{1,40})'")


def literal_token(value: object) -> str:
    """The vocabulary spelling of a number or string literal."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def task_input_names(task: object) -> tuple[str, ...]:
    """Names a task binds before the program runs: `task.input_names`, else the first case's inputs.

    Works with tasks from before test cases existed (no attribute: no inputs).
    """
    names = tuple(getattr(task, "input_names", ()) or ())
    if not names:
        for case in getattr(task, "tests", ()) or ():
            inputs = getattr(case, "inputs", None)
            if inputs is None and isinstance(case, dict):
                inputs = case.get("inputs")
            names = tuple(inputs or ())
            break
    return tuple(n for n in names if isinstance(n, str) and n.isidentifier())


def task_literals(task: object) -> tuple[list[str], list[str]]:
    """(generative literals, encodable-only pieces) that a task names.

    Generative: required numbers and strings, strings quoted in the description. Encodable only:
    literals and names found in the valid patterns.
    """
    gen: list[str] = []
    for n in getattr(task, "required_numbers", ()) or ():
        gen.append(literal_token(n))
    for s in getattr(task, "required_strings", ()) or ():
        gen.append(repr(str(s)))
    for s in _QUOTED.findall(getattr(task, "description", "") or ""):
        gen.append(repr(s))
    extra: list[str] = []
    for src in getattr(task, "valid_patterns", ()) or ():
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
                if not isinstance(node.value, bool):
                    extra.append(literal_token(node.value))
            elif isinstance(node, ast.Name):
                extra.append(node.id)
            elif isinstance(node, ast.arg):
                extra.append(node.arg)
            elif isinstance(node, ast.FunctionDef):
                extra.append(node.name)
            elif isinstance(node, ast.Attribute):
                extra.append(node.attr)
    return gen, extra


class Tokenizer:
    """Maps Python source to token ids and back."""

    def __init__(
        self,
        extra_generative: Iterable[str] = (),
        extra_encodable: Iterable[str] = (),
        input_names: Iterable[str] = (),
    ):
        # input names are bound before the program runs; the grammar lets them be read at once
        self.input_names: tuple[str, ...] = tuple(dict.fromkeys(input_names))
        extra_generative = list(self.input_names) + list(extra_generative)
        tokens: list[str] = list(BASE_VOCAB)
        seen = set(tokens)
        # what the task names, in order, including pieces the base vocabulary already has (a
        # required 3 is a digit token, yet the grammar must know the task offers it)
        self.task_tokens: list[str] = list(dict.fromkeys(extra_generative))
        for t in self.task_tokens:
            if t not in seen:
                tokens.append(t)
                seen.add(t)
        self.generative = set(BASE_VOCAB) | set(self.task_tokens)
        for t in extra_encodable:
            if t not in seen:
                tokens.append(t)
                seen.add(t)
        self.tokens: list[str] = tokens
        self.index: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.pad, self.sos, self.eos, self.unk = (self.index[t] for t in (PAD, SOS, EOS, UNK))
        self.newline, self.indent, self.dedent = (self.index[t] for t in (NEWLINE, INDENT, DEDENT))

    @classmethod
    def for_task(cls, task: object) -> Tokenizer:
        gen, extra = task_literals(task)
        return cls(gen, extra, task_input_names(task))

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        return self.index.get(token, self.unk)

    # -- encoding ---------------------------------------------------------------------------------

    def encode(self, source: str) -> list[int]:
        """Token ids of `source` (no SOS/EOS). Comments and blank lines are dropped; unknown pieces -> UNK."""
        out: list[int] = []
        text = source.expandtabs(4)
        if not text.endswith("\n"):
            text += "\n"
        try:
            stream = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            return [self.unk]
        for tok in stream:
            kind, s = tok.type, tok.string
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER, tokenize.ENCODING):
                continue
            if kind == tokenize.NEWLINE:
                if out and out[-1] not in (self.newline,):
                    out.append(self.newline)
            elif kind == tokenize.INDENT:
                out.append(self.indent)
            elif kind == tokenize.DEDENT:
                out.append(self.dedent)
            elif kind == tokenize.STRING:
                try:
                    value = ast.literal_eval(s)
                except (ValueError, SyntaxError):
                    out.append(self.unk)
                    continue
                out.append(self.index.get(literal_token(value), self.unk))
            elif kind == tokenize.NUMBER:
                out.append(self.index.get(s, self.unk))
            elif kind in (tokenize.NAME, tokenize.OP):
                out.extend(self._match(s))
            else:
                out.append(self.unk)
        return out

    def _match(self, piece: str) -> list[int]:
        """Greedy longest match of an operator run or name against the vocabulary."""
        if piece in self.index:
            return [self.index[piece]]
        if piece.isidentifier():
            return [self.unk]
        ids: list[int] = []
        i = 0
        while i < len(piece):
            for j in range(len(piece), i, -1):
                if piece[i:j] in self.index:
                    ids.append(self.index[piece[i:j]])
                    i = j
                    break
            else:
                ids.append(self.unk)
                i += 1
        return ids

    # -- decoding ---------------------------------------------------------------------------------

    def decode(self, ids: Sequence[int]) -> str:
        """Runnable Python for a token-id sequence (stops at EOS; PAD/SOS ignored)."""
        return decode_tokens([self.tokens[i] for i in ids])


_OPENERS = {"(", "[", "{", "."}
_CLOSERS = {")", "]", "}", ",", ":", "."}
_WORDS = set(keyword.kwlist) | {"True", "False", "None"}
_UNARY_AFTER = {
    "(",
    "[",
    "{",
    ",",
    ":",
    "return",
    "in",
    "if",
    "else",
    "elif",
    "while",
    "and",
    "or",
    "not",
    "lambda",
}


def decode_tokens(tokens: Sequence[str]) -> str:
    """Join token strings into source text with conventional spacing and 4-space indentation."""
    lines: list[str] = []
    depth = 0
    line: list[str] = []
    prev = ""
    prev_unary = False
    for tok in tokens:
        if tok == EOS:
            break
        if tok in (PAD, SOS):
            continue
        if tok in (NEWLINE, INDENT, DEDENT):
            if line:
                lines.append("    " * depth + "".join(line))
            line, prev, prev_unary = [], "", False
            if tok == INDENT:
                depth += 1
            elif tok == DEDENT:
                depth = max(0, depth - 1)
            continue
        if tok == UNK:
            tok = "__unk__"
        unary = tok in ("-", "+") and (not line or prev in _UNARY_AFTER or prev in OPERATORS)
        if not line or prev in _OPENERS or prev_unary or tok in _CLOSERS:
            sep = ""
        elif tok in ("(", "["):
            named = prev.isidentifier() and prev not in _WORDS
            sep = "" if named or prev in (")", "]") else " "
        else:
            sep = " "
        line.append(sep + tok)
        prev, prev_unary = tok, unary
    if line:
        lines.append("    " * depth + "".join(line))
    return "\n".join(lines) + ("\n" if lines else "")

"""JavaScript pieces at keyword/operator/literal granularity, and their translation back to source.

Same shape as the Python tokenizer (`engine/tokenizer.py`): a fixed, task-agnostic base vocabulary
plus the literals a task names (required numbers and strings, strings quoted in its description:
generative) and the literals and names of its valid patterns (encodable only). Member accesses the
grammar uses are single tokens (`console.log`, `Math.max`, `.length`), so the policy never has to
spell `console . log`. Encoding uses esprima's tokenizer (patterns only, never the hot loop).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

PAD, SOS, EOS, UNK = "<pad>", "<sos>", "<eos>", "<unk>"
SPECIALS = (PAD, SOS, EOS, UNK)

KEYWORDS = (
    "let", "const", "if", "else", "for", "of", "while", "function", "return", "break",
    "true", "false",
)  # fmt: skip
PRINT = "console.log"
BUILTINS = (PRINT, "Math.max", "Math.min", "Math.abs", "Math.floor", "String", "Number")
MEMBERS = (".length",)
VARIABLES = ("x", "y", "i", "n", "a", "b", "s", "t")  # names the policy may bind
FUNCTIONS = ("f", "g")  # names the policy may define functions under
DIGITS = tuple(str(d) for d in range(10))
OPERATORS = (
    "+", "-", "*", "/", "%", "=", "+=", "-=", "*=", "/=", "++", "--",
    "===", "!==", "<", ">", "<=", ">=", "&&", "||", "!", "?",
)  # fmt: skip
PUNCTUATION = ("(", ")", "[", "]", "{", "}", ",", ";", ":")
BASE_VOCAB = (
    SPECIALS + KEYWORDS + BUILTINS + MEMBERS + VARIABLES + FUNCTIONS + DIGITS + OPERATORS
    + PUNCTUATION
)  # fmt: skip

_QUOTED = re.compile(r"""(?<![\w'"])(['"])([^'"\n]{1,60})\1(?![\w])""")
_DOTTED = {b for b in BUILTINS if "." in b}


def literal_token(value: object) -> str:
    """The vocabulary spelling of a number or string literal (JavaScript syntax)."""
    if isinstance(value, str):
        body = json.dumps(value, ensure_ascii=False)[1:-1].replace('\\"', '"').replace("'", "\\'")
        return "'" + body + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # JavaScript has one number type: 5.0 is written 5
    return str(value)


def _esprima() -> Any:
    import esprima  # imported lazily: only pattern encoding and constraint checks need it

    return esprima


def task_literals(task: object) -> tuple[list[str], list[str]]:
    """(generative literals, encodable-only pieces) that a task names."""
    gen: list[str] = []
    for n in getattr(task, "required_numbers", ()) or ():
        gen.append(literal_token(n))
    for s in getattr(task, "required_strings", ()) or ():
        gen.append(literal_token(str(s)))
    for _, s in _QUOTED.findall(getattr(task, "description", "") or ""):
        gen.append(literal_token(s))
    extra: list[str] = []
    for src in getattr(task, "valid_patterns", ()) or ():
        for kind, value in _lex(src) or ():
            if kind == "String":
                extra.append(value)
            elif kind == "Numeric":
                extra.append(value)
            elif kind == "Identifier" and value not in ("console", "log", "Math"):
                extra.append(value)
    return gen, extra


def _lex(source: str) -> list[tuple[str, str]] | None:
    """(esprima token type, spelling) pairs with string literals normalised; None if unlexable."""
    esprima = _esprima()
    try:
        toks = esprima.tokenize(source)
    except Exception:  # esprima raises its own Error type for any lexing problem
        return None
    out: list[tuple[str, str]] = []
    for t in toks:
        if t.type == "String":
            try:
                value = esprima.parseScript(t.value).body[0].expression.value
            except Exception:
                return None
            out.append(("String", literal_token(value)))
        elif t.type == "Numeric":
            try:
                num = float(t.value) if any(c in t.value for c in ".eE") else int(t.value, 0)
            except ValueError:
                out.append(("Numeric", t.value))
                continue
            out.append(("Numeric", literal_token(num)))
        else:
            out.append((t.type, t.value))
    return out


class Tokenizer:
    """Maps JavaScript source to token ids and back."""

    language = "javascript"

    def __init__(
        self,
        extra_generative: Iterable[str] = (),
        extra_encodable: Iterable[str] = (),
        input_names: Iterable[str] = (),
    ):
        tokens: list[str] = list(BASE_VOCAB)
        seen = set(tokens)
        self.task_tokens: list[str] = []
        # a task's input names are globals bound before the program runs: the grammar lets
        # them be read (and assigned) from the first token
        self.input_names: tuple[str, ...] = tuple(dict.fromkeys(input_names))
        for t in [*self.input_names, *extra_generative]:
            if t not in seen:
                tokens.append(t)
                seen.add(t)
                self.task_tokens.append(t)
        self.generative = set(BASE_VOCAB) | set(self.task_tokens)
        for t in extra_encodable:
            if t not in seen:
                tokens.append(t)
                seen.add(t)
        self.tokens: list[str] = tokens
        self.index: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.pad, self.sos, self.eos, self.unk = (self.index[t] for t in (PAD, SOS, EOS, UNK))

    @classmethod
    def for_task(cls, task: object) -> Tokenizer:
        from engine.tokenizer import task_input_names

        gen, extra = task_literals(task)
        return cls(gen, extra, task_input_names(task))

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        return self.index.get(token, self.unk)

    def encode(self, source: str) -> list[int]:
        """Token ids of `source` (no SOS/EOS). Comments dropped; unknown pieces -> UNK."""
        lexed = _lex(source)
        if lexed is None:
            return [self.unk]
        out: list[int] = []
        i = 0
        while i < len(lexed):
            kind, value = lexed[i]
            # `console . log` / `Math . max` -> one token; `. length` -> one token
            if kind == "Identifier" and i + 2 < len(lexed) and lexed[i + 1][1] == ".":
                dotted = f"{value}.{lexed[i + 2][1]}"
                if dotted in _DOTTED:
                    out.append(self.index[dotted])
                    i += 3
                    continue
            if value == "." and i + 1 < len(lexed) and "." + lexed[i + 1][1] in self.index:
                out.append(self.index["." + lexed[i + 1][1]])
                i += 2
                continue
            if value in ("var",):  # `var` means `let` for the policy (block scoping aside)
                value = "let"
            out.append(self.index.get(value, self.unk))
            i += 1
        return out

    def decode(self, ids: Sequence[int]) -> str:
        """Runnable JavaScript for a token-id sequence (stops at EOS; PAD/SOS ignored)."""
        return decode_tokens([self.tokens[i] for i in ids])


_NO_SPACE_BEFORE = {")", "]", ",", ";", ".length", "++", "--"}
_NO_SPACE_AFTER = {"(", "[", "!"}
_CALLABLE = set(BUILTINS) | set(FUNCTIONS)
_UNARY_AFTER = {"(", "[", ",", "=", "return", "?", ":", "+=", "-=", "*=", "/=", "of"}


def decode_tokens(tokens: Sequence[str]) -> str:
    """Join token strings into source text: statements on their own lines, 2-space indentation."""
    lines: list[str] = []
    line = ""
    depth = 0
    parens = 0
    prev = ""
    prev_unary = False

    def flush() -> None:
        nonlocal line
        if line.strip():
            lines.append("  " * depth + line.strip())
        line = ""

    for tok in tokens:
        if tok == EOS:
            break
        if tok in (PAD, SOS):
            continue
        if tok == UNK:
            tok = "__unk__"
        if tok == "}":
            flush()
            depth = max(0, depth - 1)
            line = "}"
            prev, prev_unary = tok, False
            continue
        if prev == "}" and tok != "else":
            flush()
        unary = tok in ("-", "+") and (
            not line.strip()
            or prev in _UNARY_AFTER
            or prev in OPERATORS
            and prev not in ("++", "--")
        )
        if not line or prev in _NO_SPACE_AFTER or tok in _NO_SPACE_BEFORE:
            sep = ""
        elif prev_unary:
            # `- -x` must not become the decrement `--x`
            sep = " " if tok in ("-", "+", "--", "++") else ""
        elif tok in ("(", "[") and (prev in _CALLABLE or prev in VARIABLES or prev in (")", "]")):
            sep = "" if prev not in ("if", "for", "while") else " "
        else:
            sep = " "
        line += sep + tok
        if tok == "(":
            parens += 1
        elif tok == ")":
            parens = max(0, parens - 1)
        if tok == "{":
            flush()
            depth += 1
        elif tok == ";" and parens == 0:
            flush()
        prev, prev_unary = tok, unary
    flush()
    return "\n".join(lines) + ("\n" if lines else "")

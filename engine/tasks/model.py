"""The task model: `Task`, its test cases (`TestCase`), and how outputs are compared."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

SUPPORTED_LANGUAGES = ("python", "javascript")  # plug-ins: engine.languages
DEFAULT_MAX_TOKENS = 40

# Input values as JSON gives them; lists are stored as tuples so a task stays hashable.
Scalar = int | float | str | bool


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _thaw(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class Inputs(Mapping[str, Any]):
    """A test case's inputs: name -> value, read-only and hashable (lists kept as tuples).

    `bindings()` gives fresh Python values (new lists) to bind as a program's globals, so one
    case's program cannot change what the next case sees.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | tuple[tuple[str, Any], ...] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: tuple[tuple[str, Any], ...] = tuple((k, _freeze(v)) for k, v in pairs)

    def __getitem__(self, key: str) -> Any:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Inputs):
            return self._items == other._items
        return isinstance(other, Mapping) and dict(self.bindings()) == dict(other)

    def __repr__(self) -> str:
        return f"Inputs({self.bindings()!r})"

    def bindings(self) -> dict[str, Any]:
        """Fresh Python values (lists as new lists) in first-case order."""
        return {k: _thaw(v) for k, v in self._items}


@dataclass(frozen=True)
class TestCase:
    """One test case of a task: inputs bound as globals, the output expected, hidden or not."""

    __test__ = False  # not a pytest test class

    inputs: Inputs
    expected_output: str
    hidden: bool = False

    def bindings(self) -> dict[str, Any]:
        """Fresh values to bind as the program's globals for this case."""
        return self.inputs.bindings()


class Literals(NamedTuple):
    """Numbers and strings a task names (for the tokenizer's vocabulary)."""

    numbers: tuple[int | float, ...]
    strings: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    """One task: what to print (per test case), what the program must contain, how long."""

    name: str
    description: str
    target_language: str
    expected_output: str
    valid_patterns: tuple[str, ...]
    case_sensitive: bool
    whitespace_sensitive: bool
    required_operators: tuple[str, ...]
    required_numbers: tuple[int | float, ...]
    required_strings: tuple[str, ...]
    required_keywords: tuple[str, ...]
    max_tokens: int
    difficulty: str
    path: str
    pattern_fields: tuple[str, ...] = field(default=(), compare=False, repr=False)
    tests: tuple[TestCase, ...] = ()
    notes: str = field(default="", compare=False, repr=False)

    @property
    def supported(self) -> bool:
        return self.target_language in SUPPORTED_LANGUAGES

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names the test cases bind, in the first case's order (empty for the legacy format)."""
        return tuple(self.tests[0].inputs) if self.tests else ()

    def constraint_count(self) -> int:
        return (
            len(self.required_operators)
            + len(self.required_numbers)
            + len(self.required_strings)
            + len(self.required_keywords)
        )

    def literals(self) -> Literals:
        """Required numbers and strings, string literals of the valid patterns, and strings the
        description quotes ('hello'), each once, in that order."""
        numbers: list[int | float] = []
        for n in self.required_numbers:
            if n not in numbers:
                numbers.append(n)
        strings: list[str] = []

        def add(s: str) -> None:
            if s not in strings:
                strings.append(s)

        for s in self.required_strings:
            add(s)
        if self.target_language == "python":  # JS literals: its own tokenizer reads them
            for src in self.valid_patterns:
                try:
                    tree = ast.parse(src)
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        add(node.value)
        for m in _QUOTED.finditer(self.description):
            add(m.group(2))
        return Literals(tuple(numbers), tuple(strings))


_QUOTED = re.compile(r"""(?<![\w'"])(['"])([^'"\n]{1,60})\1(?![\w])""")


def normalise_output(text: str, task: Task) -> str:
    """Output as compared with the expected output under the task's rules.

    Trailing newlines never count (print adds one). Not whitespace-sensitive: every run of
    whitespace becomes one space and the ends are stripped ("Less  or\\nequal " == "Less or
    equal"). Not case-sensitive: casefolded.
    """
    if task.whitespace_sensitive:
        text = text.rstrip("\n")
    else:
        text = " ".join(text.split())
    if not task.case_sensitive:
        text = text.casefold()
    return text

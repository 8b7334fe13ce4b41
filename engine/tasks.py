"""Tasks: what the learner must write, loaded from JSON files.

A task file (the prototype's format, read unchanged) looks like::

    {"name": "benchmark_add_two_numbers", "description": "...", "target_language": "python",
     "success_criteria": {"type": "code_pattern", "expected_output": "8",
                          "valid_patterns": [{"type": "...", "pattern": "print(5+3)",
                                              "variations": ["print(3+5)", ["x=5", "print(x+3)"]]}],
                          "case_sensitive": true, "whitespace_sensitive": false},
     "constraints": {"required_operators": ["+"], "required_numbers": [5, 3],
                     "required_strings": [], "required_keywords": [], "max_tokens": 20},
     "difficulty": "beginner"}

Older forms are accepted too: `success_criteria.exact_output` instead of `expected_output`, and
`max_tokens` at the top level. A pattern is a string or a list of lines.

Two levels of checking, on purpose:

- `load_task` / `list_tasks` check *structure* only (valid JSON, fields present and well typed,
  known operators/keywords). The prototype's own files are inconsistent (a required number that
  none of the valid patterns contains, patterns without the required operator) and must still load
  unchanged, so loading accepts them (`load_task(..., strict=True)` validates as below).
- `validate_task_file` (the `tasks validate` command) is *strict*: every valid pattern must parse,
  print the expected output, contain every constraint as a real AST construct, and be accepted
  as a success by the scorer (no dead or vacuous constructs); a constraint that appears in none
  of the patterns is reported as such. Every shipped task passes it (tested). Patterns are run
  in-process by `run_trusted` (task files are trusted data, not sandboxed; a step limit stops
  runaway loops).

Names: a task's name is its file stem without the `benchmark_` prefix (`add_two_numbers`); the
`name` field inside the file is informational. `load_task` and `list_tasks` search the shipped
`tasks/` folder (recursively) and then the user's tasks folder (`<data dir>/tasks`, where the data
dir is `$ALTLAS_HOME/data` or platformdirs' `user_data_dir("altlas-tui")`); a user task with the
same name as a shipped one overrides it.

Only Python is supported. Tasks for other languages (the prototype's JavaScript set) load
structurally, but `load_task` refuses them with a clear `InputError`, and `list_tasks` leaves them
out unless asked with `include_unsupported=True` (then `Task.supported` is False).
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import keyword
import logging
import math
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from engine.errors import InputError

log = logging.getLogger("altlas.tasks")

SUPPORTED_LANGUAGES = ("python",)
DEFAULT_MAX_TOKENS = 40
PREFIX = "benchmark_"

# Required operators -> the AST operator classes that really implement them.
BINARY_OPERATORS: dict[str, type[ast.operator]] = {
    "+": ast.Add,
    "-": ast.Sub,
    "*": ast.Mult,
    "/": ast.Div,
    "//": ast.FloorDiv,
    "%": ast.Mod,
    "**": ast.Pow,
    "@": ast.MatMult,
    "&": ast.BitAnd,
    "|": ast.BitOr,
    "^": ast.BitXor,
    "<<": ast.LShift,
    ">>": ast.RShift,
}
COMPARE_OPERATORS: dict[str, type[ast.cmpop]] = {
    "==": ast.Eq,
    "!=": ast.NotEq,
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
    "in": ast.In,
    "not in": ast.NotIn,
    "is": ast.Is,
    "is not": ast.IsNot,
}
BOOL_OPERATORS: dict[str, type[ast.boolop]] = {"and": ast.And, "or": ast.Or}
UNARY_OPERATORS: dict[str, type[ast.unaryop]] = {"not": ast.Not, "~": ast.Invert}
AUG_OPERATORS = {f"{k}=": v for k, v in BINARY_OPERATORS.items()}
KNOWN_OPERATORS = (
    set(BINARY_OPERATORS)
    | set(COMPARE_OPERATORS)
    | set(BOOL_OPERATORS)
    | set(UNARY_OPERATORS)
    | set(AUG_OPERATORS)
)


class Literals(NamedTuple):
    """Numbers and strings a task names (for the tokenizer's vocabulary)."""

    numbers: tuple[int | float, ...]
    strings: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    """One task: what to print, what the program must contain, how long it may be."""

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

    @property
    def supported(self) -> bool:
        return self.target_language in SUPPORTED_LANGUAGES

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
        if self.supported:
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


# --------------------------------------------------------------------------------------------
# Structural loading
# --------------------------------------------------------------------------------------------


def canonical_name(name: str) -> str:
    """`benchmark_add_two_numbers`, `add_two_numbers` and `add_two_numbers.json` -> `add_two_numbers`."""
    stem = name[:-5] if name.endswith(".json") else name
    return stem[len(PREFIX) :] if stem.startswith(PREFIX) else stem


def _get(
    d: dict[str, Any], key: str, types: type | tuple[type, ...], where: str, fld: str, default: Any
) -> Any:
    if key not in d:
        if default is _REQUIRED:
            raise InputError("missing field", where, fld)
        return default
    value = d[key]
    if isinstance(value, bool) and bool not in _as_tuple(types):
        raise InputError(f"expected {_type_names(types)}, got {value!r}", where, fld)
    if not isinstance(value, types):
        raise InputError(f"expected {_type_names(types)}, got {value!r}", where, fld)
    return value


_REQUIRED = object()


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        bool: "true or false",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return " or ".join(names.get(t, t.__name__) for t in _as_tuple(types))


def _list_of(
    d: dict[str, Any], key: str, types: type | tuple[type, ...], where: str, fld: str
) -> tuple[Any, ...]:
    value = _get(d, key, list, where, fld, [])
    out = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, types):
            raise InputError(f"expected {_type_names(types)}, got {item!r}", where, f"{fld}[{i}]")
        out.append(item)
    return tuple(out)


def _pattern_source(value: Any, where: str, fld: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "\n".join(value)
    raise InputError(f"expected a string or a list of lines, got {value!r}", where, fld)


def _patterns(crit: dict[str, Any], where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    raw = _get(crit, "valid_patterns", list, where, "success_criteria.valid_patterns", [])
    sources: list[str] = []
    fields: list[str] = []
    for i, entry in enumerate(raw):
        fld = f"success_criteria.valid_patterns[{i}]"
        if isinstance(entry, (str, list)):
            sources.append(_pattern_source(entry, where, fld))
            fields.append(fld)
            continue
        if not isinstance(entry, dict):
            raise InputError(f"expected an object, got {entry!r}", where, fld)
        if "pattern" not in entry:
            raise InputError("missing field", where, f"{fld}.pattern")
        sources.append(_pattern_source(entry["pattern"], where, f"{fld}.pattern"))
        fields.append(f"{fld}.pattern")
        variations = entry.get("variations", [])
        if not isinstance(variations, list):
            raise InputError(f"expected a list, got {variations!r}", where, f"{fld}.variations")
        for j, var in enumerate(variations):
            vfld = f"{fld}.variations[{j}]"
            sources.append(_pattern_source(var, where, vfld))
            fields.append(vfld)
    return tuple(sources), tuple(fields)


def parse_task(data: Any, path: str) -> Task:
    """Build a `Task` from decoded JSON, checking structure only. Raises `InputError`."""
    where = str(path)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object at the top level", where)
    _get(data, "name", str, where, "name", _REQUIRED)
    description = _get(data, "description", str, where, "description", "")
    language = _get(data, "target_language", str, where, "target_language", "python").lower()
    crit = _get(data, "success_criteria", dict, where, "success_criteria", _REQUIRED)
    if "expected_output" in crit:
        expected = _get(
            crit, "expected_output", str, where, "success_criteria.expected_output", _REQUIRED
        )
    elif "exact_output" in crit:
        expected = _get(crit, "exact_output", str, where, "success_criteria.exact_output", "")
    else:
        raise InputError("missing field", where, "success_criteria.expected_output")
    patterns, pattern_fields = _patterns(crit, where)
    case_sensitive = _get(
        crit, "case_sensitive", bool, where, "success_criteria.case_sensitive", True
    )
    ws_sensitive = _get(
        crit, "whitespace_sensitive", bool, where, "success_criteria.whitespace_sensitive", False
    )
    cons = _get(data, "constraints", dict, where, "constraints", {})
    ops = _list_of(cons, "required_operators", str, where, "constraints.required_operators")
    nums = _list_of(cons, "required_numbers", (int, float), where, "constraints.required_numbers")
    strs = _list_of(cons, "required_strings", str, where, "constraints.required_strings")
    kws = _list_of(cons, "required_keywords", str, where, "constraints.required_keywords")
    for i, n in enumerate(nums):
        if isinstance(n, float) and not math.isfinite(n):
            raise InputError(
                f"expected a finite number, got {n!r}", where, f"constraints.required_numbers[{i}]"
            )
    if "max_tokens" in cons:
        max_tokens = _get(
            cons, "max_tokens", int, where, "constraints.max_tokens", DEFAULT_MAX_TOKENS
        )
        mt_field = "constraints.max_tokens"
    else:
        max_tokens = _get(data, "max_tokens", int, where, "max_tokens", DEFAULT_MAX_TOKENS)
        mt_field = "max_tokens"
    if max_tokens < 1:
        raise InputError(f"expected a positive integer, got {max_tokens!r}", where, mt_field)
    difficulty = _get(data, "difficulty", str, where, "difficulty", "unknown")
    if language in SUPPORTED_LANGUAGES:
        for i, op in enumerate(ops):
            if op not in KNOWN_OPERATORS:
                raise InputError(
                    f"unknown operator {op!r} (known: {' '.join(sorted(KNOWN_OPERATORS))})",
                    where,
                    f"constraints.required_operators[{i}]",
                )
        for i, kw in enumerate(kws):
            if kw not in KEYWORD_CHECKS and not kw.isidentifier():
                raise InputError(
                    f"unknown keyword {kw!r}", where, f"constraints.required_keywords[{i}]"
                )
    return Task(
        name=canonical_name(Path(where).name),
        description=description,
        target_language=language,
        expected_output=expected,
        valid_patterns=patterns,
        case_sensitive=case_sensitive,
        whitespace_sensitive=ws_sensitive,
        required_operators=ops,
        required_numbers=nums,
        required_strings=strs,
        required_keywords=kws,
        max_tokens=max_tokens,
        difficulty=difficulty,
        path=where,
        pattern_fields=pattern_fields,
    )


def read_task_file(path: str | os.PathLike[str]) -> Task:
    """Load one task file structurally, whatever its language. Raises `InputError`."""
    p = Path(path)
    where = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", where) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a .json task file", where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", where) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc}", where) from None
    return parse_task(data, where)


def _require_supported(task: Task) -> Task:
    if not task.supported:
        raise InputError(
            f"target_language {task.target_language!r} is not supported yet (python only)",
            task.path,
            "target_language",
        )
    return task


# --------------------------------------------------------------------------------------------
# Finding tasks
# --------------------------------------------------------------------------------------------


def user_tasks_dir() -> Path:
    """The user's own tasks folder: `$ALTLAS_HOME/data/tasks` or the platform data dir."""
    home = os.environ.get("ALTLAS_HOME")
    if home:
        return Path(home) / "data" / "tasks"
    import platformdirs

    return Path(platformdirs.user_data_dir("altlas-tui")) / "tasks"


def shipped_tasks_dir() -> Path:
    from engine.resources import shipped_dir

    return shipped_dir("tasks")


def _task_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.json") if p.is_file())


def _candidate_files() -> list[Path]:
    """Shipped files first, then the user's (later files override earlier ones by name)."""
    return _task_files(shipped_tasks_dir()) + _task_files(user_tasks_dir())


def _looks_like_path(name: str) -> bool:
    return name.endswith(".json") or os.sep in name or "/" in name or Path(name).is_file()


def load_task(name_or_path: str | os.PathLike[str], strict: bool = False) -> Task:
    """A supported task by name (`add_two_numbers`, `benchmark_add_two_numbers`) or by file path.

    Checks structure only unless `strict` (then as `validate_task_file`); raises `InputError`
    for an unknown name, a bad file, or an unsupported target language.
    """
    text = os.fspath(name_or_path)
    if _looks_like_path(text):
        return validate_task_file(text) if strict else _require_supported(read_task_file(text))
    wanted = canonical_name(text)
    found: Path | None = None
    for p in _candidate_files():
        if canonical_name(p.name) == wanted:
            found = p
    if found is None:
        known = sorted({canonical_name(p.name) for p in _candidate_files()})
        raise InputError(
            f"unknown task {text!r} (known: {', '.join(known) or 'none'})", None, "task"
        )
    return validate_task_file(found) if strict else _require_supported(read_task_file(found))


def list_tasks(
    extra_paths: Iterable[str | os.PathLike[str]] = (), include_unsupported: bool = False
) -> list[Task]:
    """Shipped tasks, then the user's tasks, then `extra_paths`, sorted by name.

    A broken file in the shipped or user folder is skipped with a logged warning (one bad file
    must not hide the catalogue); a broken file given in `extra_paths` raises `InputError`.
    Unsupported languages are left out unless `include_unsupported`.
    """
    by_name: dict[str, Task] = {}
    for p in _candidate_files():
        try:
            task = read_task_file(p)
        except InputError as exc:
            log.warning("skipping task file: %s", exc)
            continue
        by_name[task.name] = task
    for extra in extra_paths:
        task = read_task_file(extra)
        by_name[task.name] = task
    tasks = sorted(by_name.values(), key=lambda t: t.name)
    return [t for t in tasks if include_unsupported or t.supported]


# --------------------------------------------------------------------------------------------
# Constraints on the AST (shared with the scorer)
# --------------------------------------------------------------------------------------------


def _has_value_return(n: ast.AST) -> bool:
    return isinstance(n, ast.Return) and n.value is not None


KEYWORD_CHECKS: dict[str, Any] = {
    "for": lambda n: isinstance(n, (ast.For, ast.comprehension)),
    "in": lambda n: (
        isinstance(n, (ast.For, ast.comprehension))
        or (isinstance(n, ast.Compare) and any(isinstance(o, (ast.In, ast.NotIn)) for o in n.ops))
    ),
    "if": lambda n: (
        isinstance(n, (ast.If, ast.IfExp)) or (isinstance(n, ast.comprehension) and bool(n.ifs))
    ),
    "else": lambda n: (
        isinstance(n, ast.IfExp)
        or (isinstance(n, (ast.If, ast.For, ast.While, ast.Try)) and bool(n.orelse))
    ),
    "elif": lambda n: (
        isinstance(n, ast.If) and len(n.orelse) == 1 and isinstance(n.orelse[0], ast.If)
    ),
    "while": lambda n: isinstance(n, ast.While),
    "def": lambda n: isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)),
    "return": _has_value_return,
    "lambda": lambda n: isinstance(n, ast.Lambda),
    "and": lambda n: isinstance(n, ast.BoolOp) and isinstance(n.op, ast.And),
    "or": lambda n: isinstance(n, ast.BoolOp) and isinstance(n.op, ast.Or),
    "not": lambda n: (
        (isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not))
        or (
            isinstance(n, ast.Compare) and any(isinstance(o, (ast.NotIn, ast.IsNot)) for o in n.ops)
        )
    ),
    "is": lambda n: (
        isinstance(n, ast.Compare) and any(isinstance(o, (ast.Is, ast.IsNot)) for o in n.ops)
    ),
    "break": lambda n: isinstance(n, ast.Break),
    "continue": lambda n: isinstance(n, ast.Continue),
    "pass": lambda n: isinstance(n, ast.Pass),
    "True": lambda n: isinstance(n, ast.Constant) and n.value is True,
    "False": lambda n: isinstance(n, ast.Constant) and n.value is False,
    "None": lambda n: isinstance(n, ast.Constant) and n.value is None,
    "import": lambda n: isinstance(n, (ast.Import, ast.ImportFrom)),
    "from": lambda n: isinstance(n, (ast.ImportFrom, ast.YieldFrom)),
    "as": lambda n: (
        (isinstance(n, ast.alias) and n.asname is not None)
        or (isinstance(n, ast.withitem) and n.optional_vars is not None)
        or (isinstance(n, ast.ExceptHandler) and n.name is not None)
    ),
    "class": lambda n: isinstance(n, ast.ClassDef),
    "try": lambda n: isinstance(n, ast.Try),
    "except": lambda n: isinstance(n, ast.ExceptHandler),
    "finally": lambda n: isinstance(n, ast.Try) and bool(n.finalbody),
    "with": lambda n: isinstance(n, (ast.With, ast.AsyncWith)),
    "raise": lambda n: isinstance(n, ast.Raise),
    "assert": lambda n: isinstance(n, ast.Assert),
    "del": lambda n: isinstance(n, ast.Delete),
    "global": lambda n: isinstance(n, ast.Global),
    "nonlocal": lambda n: isinstance(n, ast.Nonlocal),
    "yield": lambda n: isinstance(n, (ast.Yield, ast.YieldFrom)),
    "await": lambda n: isinstance(n, ast.Await),
    "async": lambda n: isinstance(n, (ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith)),
}
assert set(KEYWORD_CHECKS) <= set(keyword.kwlist)


def keyword_matches(kw: str, node: ast.AST) -> bool:
    """Whether `node` is a real construct for required keyword `kw`.

    Python keywords map to node kinds (`for` -> For or a comprehension, `in` -> For,
    comprehension or an `in` comparison, `def` -> FunctionDef, `return` -> Return *with a value*).
    Any other identifier (e.g. `print`, `range`) is matched as a used name or attribute.
    """
    check = KEYWORD_CHECKS.get(kw)
    if check is not None:
        return bool(check(node))
    return (isinstance(node, ast.Name) and node.id == kw) or (
        isinstance(node, ast.Attribute) and node.attr == kw
    )


def operator_matches(op: str, node: ast.AST) -> bool:
    """Whether `node` really applies required operator `op` (not text: a BinOp/AugAssign/
    Compare/BoolOp/UnaryOp with that operator). `+` is `Add` in a BinOp or AugAssign, which
    covers string concatenation; `+=` only an AugAssign."""
    if op in BINARY_OPERATORS:
        cls = BINARY_OPERATORS[op]
        return isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, cls)
    if op in AUG_OPERATORS:
        return isinstance(node, ast.AugAssign) and isinstance(node.op, AUG_OPERATORS[op])
    if op in COMPARE_OPERATORS:
        cmp_cls = COMPARE_OPERATORS[op]
        return isinstance(node, ast.Compare) and any(isinstance(o, cmp_cls) for o in node.ops)
    if op in BOOL_OPERATORS:
        return isinstance(node, ast.BoolOp) and isinstance(node.op, BOOL_OPERATORS[op])
    if op in UNARY_OPERATORS:
        return isinstance(node, ast.UnaryOp) and isinstance(node.op, UNARY_OPERATORS[op])
    return False


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_matches(n: int | float, node: ast.AST) -> bool:
    """An int/float constant equal to `n` (`55` is not 5; `True` is not 1; `5.0` is 5); a
    negative `n` is written `-3`, which Python parses as minus applied to the constant 3."""
    if isinstance(node, ast.Constant):
        return is_number(node.value) and node.value == n
    return (
        n < 0
        and isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and is_number(node.operand.value)
        and -node.operand.value == n
    )


def string_matches(s: str, node: ast.AST) -> bool:
    """A str constant equal to `s`, case-sensitively (a string merely containing it is not)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value == s


def missing_constraints(task: Task, tree: ast.AST) -> list[str]:
    """Constraints with no matching construct anywhere in `tree` (presence only)."""
    nodes = list(ast.walk(tree))
    missing = []
    for op in task.required_operators:
        if not any(operator_matches(op, n) for n in nodes):
            missing.append(f"operator {op!r}")
    for num in task.required_numbers:
        if not any(number_matches(num, n) for n in nodes):
            missing.append(f"number {num!r}")
    for s in task.required_strings:
        if not any(string_matches(s, n) for n in nodes):
            missing.append(f"string {s!r}")
    for kw in task.required_keywords:
        if not any(keyword_matches(kw, n) for n in nodes):
            missing.append(f"keyword {kw!r}")
    return missing


# --------------------------------------------------------------------------------------------
# Output comparison and trusted execution of patterns
# --------------------------------------------------------------------------------------------


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


@dataclass
class TrustedResult:
    """Same fields as the sandbox's ExecResult."""

    status: str
    stdout: str
    error: str
    duration: float = 0.0


class _StepLimit(Exception):
    pass


def run_trusted(codes: Sequence[str], max_steps: int = 200_000) -> list[TrustedResult]:
    """Run trusted code (a task's own patterns) in this process, capturing `print` output.

    Not a sandbox: only for task data and tests. A trace function stops runaway loops after
    `max_steps` line events (status "timeout").
    """
    results = []
    for code in codes:
        buf = io.StringIO()

        def _print(*args: Any, _buf: io.StringIO = buf, **kwargs: Any) -> None:
            kwargs.pop("file", None)
            kwargs.pop("flush", None)
            builtins.print(*args, file=_buf, **kwargs)

        steps = 0

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            nonlocal steps
            steps += 1
            if steps > max_steps:
                raise _StepLimit
            return tracer

        env: dict[str, Any] = {"__name__": "__main__", "print": _print}
        old = sys.gettrace()
        status, error = "ok", ""
        sys.settrace(tracer)
        try:
            exec(compile(code, "<program>", "exec"), env)  # noqa: S102 - trusted task data
        except _StepLimit:
            status, error = "timeout", "Timeout: step limit"
        except BaseException as exc:  # noqa: BLE001 - any failure of the program is data
            status, error = "error", f"{type(exc).__name__}: {exc}"
        finally:
            sys.settrace(old)
        results.append(TrustedResult(status, buf.getvalue(), error))
    return results


# --------------------------------------------------------------------------------------------
# Strict validation
# --------------------------------------------------------------------------------------------


def task_problems(task: Task) -> list[tuple[str, str]]:
    """Every inconsistency of a (structurally valid) task as (field, message) pairs."""
    if not task.supported:
        return [("target_language", f"{task.target_language!r} is not supported yet (python only)")]
    problems: list[tuple[str, str]] = []
    if not task.valid_patterns:
        # The oldest format has no patterns: nothing to cross-check the constraints against.
        return problems
    trees: list[ast.AST | None] = []
    fields = task.pattern_fields or tuple(
        f"success_criteria.valid_patterns[{i}]" for i in range(len(task.valid_patterns))
    )
    for src, fld in zip(task.valid_patterns, fields, strict=True):
        try:
            trees.append(ast.parse(src))
        except SyntaxError as exc:
            problems.append((fld, f"does not parse: {exc.msg} (line {exc.lineno})"))
            trees.append(None)
    parsed = [
        (src, fld, t) for src, fld, t in zip(task.valid_patterns, fields, trees, strict=True) if t
    ]
    all_nodes = [list(ast.walk(t)) for _, _, t in parsed]

    def none_has(pred: Any) -> bool:
        return not any(any(pred(n) for n in nodes) for nodes in all_nodes)

    checks = (
        ("required_operators", task.required_operators, operator_matches),
        ("required_numbers", task.required_numbers, number_matches),
        ("required_strings", task.required_strings, string_matches),
        ("required_keywords", task.required_keywords, keyword_matches),
    )
    for key, values, matches in checks:
        for i, value in enumerate(values):
            if none_has(lambda n, v=value, m=matches: m(v, n)):
                problems.append(
                    (
                        f"constraints.{key}[{i}]",
                        f"{value!r} appears in none of the valid patterns",
                    )
                )
    expected = normalise_output(task.expected_output, task)
    runs = run_trusted([src for src, _, _ in parsed])
    clean: list[tuple[str, str]] = []
    for (src, fld, tree), res in zip(parsed, runs, strict=True):
        missing = missing_constraints(task, tree)
        if missing:
            problems.append((fld, f"lacks required {', '.join(missing)}: {_short(src)}"))
        if res.status != "ok":
            problems.append((fld, f"fails when run ({res.error}): {_short(src)}"))
        elif normalise_output(res.stdout, task) != expected:
            problems.append(
                (
                    fld,
                    f"prints {res.stdout.rstrip()!r}, expected {task.expected_output!r}: {_short(src)}",
                )
            )
        elif not missing:
            clean.append((src, fld))
    if clean:
        # A pattern the scorer would not call a success (dead or vacuous constructs) would
        # teach the learner the wrong thing: the scorer must accept every valid pattern.
        from engine.scorer import TaskScorer

        results = TaskScorer(task).score_many([src for src, _ in clean], run_trusted)
        for (src, fld), result in zip(clean, results, strict=True):
            if not result.success:
                problems.append(
                    (
                        fld,
                        f"the scorer does not accept it ({'; '.join(result.reasons)}): {_short(src)}",
                    )
                )
    return problems


def _short(src: str, limit: int = 60) -> str:
    one = " \\n ".join(line.strip() for line in src.splitlines())
    return one if len(one) <= limit else one[: limit - 3] + "..."


def validate_task_file(path: str | os.PathLike[str]) -> Task:
    """Load a task file strictly: structure, language and consistency. Raises `InputError`
    naming the file and the first problem's field (with a count of further problems)."""
    task = _require_supported(read_task_file(path))
    problems = task_problems(task)
    if problems:
        fld, msg = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise InputError((msg + more).replace("\n", " "), task.path, fld)
    return task

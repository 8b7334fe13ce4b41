"""Loading task files: structure checks, the catalogue (shipped and user folders), lookup by name.

`load_task` / `list_tasks` check *structure* only (valid JSON, fields present and well typed,
known operators/keywords, well-formed test cases). The prototype's own files are inconsistent and
must still load unchanged; `engine.validation` does the strict checks.

Names: a task's name is its file stem without the `benchmark_` prefix (`add_two_numbers`); the
`name` field inside the file is informational. `load_task` and `list_tasks` search the shipped
`tasks/` folder (recursively) and then the user's tasks folder (`<data dir>/tasks`, where the data
dir is `$ALTLAS_HOME/data` or platformdirs' `user_data_dir("altlas-tui")`); a user task with the
same name as a shipped one overrides it.
"""

from __future__ import annotations

import builtins
import json
import keyword
import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.tasks.constraints import KEYWORD_CHECKS, KNOWN_OPERATORS
from engine.tasks.model import (
    DEFAULT_MAX_TOKENS,
    SUPPORTED_LANGUAGES,
    Inputs,
    Task,
    TestCase,
)

log = logging.getLogger("altlas.tasks")

# Names the reward binds for its own bookkeeping (derived cases, perturbations): not for inputs.
RESERVED_PREFIX = "altlas"

PREFIX = "benchmark_"


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
    notes = _get(data, "notes", str, where, "notes", "")
    tests = _tests(crit, where)
    if "expected_output" in crit:
        expected = _get(
            crit, "expected_output", str, where, "success_criteria.expected_output", _REQUIRED
        )
        if tests and expected != tests[0].expected_output:
            raise InputError(
                f"expected {tests[0].expected_output!r} (the first test case's), got {expected!r}",
                where,
                "success_criteria.expected_output",
            )
    elif "exact_output" in crit:
        expected = _get(crit, "exact_output", str, where, "success_criteria.exact_output", "")
    elif tests:
        expected = tests[0].expected_output
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
    if language == "python":  # JS names its operators and keywords its own way
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
        tests=tests,
        notes=notes,
    )


def _raise_all(problems: list[tuple[str, str]], where: str) -> None:
    """One InputError listing every problem, one line each (the first names path and field)."""
    if not problems:
        return
    (fld, msg), rest = problems[0], problems[1:]
    lines = [msg] + [f"{where}: {f}: {m}" for f, m in rest]
    raise InputError("\n".join(lines), where, fld)


_BUILTIN_NAMES = frozenset(dir(builtins))


def _input_value_problem(value: Any) -> str | None:
    """Why an input value is not allowed (None if it is): JSON int, float, str, bool or a list
    of those; floats finite."""
    items = value if isinstance(value, list) else [value]
    for v in items:
        if isinstance(v, list) or not isinstance(v, (int, float, str, bool)):
            return f"expected an int, float, string, true/false or a list of those, got {v!r}"
        if isinstance(v, float) and not math.isfinite(v):
            return f"expected a finite number, got {v!r}"
    return None


def _tests(crit: dict[str, Any], where: str) -> tuple[TestCase, ...]:
    """`success_criteria.tests`, checked; every problem found is reported at once."""
    raw = _get(crit, "tests", list, where, "success_criteria.tests", [])
    problems: list[tuple[str, str]] = []
    cases: list[TestCase] = []
    first_names: tuple[str, ...] | None = None
    for i, entry in enumerate(raw):
        fld = f"success_criteria.tests[{i}]"
        if not isinstance(entry, dict):
            problems.append((fld, f"expected an object, got {entry!r}"))
            continue
        for key in entry:
            if key not in ("inputs", "expected_output", "hidden"):
                problems.append((f"{fld}.{key}", "unknown field (allowed: inputs, "
                                 "expected_output, hidden)"))  # fmt: skip
        inputs = entry.get("inputs", {})
        ok = True
        if not isinstance(inputs, dict):
            problems.append((f"{fld}.inputs", f"expected an object, got {inputs!r}"))
            inputs, ok = {}, False
        for name, value in inputs.items():
            nfld = f"{fld}.inputs.{name}"
            if not name.isidentifier() or keyword.iskeyword(name) or keyword.issoftkeyword(name):
                problems.append((nfld, "input names must be Python identifiers, not keywords"))
                ok = False
            elif name in _BUILTIN_NAMES:
                problems.append((nfld, f"{name!r} is a Python builtin; choose another name"))
                ok = False
            elif name.startswith(RESERVED_PREFIX) or name.startswith("_"):
                problems.append((nfld, f"names starting with {RESERVED_PREFIX!r} or '_' are "
                                 "reserved"))  # fmt: skip
                ok = False
            why = _input_value_problem(value)
            if why:
                problems.append((nfld, why))
                ok = False
        names = tuple(inputs)
        if first_names is None:
            first_names = names
        elif set(names) != set(first_names):
            problems.append((f"{fld}.inputs", f"expected the inputs {', '.join(first_names)} "
                             f"(as in the first case), got {', '.join(names) or 'none'}"))  # fmt: skip
            ok = False
        expected = entry.get("expected_output")
        if not isinstance(expected, str):
            what = "missing field" if expected is None else f"expected a string, got {expected!r}"
            problems.append((f"{fld}.expected_output", what))
            ok = False
        hidden = entry.get("hidden", False)
        if not isinstance(hidden, bool):
            problems.append((f"{fld}.hidden", f"expected true or false, got {hidden!r}"))
            ok = False
        if ok:
            ordered = {n: inputs[n] for n in (first_names or names)}
            cases.append(TestCase(Inputs(ordered), expected, hidden))
    if raw and not problems and all(c.hidden for c in cases):
        problems.append(("success_criteria.tests", "every case is hidden; at least one must be "
                         "visible (hidden cases never count towards the reward)"))  # fmt: skip
    _raise_all(problems, where)
    return tuple(cases)


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


def require_supported(task: Task) -> Task:
    if not task.supported:
        raise InputError(
            f"target_language {task.target_language!r} is not supported yet "
            f"(supported: {', '.join(SUPPORTED_LANGUAGES)})",
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


def task_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The file of a task given by name (`add_two_numbers`, `benchmark_add_two_numbers`) or path.

    Raises `InputError` for an unknown name (listing the known ones).
    """
    text = os.fspath(name_or_path)
    if _looks_like_path(text):
        return Path(text)
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
    return found


def load_task(name_or_path: str | os.PathLike[str]) -> Task:
    """A supported task by name or file path, structure checked (`engine.validation` does the
    strict checks, running the patterns in the sandbox); raises `InputError` for an unknown
    name, a bad file, or an unsupported target language."""
    return require_supported(read_task_file(task_path(name_or_path)))


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


def broken_task_files() -> list[tuple[Path, str]]:
    """Files in the shipped and user task folders that do not load, with the one-line reason
    (for `tasks list` to warn about instead of hiding them)."""
    broken: list[tuple[Path, str]] = []
    for p in _candidate_files():
        try:
            read_task_file(p)
        except InputError as exc:
            broken.append((p, str(exc).splitlines()[0]))
    return broken

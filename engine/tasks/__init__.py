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
`max_tokens` at the top level. A pattern is a string or a list of lines. An optional top-level
`notes` string holds maintainers' remarks (not shown to users).

Tasks with test cases list them under `success_criteria.tests`: `{"inputs": {name: value},
"expected_output": str, "hidden": bool}`; inputs are bound as globals before the program runs
(`Task.tests`, `Task.input_names`); the top-level `expected_output` is then optional and, if
present, equals the first case's. Hidden cases only decide success (see `engine.reward`).

Two levels of checking, on purpose: `load_task` / `list_tasks` check structure only (`engine.validation` is the strict side) (the
prototype's own files are inconsistent and must still load unchanged); `validate_task_file`
(`tasks validate`) is strict and runs every pattern, on every case, in the sandbox.

Only Python is supported. Tasks for other languages load structurally, but `load_task` refuses
them with a clear `InputError`, and `list_tasks` leaves them out unless `include_unsupported`.

Package layout: `model` (Task, TestCase, output normalisation), `constraints` (what AST nodes
satisfy a required operator/number/string/keyword; shared with the reward), `loader` (files,
catalogue, names), `validate` (strict checks, in the sandbox).
"""

from engine.tasks.constraints import (
    AUG_OPERATORS,
    BINARY_OPERATORS,
    BOOL_OPERATORS,
    COMPARE_OPERATORS,
    KEYWORD_CHECKS,
    KNOWN_OPERATORS,
    UNARY_OPERATORS,
    is_number,
    keyword_matches,
    missing_constraints,
    number_matches,
    operator_matches,
    string_matches,
)
from engine.tasks.loader import (
    PREFIX,
    RESERVED_PREFIX,
    broken_task_files,
    canonical_name,
    list_tasks,
    load_task,
    parse_task,
    read_task_file,
    shipped_tasks_dir,
    task_path,
    user_tasks_dir,
)
from engine.tasks.model import (
    DEFAULT_MAX_TOKENS,
    SUPPORTED_LANGUAGES,
    Inputs,
    Literals,
    Task,
    TestCase,
    normalise_output,
)

__all__ = [
    "AUG_OPERATORS",
    "BINARY_OPERATORS",
    "BOOL_OPERATORS",
    "COMPARE_OPERATORS",
    "DEFAULT_MAX_TOKENS",
    "KEYWORD_CHECKS",
    "KNOWN_OPERATORS",
    "PREFIX",
    "RESERVED_PREFIX",
    "SUPPORTED_LANGUAGES",
    "UNARY_OPERATORS",
    "Inputs",
    "Literals",
    "Task",
    "TestCase",
    "broken_task_files",
    "canonical_name",
    "is_number",
    "keyword_matches",
    "list_tasks",
    "load_task",
    "task_path",
    "missing_constraints",
    "normalise_output",
    "number_matches",
    "operator_matches",
    "parse_task",
    "read_task_file",
    "shipped_tasks_dir",
    "string_matches",
    "user_tasks_dir",
]

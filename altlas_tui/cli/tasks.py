"""`altlas-tui tasks list | show NAME | validate FILE`: the task catalogue and validation."""

from __future__ import annotations

import argparse
import json
import sys

from altlas_tui.cli.common import Parser


def add_parser(sub: argparse._SubParsersAction) -> None:
    tk = sub.add_parser("tasks", help="task catalogue and validation")
    tsub = tk.add_subparsers(
        dest="tasks_command", metavar="list|show|validate", parser_class=Parser
    )
    tsub.required = True
    tl = tsub.add_parser("list", help="list available tasks")
    tl.add_argument("--json", action="store_true")
    ts = tsub.add_parser("show", help="show one task")
    ts.add_argument("name")
    tv = tsub.add_parser("validate", help="check a task file strictly (exit 2 when invalid)")
    tv.add_argument("file")
    tk.set_defaults(func=run)


def _broken_files() -> list:
    """Task files in the data dir's tasks/ that could not be loaded (when the engine says)."""
    from engine import tasks as taskmod

    finder = getattr(taskmod, "broken_task_files", None)
    if not callable(finder):
        return []
    try:
        return list(finder())
    except Exception:  # noqa: BLE001 - a warning helper must not break the listing
        return []


def run(args: argparse.Namespace) -> int:
    from engine.tasks import list_tasks, load_task
    from engine.validation import validate_task_file

    if args.tasks_command == "list":
        tasks = list_tasks()
        for item in _broken_files():  # (path, problem) pairs or objects with a str()
            text = ": ".join(map(str, item)) if isinstance(item, tuple) else str(item)
            sys.stderr.write(f"altlas-tui: warning: skipped a broken task file: {text}\n")
        if getattr(args, "json", False):
            print(json.dumps([{"name": t.name, "difficulty": t.difficulty, "path": t.path,
                               "expected_output": t.expected_output} for t in tasks]))  # fmt: skip
            return 0
        print(f"{'name':<26} {'difficulty':<13} {'tokens':>6}  description")
        for t in tasks:
            desc = t.description.split(" (")[0]
            print(f"{t.name:<26} {t.difficulty:<13} {t.max_tokens:>6}  {desc[:80]}")
        return 0
    if args.tasks_command == "show":
        t = load_task(args.name)
        print(f"name          {t.name}\nfile          {t.path}\ndifficulty    {t.difficulty}")
        print(f"description   {t.description}\nexpected      {t.expected_output!r}")
        print(f"max tokens    {t.max_tokens}")
        for label, items in (("operators", t.required_operators), ("numbers", t.required_numbers),
                             ("strings", t.required_strings), ("keywords", t.required_keywords)):  # fmt: skip
            if items:
                print(f"requires {label:<5} {', '.join(map(str, items))}")
        print(f"valid patterns {len(t.valid_patterns)}")
        return 0
    try:
        task = validate_task_file(args.file)
    except Exception:
        _print_all_problems(args.file)  # stdout: every problem; stderr keeps its one line
        raise
    print(f"{args.file}: valid ({task.name}, {len(task.valid_patterns)} patterns)")
    return 0


def _print_all_problems(path: str) -> None:
    """Every problem of a task file, one a line (the error itself names only the first)."""
    from engine.tasks import read_task_file
    from engine.validation import task_problems

    try:
        problems = task_problems(read_task_file(path))
    except Exception:  # noqa: BLE001 - a structural error: the one-line error says it all
        return
    if len(problems) > 1:
        for field, message in problems:
            print(f"{path}: {field}: {message}".replace("\n", " "))

"""`altlas-tui score`: run and score hand-written programs against a task, case by case."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from altlas_tui.cli.common import add_config_flags, load_config, task_arg
from altlas_tui.cli.progress import print_out
from engine.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "score",
        help="score hand-written programs",
        description="Run and score programs against a task: every component, the total, "
        "success and why not, and one line per test case (hidden cases marked).",
    )
    s.add_argument("--task", help="task name")
    s.add_argument("--task-file", metavar="PATH", help="a task JSON file")
    s.add_argument(
        "files", nargs="+", metavar="FILE", help="programs in the task's language ('-' for stdin)"
    )
    s.add_argument("--json", action="store_true", help="JSON output (a list for several files)")
    add_config_flags(s)
    s.set_defaults(func=run)


def _case_json(case: Any) -> dict[str, Any]:
    get = case.get if isinstance(case, dict) else lambda k, d=None: getattr(case, k, d)
    return {
        "inputs": dict(get("inputs", {}) or {}),
        "expected": str(get("expected", "")),
        "got": str(get("got", "")),
        "passed": bool(get("passed", False)),
        "hidden": bool(get("hidden", False)),
    }


def result_json(result: Any) -> dict[str, Any]:
    """The contract's `score --json` object, `cases` included even before the scorer has them."""
    data = result.to_json()
    if "cases" not in data:
        data["cases"] = [_case_json(c) for c in getattr(result, "cases", None) or []]
    return data


def run(args: argparse.Namespace) -> int:
    from engine.languages.scoring import score_programs
    from engine.tasks import load_task

    config = load_config(args)
    task = load_task(task_arg(args))
    if args.files.count("-") > 1:
        raise InputError("stdin ('-') can be given once", "FILE")
    codes = []
    for name in args.files:  # read every file first: a bad one stops us before any work
        try:
            codes.append(
                sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
            )
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the program: {exc.__class__.__name__}", name) from None
    # the task's language picks the scorer and the runner (Python: the sandbox; JS: node)
    results = score_programs(task, codes, config.sandbox)
    if args.json:
        data = [result_json(r) for r in results]
        print_out(json.dumps(data if len(data) > 1 else data[0]))
        return 0
    blocks = [
        render(task, name, r, len(args.files) > 1)
        for name, r in zip(args.files, results, strict=True)
    ]
    print_out("\n\n".join(blocks))
    return 0


def render(task, name: str, result: Any, with_name: bool) -> str:
    lines = [f"File     {name}"] if with_name else []
    lines.append(f"Task     {task.name}   expected output: {task.expected_output!r}")
    lines.append(f"Status   {result.status}   stdout: {result.stdout[:200]!r}")
    for comp, value in result.components.items():
        lines.append(f"  {comp:<22} {value:6.3f}")
    lines.append(f"Score    {result.score:.3f}")
    lines.append(f"Success  {'yes' if result.success else 'no'}")
    cases = [_case_json(c) for c in getattr(result, "cases", None) or []]
    if cases:
        passed = sum(c["passed"] for c in cases)
        lines.append(f"Cases    {passed}/{len(cases)} passed")
        for i, c in enumerate(cases, 1):
            inputs = ", ".join(f"{k}={v!r}" for k, v in c["inputs"].items()) or "(no inputs)"
            mark = "pass" if c["passed"] else "FAIL"
            hidden = "  hidden" if c["hidden"] else ""
            lines.append(
                f"  {i:>2}. {mark}  {inputs}  expected {c['expected']!r}  got {c['got']!r}{hidden}"
            )
    for reason in result.reasons:
        lines.append(f"  - {reason}")
    return "\n".join(lines)

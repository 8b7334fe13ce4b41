"""`altlas-tui score` on JavaScript tasks: the JS scorer and the node runner, Python's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.languages.javascript import find_node

DATA = Path(__file__).parent.parent / "data" / "js"
TASK = DATA / "tasks" / "benchmark_js_add_two_numbers.json"
PROGS = DATA / "programs"

pytestmark = pytest.mark.skipif(find_node() is None, reason="node is not installed")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "altlas_tui.cli", "score", *args],
        capture_output=True, text=True, input=stdin, timeout=300,
    )  # fmt: skip


def test_honest_js_program_scores_one_and_wrong_ones_do_not():
    honest, hardcoded, broken = (str(PROGS / n) for n in
                                 ("add_honest.js", "add_hardcoded.js", "add_broken.js"))  # fmt: skip
    out = run("--task-file", str(TASK), honest, hardcoded, broken, "--json")
    assert out.returncode == 0, out.stderr
    good, bad, unparsed = json.loads(out.stdout)
    assert good["success"] is True and good["score"] == 1.0 and good["stdout"].strip() == "8"
    assert good["status"] == "ok" and good["task"] == "js_add_two_numbers"
    # run by node: a Python sandbox would fail `let x = 5` as a syntax error
    assert good["components"]["parses"] > 0 and good["components"]["runs"] > 0
    assert bad["success"] is False and bad["score"] < 0.95
    assert any("hard-coded" in r for r in bad["reasons"]), bad["reasons"]
    assert unparsed["success"] is False and unparsed["components"]["parses"] == 0
    for data in (good, bad, unparsed):
        assert set(data) == {"task", "score", "success", "components", "reasons", "stdout",
                             "status", "cases"}  # fmt: skip


def test_text_output_and_task_by_name():
    out = run("--task", "js_add_two_numbers", str(PROGS / "add_honest.js"))
    assert out.returncode == 0, out.stderr
    assert "Success  yes" in out.stdout and "Score    1.000" in out.stdout
    out = run("--task", "js_add_two_numbers", "-", stdin="console.log(4 + 4);\n")
    assert out.returncode == 0 and "Success  no" in out.stdout
    assert "missing number 5" in out.stdout


def test_unreadable_program_is_one_line_exit_2(tmp_path):
    out = run("--task-file", str(TASK), str(tmp_path / "missing.js"))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "missing.js" in out.stderr and "Traceback" not in out.stderr


def test_score_programs_picks_the_language_in_process():
    from engine.languages.scoring import score_programs, token_length
    from engine.tasks import load_task

    assert find_node() is not None
    task = load_task(str(TASK))
    honest = (PROGS / "add_honest.js").read_text(encoding="utf-8")
    # the length term counts the JS tokenizer's tokens (console.log is one) plus the end token
    assert token_length(task, "console.log(5+3)") == 7
    assert token_length(task, honest) == 18  # let x = 5 ; let y = 3 ; console.log ( x + y ) ;
    results = score_programs(task, [honest, "console.log(8);"])
    assert [r.success for r in results] == [True, False]


@pytest.mark.parametrize("name", ["add_two_numbers"])
def test_python_tasks_still_use_the_python_sandbox(tmp_path, name):
    prog = tmp_path / "p.py"
    prog.write_text("x = 5\ny = 3\nprint(x + y)\n")
    out = run("--task", name, str(prog), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["success"] is True


def test_score_program_api_uses_the_task_language():
    from engine.scorer import score_program
    from engine.tasks import load_task

    task = load_task(str(TASK))
    result = score_program(task, "const a = 5; const b = 3; console.log(a + b);")
    assert result.success is True and result.score == 1.0
    assert score_program(task, "console.log(4 + 4);").success is False

"""The command line contract (CONTRACT.md): exit codes, one-line errors, JSON shapes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SUMMARY_KEYS = {"event", "task", "seed", "algo", "solved", "attempts_to_solve", "attempts",
                "unique_programs", "seconds", "attempts_per_second", "best_score", "best_code",
                "solution", "solution_raw", "hints_provided", "total_attempts"}  # fmt: skip


def run(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "altlas_tui.cli", *args],
        capture_output=True, text=True, input=stdin, timeout=timeout,
    )  # fmt: skip


def test_help():
    out = run("--help")
    assert out.returncode == 0 and "train" in out.stdout and "bench" in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("train", "--task", "no_such_task", "--max-attempts", "10"),
        ("train", "--task-file", "/nonexistent/task.json"),
        ("train",),
        ("score", "--task", "add_two_numbers", "/nonexistent/prog.py"),
        ("tasks", "show", "nope"),
        ("bench", "--tasks", "add_two_numbers", "--seeds", "0"),
        ("train", "--task", "add_two_numbers", "--algo", "genetic"),
        ("train", "--task", "add_two_numbers", "--set", "train.nope=1"),
        ("train", "--task", "add_two_numbers", "--max-attempts", "-5"),
        ("train", "--task", "add_two_numbers", "--max-seconds", "0"),
        ("bench", "--seeds", "-1"),
        ("history", "--task", "nope"),
        ("score", "--task", "add_two_numbers", "--set", "train.nope=1", "-"),
        ("attach",),
    ],
)
def test_bad_input_is_one_line_exit_2(args):
    out = run(*args)
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr


def test_bad_task_file_names_file_and_field(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps({"name": "t", "description": "d", "target_language": "python",
                               "success_criteria": {"expected_output": 5}}))  # fmt: skip
    out = run("tasks", "validate", str(bad))
    assert out.returncode == 2 and str(bad) in out.stderr and "expected_output" in out.stderr
    rb = tmp_path / "rb.json"
    rb.write_text(json.dumps({"name": "rb", "description": "d", "target_language": "ruby",
                              "success_criteria": {"expected_output": "5"}}))  # fmt: skip
    out = run("train", "--task-file", str(rb))
    assert out.returncode == 2 and "ruby" in out.stderr


def test_score_json(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("print(5 + 3)\n")
    out = run("score", "--task", "add_two_numbers", str(prog), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {
        "task", "score", "success", "components", "reasons", "stdout", "status", "cases"
    }  # fmt: skip
    assert data["success"] is True and data["score"] == 1.0
    for case in data["cases"]:
        assert set(case) == {"inputs", "expected", "got", "passed", "hidden"}
    other = tmp_path / "q.py"
    other.write_text("print(8 + 1)\n")
    out = run("score", "--task", "add_two_numbers", str(prog), str(other), "--json")
    both = json.loads(out.stdout)
    assert [d["success"] for d in both] == [True, False]
    out = run("score", "--task", "add_two_numbers", str(prog), str(other))
    assert out.returncode == 0 and out.stdout.count("Score ") == 2 and str(other) in out.stdout
    out = run("score", "--task", "add_two_numbers", "-", "--json", stdin="print(8)\n")
    data = json.loads(out.stdout)
    assert data["success"] is False and data["reasons"]


def test_tasks_list_and_show():
    out = run("tasks", "list")
    assert out.returncode == 0 and "basic_loop" in out.stdout
    out = run("tasks", "show", "benchmark_add_two_numbers")
    assert out.returncode == 0 and "add_two_numbers" in out.stdout


def test_train_json_resume_and_fresh():
    out = run(
        "train", "--task", "add_two_numbers", "--max-attempts", "600", "--json", "--seed", "1"
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    summary = lines[-1]
    assert set(summary) == SUMMARY_KEYS and summary["event"] == "summary"
    assert all(x["event"] == "progress" for x in lines[:-1])
    first_total = summary["total_attempts"]
    assert first_total == summary["attempts"] == 600 or summary["solved"]  # exact budget
    # the next run resumes the saved state
    out = run("train", "--task", "add_two_numbers", "--max-attempts", "256", "--json")
    again = json.loads(out.stdout.splitlines()[-1])
    assert again["total_attempts"] == first_total + again["attempts"]
    # --fresh starts over
    out = run("train", "--task", "add_two_numbers", "--max-attempts", "256", "--json", "--fresh")
    fresh = json.loads(out.stdout.splitlines()[-1])
    assert fresh["total_attempts"] == fresh["attempts"]
    assert "--fresh: archived the earlier state to" in out.stderr


def test_bench_json_and_history():
    out = run(
        "bench", "--tasks", "add_two_numbers", "--seeds", "2", "--max-attempts", "512", "--json"
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data) == 2 and {d["seed"] for d in data} == {0, 1}
    assert all(set(d) == SUMMARY_KEYS for d in data)
    hist = run("history")
    assert hist.returncode == 0 and "bench" in hist.stdout


def test_bench_task_file_alone_runs_only_that_file(tmp_path):
    from engine.tasks import load_task

    src = load_task("add_two_numbers")
    task = tmp_path / "mine.json"
    task.write_text(open(src.path, encoding="utf-8").read(), encoding="utf-8")
    out = run("bench", "--task-file", str(task), "--seeds", "1", "--max-attempts", "64", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data) == 1  # not every shipped benchmark as well
    assert data[0]["attempts"] == 64 or data[0]["solved"]


def test_closed_stdout_ends_cleanly_and_records_interrupted(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "altlas_tui.cli", "train", "--task", "basic_loop", "--json",
         "--max-attempts", "100000", "--set", "train.batch_size=32"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()  # like `| head -1`: read one line, then hang up
    assert json.loads(first)["event"] == "progress"
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141, err
    assert "Traceback" not in err and "internal error" not in err
    hist = run("history", "--json")
    runs = json.loads(hist.stdout)
    assert runs[-1]["outcome"] == "interrupted"


def test_ctrl_c_in_train_saves_and_exits_130(tmp_path):
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "altlas_tui.cli", "train", "--task", "basic_loop", "--json",
         "--max-attempts", "100000", "--set", "train.batch_size=32"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    proc.stdout.readline()  # training has started
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["event"] == "summary" and summary["attempts"] > 0
    runs = json.loads(run("history", "--json").stdout)
    assert runs[-1]["outcome"] == "interrupted"


def test_bench_keeps_finished_results_when_one_run_fails(monkeypatch, capsys):
    import signal

    from altlas_tui.cli import main
    from engine.controller import Engine

    real_run = Engine.run
    calls = {"n": 0}

    def flaky_run(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("sandbox died (injected)")
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "run", flaky_run)
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        code = main(["bench", "--tasks", "add_two_numbers", "--seeds", "3",
                     "--max-attempts", "64", "--json", "--set", "train.batch_size=32"])  # fmt: skip
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out = capsys.readouterr()
    assert code == 1  # something failed...
    data = json.loads(out.out)
    assert [d["seed"] for d in data] == [0, 2]  # ...but the finished runs are all there
    assert "seed 1: error: RuntimeError: sandbox died (injected)" in out.err

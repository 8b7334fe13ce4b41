"""Sweeps: spec expansion, the driver against a scripted backend, the local pool end to end,
cancellation, and the Ray backend (skipped without Ray)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config import Config
from engine.errors import InputError
from engine.store import Store
from engine.sweep import Stopper, build_specs, format_table, medians, parse_settings, run_sweep
from engine.sweep.worker import run_spec
from engine.tasks import load_task

SUMMARY_KEYS = {"event", "task", "seed", "algo", "solved", "attempts_to_solve", "attempts",
                "unique_programs", "seconds", "attempts_per_second", "best_score", "best_code",
                "solution", "solution_raw", "hints_provided", "total_attempts", "settings"}  # fmt: skip
HAS_RAY = importlib.util.find_spec("ray") is not None


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "altlas_tui.cli", *args], capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


# -- specs ------------------------------------------------------------------------------------


def test_specs_are_the_cartesian_product_with_validated_configs():
    tasks = [load_task("add_two_numbers"), load_task("conditional_check")]
    settings = parse_settings(["train.lr=0.001,0.003", "train.batch_size=32,64,128"])
    specs = build_specs(Config(), tasks, 2, settings, 500)
    assert len(specs) == 2 * 2 * 3 * 2
    assert [s.index for s in specs] == list(range(len(specs)))
    combos = {(s.task, s.seed, tuple(sorted(s.settings.items()))) for s in specs}
    assert len(combos) == len(specs)
    one = next(s for s in specs if s.settings == {"train.lr": "0.003", "train.batch_size": "64"})
    assert one.config["train"]["lr"] == 0.003 and one.config["train"]["batch_size"] == 64
    assert one.config["hints"]["enabled"] is False  # hints off, as in bench
    assert one.task_data["name"] and one.max_attempts == 500
    assert load_task("add_two_numbers").name in {s.task for s in specs}


@pytest.mark.parametrize(
    "items, fragment",
    [
        (["train.nope=1,2"], "train.nope"),
        (["train.lr"], "expected section.key=value"),
        (["lr=0.1"], "expected section.key=value"),
        (["train.batch_size=32,big"], "expected an integer"),
        (["train.lr=0.1,,0.2"], "no empty value"),
        (["train.lr=0.1", "train.lr=0.2"], "swept twice"),
        (["nosection.x=1"], "unknown section"),
        (
            ["train.risk_epsilon=0.5,2"],
            "train.risk_epsilon: 2.0 is out of range (allowed: 0 < value <= 1)",
        ),
        (["train.temperature=0"], "train.temperature: 0.0 is out of range"),
    ],
)
def test_bad_settings_are_input_errors(items, fragment):
    with pytest.raises(InputError) as err:
        build_specs(Config(), [load_task("add_two_numbers")], 1, parse_settings(items), 10)
    assert fragment in str(err.value) and "--set" in str(err.value)


# -- the driver, against a scripted backend ----------------------------------------------------


class ScriptedBackend:
    """Replays records: runs whose seed is 0 finish at once, others never end unless cancelled
    (then they answer with a "stopped" summary, or stay silent when `deaf`)."""

    name = "scripted"
    startup_seconds = 0.0

    def __init__(self, capacity=2, deaf=False):
        self.capacity = capacity
        self.deaf = deaf
        self.outbox: list[dict] = []
        self.cancelled: list[int] = []
        self.closed_with_kill = None
        self.submitted: list[int] = []
        self.polls = 0

    def submit(self, spec):
        self.submitted.append(spec.index)
        i = spec.index
        self.outbox += [{"type": "started", "run": i},
                        {"type": "progress", "run": i, "attempts": 64, "best_score": 0.5,
                         "metrics": [[64, {"rollout/score_mean": 0.25}]],
                         "best": [[64, 0.5, "print(8)"]], "events": [[0, "started", "hi"]]}]  # fmt: skip
        if spec.seed == 0:
            self.outbox.append(_summary_record(spec, attempts=128))
        return i

    def records(self, timeout):
        self.polls += 1
        out, self.outbox = self.outbox, []
        if not out:
            time.sleep(0.01)
        return out

    def cancel(self, handle):
        self.cancelled.append(handle)
        if not self.deaf:
            self.outbox.append({"type": "summary", "run": handle, "outcome": "stopped",
                                "summary": None})  # fmt: skip

    def close(self, kill=False):
        self.closed_with_kill = kill


def _summary_record(spec, attempts):
    return {"type": "summary", "run": spec.index, "outcome": "budget", "summary": {
        "event": "summary", "task": spec.task, "seed": spec.seed, "algo": "default",
        "solved": False, "attempts_to_solve": None, "attempts": attempts, "unique_programs": 9,
        "seconds": 0.5, "attempts_per_second": 256.0, "best_score": 0.5, "best_code": "print(8)",
        "solution": None, "hints_provided": 0, "total_attempts": attempts}}  # fmt: skip


def _specs(seeds=1, settings=None):
    return build_specs(Config(), [load_task("add_two_numbers")], seeds,
                       parse_settings(settings or []), 1000)  # fmt: skip


def test_driver_records_every_run_in_the_store_as_a_sweep_run():
    specs = _specs(1, ["train.batch_size=32,64"])
    with Store() as store:
        result = run_sweep(specs, ScriptedBackend(), store.runs, sweep_id="s1")
        runs = store.runs.list_runs(kind="sweep")
        assert [r["outcome"] for r in runs] == ["budget", "budget"]
        assert [r["config"]["sweep"]["settings"] for r in runs] == [
            {"train.batch_size": "32"}, {"train.batch_size": "64"}]  # fmt: skip
        assert {r["config"]["sweep"]["id"] for r in runs} == {"s1"}
        assert runs[0]["config"]["train"]["batch_size"] == 32
        assert store.runs.metrics(runs[0]["id"]) == [(64, "rollout/score_mean", 0.25)]
        assert store.runs.best_programs(runs[0]["id"])[0]["code"] == "print(8)"
        assert store.runs.events(runs[0]["id"])[0]["message"] == "hi"
        assert runs[1]["summary"]["settings"] == {"train.batch_size": "64"}
    assert not result.interrupted and all(st.finished for st in result.runs)


def test_driver_keeps_capacity():
    backend = ScriptedBackend(capacity=1)
    seen = []
    specs = _specs(1, ["train.batch_size=16,32,64"])
    with Store() as store:
        run_sweep(specs, backend, store.runs,
                  on_change=lambda st, all_: seen.append(sum(s.state == "running" for s in all_)))  # fmt: skip
    assert backend.submitted == [0, 1, 2] and max(seen) <= 1


def test_interrupt_keeps_finished_runs_and_stops_the_rest():
    specs = _specs(3)  # seed 0 finishes, seeds 1 and 2 run until cancelled
    backend = ScriptedBackend(capacity=3)
    stopper = Stopper()

    def on_change(st, states):
        if st.state == "done":  # the first result is in: Ctrl+C
            stopper.request()

    with Store() as store:
        result = run_sweep(specs, backend, store.runs, stopper=stopper, on_change=on_change)
        outcomes = {r["seed"]: r["outcome"] for r in store.runs.list_runs(kind="sweep")}
    assert result.interrupted
    assert outcomes == {0: "budget", 1: "stopped", 2: "stopped"}
    assert sorted(backend.cancelled) == [1, 2]
    assert [st.finished for st in result.runs] == [True, False, False]
    assert result.runs[1].summary["attempts"] == 64  # built from the last progress record


def test_interrupt_kills_runs_that_do_not_stop_in_time():
    specs = _specs(2)
    backend = ScriptedBackend(capacity=2, deaf=True)
    stopper = Stopper()
    stopper.request()
    stopper.request()  # a second Ctrl+C: no grace period
    with Store() as store:
        result = run_sweep(specs, backend, store.runs, stopper=stopper, grace=30)
        runs = store.runs.list_runs(kind="sweep")
    assert backend.polls == 0  # it did not wait out the 30 s grace period polling for records
    assert result.interrupted and backend.closed_with_kill is False  # nothing was running yet
    assert runs == []  # never started: nothing recorded


def test_deaf_runs_are_killed_after_the_grace_period():
    specs = _specs(2)
    backend = ScriptedBackend(capacity=2, deaf=True)
    stopper = Stopper()
    with Store() as store:
        result = run_sweep(specs, backend, store.runs, stopper=stopper, grace=0.3,
                           on_change=lambda st, a: st.state == "done" and stopper.request())  # fmt: skip
        outcomes = [r["outcome"] for r in store.runs.list_runs(kind="sweep")]
    assert backend.closed_with_kill is True
    assert outcomes == ["budget", "stopped"] and result.runs[1].outcome == "stopped"


def test_a_failed_run_is_an_error_and_the_rest_go_on():
    class Failing(ScriptedBackend):
        def submit(self, spec):
            if spec.seed == 1:
                self.outbox.append({"type": "error", "run": spec.index, "summary": None,
                                    "message": "worker process died (exit code -9)"})  # fmt: skip
                return spec.index
            return super().submit(spec)

    with Store() as store:
        result = run_sweep(_specs(2), Failing(capacity=1), store.runs)
        outcomes = [r["outcome"] for r in store.runs.list_runs(kind="sweep")]
    assert outcomes == ["budget", "error"]
    assert result.runs[1].error == "worker process died (exit code -9)"


def test_worker_reports_records_in_order():
    spec = _specs(1, ["train.batch_size=32"])[0].to_dict()
    spec["max_attempts"] = 64
    records: list[dict] = []
    run_spec(spec, records.append, lambda: False, interval=0.0)
    kinds = [r["type"] for r in records]
    assert kinds[0] == "started" and kinds[-1] == "summary" and set(kinds[1:-1]) == {"progress"}
    assert records[-1]["summary"]["attempts"] == 64 and records[-1]["outcome"] == "budget"
    steps = [m[0] for r in records if r["type"] == "progress" for m in r["metrics"]]
    assert steps == [32, 64]  # every batch's metrics arrive, none twice
    json.dumps(records)  # plain data


def test_worker_stops_when_asked():
    spec = _specs(1, ["train.batch_size=32"])[0].to_dict()
    records: list[dict] = []
    run_spec(spec, records.append, lambda: True)
    assert records[-1]["outcome"] == "stopped" and records[-1]["summary"]["attempts"] == 0


def test_medians_count_unsolved_runs_as_their_budget():
    runs = [
        {"task": "a", "settings": {"train.lr": "1"}, "solved": True, "attempts_to_solve": 100,
         "attempts": 100, "seconds": 1.0, "budget": 1000},
        {"task": "a", "settings": {"train.lr": "1"}, "solved": False, "attempts_to_solve": None,
         "attempts": 1024, "seconds": 3.0, "budget": 1000},
        {"task": "a", "settings": {"train.lr": "1"}, "solved": True, "attempts_to_solve": 300,
         "attempts": 300, "seconds": 2.0, "budget": 1000},
        {"task": "b", "settings": {"train.lr": "2"}, "solved": False, "attempts_to_solve": None,
         "attempts": 500, "seconds": 1.0, "budget": 1000},
    ]  # fmt: skip
    groups = {(g.settings, g.task): g for g in medians(runs)}
    a = groups[("train.lr=1", "a")]
    assert (a.runs, a.solved, a.median_to_solve, a.median_seconds) == (3, 2, 300, 2.0)
    assert not a.lower_bound
    b = groups[("train.lr=2", "b")]
    assert b.median_to_solve == 1000 and b.lower_bound and b.solved_share == 0
    assert ("train.lr=1", "(all tasks)") in groups
    text = format_table([{**r, "seed": 0, "best_score": 0.5} for r in runs],
                        ["solved", "budget", "solved", "budget"], 1000)  # fmt: skip
    assert "train.lr=1" in text and "Medians per setting" in text and "1,000+" in text


# -- the local pool, end to end ------------------------------------------------------------------


def test_local_sweep_json_and_history():
    out = cli("sweep", "--tasks", "add_two_numbers,conditional_check", "--seeds", "2",
              "--max-attempts", "600", "--workers", "2", "--json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # exactly one JSON document on stdout
    assert len(data) == 4 and all(set(d) == SUMMARY_KEYS for d in data)
    assert {(d["task"], d["seed"]) for d in data} == {
        ("add_two_numbers", 0), ("add_two_numbers", 1),
        ("conditional_check", 0), ("conditional_check", 1)}  # fmt: skip
    assert all(d["settings"] == {} for d in data)
    assert all(d["solved"] or d["attempts"] >= 600 for d in data)
    hist = cli("history", "--json")
    runs = json.loads(hist.stdout)
    assert [r["kind"] for r in runs] == ["sweep"] * 4
    assert {r["outcome"] for r in runs} <= {"solved", "budget"}
    with Store(read_only=True) as store:
        assert all(store.runs.metrics(r["id"]) for r in runs)  # every run's metrics are stored
    table = cli("history")
    assert table.stdout.count("sweep") == 4


def test_local_sweep_over_a_setting():
    out = cli("sweep", "--tasks", "add_two_numbers", "--seeds", "1", "--set",
              "train.batch_size=32,64", "--max-attempts", "128", "--workers", "2")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "train.batch_size=32" in out.stdout and "train.batch_size=64" in out.stdout
    assert "Medians per setting" in out.stdout
    with Store(read_only=True) as store:
        runs = store.runs.list_runs(kind="sweep")
    assert sorted(r["config"]["train"]["batch_size"] for r in runs) == [32, 64]
    assert sorted(r["summary"]["settings"]["train.batch_size"] for r in runs) == ["32", "64"]


@pytest.mark.parametrize(
    "args",
    [
        ("--set", "train.nope=1,2"),
        ("--set", "train.lr"),
        ("--set", "train.batch_size=a,b"),
        ("--seeds", "0"),
        ("--workers", "0"),
        ("--address", "127.0.0.1:6379"),
    ],
)
def test_bad_sweep_input_is_one_line_exit_2_before_anything_starts(args):
    from altlas_tui.cli import main

    try:
        code = main(["sweep", "--tasks", "add_two_numbers", *args])
    except SystemExit as stop:  # argparse refuses some flags itself (still exit 2)
        code = stop.code
    assert code == 2
    with Store(read_only=True) as store:
        assert store.runs.list_runs() == []


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _sweep_runs() -> list[dict]:
    # a fresh reader each time: one opened while the writer creates the file would give up
    with Store(read_only=True) as store:
        return store.runs.list_runs(kind="sweep")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_ctrl_c_keeps_finished_runs_and_leaves_no_worker_behind():
    proc = subprocess.Popen(
        [sys.executable, "-m", "altlas_tui.cli", "sweep", "--tasks", "add_two_numbers",
         "--seeds", "3", "--max-attempts", "256", "--workers", "1", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    workers: set[int] = set()
    try:
        # wait until the first run is finished and the second one is under way, then Ctrl+C
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            workers |= _descendants(proc.pid)
            runs = _sweep_runs()
            if len(runs) >= 2 and runs[0]["outcome"] in ("solved", "budget"):
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        workers |= _descendants(proc.pid)
        # a bigger budget would be slower to reach; the second run may end by itself meanwhile
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
        runs = _sweep_runs()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert took < 20, err
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    data = json.loads(out)  # finished runs only
    assert len(data) >= 1 and data[0]["seed"] == 0
    assert {d["seed"] for d in data} == {
        r["seed"] for r in runs if r["outcome"] in ("solved", "budget")
    }
    assert len(runs) == 2  # the third never started
    assert all(r["outcome"] in ("solved", "budget", "stopped") for r in runs)
    assert workers, "saw no worker processes"
    # killed workers may need a moment to be reaped: wait for the condition, bounded
    deadline = time.monotonic() + 10
    while [p for p in workers if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in workers if _alive(p)] == []


def test_ray_backend_missing_is_one_line_exit_2(monkeypatch, capsys):
    from altlas_tui.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    code = main(["sweep", "--tasks", "add_two_numbers", "--backend", "ray", "--json"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'altlas-tui[ray]'" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.skipif(
    not HAS_RAY and not os.environ.get("CI"),
    reason="ray is not installed (pip install 'altlas-tui[ray]'); CI installs it and never skips",
)
def test_ray_backend_local_instance():
    out = cli("sweep", "--tasks", "add_two_numbers", "--seeds", "2", "--set",
              "train.batch_size=64", "--max-attempts", "128", "--backend", "ray", "--workers",
              "1", "--json", timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data) == 2 and all(set(d) == SUMMARY_KEYS for d in data)
    assert all(d["settings"] == {"train.batch_size": "64"} for d in data)
    with Store(read_only=True) as store:
        runs = store.runs.list_runs(kind="sweep")
    assert len(runs) == 2 and {r["config"]["sweep"]["backend"] for r in runs} == {"ray"}
    assert all(store_metrics for store_metrics in [r["attempts"] for r in runs])


def test_a_failing_backend_keeps_the_finished_runs():
    class Breaks(ScriptedBackend):
        """Finishes the first run, then its connection fails."""

        def records(self, timeout):
            if self.submitted and not self.outbox and any(i > 0 for i in self.submitted):
                raise ConnectionError("lost the cluster")
            return super().records(timeout)

    specs = _specs(3)  # seed 0 finishes; seed 1 is running when the backend breaks; 2 pending
    backend = Breaks(capacity=1)
    with Store() as store:
        result = run_sweep(specs, backend, store.runs)
        outcomes = {r["seed"]: r["outcome"] for r in store.runs.list_runs(kind="sweep")}
    assert result.error == "ConnectionError: lost the cluster"
    assert [st.outcome for st in result.runs] == ["budget", "stopped", "stopped"]
    assert result.runs[0].finished and result.runs[0].summary["attempts"] == 128
    assert outcomes == {0: "budget", 1: "stopped"}  # 2 was never started: nothing recorded
    assert backend.closed_with_kill is True


def test_a_run_whose_records_cannot_be_stored_fails_alone():
    class Malformed(ScriptedBackend):
        """Every run finishes; run 1 first sends a malformed "best" entry."""

        def submit(self, spec):
            i = super().submit(spec)
            if spec.index == 1:
                self.outbox.append({"type": "progress", "run": i, "best": [[1, 0.5]]})
            if spec.seed != 0:
                self.outbox.append(_summary_record(spec, attempts=128))
            return i

    backend = Malformed(capacity=1)
    with Store() as store:
        result = run_sweep(_specs(3), backend, store.runs)
        outcomes = [r["outcome"] for r in store.runs.list_runs(kind="sweep")]
    assert result.error is None
    assert outcomes == ["budget", "error", "budget"]
    assert result.runs[1].error.startswith("recording failed: ValueError")
    assert backend.cancelled == [1]


def test_report_prints_finished_runs_and_exits_1_when_the_sweep_stopped_early(capsys):
    from types import SimpleNamespace

    from engine.sweep.command import _report
    from engine.sweep.driver import RunState, SweepResult

    specs = _specs(2)
    done = RunState(specs[0], run_id=1, state="done", outcome="budget",
                    summary=_summary_record(specs[0], 128)["summary"])  # fmt: skip
    stopped = RunState(specs[1], run_id=2, state="done", outcome="stopped")
    result = SweepResult([done, stopped], error="ConnectionError: lost the cluster")
    code = _report(result, SimpleNamespace(json=True, max_attempts=1000))
    out, err = capsys.readouterr()
    assert code == 1
    assert [d["seed"] for d in json.loads(out)] == [0]
    assert "sweep stopped early: ConnectionError: lost the cluster; 1 finished run(s) kept" in err

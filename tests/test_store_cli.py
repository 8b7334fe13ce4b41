"""`paths`, `history` and `export` handlers."""

from __future__ import annotations

import csv
import json
import math
import os
import types

import pytest

from altlas_tui import store_cli
from engine.store import Store, paths


def _ns(**kw):
    return types.SimpleNamespace(**kw)


@pytest.fixture
def two_runs():
    with Store() as store:
        r = store.runs
        a = r.start_run("add_two_numbers", 3, "default", {"lr": 0.002})
        r.log_metrics(a, 128, {"rollout/score_mean": 0.25, "train/loss": 1.5})
        r.log_metrics(a, 256, {"rollout/score_mean": 0.5, "train/loss": float("nan")})
        r.log_best(a, 256, 0.5, "print(int(input()) + 1)")
        r.log_hint(a, 200, "read two numbers", False, {"gain": 0.1})
        r.end_run(a, "solved", {"seconds": 4.5, "attempts": 256, "attempts_to_solve": 250,
                                "best_score": 1.0, "solved": True,
                                "solution": "x = 5\nprint(x + 3)\n",
                                "solution_raw": "x = 5\ny = 0\nprint(x + 3 * True)\n"})  # fmt: skip
        b = r.start_run("reverse_string", 0, "random", {}, kind="bench")
        r.end_run(b, "budget", {"seconds": 1.0, "attempts": 5000, "attempts_to_solve": None,
                                "best_score": 0.125, "solved": False})  # fmt: skip
    return a, b


def test_paths_prints_five_folders(capsys, tmp_path):
    assert store_cli.cmd_paths(_ns()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == ["data", "config", "state", "log", "cache"]
    assert lines[0] == f"data    {paths().data}"


def test_history_table(two_runs, capsys):
    assert store_cli.cmd_history(_ns(task=None, json=False)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["id", "kind", "task", "seed"]
    assert len(lines) == 3
    first, second = lines[1].split(), lines[2].split()
    assert first[:5] == ["1", "train", "add_two_numbers", "3", "default"]
    # the minimal solution on one line, not the one as found
    assert lines[1].endswith("1.000  x = 5 ⏎ print(x + 3)")
    assert first[7:12] == ["4.5", "solved", "256", "250", "1.000"]
    assert second[1] == "bench" and second[-4:] == ["budget", "5,000", "-", "0.125"]


def test_history_filter_and_json(two_runs, capsys):
    assert store_cli.cmd_history(_ns(task="benchmark_reverse_string", json=True)) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["task"] for r in data] == ["reverse_string"]
    assert data[0]["outcome"] == "budget" and data[0]["kind"] == "bench"


def test_history_empty(capsys):
    assert store_cli.cmd_history(_ns(task="nothing")) == 0
    assert capsys.readouterr().out.strip() == "no runs recorded yet for task nothing"


def test_history_works_while_a_writer_holds_the_lock(two_runs, capsys):
    with Store():
        assert store_cli.cmd_history(_ns(task=None, json=True)) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_export_csv(two_runs, tmp_path, capsys):
    run_id, _ = two_runs
    out = tmp_path / "out"
    assert store_cli.cmd_export(_ns(run_id=run_id, format="csv", out=str(out))) == 0
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["step", "key", "value"],
        ["128", "rollout/score_mean", "0.25"],
        ["128", "train/loss", "1.5"],
        ["256", "rollout/score_mean", "0.5"],
        ["256", "train/loss", "nan"],
    ]
    doc = json.loads((out / "run.json").read_text())
    assert doc["id"] == run_id and doc["outcome"] == "solved"
    assert doc["best_programs"][0]["code"] == "print(int(input()) + 1)"
    assert doc["hints"][0]["effect"] == {"gain": 0.1}
    assert "metrics.csv" in capsys.readouterr().out


def test_export_jsonl_one_object_per_step(two_runs, tmp_path):
    run_id, _ = two_runs
    out = tmp_path / "out"
    assert store_cli.cmd_export(_ns(run_id=run_id, format="jsonl", out=str(out))) == 0
    lines = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines == [
        {"step": 128, "rollout/score_mean": 0.25, "train/loss": 1.5},
        {"step": 256, "rollout/score_mean": 0.5, "train/loss": None},
    ]
    assert (out / "run.json").exists()


def test_export_unknown_run_is_exit_2(two_runs, tmp_path, capsys):
    assert store_cli.cmd_export(_ns(run_id=99, format="csv", out=str(tmp_path / "o"))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run with id 99" in err
    assert not (tmp_path / "o").exists()


def test_export_bad_out_and_format(two_runs, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert store_cli.cmd_export(_ns(run_id=1, format="csv", out=str(blocker))) == 2
    assert store_cli.cmd_export(_ns(run_id=1, format="xml", out=str(tmp_path))) == 2
    assert store_cli.cmd_export(_ns(run_id="one", format="csv", out=str(tmp_path))) == 2


def test_export_tensorboard_without_extra(two_runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(store_cli, "_tensorboard_available", lambda: False)
    assert store_cli.cmd_export(_ns(run_id=1, format="tensorboard", out=str(tmp_path / "tb"))) == 2
    assert "pip install 'altlas-tui[tensorboard]'" in capsys.readouterr().err


def test_export_tensorboard_writes_real_event_files(two_runs, tmp_path):
    """The real writer, read back with TensorBoard's own event reader."""
    if not store_cli._tensorboard_available() and not os.environ.get("CI"):
        pytest.skip(
            "needs the tensorboard extra: pip install 'altlas-tui[tensorboard]' (CI has it)"
        )
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "tb"
    assert store_cli.cmd_export(_ns(run_id=1, format="tensorboard", out=str(out))) == 0
    assert [p.name.startswith("events.out.tfevents.") for p in out.iterdir()] == [True]
    acc = EventAccumulator(str(out), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    assert sorted(acc.Tags()["scalars"]) == ["rollout/score_mean", "train/loss"]
    score = [(e.step, e.value) for e in acc.Scalars("rollout/score_mean")]
    assert score == [(128, 0.25), (256, 0.5)]
    loss = [(e.step, e.value) for e in acc.Scalars("train/loss")]
    assert loss[0] == (128, 1.5) and loss[1][0] == 256 and math.isnan(loss[1][1])

    def texts(tag):
        return [(e.step, e.tensor_proto.string_val[0].decode()) for e in acc.Tensors(tag)]

    assert texts("best_program/text_summary") == [(256, "```python\nprint(int(input()) + 1)\n```")]
    assert texts("hints/text_summary") == [(200, "read two numbers (effect: {'gain': 0.1})")]
    config = texts("run/config/text_summary")
    assert config[0][0] == 0 and json.loads(config[0][1].strip("`\n")) == {"lr": 0.002}

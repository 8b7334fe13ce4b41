"""Every store the engine is given implements the typed protocols, with the same signatures."""

from __future__ import annotations

import inspect

import pytest

from engine.store import EngineStore, HistoryOnlyStore, RunDB, RunHistory, Store
from engine.store.adapters import KindRuns
from engine.sweep.worker import RecordingRuns, RecordingStore


def _methods(proto: type) -> list[str]:
    return [n for n, v in vars(proto).items() if callable(v) and not n.startswith("_")]


def _params(fn) -> list[tuple[str, object]]:
    sig = inspect.signature(fn)
    return [(p.name, p.kind) for p in sig.parameters.values()]


@pytest.mark.parametrize("impl", [RunDB, RecordingRuns, KindRuns])
def test_run_histories_match_the_protocol(impl):
    for name in _methods(RunHistory):
        assert _params(getattr(impl, name)) == _params(getattr(RunHistory, name)), name


@pytest.mark.parametrize("impl", [Store, RecordingStore, HistoryOnlyStore])
def test_engine_stores_match_the_protocol(impl):
    for name in _methods(EngineStore):
        assert _params(getattr(impl, name)) == _params(getattr(EngineStore, name)), name


def test_instances_are_recognised(tmp_path):
    with Store() as store:
        assert isinstance(store, EngineStore) and isinstance(store.runs, RunHistory)
        bench = HistoryOnlyStore(store.runs)
        assert isinstance(bench, EngineStore) and isinstance(bench.runs, RunHistory)
    assert isinstance(RecordingStore(), EngineStore)


def test_history_only_store_records_runs_as_bench_and_never_touches_checkpoints():
    with Store() as store:
        store.save_task_state("t", {"meta": {"v": 1}, "n": 1})
        bench = HistoryOnlyStore(store.runs)
        run = bench.runs.start_run("t", 0, "default", {}, kind="train")
        bench.runs.log_metrics(run, 1, {"rollout/score_mean": 0.5})
        bench.runs.end_run(run, "budget", {"attempts": 10})
        assert bench.load_task_state("t") is None
        assert bench.archive_task_state("t") == []
        bench.save_task_state("t", {"meta": {"v": 2}, "n": 2})
        bench.set_last_task("other")
        store.runs.flush()
        assert store.runs.get_run(run)["kind"] == "bench"
        assert [k for _, k, _ in store.runs.metrics(run)] == ["rollout/score_mean"]
        assert store.load_task_state("t")["n"] == 1  # the person's checkpoint is untouched
        assert store.last_task() is None


def test_recording_store_keeps_what_the_engine_logs_until_taken():
    store = RecordingStore()
    runs = store.runs
    rid = runs.start_run("t", 0, "default", {})
    runs.log_metrics(rid, 3, {"a": 1})
    runs.log_best(rid, 3, 0.5, "print(1)")
    runs.log_event(rid, 4, "save", "saved")
    runs.end_run(rid, "solved", {"attempts": 7})
    assert runs.take() == {"metrics": [[3, {"a": 1.0}]], "best": [[3, 0.5, "print(1)"]],
                           "events": [[4, "save", "saved"]]}  # fmt: skip
    assert runs.take() == {"metrics": [], "best": [], "events": []}
    assert (runs.outcome, runs.summary) == ("solved", {"attempts": 7})
    assert store.load_task_state("t") is None and store.archive_task_state("t") == []

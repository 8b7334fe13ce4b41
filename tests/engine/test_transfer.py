"""`--init-from TASK`: a fresh run of a task from another task's saved policy weights."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from engine.config import Config
from engine.control import Control
from engine.controller import Engine
from engine.errors import InputError
from engine.store import Store
from engine.tasks import load_task
from engine.trainer import Trainer
from engine.transfer import load_warm_start

SHAPE = {"embed_size": 8, "hidden_size": 16, "num_layers": 1}
SMALL = ["--set", "train.embed_size=8", "--set", "train.hidden_size=16",
         "--set", "train.batch_size=16", "--set", "search.gp=false"]  # fmt: skip


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "altlas_tui.cli", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def small_config() -> Config:
    cfg = Config()
    cfg.train.embed_size, cfg.train.hidden_size, cfg.train.batch_size = 8, 16, 16
    cfg.search.gp = False
    return cfg


@pytest.fixture
def trained_source():
    """add_inputs trained for a few batches and saved (its weights differ from any init)."""
    store = Store()
    try:
        Engine(small_config(), "add_inputs", store=store, hints=False).run(
            Control(), max_attempts=48
        )
        return store.load_task_state(load_task("add_inputs").name)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("no_such_task", "unknown task"),
        ("sum_list", "has no saved state"),
        ("js_add_two_numbers", "weights only transfer within a language"),
        ("double_number", "is the task being trained"),
    ],
)
def test_bad_init_from_is_one_line_exit_2_before_any_work(source, says):
    out = cli("train", "--task", "double_number", "--init-from", source, "--max-attempts", "16")
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--init-from" in lines[0] and says in lines[0], lines
    assert "Traceback" not in out.stderr
    history = cli("history", "--task", "double_number")
    assert "double_number" not in history.stdout.split("\n", 1)[-1]  # no run was started


def test_another_model_shape_is_refused(trained_source):
    store = Store(read_only=True)
    try:
        with pytest.raises(InputError, match="hidden_size 16 \\(now 64\\)"):
            load_warm_start(store, load_task("add_inputs"), load_task("double_number"),
                            {**SHAPE, "hidden_size": 64})  # fmt: skip
    finally:
        store.close()


def test_the_weights_are_loaded_shared_tokens_by_spelling(trained_source):
    saved = trained_source["policy"]
    src_vocab = trained_source["meta"]["vocab"]
    store = Store()
    seen: dict[str, dict[str, torch.Tensor]] = {}

    def on_event(event) -> None:  # the policy as warm-started, before any update
        if event.kind == "started":
            seen["policy"] = {k: v.clone() for k, v in engine.trainer.policy.state_dict().items()}
            seen["vocab"] = list(engine.trainer.tok.tokens)
            seen["message"] = event.message

    try:
        # greet has tokens of its own ('name', "'Hello, '"); the rest it shares with add_inputs
        warm = load_warm_start(store, load_task("add_inputs"), load_task("greet"), SHAPE)
        engine = Engine(small_config(), "greet", store=store, hints=False,
                        warm_start=warm, on_event=on_event)  # fmt: skip
        engine.run(Control(), max_attempts=16)
    finally:
        store.close()
    got, vocab = seen["policy"], seen["vocab"]
    assert "from the weights of add_inputs" in seen["message"]
    for name in ("lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"):
        assert torch.equal(got[name], saved[name]), name
    where = {t: i for i, t in enumerate(src_vocab)}
    shared = [t for t in vocab if t in where]
    only_here = [t for t in vocab if t not in where]
    assert len(shared) > 40 and only_here  # the base vocabulary, and greet's own tokens
    for tok in shared:
        i, j = vocab.index(tok), where[tok]
        assert torch.equal(got["embed.weight"][i], saved["embed.weight"][j]), tok
        assert torch.equal(got["head.weight"][i], saved["head.weight"][j]), tok
        assert got["head.bias"][i] == saved["head.bias"][j], tok
    # greet's own tokens keep the fresh initialisation (same seed), and a fresh policy is not
    # the source's (so the equalities above can fail)
    fresh = Trainer(small_config(), load_task("greet"), lambda *a, **k: [], seed=0)
    init = fresh.policy.state_dict()
    for tok in only_here:
        i = vocab.index(tok)
        assert torch.equal(got["embed.weight"][i], init["embed.weight"][i]), tok
    assert not torch.equal(init["lstm.weight_hh_l0"], saved["lstm.weight_hh_l0"])


def test_train_init_from_runs_and_archives_the_old_state(trained_source):
    out = cli("train", "--task", "double_number", *SMALL, "--max-attempts", "16", "--json")
    assert out.returncode == 0, out.stderr
    out = cli("train", "--task", "double_number", "--init-from", "add_inputs", *SMALL,
              "--max-attempts", "16", "--json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["total_attempts"] == 16  # a fresh start, not a resume
    assert "archived the earlier state" in out.stderr

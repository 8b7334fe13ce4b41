"""Config: defaults, TOML, environment, flags; clear errors."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from engine import config as cfgmod
from engine.errors import InputError


def test_defaults_and_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[train]\nlr = 0.01\nbatch_size = 32\n[hints]\nenabled = false\n")
    c = cfgmod.load(f)
    assert c.train.lr == 0.01 and c.train.batch_size == 32 and c.hints.enabled is False
    assert c.train.entropy_weight == cfgmod.TrainConfig().entropy_weight


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[train]\nlrr = 1\n", "train.lrr"),
        ("[trian]\nlr = 1\n", "trian"),
        ("[train]\nbatch_size = 'big'\n", "train.batch_size"),
        ("[train]\npqt = 3\n", "train.pqt"),
        ("[train]\ninit_method = 'zeros'\n", "train.init_method"),
        ("train = 3\n", "train"),
        ("[train\n", None),
    ],
)
def test_bad_files_name_file_and_field(tmp_path, text, field):
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(InputError) as err:
        cfgmod.load_file(f)
    assert str(f) in str(err.value)
    if field:
        assert field in str(err.value)


def test_env_overrides_file_and_flags_override_env(tmp_path, monkeypatch):
    f = tmp_path / "c.toml"
    f.write_text("[train]\nlr = 0.01\nseed = 1\n")
    monkeypatch.setenv("ALTLAS_TRAIN_LR", "0.02")
    monkeypatch.setenv("ALTLAS_SANDBOX_WORKERS", "2")
    monkeypatch.setenv("ALTLAS_HINTS_ENABLED", "no")
    c = cfgmod.load(f, overrides={"train": {"lr": 0.03}})
    assert c.train.lr == 0.03 and c.sandbox.workers == 2 and c.hints.enabled is False
    assert c.train.seed == 1


def test_bad_env_value(monkeypatch):
    monkeypatch.setenv("ALTLAS_TRAIN_BATCH_SIZE", "many")
    with pytest.raises(InputError, match="ALTLAS"):
        cfgmod.load(None)
    monkeypatch.delenv("ALTLAS_TRAIN_BATCH_SIZE")
    monkeypatch.setenv("ALTLAS_TRAIN_NOPE", "1")
    with pytest.raises(InputError, match="train.nope"):
        cfgmod.load(None)


def test_parse_assignment():
    assert cfgmod.parse_assignment("train.lr=0.1") == ("train", "lr", "0.1")
    with pytest.raises(InputError):
        cfgmod.parse_assignment("lr=0.1")


# -- ranges ---------------------------------------------------------------------------------------
# Written out by hand (not derived from the declarations) so that deleting or loosening a declared
# range makes a test fail. Each entry: values just outside the range, values just inside it.
RANGES: dict[str, tuple[list, list]] = {
    "train.seed": ([-1, 2**63], [0, 2**63 - 1]),
    "train.batch_size": ([0, -5, 65537], [1, 65536]),
    "train.hidden_size": ([0, 4097], [1, 4096]),
    "train.embed_size": ([0, 4097], [1, 4096]),
    "train.num_layers": ([0, 3], [1, 2]),
    "train.lr": ([0, -0.1, 100.5], [1e-9, 100]),
    "train.entropy_weight": ([-0.01, 101], [0, 100]),
    "train.baseline_decay": ([-0.01, 1.01], [0, 1]),
    "train.grad_clip": ([0, -1], [1e-6, 1e6]),
    "train.pqt_k": ([-1, 0, 100_001], [1, 100_000]),
    "train.pqt_weight": ([-0.1, 101], [0, 100]),
    "train.risk_epsilon": ([0, 2, 1.0001, -0.5], [1e-6, 1]),
    "train.lr_plateau_patience": ([0], [1]),
    "train.lr_min": ([-1e-9, 101], [0, 100]),
    "train.length_penalty": ([-0.001, 1.5], [0, 1]),
    "train.temperature": ([0, -1, 101], [1e-3, 100]),
    "train.torch_threads": ([0, 257], [1, 256]),
    "train.cache_size": ([0, 100_000_001], [1, 100_000_000]),
    "grammar.max_tokens": ([-1, 4097], [0, 4096]),
    "grammar.max_depth": ([-1, 9], [0, 8]),
    "grammar.max_names": ([0, 9], [1, 8]),
    "grammar.max_states": ([999, 10_000_001], [1_000, 10_000_000]),
    "sandbox.workers": ([0, 65], [1, 64]),
    "sandbox.timeout": ([0, -1, 3601], [0.001, 3600]),
    "sandbox.max_output": ([0], [1]),
    "sandbox.memory_mb": ([63], [64]),
    "sandbox.recycle_every": ([0], [1]),
    "sandbox.max_source": ([0], [1]),
    "hints.stuck_check_window": ([0], [1]),
    "hints.stuck_threshold": ([-0.1, 1.1], [0, 1]),
    "hints.max_consecutive_stuck_checks": ([0], [1]),
    "hints.hint_probability_on_stuck": ([-0.1, 1.1], [0, 1]),
    "hints.backoff_factor": ([0.99, 1001], [1, 1000]),
    "hints.hint_tokens": ([0, 4097], [1, 4096]),
    "hints.hint_duration": ([0], [1]),
    "hints.hint_fraction": ([-1, 1.5], [0, 1]),
    "explore.shape_penalty": ([-0.01, 1.01], [0, 1]),
    "explore.shape_penalty_max": ([-0.01, 1.01], [0, 1]),
    "explore.shape_free_repeats": ([-1], [0]),
    "explore.memory_size": ([-1, 10_000_001], [0, 10_000_000]),
    "explore.boost_threshold": ([-0.1, 1.1], [0, 1]),
    "explore.boost_window": ([0], [1]),
    "explore.boost_entropy": ([-0.1, 101], [0, 100]),
    "explore.boost_batches": ([0], [1]),
    "search.every": ([0, 1_000_001], [1, 1_000_000]),
    "search.generations": ([0, 101], [1, 100]),
    "search.children": ([0, 4097], [1, 4096]),
    "search.return_best": ([0, 4097], [1, 4096]),
    "search.crossover_rate": ([-0.1, 1.1], [0, 1]),
    "search.loop_credit": ([-0.01, 0.05], [0, 0.04]),
    "store.save_interval": ([0, -1], [0.5]),
    "ui.fps": ([0, 31], [1, 30]),
}
CHOICES = {
    "train.algo": (["greedy", "Default", ""], ["default", "random"]),
    "train.init_method": (["zeros"], ["xavier", "kaiming", "orthogonal"]),
    "sandbox.backend": (["thread"], ["process", "inprocess"]),
    "search.selection": (["random"], ["lexicase", "tournament"]),
}


def _numeric_fields() -> set[str]:
    out = set()
    for section in cfgmod.SECTIONS:
        obj = getattr(cfgmod.Config(), section)
        for f in dataclasses.fields(obj):
            if type(getattr(obj, f.name)) in (int, float):
                out.add(f"{section}.{f.name}")
    return out


def test_every_numeric_field_has_a_range_test():
    assert set(RANGES) == _numeric_fields()


def _cases(table, accepted):
    return [(k, v) for k, (bad, good) in table.items() for v in (good if accepted else bad)]


@pytest.mark.parametrize(("key", "value"), _cases(RANGES, False) + _cases(CHOICES, False))
def test_out_of_range_refused_from_every_source(tmp_path, monkeypatch, key, value):
    section, name = key.split(".")
    # --set (text)
    with pytest.raises(InputError) as err:
        cfgmod.load_config(None, [f"{key}={value}"])
    assert str(err.value).startswith(f"--set: {key}: ") and (
        "allowed" in str(err.value) or "expected" in str(err.value)
    )
    # TOML file
    f = tmp_path / "c.toml"
    literal = repr(value) if isinstance(value, str) else str(value)
    f.write_text(f"[{section}]\n{name} = {literal}\n")
    with pytest.raises(InputError) as err:
        cfgmod.load(f)
    assert str(err.value).startswith(f"{f}: {key}: ")
    # environment
    monkeypatch.setenv(f"ALTLAS_{section.upper()}_{name.upper()}", str(value))
    with pytest.raises(InputError) as err:
        cfgmod.load(None)
    assert str(err.value).startswith(f"environment (ALTLAS_*): {key}: ")


@pytest.mark.parametrize(("key", "value"), _cases(RANGES, True) + _cases(CHOICES, True))
def test_bounds_themselves_accepted(key, value):
    section, name = key.split(".")
    config = cfgmod.load_config(None, [f"{key}={value}"])
    assert getattr(getattr(config, section), name) == value
    cfgmod.validate(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "train.risk_epsilon=2",
            "--set: train.risk_epsilon: 2.0 is out of range (allowed: 0 < value <= 1)",
        ),
        (
            "train.temperature=0",
            "--set: train.temperature: 0.0 is out of range (allowed: 0 < value <= 100)",
        ),
        (
            "train.pqt_k=-1",
            "--set: train.pqt_k: -1 is out of range (allowed: 1 <= value <= 100000)",
        ),
        (
            "hints.hint_fraction=-1",
            "--set: hints.hint_fraction: -1.0 is out of range (allowed: 0 <= value <= 1)",
        ),
        ("train.lr=nan", "--set: train.lr: expected a finite number, got 'nan'"),
        ("train.lr=inf", "--set: train.lr: expected a finite number, got 'inf'"),
    ],
)
def test_error_names_source_field_and_range(text, message):
    with pytest.raises(InputError) as err:
        cfgmod.load_config(None, [text])
    assert str(err.value) == message


def test_refused_value_leaves_config_untouched():
    config = cfgmod.Config()
    with pytest.raises(InputError):
        cfgmod.apply(config, {"train": {"lr": 0.5, "batch_size": 0}}, "test")
    assert config.train.lr == cfgmod.TrainConfig().lr


def test_validate_checks_configs_built_in_code():
    config = cfgmod.Config()
    cfgmod.validate(config)
    config.train.risk_epsilon = 2.0
    with pytest.raises(InputError, match=r"config: train.risk_epsilon: 2.0 is out of range"):
        cfgmod.validate(config)


def test_load_config_precedence_and_missing_file(tmp_path, monkeypatch):
    f = tmp_path / "c.toml"
    f.write_text("[train]\nlr = 0.01\nbatch_size = 8\nseed = 3\n")
    monkeypatch.setenv("ALTLAS_TRAIN_BATCH_SIZE", "16")
    c = cfgmod.load_config(f, ["train.seed=4", "train.lr=0.02"], {"train": {"lr": 0.03}})
    assert (c.train.lr, c.train.batch_size, c.train.seed) == (0.03, 16, 4)
    with pytest.raises(InputError, match="file not found"):
        cfgmod.load_config(tmp_path / "none.toml", require_file=True)
    assert cfgmod.load_config(tmp_path / "none.toml").train.lr == cfgmod.TrainConfig().lr


@pytest.mark.parametrize(
    "assignment",
    ["train.risk_epsilon=2", "train.temperature=0", "train.pqt_k=-1", "hints.hint_fraction=-1"],
)
def test_train_refuses_out_of_range_flags_with_exit_2_before_any_work(assignment, tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "ALTLAS_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-m", "altlas_tui.cli", "train", "--task", "add_two_numbers", "--json",
         "--max-attempts", "64", "--set", assignment],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    field = assignment.partition("=")[0]
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--set: {field}: " in lines[0] and "out of range" in lines[0]
    # nothing was started: no checkpoint, no run in the history
    assert not list(home.rglob("*.pt")) and not list(home.rglob("*.sqlite*"))

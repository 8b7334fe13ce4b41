"""Config: defaults, TOML, environment, flags; clear errors."""

from __future__ import annotations

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

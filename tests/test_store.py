"""Store: folders, atomic checkpoints, corrupt-file handling, the writer lock, the log file."""

from __future__ import annotations

import logging
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.store import (
    CheckpointMismatch,
    LockHeld,
    Store,
    StoreReadOnly,
    paths,
    read_checkpoint,
    setup_logging,
)
from engine.store.atomic import atomic_write_text
from engine.store.checkpoints import (
    _HEADER,
    FORMAT_VERSION,
    MAGIC,
    CorruptCheckpoint,
    encode_checkpoint,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ALTLAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _state(counter: int, meta: dict | None = None) -> dict:
    torch.manual_seed(counter)
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    gen = torch.Generator().manual_seed(counter)
    return {
        "counter": counter,
        "model": model.state_dict(),
        "optim": opt.state_dict(),
        "buffer": np.arange(counter + 3, dtype=np.float32),
        "queue": [(0.5, "print(1)"), (0.25, "x = 1")],
        "rng": {
            "python": random.Random(counter).getstate(),
            "torch": torch.get_rng_state(),
            "generator": gen.get_state(),
            "numpy": np.random.default_rng(counter).bit_generator.state,
        },
        "meta": meta if meta is not None else {"vocab": ["print", "(", ")"], "model": {"h": 8}},
    }


# ---- paths ---------------------------------------------------------------------------------


def test_paths_honour_altlas_home(home):
    p = paths()
    for name, folder in p.as_dict().items():
        assert folder == home / name
        assert folder.is_dir()
    assert p.config_file == home / "config" / "config.toml"
    assert p.db_file.parent == home / "data"


def test_paths_without_altlas_home_use_platform_dirs_under_home(tmp_path, monkeypatch):
    fake_home = tmp_path / "fakehome"
    monkeypatch.delenv("ALTLAS_HOME")
    monkeypatch.setenv("HOME", str(fake_home))
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    p = paths()
    for folder in p.as_dict().values():
        assert fake_home in folder.parents
        assert "altlas-tui" in str(folder)
        assert folder.is_dir()


def test_paths_on_a_file_is_input_error(tmp_path, monkeypatch):
    from engine.errors import InputError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("ALTLAS_HOME", str(blocker))
    with pytest.raises(InputError, match="ALTLAS_HOME"):
        paths()


# ---- checkpoints ---------------------------------------------------------------------------


def test_round_trip_restores_tensors_and_rng_states():
    state = _state(7)
    with Store() as store:
        path = store.save_task_state("add_two_numbers", state)
        assert path.name == "add_two_numbers.pt"
        loaded = store.load_task_state("add_two_numbers", expect=state["meta"])
    assert loaded["counter"] == 7
    for k, v in state["model"].items():
        assert torch.equal(loaded["model"][k], v)
    assert loaded["optim"]["state"][0]["exp_avg"].shape == (3, 4)
    np.testing.assert_array_equal(loaded["buffer"], state["buffer"])
    assert loaded["queue"] == state["queue"]
    r1, r2 = random.Random(), random.Random()
    r1.setstate(state["rng"]["python"])
    r2.setstate(loaded["rng"]["python"])
    assert [r1.random() for _ in range(3)] == [r2.random() for _ in range(3)]
    g1 = torch.Generator().set_state(state["rng"]["generator"])
    g2 = torch.Generator().set_state(loaded["rng"]["generator"])
    assert torch.equal(torch.rand(5, generator=g1), torch.rand(5, generator=g2))
    n = np.random.default_rng()
    n.bit_generator.state = loaded["rng"]["numpy"]
    assert n.random() == np.random.default_rng(7).random()


def test_second_save_keeps_previous_as_backup():
    with Store() as store:
        store.save_task_state("t", _state(1))
        store.save_task_state("t", _state(2))
        latest, prev = store.checkpoint_path("t"), store.checkpoints.prev_path_for("t")
    assert read_checkpoint(latest)["state"]["counter"] == 2
    assert read_checkpoint(prev)["state"]["counter"] == 1


def test_missing_checkpoint_loads_none():
    with Store() as store:
        assert store.load_task_state("nothing_here") is None


def test_stray_temp_files_removed_by_writer_not_by_reader():
    p = paths()
    p.checkpoints.mkdir(parents=True, exist_ok=True)
    stray = p.checkpoints / ".t.pt.tmp-999-abcd"
    stray.write_bytes(b"half a checkpoint")
    with Store(read_only=True):
        assert stray.exists()  # a reader must not touch a writer's in-flight file
    with Store():
        assert not stray.exists()


def _save_two_then(damage) -> tuple[Store, Path]:
    store = Store()
    store.save_task_state("t", _state(1))
    store.save_task_state("t", _state(2))
    store.close()
    latest = paths().checkpoints / "t.pt"
    damage(latest)
    return Store(), latest


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "truncated"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(os.urandom(3000)), "not an altlas-tui checkpoint"),
        (lambda p: p.write_bytes(_flip(p.read_bytes())), "checksum mismatch"),
        (lambda p: torch.save({"counter": 99}, p), "plain torch file"),
    ],
    ids=["truncated", "empty", "garbage", "bitflip", "plain-torch"],
)
def test_damaged_latest_is_moved_aside_and_previous_used(damage, reason, caplog):
    caplog.set_level(logging.WARNING, logger="altlas")
    store, latest = _save_two_then(damage)
    bad_bytes = latest.read_bytes()
    with store:
        loaded = store.load_task_state("t")
        assert loaded is not None and loaded["counter"] == 1
        assert any(reason in n for n in store.notices)
        assert any("previous checkpoint" in n for n in store.notices)
    aside = list(latest.parent.glob("t.pt.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == bad_bytes  # kept, not deleted
    assert reason in caplog.text
    # the next save works and the fallback stays as .prev
    with Store() as store:
        store.save_task_state("t", _state(3))
        assert store.load_task_state("t")["counter"] == 3


def _flip(data: bytes) -> bytes:
    b = bytearray(data)
    b[len(b) - 100] ^= 0xFF
    return bytes(b)


def test_all_checkpoints_damaged_gives_none_and_keeps_files():
    with Store() as store:
        store.save_task_state("t", _state(1))
        store.save_task_state("t", _state(2))
    d = paths().checkpoints
    (d / "t.pt").write_bytes(b"garbage")
    (d / "t.prev.pt").write_bytes(b"")
    with Store() as store:
        assert store.load_task_state("t") is None
    names = sorted(p.name.split(".corrupt-")[0] for p in d.glob("*.corrupt-*"))
    assert names == ["t.prev.pt", "t.pt"]


def test_read_only_store_skips_damaged_file_without_moving_it():
    with Store() as store:
        store.save_task_state("t", _state(1))
        store.save_task_state("t", _state(2))
    latest = paths().checkpoints / "t.pt"
    latest.write_bytes(b"junk")
    with Store(read_only=True) as ro:
        assert ro.load_task_state("t")["counter"] == 1
        assert latest.read_bytes() == b"junk"
        with pytest.raises(StoreReadOnly):
            ro.save_task_state("t", _state(3))
        with pytest.raises(StoreReadOnly):
            ro.set_last_task("t")


def test_vocabulary_mismatch_refused_and_file_kept():
    meta = {"vocab": ["print", "(", ")"], "model": {"hidden_size": 64, "layers": 1}}
    with Store() as store:
        path = store.save_task_state("t", _state(1, meta))
    before = path.read_bytes()
    with Store() as store:
        with pytest.raises(CheckpointMismatch) as err:
            store.load_task_state("t", expect={**meta, "vocab": ["print", "(", ")", "x"]})
        assert "vocab" in str(err.value) and "3 entries, now 4" in str(err.value)
        assert str(path) in str(err.value)
        with pytest.raises(CheckpointMismatch, match=r"model.hidden_size: checkpoint 64, now 128"):
            store.load_task_state("t", expect={**meta, "model": {"hidden_size": 128, "layers": 1}})
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.corrupt-*"))


def test_checkpoint_without_meta_is_refused_when_meta_expected():
    with Store() as store:
        state = _state(1)
        del state["meta"]
        store.save_task_state("t", state)
        with pytest.raises(CheckpointMismatch, match="records no vocab"):
            store.load_task_state("t", expect={"vocab": ["a"]})
        assert store.load_task_state("t")["counter"] == 1  # no expectation: loads


def test_saving_with_other_settings_keeps_the_old_files_aside():
    old_meta = {"vocab": ["a"], "model": {"h": 8}}
    new_meta = {"vocab": ["a", "b"], "model": {"h": 8}}
    with Store() as store:
        store.save_task_state("t", _state(1, old_meta))
        store.save_task_state("t", _state(2, old_meta))
    with Store() as store:
        with pytest.raises(CheckpointMismatch):
            store.load_task_state("t", expect=new_meta)
        store.save_task_state("t", _state(10, new_meta))  # person chose to start fresh
        assert store.load_task_state("t", expect=new_meta)["counter"] == 10
    d = paths().checkpoints
    kept = sorted(d.glob("*.old-*"))
    assert [read_checkpoint(p)["state"]["counter"] for p in kept] == [1, 2]
    assert not (d / "t.prev.pt").exists()


def test_odd_task_names_stay_inside_the_checkpoint_folder():
    with Store() as store:
        for name in ("../escape", "a/b", "x.prev", "spaces and ünïcode"):
            path = store.save_task_state(name, _state(1))
            assert path.parent == paths().checkpoints
            assert store.load_task_state(name)["counter"] == 1
        assert store.load_task_state("x") is None  # "x.prev" did not become x's backup


def test_encode_is_deterministic_header():
    data = encode_checkpoint("t", {"a": 1})
    assert data[:8] == b"ALTLASCK"
    assert data[8] == FORMAT_VERSION == 2


def _file_with_payload(path: Path, payload_obj: object, version: int = FORMAT_VERSION) -> Path:
    """A checkpoint file with a valid header around an arbitrary torch.save payload."""
    import hashlib
    import io

    buf = io.BytesIO()
    torch.save(payload_obj, buf)
    payload = buf.getvalue()
    path.write_bytes(_HEADER.pack(MAGIC, version, len(payload), hashlib.sha256(payload).digest())
                     + payload)  # fmt: skip
    return path


class _RunsCodeWhenUnpickled:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_payload_is_loaded_without_running_pickled_code(tmp_path):
    marker = tmp_path / "pwned"
    bad = _file_with_payload(
        tmp_path / "t.pt",
        {"task": "t", "saved_at": 0.0, "state": {"x": _RunsCodeWhenUnpickled(marker)}},
    )
    with pytest.raises(CorruptCheckpoint, match="unreadable payload"):
        read_checkpoint(bad)
    assert not marker.exists()


def test_numpy_arrays_and_scalars_become_plain_data_and_come_back(tmp_path):
    state = {"counts": np.arange(5, dtype=np.int64), "f": np.array([[1.5, 2.5]], dtype=np.float32),
             "score": np.float64(0.75), "n": np.int32(3), "pq": [(np.float64(0.5), "x", 1)],
             "pad": b"\x00\xff" * 3}  # fmt: skip
    path = tmp_path / "t.pt"
    path.write_bytes(encode_checkpoint("t", state))
    loaded = read_checkpoint(path)["state"]
    assert isinstance(loaded["counts"], np.ndarray) and loaded["counts"].dtype == np.int64
    np.testing.assert_array_equal(loaded["counts"], state["counts"])
    assert loaded["f"].dtype == np.float32 and loaded["f"].shape == (1, 2)
    assert type(loaded["score"]) is float and loaded["score"] == 0.75
    assert type(loaded["n"]) is int and loaded["n"] == 3
    assert loaded["pq"] == [(0.5, "x", 1)] and type(loaded["pq"][0][0]) is float
    assert loaded["pad"] == b"\x00\xff" * 3


@pytest.mark.parametrize(
    ("state", "where"),
    [
        ({"a": {"b": object()}}, "state.a.b: object"),
        ({"a": [1, {2, 3}]}, "state.a[1]: set"),
        ({"codes": np.array(["x", "y"])}, "state.codes: numpy array of dtype <U1"),
        ({"a": {(1, 2): 3}}, "state.a: key (1, 2)"),
    ],
)
def test_save_refuses_non_plain_state_naming_the_key(state, where):
    with Store() as store, pytest.raises(TypeError, match=re.escape(where)):
        store.save_task_state("t", state)
    assert not paths().checkpoints.joinpath("t.pt").exists()


def test_format_1_files_with_pickled_numpy_arrays_still_load(tmp_path):
    state = {"token_counts": np.arange(4, dtype=np.int64), "w": torch.ones(2), "meta": {"v": 1},
             "pq": [(np.float64(0.5), "print(1)")]}  # fmt: skip
    old = _file_with_payload(tmp_path / "old.pt", {"task": "t", "saved_at": 0.0, "state": state},
                             version=1)  # fmt: skip
    loaded = read_checkpoint(old)["state"]
    np.testing.assert_array_equal(loaded["token_counts"], state["token_counts"])
    assert torch.equal(loaded["w"], state["w"])
    assert loaded["pq"] == [(0.5, "print(1)")]


def test_last_task_round_trip():
    with Store() as store:
        assert store.last_task() is None
        store.set_last_task("add_two_numbers")
        assert store.last_task() == "add_two_numbers"
    with Store(read_only=True) as ro:
        assert ro.last_task() == "add_two_numbers"


def test_failure_memory_path_in_data_dir():
    with Store() as store:
        p = store.failure_memory_path("add_two_numbers")
    assert p.parent.is_dir() and paths().data in p.parents


def test_atomic_write_failure_leaves_old_file(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")
    from engine.store.atomic import atomic_writer

    with pytest.raises(RuntimeError):
        with atomic_writer(target, "w", encoding="utf-8") as f:
            f.write("new and half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


# ---- logging -------------------------------------------------------------------------------


def test_setup_logging_writes_rotating_file():
    log_file = setup_logging("DEBUG")
    try:
        assert log_file == paths().log / "altlas-tui.log"
        logging.getLogger("altlas.test").debug("hello from the test")
        setup_logging("DEBUG")  # idempotent: one handler, not two
        handlers = [h for h in logging.getLogger("altlas").handlers if hasattr(h, "baseFilename")]
        assert len(handlers) == 1
        handlers[0].flush()
        assert log_file.read_text().count("hello from the test") == 1
    finally:
        for h in list(logging.getLogger("altlas").handlers):
            if hasattr(h, "baseFilename"):
                logging.getLogger("altlas").removeHandler(h)
                h.close()


# ---- lock ----------------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    from engine.store import Store
    store = Store(command="altlas-tui train --task t")
    if sys.argv[1] == "close":
        store.close()
    print("ready", flush=True)
    time.sleep(60)
    """
)


def _holder(mode: str = "hold") -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, mode],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_second_writer_gets_lock_held_with_pid_and_reader_works():
    proc = _holder()
    try:
        with pytest.raises(LockHeld) as err:
            Store()
        assert f"pid {proc.pid}" in str(err.value)
        assert "altlas-tui train --task t" in str(err.value)
        assert str(paths().lock_file) in str(err.value)
        assert err.value.info["pid"] == proc.pid
        with Store(read_only=True) as ro:  # watching works while the writer runs
            assert ro.runs.list_runs() == []
    finally:
        proc.kill()
        proc.wait()


def test_lock_released_after_kill_9_of_holder():
    proc = _holder()
    with pytest.raises(LockHeld):
        Store()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store() as store:
        assert store.paths.lock_file.exists()


def test_lock_released_on_close():
    proc = _holder("close")
    try:
        with Store():
            pass
    finally:
        proc.kill()
        proc.wait()


def test_second_writer_in_same_process_is_refused_until_close():
    first = Store()
    with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
        Store()
    first.close()
    Store().close()


def test_failed_save_leaves_last_checkpoint_and_no_temp_file():
    with Store() as store:
        store.save_task_state("t", _state(1))
        with pytest.raises(Exception):  # noqa: B017 - whatever pickling raises
            store.save_task_state("t", {"counter": 2, "bad": lambda: None})
        assert store.load_task_state("t")["counter"] == 1
    assert sorted(p.name for p in paths().checkpoints.iterdir()) == ["t.pt"]


def test_store_import_is_light_and_ui_free():
    # no UI in the engine; no torch until a checkpoint is touched, so `paths`/`history` are quick
    code = "import sys, engine.store; print([m for m in ('torch', 'textual', 'rich') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "[]", out.stderr


def test_archive_task_state_keeps_old_files_for_a_fresh_start():
    with Store() as store:
        store.save_task_state("t", _state(1))
        store.save_task_state("t", _state(2))
        moved = store.archive_task_state("t")
        assert sorted(read_checkpoint(p)["state"]["counter"] for p in moved) == [1, 2]
        assert store.load_task_state("t") is None
        store.save_task_state("t", _state(5))
        assert store.load_task_state("t")["counter"] == 5
        assert store.archive_task_state("missing") == []

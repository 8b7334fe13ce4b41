"""Per-task checkpoints: atomic, checksummed, with the previous good one kept as a fallback.

On disk, `<task>.pt` is the newest checkpoint and `<task>.prev.pt` the one before. Each file is a
small header (magic, format version, payload length, SHA-256) followed by a `torch.save` payload,
so truncation, garbage and bit rot are detected before anything is unpickled. A bad file is moved
aside as `<name>.corrupt-<timestamp>` (never deleted) and the previous good one is used.

Payloads are loaded with `torch.load(..., weights_only=True)`: no pickled code runs even for a
file someone else handed you. So a checkpoint holds plain data only (dicts, lists, tuples, str,
bytes, int, float, bool, None, tensors); `encode_state` turns numpy arrays into tagged tensors
and numpy scalars into Python numbers at save time, `decode_state` turns the arrays back at load
time, and anything else is refused when saving (naming the key), never found at the next start.

Format 1 files (written before this, numpy arrays pickled as such) are still read, still with
`weights_only=True`, allowing exactly numpy's array reconstruction on top of the defaults.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import struct
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from engine.store.atomic import fsync_dir, move_aside, temp_path_for, write_temp

log = logging.getLogger("altlas.store")

MAGIC = b"ALTLASCK"
FORMAT_VERSION = 2  # 2: plain data only (numpy arrays tagged); 1: numpy arrays pickled
READABLE_VERSIONS = (1, 2)
NDARRAY_TAG = "__ndarray__"  # {"__ndarray__": tensor} stands for a numpy array
_HEADER = struct.Struct(">8sBQ32s")  # magic, version, payload length, sha256 of payload
SUFFIX = ".pt"
PREV_SUFFIX = ".prev.pt"


class CheckpointMismatch(Exception):
    """A saved checkpoint was trained with another vocabulary or model shape; it was kept."""

    def __init__(self, path: Path, task: str, differences: list[str]) -> None:
        self.path = Path(path)
        self.task = task
        self.differences = differences
        shown = "; ".join(differences[:3]) + (" ..." if len(differences) > 3 else "")
        super().__init__(
            f"{path}: the saved state of task '{task}' does not match the current settings "
            f"({shown}); it was not loaded and is kept as it is. Restore the old settings to "
            f"resume it, or start the task fresh (the old file is then moved aside, not deleted)"
        )


class StoreReadOnly(Exception):
    """A write was attempted through a read-only Store."""


class CorruptCheckpoint(Exception):
    """A checkpoint file that cannot be trusted; the message says why."""


def file_stem(task: str) -> str:
    """The file name stem for a task: its name if safe, else a sanitised name plus a hash."""
    if not isinstance(task, str) or not task.strip():
        raise ValueError(f"task name must be a non-empty string, got {task!r}")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", task).strip("._-") or "task"
    if stem != task or stem.endswith(".prev"):
        stem = f"{stem}-{hashlib.sha1(task.encode('utf-8')).hexdigest()[:8]}"
    return stem


_PLAIN = (str, bytes, int, float, bool, type(None))


def encode_state(obj: Any, where: str = "state") -> Any:
    """`obj` as plain data `torch.load(weights_only=True)` accepts; TypeError naming the key."""
    import numpy as np
    import torch

    if isinstance(obj, torch.Tensor) or type(obj) in _PLAIN:
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":  # object/str arrays have no tensor form
            raise TypeError(f"{where}: numpy array of dtype {obj.dtype} cannot be saved")
        return {NDARRAY_TAG: torch.from_numpy(np.ascontiguousarray(obj).copy())}
    if isinstance(obj, np.generic):  # before the plain types: np.float64 is a float subclass
        return encode_state(obj.item(), where)
    for plain in (str, bytes, int, float):  # subclasses (IntEnum, str enums): their plain value
        if isinstance(obj, plain):
            return plain(obj)  # type: ignore[arg-type]
    if isinstance(obj, dict):
        out = type(obj)() if type(obj) in (dict, OrderedDict) else {}
        for k, v in obj.items():
            if not isinstance(k, _PLAIN):
                raise TypeError(f"{where}: key {k!r} of type {type(k).__name__} cannot be saved")
            out[k] = encode_state(v, f"{where}.{k!s}")
        metadata = getattr(obj, "_metadata", None)  # module state dicts carry version info
        if metadata is not None:
            out._metadata = metadata  # type: ignore[attr-defined]
        return out
    if isinstance(obj, list | tuple):
        items = [encode_state(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    raise TypeError(f"{where}: {type(obj).__name__} cannot be saved in a checkpoint")


def decode_state(obj: Any) -> Any:
    """The inverse of `encode_state`: tagged tensors become numpy arrays again."""
    if isinstance(obj, dict):
        if len(obj) == 1 and NDARRAY_TAG in obj:
            return obj[NDARRAY_TAG].numpy()
        out = type(obj)((k, decode_state(v)) for k, v in obj.items())
        metadata = getattr(obj, "_metadata", None)
        if metadata is not None:
            out._metadata = metadata  # type: ignore[attr-defined]
        return out
    if isinstance(obj, list):
        return [decode_state(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(decode_state(v) for v in obj)
    return obj


def encode_checkpoint(task: str, state: dict[str, Any]) -> bytes:
    """The bytes of a checkpoint file holding `state` (TypeError if it is not plain data)."""
    import torch

    buf = io.BytesIO()
    plain = {"task": task, "saved_at": time.time(), "state": encode_state(state)}
    torch.save(plain, buf)
    payload = buf.getvalue()
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, len(payload), hashlib.sha256(payload).digest())
    return header + payload


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint in `path` as {"task", "saved_at", "state"}; CorruptCheckpoint if bad."""
    import torch

    data = Path(path).read_bytes()
    if not data:
        raise CorruptCheckpoint("empty file")
    if not data.startswith(MAGIC[: min(len(data), len(MAGIC))]):
        kind = "a plain torch file" if data.startswith(b"PK") else "garbage or another format"
        raise CorruptCheckpoint(f"not an altlas-tui checkpoint ({kind})")
    if len(data) < _HEADER.size:
        raise CorruptCheckpoint(f"truncated ({len(data)} bytes, header alone is {_HEADER.size})")
    _, version, length, digest = _HEADER.unpack_from(data)
    if version not in READABLE_VERSIONS:
        raise CorruptCheckpoint(
            f"format version {version}, this altlas-tui reads {FORMAT_VERSION} (a newer release?)"
        )
    payload = data[_HEADER.size :]
    if len(payload) < length:
        raise CorruptCheckpoint(f"truncated ({len(payload)} of {length} payload bytes)")
    if len(payload) > length:
        raise CorruptCheckpoint(f"{len(payload) - length} unexpected bytes after the payload")
    if hashlib.sha256(payload).digest() != digest:
        raise CorruptCheckpoint("checksum mismatch (the file was damaged after it was written)")
    try:
        with torch.serialization.safe_globals(_numpy_globals() if version == 1 else []):
            obj = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure means unusable
        raise CorruptCheckpoint(f"unreadable payload ({type(e).__name__}: {e})") from e
    if not isinstance(obj, dict) or not isinstance(obj.get("state"), dict):
        raise CorruptCheckpoint("payload is not a checkpoint dictionary")
    obj["state"] = decode_state(obj["state"])
    return obj


def _numpy_globals() -> list[Any]:
    """What rebuilding pickled numeric numpy arrays and scalars needs (format 1 files), no more."""
    import numpy as np
    from numpy._core.multiarray import _reconstruct, scalar  # numpy >= 2 (the floor)

    dtypes = [type(np.dtype(t)) for t in "?bBhHiIlLqQefdg"]
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtypes]


def _norm(value: Any) -> Any:
    """Plain comparable data: tuples become lists, recursively."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return value


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _diff(label: str, have: Any, want: Any) -> list[str]:
    if have == want:
        return []
    if isinstance(have, dict) and isinstance(want, dict):
        out: list[str] = []
        for k in sorted(set(have) | set(want), key=str):
            if k not in have:
                out.append(f"{label}.{k}: checkpoint has none, now {_short(want[k])}")
            elif k not in want:
                out.append(f"{label}.{k}: checkpoint {_short(have[k])}, now none")
            else:
                out.extend(_diff(f"{label}.{k}", have[k], want[k]))
        return out
    if isinstance(have, list) and isinstance(want, list):
        first = next((i for i, (a, b) in enumerate(zip(have, want, strict=False)) if a != b), None)
        where = (
            f", first difference at [{first}]: {_short(have[first])} vs {_short(want[first])}"
            if first is not None
            else ""
        )
        if len(have) != len(want):
            return [f"{label}: checkpoint has {len(have)} entries, now {len(want)}{where}"]
        assert first is not None  # equal lengths and have != want: some entry differs
        return [f"{label}[{first}]: checkpoint {_short(have[first])}, now {_short(want[first])}"]
    return [f"{label}: checkpoint {_short(have)}, now {_short(want)}"]


def meta_differences(stored: Any, expected: dict[str, Any]) -> list[str]:
    """What differs between a checkpoint's "meta" and the expected one (empty: compatible)."""
    if not isinstance(stored, dict):
        return [f"the checkpoint records no {', '.join(map(str, expected))}"]
    out: list[str] = []
    for key, want in expected.items():
        if key not in stored:
            out.append(f"{key}: not recorded in the checkpoint")
        else:
            out.extend(_diff(str(key), _norm(stored[key]), _norm(want)))
    return out


_UNKNOWN = object()


class Checkpoints:
    """The checkpoint folder: save and load per-task state."""

    def __init__(self, directory: Path, writable: bool, notices: list[str] | None = None) -> None:
        self.directory = Path(directory)
        self.writable = writable
        self.notices = notices if notices is not None else []
        # meta of what is on disk as <task>.pt, as far as this process knows (saved or loaded it)
        self._on_disk: dict[str, Any] = {}
        self._mutex = threading.Lock()
        if writable:
            self.directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, task: str) -> Path:
        return self.directory / (file_stem(task) + SUFFIX)

    def prev_path_for(self, task: str) -> Path:
        return self.directory / (file_stem(task) + PREV_SUFFIX)

    def saved_tasks(self) -> list[str]:
        """Stems of tasks with a saved checkpoint (the task name itself for ordinary names)."""
        if not self.directory.is_dir():
            return []
        names = set()
        for p in self.directory.iterdir():
            if p.name.startswith("."):
                continue
            if p.name.endswith(PREV_SUFFIX):
                names.add(p.name[: -len(PREV_SUFFIX)])
            elif p.name.endswith(SUFFIX):
                names.add(p.name[: -len(SUFFIX)])
        return sorted(names)

    def _warn(self, message: str) -> None:
        log.warning(message)
        self.notices.append(message)

    def _set_aside(self, path: Path, reason: str) -> None:
        if not self.writable:
            self._warn(f"checkpoint {path} is unusable ({reason}); skipped (read-only, left as is)")
            return
        dest = move_aside(path, "corrupt")
        self._warn(f"checkpoint {path} is unusable ({reason}); moved aside to {dest.name}")

    def save(self, task: str, state: dict[str, Any]) -> Path:
        """Write `state` as the task's newest checkpoint; the one it replaces becomes .prev."""
        if not self.writable:
            raise StoreReadOnly("this Store is read-only; it cannot save checkpoints")
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict, got {type(state).__name__}")
        latest, prev = self.path_for(task), self.prev_path_for(task)
        data = encode_checkpoint(task, state)
        new_meta = _norm(state.get("meta"))
        with self._mutex:
            tmp = write_temp(latest, data)
            try:
                if latest.exists():
                    self._retire(task, latest, prev, new_meta)
                os.replace(tmp, latest)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            fsync_dir(self.directory)
            self._on_disk[latest.name] = new_meta
        log.debug("saved checkpoint %s (%d bytes)", latest, len(data))
        return latest

    def _retire(self, task: str, latest: Path, prev: Path, new_meta: Any) -> None:
        """Make room for a new <task>.pt: rotate it to .prev, or keep it aside if it differs."""
        known = self._on_disk.get(latest.name, _UNKNOWN)
        if known is _UNKNOWN:
            try:
                known = _norm(read_checkpoint(latest)["state"].get("meta"))
            except CorruptCheckpoint as e:
                self._set_aside(latest, str(e))
                return
            except OSError as e:
                self._set_aside(latest, f"unreadable: {e}")
                return
        if known != new_meta:
            # trained with other settings: keep both old files rather than rotating them away
            for p in (latest, prev):
                if p.exists():
                    dest = move_aside(p, "old")
                    msg = f"kept {p.name} (saved with other settings) as {dest.name}"
                    log.info(msg)
                    self.notices.append(msg)
            return
        # prev becomes a second name for the current file, so <task>.pt exists at every instant
        # (a kill between the two renames leaves two good files, not a missing latest)
        link = temp_path_for(prev)
        try:
            os.link(latest, link)
        except OSError:  # filesystem without hard links
            shutil.copyfile(latest, link)
        os.replace(link, prev)

    def archive(self, task: str) -> list[Path]:
        """Move the task's checkpoints aside as `.old-<timestamp>` (for a fresh start)."""
        if not self.writable:
            raise StoreReadOnly("this Store is read-only; it cannot move checkpoints")
        moved = []
        with self._mutex:
            for p in (self.path_for(task), self.prev_path_for(task)):
                if p.exists():
                    moved.append(move_aside(p, "old"))
            self._on_disk.pop(self.path_for(task).name, None)
        if moved:
            log.info("archived %s", ", ".join(p.name for p in moved))
        return moved

    def load(self, task: str, expect: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The newest complete checkpoint's state, or None. Raises CheckpointMismatch."""
        latest, prev = self.path_for(task), self.prev_path_for(task)
        with self._mutex:
            for path in (latest, prev):
                if not path.exists():
                    continue
                try:
                    obj = read_checkpoint(path)
                except CorruptCheckpoint as e:
                    self._set_aside(path, str(e))
                    continue
                except OSError as e:
                    self._warn(f"checkpoint {path} could not be read ({e}); skipped")
                    continue
                state = obj["state"]
                if expect is not None:
                    diffs = meta_differences(state.get("meta"), expect)
                    if diffs:
                        log.warning("checkpoint %s mismatch: %s", path, "; ".join(diffs))
                        if path == latest:
                            self._on_disk[latest.name] = _norm(state.get("meta"))
                        raise CheckpointMismatch(path, task, diffs)
                if path == prev:
                    self._warn(f"resumed task '{task}' from the previous checkpoint {path.name}")
                else:
                    self._on_disk[latest.name] = _norm(state.get("meta"))
                log.info("loaded checkpoint %s (saved %s)", path, _when(obj.get("saved_at")))
                return state
        return None


def _when(ts: Any) -> str:
    if not isinstance(ts, (int, float)):
        return "at an unknown time"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))

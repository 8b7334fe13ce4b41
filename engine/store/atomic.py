"""Crash-safe file writes: temp file in the same folder, fsync, os.replace, fsync the folder.

A reader (or the next start after kill -9) sees either the old file or the new one, never half of
one. Temp files carry a recognisable mark so a writer can sweep strays left by a killed process.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

log = logging.getLogger("altlas.store")

TEMP_MARK = ".tmp-"


def temp_path_for(path: Path) -> Path:
    """A unique hidden temp name next to `path` (same folder, so os.replace is atomic)."""
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the rename still happened
        pass
    finally:
        os.close(fd)


def write_temp(path: Path, data: bytes) -> Path:
    """Write `data` to a fresh temp file next to `path`, fsynced; returns the temp path."""
    tmp = temp_path_for(path)
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


@contextmanager
def atomic_writer(path: Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temp file for writing; on success it replaces `path`, on error `path` is untouched."""
    path = Path(path)
    tmp = temp_path_for(path)
    f = open(tmp, mode.replace("w", "x"), encoding=encoding)  # noqa: SIM115 - closed below
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        f.close()
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically."""
    with atomic_writer(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stray_temp_files(directory: Path) -> list[Path]:
    """Delete temp files a killed writer left in `directory`. Call only while holding the lock."""
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for p in directory.glob(f".*{TEMP_MARK}*"):
        try:
            p.unlink()
            removed.append(p)
        except OSError as e:
            log.warning("could not remove stray temp file %s: %s", p, e)
    if removed:
        log.info("removed %d stray temp file(s) in %s", len(removed), directory)
    return removed


def move_aside(path: Path, label: str = "corrupt", companions: tuple[str, ...] = ()) -> Path:
    """Rename `path` to `<name>.<label>-<timestamp>` (never delete) and return the new path.

    `companions` are suffixes of sibling files that belong with it (e.g. "-wal", "-shm" for
    SQLite); they get the same new name plus their suffix.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 1
    while dest.exists():
        dest = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
        n += 1
    os.replace(path, dest)
    for suffix in companions:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, dest.with_name(dest.name + suffix))
    fsync_dir(path.parent)
    return dest

"""Where altlas-tui keeps its files: platformdirs, or everything under ALTLAS_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from engine.errors import InputError

APP_NAME = "altlas-tui"
HOME_ENV = "ALTLAS_HOME"


@dataclass(frozen=True)
class Paths:
    """The five folders: data (checkpoints, run database), config, state (lock), log, cache."""

    data: Path
    config: Path
    state: Path
    log: Path
    cache: Path

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def checkpoints(self) -> Path:
        return self.data / "checkpoints"

    @property
    def failure_memory(self) -> Path:
        return self.data / "failure_memory"

    @property
    def db_file(self) -> Path:
        return self.data / "runs.sqlite"

    @property
    def lock_file(self) -> Path:
        return self.state / "altlas-tui.lock"

    @property
    def last_task_file(self) -> Path:
        return self.state / "last_task"

    @property
    def log_file(self) -> Path:
        return self.log / "altlas-tui.log"

    def as_dict(self) -> dict[str, Path]:
        return {
            "data": self.data,
            "config": self.config,
            "state": self.state,
            "log": self.log,
            "cache": self.cache,
        }


def paths(create: bool = True) -> Paths:
    """The folders for this user; `ALTLAS_HOME=DIR` puts them all under DIR. Creates them."""
    home = os.environ.get(HOME_ENV, "").strip()
    if home:
        root = Path(home).expanduser().absolute()
        p = Paths(
            data=root / "data",
            config=root / "config",
            state=root / "state",
            log=root / "log",
            cache=root / "cache",
        )
    else:
        d = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        p = Paths(
            data=Path(d.user_data_dir),
            config=Path(d.user_config_dir),
            state=Path(d.user_state_dir),
            log=Path(d.user_log_dir),
            cache=Path(d.user_cache_dir),
        )
    if create:
        for name, folder in p.as_dict().items():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                where = HOME_ENV if home else f"{name} directory"
                raise InputError(
                    f"cannot create this directory ({e.strerror or e})",
                    path=str(folder),
                    field=where,
                ) from e
    return p

"""What one sweep run is: a task, a seed, a few config settings and a budget, as plain data.

`build_specs` turns `--tasks`, `--seeds` and `--set KEY=V1,V2` into the cartesian product, checking
every setting against the config before anything starts (bad input: `InputError`, exit 2).
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import config as cfgmod
from engine.config import Config
from engine.errors import InputError
from engine.tasks import Task


@dataclass(frozen=True)
class RunSpec:
    """One headless run of a sweep. Crosses process and machine boundaries as a plain dict."""

    index: int  # position in the sweep; the backends' handle
    task: str  # task name
    task_path: str  # where the task file was read (for messages)
    task_data: dict[str, Any]  # the task file's JSON, so a remote worker needs no file
    seed: int
    settings: dict[str, str]  # "section.key" -> value as typed, e.g. {"train.lr": "0.001"}
    max_attempts: int
    config: dict[str, Any] = field(repr=False, default_factory=dict)  # the full config of the run

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "task": self.task, "task_path": self.task_path,
            "task_data": self.task_data, "seed": self.seed, "settings": dict(self.settings),
            "max_attempts": self.max_attempts, "config": self.config,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        return cls(**data)

    @property
    def label(self) -> str:
        """`add_two_numbers seed 0 train.lr=0.001` (for progress lines)."""
        return " ".join([self.task, f"seed {self.seed}", settings_text(self.settings)]).strip()


def settings_text(settings: dict[str, str]) -> str:
    """`train.lr=0.001 train.batch_size=64`, or "" when nothing is swept."""
    return " ".join(f"{k}={v}" for k, v in settings.items())


def parse_settings(items: list[str]) -> dict[str, list[str]]:
    """`["train.lr=0.001,0.002"]` -> `{"train.lr": ["0.001", "0.002"]}`, keys in the given order."""
    out: dict[str, list[str]] = {}
    for text in items:
        section, key, values = cfgmod.parse_assignment(text)
        name = f"{section}.{key}".strip()
        if name in out:
            raise InputError(f"{name} is swept twice; give all its values in one --set", "--set")
        parts = [v.strip() for v in values.split(",")]
        if not values.strip() or any(not p for p in parts):
            raise InputError(
                f"expected {name}=V1,V2,... with no empty value, got {text!r}", "--set"
            )
        if len(set(parts)) != len(parts):
            raise InputError(f"{name} lists a value twice: {values!r}", "--set")
        out[name] = parts
    return out


def _read_task_data(task: Task) -> dict[str, Any]:
    try:
        return json.loads(Path(task.path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # load_task just read it, so this is a race
        raise InputError(f"cannot read: {exc}", task.path) from None


def build_specs(
    config: Config, tasks: list[Task], seeds: int, settings: dict[str, list[str]], max_attempts: int
) -> list[RunSpec]:
    """Every task x setting combination x seed, each with its own validated config.

    Hints are off (as in `bench`) unless the sweep sets `hints.enabled` itself.
    """
    if seeds < 1:
        raise InputError("must be at least 1", "--seeds")
    if max_attempts < 1:
        raise InputError("must be at least 1", "--max-attempts")
    if not tasks:
        raise InputError("no tasks to run", "--tasks")
    keys = list(settings)
    combos: list[tuple[dict[str, str], dict[str, Any]]] = []
    for values in itertools.product(*(settings[k] for k in keys)):
        chosen = dict(zip(keys, values, strict=True))
        run_config = copy.deepcopy(config)
        run_config.hints.enabled = False
        nested: dict[str, dict[str, Any]] = {}
        for name, value in chosen.items():
            section, _, key = name.partition(".")
            nested.setdefault(section, {})[key] = value
        cfgmod.apply(run_config, nested, "--set", from_text=True)
        combos.append((chosen, run_config.to_dict()))
    specs: list[RunSpec] = []
    for task in tasks:
        data = _read_task_data(task)
        for chosen, conf in combos:
            for seed in range(seeds):
                specs.append(RunSpec(
                    index=len(specs), task=task.name, task_path=task.path, task_data=data,
                    seed=seed, settings=chosen, max_attempts=max_attempts,
                    config=copy.deepcopy(conf),
                ))  # fmt: skip
    return specs

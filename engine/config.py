"""Configuration as data: dataclasses with defaults, loaded from TOML, ALTLAS_* variables and flags.

Precedence: defaults < config file < environment < flags. Unknown keys and wrong types raise
`InputError` naming the file (or variable) and the field.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InputError


@dataclass
class TrainConfig:
    """The learner."""

    algo: str = "default"  # default: learned policy; random: uniform search over the same grammar
    seed: int = 0  # seeds torch, numpy and python RNGs of the run
    batch_size: int = 128  # programs sampled per batch
    hidden_size: int = 64  # LSTM units
    embed_size: int = 32  # token embedding width
    num_layers: int = 1  # LSTM layers (1 or 2)
    init_method: str = "orthogonal"  # xavier | kaiming | orthogonal
    lr: float = 2e-3  # Adam learning rate
    entropy_weight: float = 0.05  # entropy bonus weight
    baseline_decay: float = 0.9  # EMA baseline decay
    normalise_rewards: bool = True  # divide advantages by a running reward std
    grad_clip: float = 1.0  # max global gradient norm
    pqt: bool = True  # priority-queue training of the best unique programs
    pqt_k: int = 10  # size of the priority queue
    pqt_weight: float = 0.2  # weight of the max-likelihood loss on the queue
    risk_seeking: bool = True  # train only the batch's top quantile against its quantile baseline
    risk_epsilon: float = 0.25  # share of the batch kept by risk-seeking selection
    lr_plateau: bool = True  # halve the learning rate when the best score stalls
    lr_plateau_patience: int = 400  # batches without improvement before a cut
    lr_min: float = 2e-4  # floor of the plateau schedule
    cache: bool = True  # do not execute a program text twice
    pipeline: bool = True  # learn from the last batch while the sandbox runs this one
    length_penalty: float = 0.002  # reward cost per token
    temperature: float = 1.0  # sampling temperature
    torch_threads: int = 1  # torch intra-op threads for the learner


@dataclass
class GrammarConfig:
    """Syntax masks."""

    max_tokens: int = 0  # 0: use the task's max_tokens
    max_depth: int = 2  # nesting of blocks
    max_names: int = 4  # variable names the grammar offers


@dataclass
class SandboxConfig:
    """Program execution."""

    backend: str = "process"  # process: isolated worker processes; inprocess: tests only
    workers: int = 1  # fast-tier worker processes
    timeout: float = 0.05  # seconds per program (hard deadline by SIGKILL)
    max_output: int = 65536  # bytes of stdout kept
    memory_mb: int = 256  # address-space limit per worker
    recycle_every: int = 5000  # replace a fast worker after this many programs
    max_source: int = 20000  # characters of program text accepted (longer: status "rejected")


@dataclass
class HintConfig:
    """Hints: a last resort when learning is stuck."""

    enabled: bool = True  # allow automatic hints
    stuck_check_window: int = 2000  # attempts per stuck check
    stuck_threshold: float = 0.01  # best-score gain below this in a window counts as stuck
    max_consecutive_stuck_checks: int = 3  # stuck checks before a hint may be given
    hint_probability_on_stuck: float = 0.5  # chance a due hint is actually given
    backoff_factor: float = 2.0  # each hint multiplies the wait before the next
    hint_tokens: int = 2  # tokens of a valid pattern in the first hint (more on repeats)
    hint_duration: int = 2000  # attempts a hint stays active
    hint_fraction: float = 0.125  # share of the batch that gets the hint as a forced prefix


@dataclass
class ExploreConfig:
    """Repetition penalty and exploration boosts (engine/fingerprint.py)."""

    shape_penalty: float = 0.02  # reward cost per doubling of a failing shape's repeats
    shape_penalty_max: float = 0.1  # the penalty never exceeds this
    shape_free_repeats: int = 64  # repeats of a failing shape before the penalty starts
    memory_size: int = 5000  # failing shapes remembered (saved with the task)
    boost_threshold: float = 0.85  # share of repeated programs over the window that starts a boost
    boost_window: int = 10  # batches averaged for the trigger
    boost_entropy: float = 0.1  # extra entropy weight when a boost starts (decays to 0)
    boost_batches: int = 150  # batches a boost lasts


@dataclass
class StoreConfig:
    """Persistence."""

    save_interval: float = 60.0  # seconds between periodic checkpoints
    metrics_every: int = 1  # write metrics every N batches


@dataclass
class UIConfig:
    """The TUI."""

    theme: str = "altlas-dark"
    fps: int = 4  # snapshot refreshes per second for text and tables
    low_bandwidth: bool = False  # text and sparklines only
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> key(s)


@dataclass
class Config:
    """Everything configurable."""

    train: TrainConfig = field(default_factory=TrainConfig)
    grammar: GrammarConfig = field(default_factory=GrammarConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    hints: HintConfig = field(default_factory=HintConfig)
    explore: ExploreConfig = field(default_factory=ExploreConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    ui: UIConfig = field(default_factory=UIConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config)}


def _coerce(value: Any, typ: Any, where: str, key: str, from_text: bool) -> Any:
    origin = typing.get_origin(typ)
    if origin is dict:
        if not isinstance(value, dict):
            raise InputError(f"expected a table, got {type(value).__name__}", where, key)
        return {str(k): str(v) for k, v in value.items()}
    if typ is bool:
        if isinstance(value, bool):
            return value
        if from_text and str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if from_text and str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise InputError(f"expected true or false, got {value!r}", where, key)
    if typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_text:
            try:
                return int(str(value))
            except ValueError:
                pass
        raise InputError(f"expected an integer, got {value!r}", where, key)
    if typ is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if from_text:
            try:
                return float(str(value))
            except ValueError:
                pass
        raise InputError(f"expected a number, got {value!r}", where, key)
    if typ is str:
        if isinstance(value, str):
            return value
        raise InputError(f"expected a string, got {value!r}", where, key)
    raise InputError(f"unsupported type for {key}", where, key)


def _field_types(section_cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(section_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(section_cls)}


def apply(config: Config, data: dict[str, Any], where: str, from_text: bool = False) -> Config:
    """Apply a nested {section: {key: value}} mapping onto `config` (in place), validating it."""
    if not isinstance(data, dict):
        raise InputError("expected a table of sections", where)
    for section, values in data.items():
        if section not in SECTIONS:
            raise InputError(f"unknown section (known: {', '.join(SECTIONS)})", where, section)
        if not isinstance(values, dict):
            raise InputError("expected a table", where, section)
        obj = getattr(config, section)
        types = _field_types(type(obj))
        for key, value in values.items():
            if key not in types:
                raise InputError(
                    f"unknown key (known: {', '.join(types)})", where, f"{section}.{key}"
                )
            setattr(obj, key, _coerce(value, types[key], where, f"{section}.{key}", from_text))
    validate(config, where)
    return config


def validate(config: Config, where: str = "config") -> None:
    t = config.train
    if t.algo not in ("default", "random"):
        raise InputError("expected default or random", where, "train.algo")
    if t.init_method not in ("xavier", "kaiming", "orthogonal"):
        raise InputError("expected xavier, kaiming or orthogonal", where, "train.init_method")
    if t.batch_size < 1 or t.hidden_size < 1 or t.num_layers not in (1, 2):
        raise InputError("batch_size, hidden_size >= 1 and num_layers in 1..2", where, "train")
    if t.lr <= 0:
        raise InputError("must be positive", where, "train.lr")
    if config.sandbox.backend not in ("process", "inprocess"):
        raise InputError("expected process or inprocess", where, "sandbox.backend")


def load_file(path: str | Path, config: Config | None = None) -> Config:
    config = config or Config()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", str(p)) from None
    return apply(config, data, str(p))


def apply_env(config: Config, environ: typing.Mapping[str, str] | None = None) -> Config:
    """`ALTLAS_<SECTION>_<KEY>=value`, e.g. `ALTLAS_TRAIN_LR=0.001`, `ALTLAS_SANDBOX_WORKERS=2`."""
    environ = os.environ if environ is None else environ
    data: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if not name.startswith("ALTLAS_") or name == "ALTLAS_HOME":
            continue
        rest = name[len("ALTLAS_") :].lower()
        for section in SECTIONS:
            if rest.startswith(section + "_"):
                data.setdefault(section, {})[rest[len(section) + 1 :]] = value
                break
    if data:
        apply(config, data, "environment (ALTLAS_*)", from_text=True)
    return config


def load(
    path: str | Path | None = None, overrides: dict[str, dict[str, Any]] | None = None
) -> Config:
    """Defaults, then the config file (if it exists), then ALTLAS_* variables, then `overrides`."""
    config = Config()
    if path is not None and Path(path).exists():
        load_file(path, config)
    apply_env(config)
    if overrides:
        apply(config, overrides, "command line")
    return config


def parse_assignment(text: str) -> tuple[str, str, str]:
    """`train.lr=0.001` -> ("train", "lr", "0.001")."""
    key, sep, value = text.partition("=")
    section, dot, name = key.strip().partition(".")
    if not sep or not dot or not name:
        raise InputError(f"expected section.key=value, got {text!r}", "--set")
    return section, name, value

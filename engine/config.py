"""Configuration as data: dataclasses with defaults and declared ranges, loaded from TOML,
ALTLAS_* variables and `--set` flags.

Precedence: defaults < config file < environment < flags. Every value from every source goes
through one validator (`apply`): unknown keys, wrong types and values outside the field's declared
range raise `InputError` naming the source (file, variable or flag), the field and what is
allowed, e.g. `--set: train.risk_epsilon: 2.0 is out of range (allowed: 0 < value <= 1)`.

Why a small validator of our own rather than pydantic or msgspec: the config is a tree of plain
stdlib dataclasses that the engine mutates in place, copies with `dataclasses.asdict` and stores
in checkpoints; a range is one `metadata` entry on the field (`bounded(...)`, `one_of(...)`), and
the checks are ~60 lines. pydantic would turn the dataclasses into models (different copy,
equality and assignment semantics for every caller) and make a 5 MB compiled package a runtime
dependency of the engine for four comparison operators; msgspec has no TOML/env/flag coercion,
so we would still write the text coercion below.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InputError


@dataclass(frozen=True)
class Range:
    """Allowed numeric values of a field: any of the four bounds may be absent."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def contains(self, value: float) -> bool:
        """Whether `value` is inside every bound (NaN never is)."""
        if isinstance(value, float) and math.isnan(value):
            return False
        return not (
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
            or (self.lt is not None and value >= self.lt)
        )

    def __str__(self) -> str:
        low = f"{_num(self.ge)} <= " if self.ge is not None else ""
        low = f"{_num(self.gt)} < " if self.gt is not None else low
        high = f" <= {_num(self.le)}" if self.le is not None else ""
        high = f" < {_num(self.lt)}" if self.lt is not None else high
        return f"{low}value{high}"


@dataclass(frozen=True)
class OneOf:
    """Allowed values of a string field."""

    choices: tuple[str, ...]

    def contains(self, value: str) -> bool:
        return value in self.choices

    def __str__(self) -> str:
        return " | ".join(self.choices)


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def bounded(
    default: Any,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A dataclass field with a default and a numeric range checked on every load."""
    return field(default=default, metadata={"check": Range(ge, gt, le, lt)})


def one_of(default: str, choices: tuple[str, ...]) -> Any:
    """A dataclass field with a default and the strings it may take."""
    assert default in choices, (default, choices)
    return field(default=default, metadata={"check": OneOf(choices)})


# Upper bounds are generous sanity limits (a typo such as batch_size=12800000 should be refused
# before it allocates), lower bounds are where the code stops making sense (division by zero,
# an empty batch, a probability outside [0, 1]).


@dataclass
class TrainConfig:
    """The learner."""

    # default: learned policy; random: uniform search over the same grammar
    algo: str = one_of("default", ("default", "random"))
    seed: int = bounded(0, ge=0, lt=2**63)  # seeds the run's torch generator and the hint RNG
    batch_size: int = bounded(128, ge=1, le=65536)  # programs sampled per batch
    hidden_size: int = bounded(64, ge=1, le=4096)  # LSTM units
    embed_size: int = bounded(32, ge=1, le=4096)  # token embedding width
    num_layers: int = bounded(1, ge=1, le=2)  # LSTM layers
    init_method: str = one_of("orthogonal", ("xavier", "kaiming", "orthogonal"))  # weight init
    lr: float = bounded(2e-3, gt=0, le=100)  # Adam learning rate
    entropy_weight: float = bounded(0.05, ge=0, le=100)  # entropy bonus weight
    baseline_decay: float = bounded(0.9, ge=0, le=1)  # EMA baseline decay
    normalise_rewards: bool = True  # divide advantages by a running reward std
    grad_clip: float = bounded(1.0, gt=0)  # max global gradient norm
    pqt: bool = True  # priority-queue training of the best unique programs
    pqt_k: int = bounded(10, ge=1, le=100_000)  # size of the priority queue
    pqt_weight: float = bounded(0.2, ge=0, le=100)  # weight of the max-likelihood loss on the queue
    risk_seeking: bool = True  # train only the batch's top quantile against its quantile baseline
    # share of the batch kept by risk-seeking selection
    risk_epsilon: float = bounded(0.25, gt=0, le=1)
    lr_plateau: bool = True  # halve the learning rate when the best score stalls
    lr_plateau_patience: int = bounded(400, ge=1)  # batches without improvement before a cut
    lr_min: float = bounded(2e-4, ge=0, le=100)  # floor of the plateau schedule
    cache: bool = True  # do not execute a program text twice
    # programs the cache remembers (least recently used dropped first; ~0.3 KB each)
    cache_size: int = bounded(200_000, ge=1, le=100_000_000)
    # learn from the last batch while the sandbox runs this one (one batch off-policy). Off: the
    # scoring work is GIL-bound Python, so the thread overlapped nothing (docs/benchmarks.md)
    pipeline: bool = False
    length_penalty: float = bounded(0.002, ge=0, le=1)  # reward cost per token
    # sampling temperature (logits are divided by it)
    temperature: float = bounded(1.0, gt=0, le=100)
    torch_threads: int = bounded(1, ge=1, le=256)  # torch intra-op threads for the learner


@dataclass
class GrammarConfig:
    """Syntax masks."""

    max_tokens: int = bounded(0, ge=0, le=4096)  # 0: use the task's max_tokens
    max_depth: int = bounded(2, ge=0, le=8)  # nesting of blocks
    # variable names the grammar offers (engine/tokenizer.VARIABLES)
    max_names: int = bounded(4, ge=1, le=8)
    # interned parser states kept before the table is rebuilt (~1 KB each with its caches: the
    # bound on the grammar's memory; a rebuild costs a few slower batches)
    max_states: int = bounded(30_000, ge=1_000, le=10_000_000)


@dataclass
class SandboxConfig:
    """Program execution."""

    # process: isolated workers; inprocess: tests only
    backend: str = one_of("process", ("process", "inprocess"))
    workers: int = bounded(1, ge=1, le=64)  # fast-tier worker processes
    timeout: float = bounded(0.05, gt=0, le=3600)  # seconds per program (hard deadline by SIGKILL)
    max_output: int = bounded(65536, ge=1)  # bytes of stdout kept
    memory_mb: int = bounded(256, ge=64)  # address-space limit per worker
    recycle_every: int = bounded(5000, ge=1)  # replace a fast worker after this many programs
    # characters of program text accepted (longer: "rejected")
    max_source: int = bounded(20000, ge=1)


@dataclass
class HintConfig:
    """Hints: a last resort when learning is stuck."""

    enabled: bool = True  # allow automatic hints
    stuck_check_window: int = bounded(2000, ge=1)  # attempts per stuck check
    # best-score gain below this in a window counts as stuck
    stuck_threshold: float = bounded(0.01, ge=0, le=1)
    max_consecutive_stuck_checks: int = bounded(3, ge=1)  # stuck checks before a hint may be given
    # chance a due hint is actually given
    hint_probability_on_stuck: float = bounded(0.5, ge=0, le=1)
    # each hint multiplies the wait before the next
    backoff_factor: float = bounded(2.0, ge=1, le=1000)
    # tokens of a valid pattern in the first hint (more on repeats)
    hint_tokens: int = bounded(2, ge=1, le=4096)
    hint_duration: int = bounded(2000, ge=1)  # attempts a hint stays active
    # share of the batch that gets the hint as a forced prefix
    hint_fraction: float = bounded(0.125, ge=0, le=1)


@dataclass
class ExploreConfig:
    """Repetition penalty and exploration boosts (engine/fingerprint.py)."""

    # reward cost per doubling of a failing shape's repeats
    shape_penalty: float = bounded(0.02, ge=0, le=1)
    shape_penalty_max: float = bounded(0.1, ge=0, le=1)  # the penalty never exceeds this
    # repeats of a failing shape before the penalty starts
    shape_free_repeats: int = bounded(64, ge=0)
    # failing shapes remembered (saved with the task)
    memory_size: int = bounded(5000, ge=0, le=10_000_000)
    # share of repeated programs over the window that starts a boost
    boost_threshold: float = bounded(0.85, ge=0, le=1)
    boost_window: int = bounded(10, ge=1)  # batches averaged for the trigger
    # extra entropy weight when a boost starts (decays to 0)
    boost_entropy: float = bounded(0.1, ge=0, le=100)
    boost_batches: int = bounded(150, ge=1)  # batches a boost lasts


@dataclass
class SearchConfig:
    """Search beside the policy (engine/search): neural-guided GP and minimal solutions."""

    # each GP step seeds a population with the batch and the priority queue, breeds children by
    # grammar-valid mutation/crossover, scores them through the trainer's reward, and trains on
    # the best of them (engine/search/integration.py)
    gp: bool = True  # on by default: docs/benchmarks.md, "Search in training"
    every: int = bounded(1, ge=1, le=1_000_000)  # a GP step every k batches
    generations: int = bounded(2, ge=1, le=100)  # generations bred per GP step
    children: int = bounded(64, ge=1, le=4096)  # new programs proposed per generation
    # best children handed to the priority queue and the training batch per GP step
    return_best: int = bounded(16, ge=1, le=4096)
    selection: str = one_of("lexicase", ("lexicase", "tournament"))  # parent selection
    archive: bool = True  # MAP-Elites archive of elites per behaviour niche, kept across steps
    crossover_rate: float = bounded(0.2, ge=0, le=1)  # share of children made by crossover
    # the reward counts loop iterations per case (counters in the sandbox's results) and the
    # archive uses how they behave (none/once/constant/varies/grows with the input) as a niche,
    # drawing parents per loop behaviour (engine/reward/loops.py; docs/benchmarks.md ablation)
    loop_niches: bool = True
    # reward for a loop whose count grows with the input, on tasks requiring a loop (0 = off)
    loop_credit: float = bounded(0.0, ge=0, le=0.04)
    policy_proposals: bool = False  # the policy writes mutations' new tokens (else uniform)
    train_children: bool = True  # children join the policy-gradient batch (else the queue only)
    minimise: bool = True  # shrink a found solution by delta debugging before showing/storing it
    # keep training a solved task (to shorten its solution) instead of stopping at the solve
    keep_training_after_solve: bool = False


@dataclass
class StoreConfig:
    """Persistence."""

    save_interval: float = bounded(60.0, gt=0)  # seconds between periodic checkpoints


@dataclass
class UIConfig:
    """The TUI."""

    theme: str = "altlas-dark"  # a theme name (checked against the installed themes by the TUI)
    fps: int = bounded(4, ge=1, le=30)  # snapshot refreshes per second for text and tables
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
    search: SearchConfig = field(default_factory=SearchConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    ui: UIConfig = field(default_factory=UIConfig)

    def to_dict(self) -> dict[str, Any]:
        """The config as nested plain dicts (checkpoints, the run history, sweep specs)."""
        return dataclasses.asdict(self)


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config)}


def _coerce(value: Any, typ: Any, where: str, key: str, from_text: bool) -> Any:
    """`value` as the field's type; text (env, --set) is parsed, TOML values must match."""
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
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif from_text:
            try:
                number = float(str(value))
            except ValueError:
                pass
        if number is None:
            raise InputError(f"expected a number, got {value!r}", where, key)
        if not math.isfinite(number):
            raise InputError(f"expected a finite number, got {value!r}", where, key)
        return number
    if typ is str:
        if isinstance(value, str):
            return value
        raise InputError(f"expected a string, got {value!r}", where, key)
    raise InputError(f"unsupported type for {key}", where, key)


def _fields(section_cls: type) -> dict[str, tuple[Any, Range | OneOf | None]]:
    """name -> (type, declared check) of a section's fields."""
    hints = typing.get_type_hints(section_cls)
    return {
        f.name: (hints[f.name], f.metadata.get("check")) for f in dataclasses.fields(section_cls)
    }


def _check(value: Any, check: Range | OneOf | None, where: str, key: str) -> None:
    if check is None or check.contains(value):
        return
    if isinstance(check, OneOf):
        raise InputError(f"{value!r} is not allowed (expected {check})", where, key)
    raise InputError(f"{value!r} is out of range (allowed: {check})", where, key)


def apply(config: Config, data: dict[str, Any], where: str, from_text: bool = False) -> Config:
    """Apply a nested {section: {key: value}} mapping onto `config` (in place), validating it.

    The one validator every source goes through. Nothing is changed unless every value is good,
    so a refused flag never leaves a half-applied config behind.
    """
    if not isinstance(data, dict):
        raise InputError("expected a table of sections", where)
    checked: list[tuple[Any, str, Any]] = []
    for section, values in data.items():
        if section not in SECTIONS:
            raise InputError(f"unknown section (known: {', '.join(SECTIONS)})", where, section)
        if not isinstance(values, dict):
            raise InputError("expected a table", where, section)
        obj = getattr(config, section)
        fields = _fields(type(obj))
        for key, value in values.items():
            name = f"{section}.{key}"
            if key not in fields:
                raise InputError(f"unknown key (known: {', '.join(fields)})", where, name)
            typ, check = fields[key]
            value = _coerce(value, typ, where, name, from_text)
            _check(value, check, where, name)
            checked.append((obj, key, value))
    for obj, key, value in checked:
        setattr(obj, key, value)
    return config


def validate(config: Config, where: str = "config") -> None:
    """Check every field of a config built in code against its declared range and type."""
    for section in SECTIONS:
        obj = getattr(config, section)
        for key, (typ, check) in _fields(type(obj)).items():
            name = f"{section}.{key}"
            value = getattr(obj, key)
            # a config built in code may hold an int where a float is declared: that is fine
            _coerce(value, typ, where, name, from_text=False)
            _check(value, check, where, name)


def load_file(path: str | Path, config: Config | None = None) -> Config:
    """Apply the TOML file at `path` onto `config` (or the defaults); InputError if bad."""
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


def apply_env(config: Config, environ: Mapping[str, str] | None = None) -> Config:
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


def load_config(
    path: str | Path | None = None,
    assignments: Iterable[str] = (),
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    require_file: bool = False,
) -> Config:
    """The config of one command: defaults < file < ALTLAS_* < `--set` texts < `overrides`.

    `assignments` are `--set` texts (`train.lr=0.001`); `require_file` refuses a missing `path`
    (an explicit `--config`), otherwise a missing file means "no file". Every value goes through
    `apply`, so a bad one is an InputError before any work starts.
    """
    if require_file and path is not None and not Path(path).exists():
        raise InputError("file not found", str(path))
    config = load(path)
    flat: dict[str, dict[str, Any]] = {}
    for text in assignments:
        section, key, value = parse_assignment(text)
        flat.setdefault(section, {})[key] = value
    if flat:
        apply(config, flat, "--set", from_text=True)
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

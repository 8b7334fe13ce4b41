"""Runtime health: watches every learning step and repairs a run that leaves a healthy band.

Per batch: gradient norms per layer, update-to-weight ratio, weight drift, entropy and loss.
Events carry a suggested or automatic action (halve the learning rate, restore the last good
in-memory copy of weights and optimiser, reinitialise); `apply_health_actions` carries them out.
Thresholds were measured on healthy runs: see docs/benchmarks.md, "Model health".
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

EXPLODING_GRAD_NORM = 200.0  # pre-clip global norm; healthy runs peak at 12-37 (p99 9-23) ...
EXPLODING_GRAD_BATCHES = 3  # ... for this many batches in a row (Adam's step does not grow with it)
EXPLODING_UPDATE_RATIO = 0.1  # |dW| / |W| per batch; healthy 0.002-0.02, lr 10 gives 75
DAMAGING_UPDATE_RATIO = 1.0  # one step moved the weights by more than their own size: restore
VANISHING_GRAD_NORM = 1e-7  # pre-clip global norm below this ...
VANISHING_BATCHES = 20  # ... for this many batches in a row
COLLAPSE_FRACTION = 0.1  # entropy below this share of its first value ...
COLLAPSE_BATCHES = 50  # ... for this many batches in a row (a solved, converged policy gets ~0.2)
REMEMBER_EVERY = 25  # healthy batches between in-memory copies of weights + optimiser
MIN_LR = 1e-6  # automatic halving stops here
WARN_COOLDOWN = 100  # batches between repeats of a warning that has no action left
WARNING_TTL = 500  # batches a warning stays in `warnings`
MAX_WARNINGS = 6  # warnings shown at once

ACTIONS = (None, "lower_lr", "restore_checkpoint", "reinit")


class OptimizerLike(Protocol):
    """What the monitor needs of an optimiser (engine.optim.Adam or a torch.optim one)."""

    param_groups: list[dict[str, Any]]

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class HealthEvent:
    """A training metric left its healthy band: what, what to do, and what the engine does."""

    kind: str  # exploding | vanishing | entropy_collapse | loss_nan
    message: str
    suggestion: str
    action: str | None = None  # None | lower_lr | restore_checkpoint | reinit


def grad_norms(policy: torch.nn.Module) -> dict[str, float]:
    """L2 norm of each parameter's gradient (call before clipping for the raw values)."""
    names, grads = [], []
    for name, p in policy.named_parameters():
        if p.grad is not None:
            names.append(name)
            grads.append(p.grad.detach())
    if not grads:
        return {}
    norms = torch._foreach_norm(grads) if hasattr(torch, "_foreach_norm") else [
        g.norm() for g in grads
    ]  # fmt: skip
    return {n: float(v) for n, v in zip(names, norms, strict=True)}


class HealthMonitor:
    """Watches every learning step and says when the run leaves a healthy band, and what to do."""

    def __init__(self, remember_every: int = REMEMBER_EVERY) -> None:
        self.remember_every = remember_every
        self.batches = 0
        self._names: list[str] = []
        self._sizes: list[int] = []
        self._prev: torch.Tensor | None = None
        self._start: torch.Tensor | None = None
        self._good: tuple[dict, dict, int] | None = None
        self._since_event = 0
        self._since_remember = 0
        self._low_entropy = 0
        self._vanishing = 0
        self._big_grads = 0
        self._last_fired: dict[str, int] = {}
        self._warnings: deque[tuple[int, str]] = deque(maxlen=MAX_WARNINGS)
        self.initial_entropy: float | None = None
        self._metrics: dict[str, float] = {}
        self.restores = 0

    # -- state ------------------------------------------------------------------------------------

    def reset(self, policy: torch.nn.Module, optimizer: OptimizerLike | None = None) -> None:
        """Start over from the current weights (after init, reinit or loading a checkpoint)."""
        self._names = [n for n, _ in policy.named_parameters()]
        self._sizes = [p.numel() for p in policy.parameters()]
        self._prev = _flat(policy)
        self._start = self._prev.clone()
        self.initial_entropy = None
        self._low_entropy = self._vanishing = self._big_grads = 0
        self._since_event = self._since_remember = 0
        self._good = None
        if optimizer is not None and bool(torch.isfinite(self._prev).all()):
            self.remember(policy, optimizer)

    def remember(self, policy: torch.nn.Module, optimizer: OptimizerLike) -> None:
        """Keep an in-memory copy of weights and optimiser state as the last good state."""
        self._good = (
            _clone(policy.state_dict()),
            _clone(optimizer.state_dict()),
            self.batches,
        )
        self._since_remember = 0

    def restore(
        self,
        policy: torch.nn.Module,
        optimizer: OptimizerLike,
        lr: float | None = None,
    ) -> bool:
        """Load the last good copy (weights and optimiser); `lr` overrides its learning rate."""
        if self._good is None:
            return False
        weights, opt_state, _ = self._good
        policy.load_state_dict(weights)
        optimizer.load_state_dict(_clone(opt_state))  # the kept copy stays pristine
        if lr is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr
        self._prev = _flat(policy)
        self._low_entropy = self._vanishing = self._big_grads = 0
        self.restores += 1
        return True

    @property
    def has_good_state(self) -> bool:
        return self._good is not None

    @property
    def good_state_batch(self) -> int | None:
        """Batch (of this monitor) at which the last good copy was taken."""
        return self._good[2] if self._good else None

    # -- per batch --------------------------------------------------------------------------------

    def observe(
        self,
        policy: torch.nn.Module,
        loss: float,
        entropy: float,
        lr: float,
        grad_norms: dict[str, float] | None = None,
        *,
        total_grad_norm: float | None = None,
        optimizer: OptimizerLike | None = None,
    ) -> list[HealthEvent]:
        """Check one learning step (after `optimizer.step()`); returns the events it raised.

        `grad_norms`: per-parameter gradient norms before clipping (read from `.grad` if None);
        `total_grad_norm`: the global pre-clip norm (clip_grad_norm_'s return value). With
        `optimizer`, a healthy step every `remember_every` batches becomes the last good state.
        """
        self.batches += 1
        if self._prev is None:
            self.reset(policy)
        if grad_norms is None:
            grad_norms = _grad_norms(policy)
        if total_grad_norm is None:
            total_grad_norm = math.sqrt(sum(v * v for v in grad_norms.values()))
        cur = _flat(policy)
        assert self._prev is not None and self._start is not None
        # per-layer norms of the step and of the weights in two fused calls (~0.1 ms in all)
        d_norms = torch.stack(torch._foreach_norm(list((cur - self._prev).split(self._sizes))))
        w_norms = torch.stack(torch._foreach_norm(list(self._prev.split(self._sizes))))
        update_ratio = float(d_norms.norm()) / max(float(w_norms.norm()), 1e-12)
        layer_ratio = dict(
            zip(self._names, (d_norms / w_norms.clamp(min=1e-12)).tolist(), strict=True)
        )
        start_norm = max(float(self._start.norm()), 1e-12)
        cur_norm = float(cur.norm())  # finite iff every weight is (short of 1e19)
        finite_w = math.isfinite(cur_norm)
        drift = float((cur - self._start).norm()) / start_norm
        self._prev = cur
        if self.initial_entropy is None and math.isfinite(entropy):
            self.initial_entropy = entropy

        big = math.isfinite(total_grad_norm) and total_grad_norm > EXPLODING_GRAD_NORM
        self._big_grads = self._big_grads + 1 if big else 0
        events: list[HealthEvent] = []
        at_floor = lr <= MIN_LR * 1.0001
        if not math.isfinite(loss) or not finite_w:
            what = "loss" if not math.isfinite(loss) else "weights"
            action: str | None = "restore_checkpoint" if self._good is not None else "reinit"
            events.append(HealthEvent(
                "loss_nan", f"{what} became NaN/Inf at lr {lr:.3g}",
                "restored the last good weights and halved the learning rate"
                if action == "restore_checkpoint" else "reinitialised the weights",
                action,
            ))  # fmt: skip
        elif update_ratio > EXPLODING_UPDATE_RATIO or self._big_grads >= EXPLODING_GRAD_BATCHES:
            msg = (
                f"exploding: update/weight ratio {update_ratio:.3g}, "
                f"grad norm {total_grad_norm:.3g} at lr {lr:.3g}"
            )
            if update_ratio > DAMAGING_UPDATE_RATIO and self._good is not None:
                events.append(HealthEvent(
                    "exploding", msg, "restored the last good weights and halved the learning rate",
                    "restore_checkpoint",
                ))  # fmt: skip
            elif not at_floor:
                events.append(HealthEvent(
                    "exploding", msg, "halved the learning rate", "lower_lr"
                ))  # fmt: skip
            elif self._may_repeat("exploding at the lr floor"):
                events.append(HealthEvent(
                    "exploding", msg, "learning rate at its floor: reinitialise (r)", None
                ))  # fmt: skip

        collapsed = False
        if self.initial_entropy and math.isfinite(entropy):
            if entropy < COLLAPSE_FRACTION * self.initial_entropy:
                self._low_entropy += 1
                collapsed = True
            else:
                self._low_entropy = 0
            if self._low_entropy == COLLAPSE_BATCHES:
                events.append(HealthEvent(
                    "entropy_collapse",
                    f"entropy collapse: {entropy:.3g} < {COLLAPSE_FRACTION:.0%} of its initial "
                    f"{self.initial_entropy:.3g} for {COLLAPSE_BATCHES} batches",
                    "raise train.entropy_weight, or reinitialise (r) if unsolved",
                    None,
                ))  # fmt: skip

        if math.isfinite(total_grad_norm) and total_grad_norm < VANISHING_GRAD_NORM:
            self._vanishing += 1
        else:
            self._vanishing = 0
        if self._vanishing == VANISHING_BATCHES:
            # a converged (collapsed) policy has tiny gradients by right: only warn then
            action = None if collapsed else "reinit"
            events.append(HealthEvent(
                "vanishing",
                f"vanishing gradients: norm < {VANISHING_GRAD_NORM:g} for {VANISHING_BATCHES} batches",
                "reinitialised the weights" if action else "reinitialise (r) if unsolved",
                action,
            ))  # fmt: skip

        for ev in events:
            self._last_fired[ev.kind] = self.batches
            self._warnings.append((self.batches, ev.message))
        if events:
            self._since_event = 0
        else:
            self._since_event += 1
            self._since_remember += 1
            if (
                optimizer is not None
                and self._since_event >= self.remember_every
                and self._since_remember >= self.remember_every
                and math.isfinite(loss)
            ):
                self.remember(policy, optimizer)

        self._metrics = {
            "health/update_ratio": update_ratio,
            "health/weight_change": drift,
            "health/grad_norm_preclip": total_grad_norm,
            "health/entropy_ratio": entropy / self.initial_entropy if self.initial_entropy else 1.0,
        }
        for name, v in grad_norms.items():
            self._metrics[f"health/grad_norm/{name}"] = v
        for name, v in layer_ratio.items():
            self._metrics[f"health/update_ratio/{name}"] = v
        return events

    def _may_repeat(self, key: str) -> bool:
        """Whether a warning without an action may be raised again (and note it if so)."""
        last = self._last_fired.get(key)
        if last is not None and self.batches - last < WARN_COOLDOWN:
            return False
        self._last_fired[key] = self.batches
        return True

    # -- outputs ----------------------------------------------------------------------------------

    def add_warning(self, text: str) -> None:
        """A warning from outside the monitor (e.g. a failed initialisation)."""
        self._warnings.append((self.batches, text))

    @property
    def warnings(self) -> tuple[str, ...]:
        """Recent warnings, oldest first, for Snapshot.health_warnings."""
        return tuple(
            f"batch {b}: {text}" for b, text in self._warnings if self.batches - b < WARNING_TTL
        )

    def metrics(self) -> dict[str, float]:
        """The last step's numbers for the run history (`health/...` keys)."""
        return {k: v for k, v in self._metrics.items() if math.isfinite(v)}


class Repairable(Protocol):
    """What `apply_health_actions` needs of a trainer."""

    lr: float

    @property
    def optimizer(self) -> OptimizerLike: ...

    @property
    def policy(self) -> torch.nn.Module: ...

    @property
    def health(self) -> HealthMonitor: ...

    def reinitialise(self, method: str | None = None) -> None: ...


def apply_health_actions(trainer: Repairable, events: Sequence[HealthEvent]) -> list[str]:
    """Carry out the events' actions on a trainer; returns what was done.

    Uses `trainer.lr`, `.optimizer`, `.policy`, `.health` and `.reinitialise()`. The learning
    rate is halved at most once per call, for "lower_lr" and for "restore_checkpoint" (a state
    that blew up once would blow up again at the same rate).
    """
    done: list[str] = []
    lowered = False

    def lower() -> None:
        nonlocal lowered
        if lowered:
            return
        lowered = True
        old = trainer.lr
        trainer.lr = max(MIN_LR, old * 0.5)
        for group in trainer.optimizer.param_groups:
            group["lr"] = trainer.lr
        done.append(f"lr {old:.3g} -> {trainer.lr:.3g}")

    for ev in events:
        if ev.action == "lower_lr":
            lower()
        elif ev.action == "restore_checkpoint":
            lower()
            if trainer.health.restore(trainer.policy, trainer.optimizer, lr=trainer.lr):
                done.append("restored last good weights")
            else:
                ev = HealthEvent(ev.kind, ev.message, ev.suggestion, "reinit")
        if ev.action == "reinit":
            lr = trainer.lr
            trainer.reinitialise()
            trainer.lr = min(lr, trainer.lr)
            for group in trainer.optimizer.param_groups:
                group["lr"] = trainer.lr
            done.append("reinitialised weights")
    return done


def _clone(obj: Any) -> Any:
    """Deep copy of a state dict: tensors cloned, containers rebuilt (5x faster than deepcopy)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        out = type(obj)((k, _clone(v)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):  # module state dicts carry version info
            out._metadata = obj._metadata  # type: ignore[attr-defined]
        return out
    if isinstance(obj, list | tuple):
        return type(obj)(_clone(v) for v in obj)
    return copy.copy(obj)


def _flat(policy: torch.nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([p.detach().flatten() for p in policy.parameters()]).clone()


def _grad_norms(policy: torch.nn.Module) -> dict[str, float]:
    """`grad_norms` under another name: `observe` has a parameter that shadows it."""
    return grad_norms(policy)

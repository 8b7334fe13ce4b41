"""Model health: initialisation checks and repair, training-stability monitoring, token analytics.

Three parts, each cheap enough for the training loop:

- `check_init` / `initialise`: after every (re)initialisation the weights are checked for NaN/Inf,
  collapsed or huge values, dead or saturated LSTM activations on a short sampled batch, and an
  initial token distribution far from uniform over the grammar-allowed tokens. On failure the
  policy is initialised again, alternating methods, and every try is recorded in an `InitReport`.
- `HealthMonitor`: per batch, gradient norms per layer, update-to-weight ratio, weight drift, entropy
  and loss; events with a suggested or automatic action (halve the learning rate, restore the last
  good in-memory copy of weights and optimiser, reinitialise) when they leave a healthy band.
- `token_report`: top tokens and adjacent pairs, over- and under-used tokens against a uniform
  choice over the vocabulary the grammar can produce or over the tokens it allowed at each step.

Thresholds are module constants; the healthy values they are set against were measured on
`add_two_numbers` (LSTM 64, batch 64, Adam): see docs/benchmarks.md, "Model health".
"""

from __future__ import annotations

import copy
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from engine.grammar import Grammar
from engine.policy import INIT_METHODS, Policy, sample_batch
from engine.snapshot import LayerStats

# -- initialisation checks -------------------------------------------------------------------------

NEAR_ZERO = 1e-3  # |w| below this counts as "near zero" in LayerStats.near_zero
MIN_MATRIX_STD = 1e-4  # weight matrices start with std >= 7e-3 (the head is scaled by 0.1)
MAX_ABS_MEAN = 1.0  # no method puts a tensor's mean above 0.25 (LSTM input bias, forget gate 1)
MAX_MEAN_TO_STD = 2.0  # a matrix whose mean exceeds 2 std has values mostly of one sign
MAX_ABS_WEIGHT = 10.0  # every method keeps |w| <= ~1; 10x that saturates every gate
SATURATION_LEVEL = 6.0  # |gate pre-activation| beyond this: sigmoid/tanh derivative < 0.01
MAX_SATURATED_SHARE = 0.2  # healthy inits saturate well under 1 % of gate pre-activations
DEAD_HIDDEN = 1e-4  # mean |h| below this: dead; healthy >= 0.0046 (embed 8, hidden 256, 2 layers)
MIN_ENTROPY_RATIO = 0.5  # initial entropy / log(#allowed); healthy inits measure > 0.97
MAX_INITIAL_KL = 0.3  # nats, KL(policy || uniform over allowed) at the first steps; healthy < 0.05
CHECK_ROWS = 16  # samples in the check batch
CHECK_STEPS = 12  # steps of the check batch (fewer if the task's budget is smaller)
KL_STEPS = 4  # the "first steps" over which the initial KL divergence is averaged
CHECK_SEED_OFFSET = 7919  # the check draws from its own generator, never from the run's stream


def weight_stats(policy: torch.nn.Module) -> tuple[LayerStats, ...]:
    """Mean, std, min, max, near-zero share and gradient norm of every parameter tensor."""
    out = []
    with torch.no_grad():
        for name, p in policy.named_parameters():
            w = p.detach()
            finite = w[torch.isfinite(w)]
            g = p.grad
            if finite.numel() == 0:
                mean = std = lo = hi = float("nan")
            else:
                mean, lo, hi = float(finite.mean()), float(finite.min()), float(finite.max())
                std = float(finite.std()) if finite.numel() > 1 else 0.0
            out.append(
                LayerStats(
                    name=name, mean=mean, std=std, min=lo, max=hi,
                    near_zero=float((w.abs() < NEAR_ZERO).float().mean()),
                    grad_norm=float(g.norm()) if g is not None else 0.0,
                )
            )  # fmt: skip
    return tuple(out)


def weight_histogram(policy: torch.nn.Module, bins: int = 30) -> tuple[tuple[float, int], ...]:
    """(bin centre, count) over all finite weights, for the TUI's histogram plot."""
    with torch.no_grad():
        flat = torch.cat([p.detach().flatten() for p in policy.parameters()]).numpy()
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return ()
    counts, edges = np.histogram(flat, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    return tuple((round(float(c), 4), int(n)) for c, n in zip(centres, counts, strict=True))


@dataclass
class InitCheck:
    """The numbers behind `check_init`, for tests and the docs."""

    problems: list[str] = field(default_factory=list)
    saturated_share: float = 0.0
    mean_abs_hidden: float = 0.0
    entropy_ratio: float = 1.0
    initial_kl: float = 0.0
    seconds: float = 0.0


def check_init(
    policy: Policy, grammar: Grammar, generator: torch.Generator | None, max_len: int
) -> list[str]:
    """Problems of the policy's current weights (empty when healthy); see `measure_init`."""
    return measure_init(policy, grammar, generator, max_len).problems


def measure_init(
    policy: Policy, grammar: Grammar, generator: torch.Generator | None, max_len: int
) -> InitCheck:
    """Check weights and behaviour on a short sampled batch; ~5 ms for the default model."""
    t0 = time.perf_counter()
    res = InitCheck()
    problems = res.problems
    with torch.no_grad():
        bad = False
        for name, p in policy.named_parameters():
            w = p.detach()
            n_bad = int((~torch.isfinite(w)).sum())
            if n_bad:
                problems.append(f"{name}: {n_bad} NaN/Inf values")
                bad = True
                continue
            mean = float(w.mean())
            std = float(w.std()) if w.numel() > 1 else 0.0
            if w.dim() >= 2 and std < MIN_MATRIX_STD:
                problems.append(f"{name}: near-zero std {std:.2g}")
            if abs(mean) > MAX_ABS_MEAN or (w.dim() >= 2 and abs(mean) > MAX_MEAN_TO_STD * std > 0):
                problems.append(f"{name}: large mean {mean:.3g} (std {std:.3g})")
            peak = float(w.abs().max())
            if peak > MAX_ABS_WEIGHT:
                problems.append(f"{name}: huge values (max |w| {peak:.3g})")
        if bad:  # running NaN through the network tells nothing more
            res.seconds = time.perf_counter() - t0
            return res
        _measure_behaviour(policy, grammar, generator, max_len, res)
    res.seconds = time.perf_counter() - t0
    return res


def _measure_behaviour(
    policy: Policy,
    grammar: Grammar,
    generator: torch.Generator | None,
    max_len: int,
    res: InitCheck,
) -> None:
    """Run a short uniformly sampled batch through the LSTM: gates, hidden states, output entropy."""
    seed = (generator.initial_seed() if generator is not None else 0) + CHECK_SEED_OFFSET
    gen = torch.Generator().manual_seed(seed)
    # uniform inputs: the check must not depend on the (possibly broken) policy it checks; the
    # run's full budget, so the masks are the ones the policy meets, but only the first steps
    batch = sample_batch(None, grammar, CHECK_ROWS, max(1, max_len), gen)
    tokens = torch.from_numpy(batch.tokens[:, :CHECK_STEPS])
    masks = torch.from_numpy(batch.masks[:, :CHECK_STEPS])
    B, T = tokens.shape
    live = torch.arange(T)[None, :] < torch.from_numpy(batch.lengths)[:, None]
    x = torch.cat([torch.full((B, 1), grammar.tok.sos, dtype=torch.long), tokens[:, :-1]], 1)
    layers = policy._cell_params()
    H = policy.hidden_size
    hs = [torch.zeros(B, H) for _ in layers]
    cs = [torch.zeros(B, H) for _ in layers]
    emb = policy.embed(x)  # (B, T, E)
    saturated = total = 0.0
    hidden_abs = torch.zeros(B, T)
    tops = []
    for t in range(T):
        inp = emb[:, t]
        rows = live[:, t]
        n_live = int(rows.sum())
        for k, (w_ih, w_hh, b) in enumerate(layers):
            gates = inp @ w_ih.T + hs[k] @ w_hh.T + b
            g_live = gates[rows]
            saturated += float((g_live.abs() > SATURATION_LEVEL).sum())
            total += g_live.numel()
            i, f, g, o = gates.chunk(4, dim=1)
            cs[k] = torch.sigmoid(f) * cs[k] + torch.sigmoid(i) * torch.tanh(g)
            hs[k] = torch.sigmoid(o) * torch.tanh(cs[k])
            inp = hs[k]
        hidden_abs[:, t] = hs[-1].abs().mean(1)
        if n_live:
            tops.append(hs[-1])
    res.saturated_share = saturated / max(total, 1.0)
    res.mean_abs_hidden = float(hidden_abs[live].mean()) if live.any() else 0.0
    h_all = torch.stack(tops, 1) if tops else torch.zeros(B, 0, H)  # (B, T', H)
    Tn = h_all.shape[1]
    logits = policy.head(h_all)
    m = masks[:, :Tn]
    lv = live[:, :Tn]
    logp = torch.log_softmax(logits.masked_fill(~m, float("-inf")), dim=-1)
    p = logp.exp()
    ent = -torch.where(m, p * logp, torch.zeros_like(p)).sum(-1)  # (B, T')
    n_allowed = m.sum(-1)
    choice = lv & (n_allowed > 1)  # steps where the policy has a choice to make
    max_ent = torch.log(n_allowed.clamp(min=1).float())
    if choice.any():
        res.entropy_ratio = float(ent[choice].sum() / max_ent[choice].sum())
        first = choice.clone()
        first[:, KL_STEPS:] = False
        kl = (max_ent - ent)[first]
        res.initial_kl = float(kl.mean()) if kl.numel() else 0.0
    problems = res.problems
    if res.saturated_share > MAX_SATURATED_SHARE:
        problems.append(f"saturated activations: {res.saturated_share:.0%} of gates beyond ±6")
    if res.mean_abs_hidden < DEAD_HIDDEN:
        problems.append(f"dead activations: mean |h| {res.mean_abs_hidden:.2g}")
    if res.entropy_ratio < MIN_ENTROPY_RATIO:
        problems.append(f"initial entropy {res.entropy_ratio:.0%} of uniform over allowed tokens")
    if res.initial_kl > MAX_INITIAL_KL:
        problems.append(f"initial KL to uniform over allowed tokens {res.initial_kl:.2f} nats")


@dataclass
class InitReport:
    """What `initialise` did: the method that stuck and every try with its problems."""

    method_used: str
    ok: bool
    tries: list[tuple[str, list[str]]] = field(default_factory=list)
    seconds: float = 0.0

    def messages(self) -> list[str]:
        """One line per failed try and one for the outcome, for events (empty when all was well)."""
        if self.ok and len(self.tries) <= 1:
            return []
        out = [
            f"init try {n} ({method}) failed: {'; '.join(problems[:3])}"
            for n, (method, problems) in enumerate(self.tries, 1)
            if problems
        ]
        if self.ok:
            out.append(f"initialised with {self.method_used} after {len(self.tries)} tries")
        else:
            out.append(
                f"no healthy initialisation in {len(self.tries)} tries; "
                f"kept the least bad ({self.method_used})"
            )
        return out


def init_order(method: str, max_tries: int) -> list[str]:
    """The requested method first, then the others in turn: orthogonal, xavier, kaiming, ..."""
    if method not in INIT_METHODS:
        raise ValueError(f"unknown init method {method!r}")
    k = INIT_METHODS.index(method)
    rotated = INIT_METHODS[k:] + INIT_METHODS[:k]
    return [rotated[i % len(rotated)] for i in range(max(1, max_tries))]


def initialise(
    policy: Policy,
    method: str,
    generator: torch.Generator | None,
    grammar: Grammar,
    max_len: int,
    max_tries: int = 4,
) -> InitReport:
    """Initialise, check, and on failure try again with the next method (start, `r`, recovery)."""
    t0 = time.perf_counter()
    tries: list[tuple[str, list[str]]] = []
    best: tuple[int, str, dict[str, torch.Tensor]] | None = None
    for m in init_order(method, max_tries):
        policy.init_weights(m, generator)
        problems = check_init(policy, grammar, generator, max_len)
        tries.append((m, problems))
        if not problems:
            return InitReport(m, True, tries, time.perf_counter() - t0)
        if best is None or len(problems) < best[0]:
            best = (len(problems), m, copy.deepcopy(policy.state_dict()))
    assert best is not None
    policy.load_state_dict(best[2])
    return InitReport(best[1], False, tries, time.perf_counter() - t0)


# -- runtime monitoring ----------------------------------------------------------------------------

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

    def reset(
        self, policy: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None
    ) -> None:
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

    def remember(self, policy: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
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
        optimizer: torch.optim.Optimizer,
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
        optimizer: torch.optim.Optimizer | None = None,
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
            action = "restore_checkpoint" if self._good is not None else "reinit"
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


def apply_health_actions(trainer: Any, events: Sequence[HealthEvent]) -> list[str]:
    """Carry out the events' actions on a Trainer-like object; returns what was done.

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


# -- token analytics -------------------------------------------------------------------------------

OVERUSE_FACTOR = 4.0  # over-used: share > 4x the expected share
UNDERUSE_FACTOR = 4.0  # under-used: share < 1/4 of the expected share (never used included)
TOP_TOKENS = 10
TOP_PAIRS = 10


def uniform_expectation(masks: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Expected token counts if every live step chose uniformly among its allowed tokens.

    masks (B, T, V) bool, live (B, T) bool. Accumulate it over batches and pass it to
    `token_report` as `allowed_counts` to judge tokens against the grammar-allowed positions.
    """
    m = masks[live]  # (N, V)
    if m.size == 0:
        return np.zeros(masks.shape[-1])
    n = m.sum(1, keepdims=True).clip(min=1)
    return (m / n).sum(0)


def token_report(
    tokens: Sequence[str],
    counts: np.ndarray,
    pair_counts: np.ndarray,
    generative_ids: Sequence[int],
    allowed_counts: np.ndarray | None = None,
) -> dict[str, Any]:
    """Top tokens and pairs, over- and under-used tokens, for the Model screen and run summaries.

    counts (V,) token counts; pair_counts (V*V,) counts of adjacent pairs a*V+b; `generative_ids`
    the tokens the grammar can produce. The expected share of a token is uniform over those
    tokens, or, with `allowed_counts` (see `uniform_expectation`), proportional to how often
    uniform choice among the allowed tokens would have picked it.
    """
    V = len(tokens)
    counts = np.asarray(counts, dtype=np.int64)
    pair_counts = np.asarray(pair_counts, dtype=np.int64)
    gen = np.asarray(sorted(set(int(i) for i in generative_ids)), dtype=np.int64)
    total = int(counts.sum())
    pair_total = int(pair_counts.sum())
    report: dict[str, Any] = {
        "total": total,
        "distinct": int((counts > 0).sum()),
        "pair_total": pair_total,
        "top": [],
        "pairs": [],
        "over_used": [],
        "under_used": [],
        "unused": [tokens[i] for i in gen if counts[i] == 0],
        "baseline": "allowed" if allowed_counts is not None else "uniform",
    }
    if total == 0:
        return report
    order = np.argsort(-counts, kind="stable")[:TOP_TOKENS]
    report["top"] = [(tokens[i], int(counts[i]), counts[i] / total) for i in order if counts[i]]
    if pair_total:
        porder = np.argsort(-pair_counts, kind="stable")[:TOP_PAIRS]
        report["pairs"] = [
            (tokens[p // V], tokens[p % V], int(pair_counts[p]), pair_counts[p] / pair_total)
            for p in porder
            if pair_counts[p]
        ]
    if allowed_counts is not None:
        exp = np.asarray(allowed_counts, dtype=np.float64)[gen]
        exp_share = exp / exp.sum() if exp.sum() > 0 else np.full(len(gen), 1.0 / len(gen))
    else:
        exp_share = np.full(len(gen), 1.0 / max(1, len(gen)))
    share = counts[gen] / total
    over, under = [], []
    for j, i in enumerate(gen.tolist()):
        e = exp_share[j]
        if e <= 0:  # never allowed: cannot be judged
            continue
        ratio = share[j] / e
        if ratio > OVERUSE_FACTOR:
            over.append((tokens[i], float(share[j]), float(ratio)))
        elif ratio < 1.0 / UNDERUSE_FACTOR:
            under.append((tokens[i], int(counts[i]), float(ratio)))
    report["over_used"] = sorted(over, key=lambda r: -r[2])
    report["under_used"] = sorted(under, key=lambda r: r[2])
    return report


# -- benchmark -------------------------------------------------------------------------------------


def benchmark(batches: int = 150, batch_size: int = 128, task: str = "add_two_numbers") -> dict:
    """Per-batch cost of token analytics and health monitoring in a real run (docs/benchmarks.md).

    The trainer's analytics lines are replayed on every batch it sampled and timed on their own;
    the monitor's cost is timed inside the run (grad_norms + observe + apply). Both are divided by
    the run's wall time per batch.
    """
    import engine.trainer as trainer_mod
    from engine.config import Config
    from engine.sandbox import Sandbox
    from engine.tasks import load_task

    cfg = Config()
    cfg.train.batch_size = batch_size
    spent = {"analytics": 0.0, "health": 0.0, "allowed": 0.0}
    real_norms, real_apply = trainer_mod.grad_norms, trainer_mod.apply_health_actions

    def timed(key, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[key] += time.perf_counter() - t0

        return wrapper

    with Sandbox(cfg.sandbox) as sb:
        tr = trainer_mod.Trainer(cfg, load_task(task), sb.run_many, seed=0)
        tr.health.observe = timed("health", tr.health.observe)  # type: ignore[method-assign]
        trainer_mod.grad_norms = timed("health", real_norms)
        trainer_mod.apply_health_actions = timed("health", real_apply)
        real_record = tr._record
        V = len(tr.tok)
        counts = np.zeros(V, dtype=np.int64)
        pairs_acc = np.zeros(V * V, dtype=np.int64)
        allowed = np.zeros(V)

        def record(batch, codes, outcomes, rewards):
            nonlocal counts, pairs_acc, allowed
            t0 = time.perf_counter()
            toks = batch.tokens  # the trainer's lines, verbatim
            live = toks != tr.tok.pad
            counts += np.bincount(toks[live], minlength=V)
            pairs = toks[:, :-1] * V + toks[:, 1:]
            both = live[:, :-1] & live[:, 1:]
            pairs_acc += np.bincount(pairs[both], minlength=V * V)
            t1 = time.perf_counter()
            steps = np.arange(toks.shape[1])[None, :] < batch.lengths[:, None]
            allowed += uniform_expectation(batch.masks, steps)
            spent["analytics"] += t1 - t0
            spent["allowed"] += time.perf_counter() - t1
            return real_record(batch, codes, outcomes, rewards)

        tr._record = record  # type: ignore[method-assign]
        try:
            for _ in range(5):  # warm-up: grammar tables, sandbox workers
                tr.step()
            for key in spent:
                spent[key] = 0.0
            t0 = time.perf_counter()
            for _ in range(batches):
                tr.step()
            wall = time.perf_counter() - t0
        finally:
            trainer_mod.grad_norms, trainer_mod.apply_health_actions = real_norms, real_apply
            tr.close() if hasattr(tr, "close") else None
        t1 = time.perf_counter()
        for _ in range(20):
            rep = token_report(tr.tok.tokens, tr.token_counts, tr.pair_counts,
                               tr.grammar.generative_ids(), allowed)  # fmt: skip
        t_report = (time.perf_counter() - t1) / 20
        t1 = time.perf_counter()
        for _ in range(20):
            weight_stats(tr.policy), weight_histogram(tr.policy)
        t_stats = (time.perf_counter() - t1) / 20
        checks = [measure_init(tr.policy, tr.grammar, tr.generator, tr.max_len) for _ in range(10)]
    per_batch = wall / batches
    return {
        "batches": batches,
        "batch_size": batch_size,
        "seconds_per_batch": per_batch,
        "analytics_ms": 1e3 * spent["analytics"] / batches,
        "analytics_share": spent["analytics"] / wall,
        "allowed_expectation_ms": 1e3 * spent["allowed"] / batches,
        "allowed_expectation_share": spent["allowed"] / wall,
        "health_ms": 1e3 * spent["health"] / batches,
        "health_share": spent["health"] / wall,
        "token_report_ms": 1e3 * t_report,
        "weight_stats_ms": 1e3 * t_stats,
        "check_init_ms": 1e3 * float(np.median([c.seconds for c in checks])),
        "top_token": rep["top"][0] if rep["top"] else None,
    }


if __name__ == "__main__":
    import json
    import sys

    from engine.diagnostics import benchmark as run  # the module the trainer uses, not __main__

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    print(json.dumps(run(n), indent=1, default=str))

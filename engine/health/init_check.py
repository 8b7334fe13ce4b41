"""Initialisation checks and repair: is a freshly initialised policy fit to start learning?

After every (re)initialisation the weights are checked for NaN/Inf, collapsed or huge values,
dead or saturated LSTM activations on a short sampled batch, and an initial token distribution
far from uniform over the grammar-allowed tokens. On failure the policy is initialised again,
alternating methods, and every try is recorded in an `InitReport`.

Thresholds are module constants; the healthy values they are set against were measured on
`add_two_numbers` (LSTM 64, batch 64, Adam): see docs/benchmarks.md, "Model health".
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch

from engine.grammar import Grammar
from engine.policy import INIT_METHODS, Policy, sample_batch

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

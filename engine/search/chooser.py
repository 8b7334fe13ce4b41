"""A policy-backed `Chooser` for the mutator: the LSTM proposes the tokens of new material.

The mutator writes new tokens one at a time after an arbitrary prefix (a splice point, a point
edit, a resampled suffix). `PolicyChooser` runs the policy's LSTM cell over the prefix once and
remembers the state per prefix (bounded LRU), so extending a prefix by one token costs one cell
step. The next token is drawn from the policy's softmax at `temperature`, restricted to the tokens
the grammar allows; the mutator mixes it with uniform choice (`MutationConfig.uniform_share`).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Sequence

import torch

from engine.policy import Policy


class PolicyChooser:
    """Chooser(prefix, allowed, rng) drawing from the policy's masked next-token distribution."""

    def __init__(self, policy: Policy, sos: int, temperature: float = 1.5, cache_size: int = 4096):
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        self.policy, self.sos, self.temperature = policy, sos, temperature
        self.cache_size = cache_size
        self._states: OrderedDict[tuple[int, ...], tuple[list, list, torch.Tensor]] = OrderedDict()

    def refresh(self) -> None:
        """Forget cached states (call after every optimiser step: the weights changed)."""
        self._states.clear()

    @torch.no_grad()
    def logits(self, prefix: Sequence[int]) -> torch.Tensor:
        """Next-token logits (V,) after SOS + `prefix`, before masking and temperature."""
        key = tuple(prefix)
        got = self._states.get(key)
        if got is not None:
            self._states.move_to_end(key)
            return got[2]
        k = len(key)
        while k > 0 and key[:k] not in self._states:
            k -= 1
        layers = self.policy._cell_params()
        H = self.policy.hidden_size
        if k == 0 and () not in self._states:
            hs = [torch.zeros(1, H) for _ in layers]
            cs = [torch.zeros(1, H) for _ in layers]
            hs, cs, out = self._step(layers, hs, cs, self.sos)
            self._put((), hs, cs, out)
        hs, cs, out = self._states[key[:k]]
        for j in range(k, len(key)):
            hs, cs, out = self._step(layers, hs, cs, key[j])
            self._put(key[: j + 1], hs, cs, out)
        return out

    def _step(self, layers, hs, cs, token: int):
        p = self.policy
        x = p.embed.weight[token : token + 1]
        hs, cs = list(hs), list(cs)
        inp = x
        for k, (w_ih, w_hh, b) in enumerate(layers):
            gates = inp @ w_ih.T + hs[k] @ w_hh.T + b
            i, f, g, o = gates.chunk(4, dim=1)
            cs[k] = torch.sigmoid(f) * cs[k] + torch.sigmoid(i) * torch.tanh(g)
            hs[k] = torch.sigmoid(o) * torch.tanh(cs[k])
            inp = hs[k]
        out = (inp @ p.head.weight.T + p.head.bias)[0]
        return hs, cs, out

    def _put(self, key, hs, cs, out) -> None:
        self._states[key] = (hs, cs, out)
        while len(self._states) > self.cache_size:
            self._states.popitem(last=False)

    def __call__(self, prefix: Sequence[int], allowed: list[int], rng: random.Random) -> int:
        logits = self.logits(prefix)[allowed] / self.temperature
        probs = torch.softmax(logits, dim=0).tolist()
        u, acc = rng.random(), 0.0
        for tok_id, p in zip(allowed, probs, strict=True):
            acc += p
            if u < acc:
                return tok_id
        return allowed[-1]  # float round-off

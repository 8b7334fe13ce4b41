"""Adam for the policy, without `torch.optim`'s import cost.

Why not `torch.optim.Adam`: its methods are wrapped in `torch._disable_dynamo`, whose first call
imports the whole compiler stack (torch._dynamo, inductor, sympy, onnx, distributed: ~850
modules, ~75 MB of resident memory) for a model of a few tens of thousands of parameters
(docs/benchmarks.md, "Memory"). This is the same algorithm as torch's single-tensor Adam
(bias-corrected, no weight decay, no amsgrad), and its `state_dict()` has torch's layout, so
checkpoints written by either load in the other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch


class Adam:
    """Adam over one parameter group; `param_groups[0]["lr"]` is read at every step."""

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = [p for p in params]
        self.param_groups: list[dict[str, Any]] = [
            {"lr": float(lr), "betas": tuple(betas), "eps": float(eps), "weight_decay": 0.0,
             "amsgrad": False, "maximize": False}
        ]  # fmt: skip
        self.state: dict[int, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop (or zero) every parameter's gradient."""
        for p in self.params:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        group = self.param_groups[0]
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            st = self.state.get(i)
            if st is None:
                st = self.state[i] = {
                    "step": torch.zeros((), dtype=torch.float32),
                    "exp_avg": torch.zeros_like(p),
                    "exp_avg_sq": torch.zeros_like(p),
                }
            st["step"] += 1
            t = float(st["step"])
            g = p.grad
            st["exp_avg"].lerp_(g, 1 - beta1)
            st["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
            step_size = lr / (1 - beta1**t)
            denom = (st["exp_avg_sq"].sqrt() / math.sqrt(1 - beta2**t)).add_(eps)
            p.addcdiv_(st["exp_avg"], denom, value=-step_size)

    def state_dict(self) -> dict[str, Any]:
        """torch.optim's layout: per-index state and groups listing parameter indices."""
        groups = [dict(g, params=list(range(len(self.params)))) for g in self.param_groups]
        return {"state": {i: dict(s) for i, s in self.state.items()}, "param_groups": groups}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load a state written by this class or by `torch.optim.Adam` (one group)."""
        groups = state.get("param_groups") or []
        if len(groups) != 1 or len(groups[0].get("params", ())) != len(self.params):
            raise ValueError("optimizer state does not match the policy's parameters")
        g = groups[0]
        self.param_groups[0].update(
            lr=float(g["lr"]), betas=tuple(g.get("betas", (0.9, 0.999))), eps=float(g["eps"])
        )
        self.state = {}
        for k, s in state.get("state", {}).items():
            i = int(k)
            p = self.params[i]
            self.state[i] = {
                "step": torch.as_tensor(s["step"], dtype=torch.float32).clone(),
                "exp_avg": s["exp_avg"].detach().clone().to(p.dtype),
                "exp_avg_sq": s["exp_avg_sq"].detach().clone().to(p.dtype),
            }

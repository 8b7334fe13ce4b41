"""engine.optim.Adam: the same updates and checkpoint layout as torch.optim.Adam, and no
compiler-stack import (the reason it exists)."""

from __future__ import annotations

import subprocess
import sys

import torch

from engine.optim import Adam


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Embedding(7, 5), torch.nn.LSTM(5, 6, batch_first=True))


def _loss(model: torch.nn.Module, step: int) -> torch.Tensor:
    x = torch.tensor([[1, 2, 3, (step % 6) + 1]])
    out, _ = model(x)
    return (out**2).sum() + out[..., 0].sum()


def test_updates_match_torch_adam():
    ours, ref = _model(0), _model(0)
    a = Adam(ours.parameters(), lr=0.01)
    b = torch.optim.Adam(ref.parameters(), lr=0.01)
    for step in range(25):
        if step == 10:  # a learning-rate change mid-run, as the plateau schedule makes
            a.param_groups[0]["lr"] = b.param_groups[0]["lr"] = 0.003
        for opt, model in ((a, ours), (b, ref)):
            opt.zero_grad(set_to_none=True)
            _loss(model, step).backward()
            opt.step()
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6), (p - q).abs().max()


def test_state_dict_round_trips_with_torch_adam():
    ref = _model(1)
    b = torch.optim.Adam(ref.parameters(), lr=0.02)
    for step in range(3):
        b.zero_grad()
        _loss(ref, step).backward()
        b.step()
    ours = _model(1)
    ours.load_state_dict(ref.state_dict())
    a = Adam(ours.parameters(), lr=0.5)
    a.load_state_dict(b.state_dict())  # torch -> ours
    assert a.param_groups[0]["lr"] == 0.02
    for opt, model in ((a, ours), (b, ref)):
        opt.zero_grad()
        _loss(model, 3).backward()
        opt.step()
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6)
    c = torch.optim.Adam(_model(1).parameters(), lr=0.5)
    c.load_state_dict(a.state_dict())  # ours -> torch
    assert c.param_groups[0]["lr"] == 0.02
    assert torch.equal(c.state_dict()["state"][0]["exp_avg"], a.state[0]["exp_avg"])


def test_mismatched_state_is_refused():
    a = Adam(_model(0).parameters())
    other = torch.optim.Adam(torch.nn.Linear(2, 2).parameters())
    try:
        a.load_state_dict(other.state_dict())
    except ValueError as e:
        assert "parameters" in str(e)
    else:
        raise AssertionError("a state for other parameters loaded")


def test_training_step_does_not_import_the_compiler_stack():
    code = (
        "import sys, torch\n"
        "from engine.optim import Adam\n"
        "m = torch.nn.LSTM(3, 3)\n"
        "a = Adam(m.parameters())\n"
        "a.zero_grad(); m(torch.zeros(2, 1, 3))[0].sum().backward(); a.step(); a.state_dict()\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

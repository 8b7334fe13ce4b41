"""The policy-backed chooser follows the policy's own next-token distribution under the mask."""

from __future__ import annotations

import random
from collections import Counter

import torch

from engine.policy import Policy
from engine.search.chooser import PolicyChooser
from engine.search.mutation import MutationConfig, Mutator


def test_logits_match_the_policy_forward(tok):
    torch.manual_seed(0)
    policy = Policy(len(tok), hidden_size=16, num_layers=2)
    ch = PolicyChooser(policy, tok.sos)
    prefix = tok.encode("for i in range(n):\n    print(i)\n")
    with torch.no_grad():
        full = policy(torch.tensor([[tok.sos, *prefix]]))[0]
    for t in (0, 3, len(prefix)):
        assert torch.allclose(ch.logits(prefix[:t]), full[t], atol=1e-5)


def test_choices_are_allowed_and_follow_the_policy(tok, grammar):
    torch.manual_seed(1)
    policy = Policy(len(tok), hidden_size=16)
    want = tok.index["while"]
    with torch.no_grad():
        policy.head.bias[want] = 8.0  # the policy loves `while`
    ch = PolicyChooser(policy, tok.sos, temperature=1.0)
    rng = random.Random(0)
    allowed = grammar.allowed(grammar.start, 33)
    picks = Counter(ch([], allowed, rng) for _ in range(300))
    assert set(picks) <= set(allowed)
    assert picks[want] > 250

    def share(uniform: float) -> float:
        cfg = MutationConfig(weights={"suffix": 1.0}, uniform_share=uniform)
        m = Mutator(grammar, 33, ch, cfg)
        kids = [m.mutate(tok.encode("print(n)\n"), rng) for _ in range(60)]
        return sum("while" in tok.decode(k[0]) for k in kids if k) / len(kids)

    assert share(0.0) > share(1.0) + 0.2  # policy-driven suffixes write its favourite token

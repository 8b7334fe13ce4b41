"""Fixtures and helpers shared by the model-health tests (tests/health/)."""

from __future__ import annotations

import pytest
import torch

from engine.grammar import Grammar
from engine.sandbox import Sandbox
from engine.tasks import load_task
from engine.tokenizer import Tokenizer


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny tensors: one torch thread, as the trainer runs (much faster on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    tok = Tokenizer.for_task(load_task("add_two_numbers"))
    return Grammar(tok, 2, 4)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb

"""Shared fixtures: a tokenizer and a grammar with input `n` bound (the sum-1..n setup)."""

from __future__ import annotations

import pytest

from engine.search.inputs import InputGrammar
from engine.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module")
def grammar(tok: Tokenizer) -> InputGrammar:
    return InputGrammar(tok, ["n"], max_depth=2, max_names=4)

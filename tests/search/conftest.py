"""Shared fixtures: a tokenizer and a grammar with input `n` bound (the sum-1..n setup)."""

from __future__ import annotations

import pytest

from engine.grammar import Grammar
from engine.search.inputs import make_grammar
from engine.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def tok_grammar() -> tuple[Tokenizer, Grammar]:
    return make_grammar(["n"])


@pytest.fixture(scope="module")
def tok(tok_grammar) -> Tokenizer:
    return tok_grammar[0]


@pytest.fixture(scope="module")
def grammar(tok_grammar) -> Grammar:
    return tok_grammar[1]

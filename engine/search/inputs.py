"""Stop-gap for experiments and tests: a grammar in which a task's input names are bound from the start.

The grammar helper is teaching `engine.grammar.Grammar` about input names; until that lands, this
subclass re-interns the start state with the inputs marked as bound. It touches only the start
state, so every other behaviour of the grammar is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.grammar import Grammar
from engine.tokenizer import Tokenizer


class InputGrammar(Grammar):
    """`Grammar` whose programs may read `inputs` (names from the tokenizer's variables) at once."""

    def __init__(self, tok: Tokenizer, inputs: Sequence[str], **kwargs: int):
        missing = [n for n in inputs if n not in tok.index]
        if missing:
            raise ValueError(f"input names not in the vocabulary: {missing}")
        self._input_bits = sum(1 << tok.index[n] for n in inputs)
        super().__init__(tok, **kwargs)

    def _init_tables(self) -> None:
        super()._init_tables()
        key = self._keys[self.start]
        self.start = self._intern(key._replace(defined=key.defined | self._input_bits))


def make_grammar(inputs: Sequence[str], **kwargs: int) -> tuple[Tokenizer, Grammar]:
    """(tokenizer, grammar) with `inputs` bound from the first token.

    Uses the grammar's own input support when the tokenizer has it (`Tokenizer(input_names=...)`,
    being added on another branch), else the `InputGrammar` stop-gap.
    """
    try:
        tok = Tokenizer(input_names=inputs)  # type: ignore[call-arg]
    except TypeError:
        tok = Tokenizer()
        return tok, InputGrammar(tok, inputs, **kwargs)
    return tok, Grammar(tok, **kwargs)

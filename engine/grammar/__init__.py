"""Syntax masks for the policy: an LL(1) Python subset (`syntax`), scope rules (`scope`) and the
bounded, table-driven state machine that samples and replays under them (`table`)."""

from engine.grammar.syntax import BLOCKED, EXPR_BUILTINS, IO_DIGITS, PRINT_COST
from engine.grammar.table import STATE_LIMIT, Grammar

__all__ = ["BLOCKED", "EXPR_BUILTINS", "IO_DIGITS", "PRINT_COST", "STATE_LIMIT", "Grammar"]

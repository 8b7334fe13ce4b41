"""JavaScript as a language plug-in (see `engine.languages` for the interface)."""

from engine.languages.javascript.constraints import missing_constraints
from engine.languages.javascript.grammar import Grammar
from engine.languages.javascript.minimise import minimise
from engine.languages.javascript.reward import JSTaskScorer
from engine.languages.javascript.runner import JSRunner, find_node
from engine.languages.javascript.tokenizer import Tokenizer, decode_tokens
from engine.languages.javascript.validation import task_problems

NAME = "javascript"
Runner = JSRunner
Scorer = JSTaskScorer

__all__ = [
    "NAME",
    "Grammar",
    "JSRunner",
    "JSTaskScorer",
    "Runner",
    "Scorer",
    "Tokenizer",
    "decode_tokens",
    "find_node",
    "minimise",
    "missing_constraints",
    "task_problems",
]

"""Python as a language plug-in: the existing Python pieces behind the `engine.languages` names.

The modules stay where they are (`engine.tokenizer`, `engine.grammar`, `engine.reward`,
`engine.sandbox`, `engine.tasks`); this module only names them, so callers that pick a language
through `engine.languages.for_task` get exactly the objects they used before.
"""

from __future__ import annotations

from engine.grammar import Grammar
from engine.reward import TaskScorer as Scorer
from engine.sandbox import Sandbox as Runner
from engine.search.minimise import minimise
from engine.tasks.constraints import missing_constraints
from engine.tokenizer import Tokenizer
from engine.validation import task_problems

NAME = "python"

__all__ = ["NAME", "Grammar", "Runner", "Scorer", "Tokenizer", "minimise", "missing_constraints",
           "task_problems"]  # fmt: skip

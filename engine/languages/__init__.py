"""Language plug-ins: everything that depends on the language a task targets.

A task's `target_language` picks a plug-in module: `for_task(task)` / `plugin(name)` return
`engine.languages.python` (the default: it names the existing Python pieces in
`engine/tokenizer.py`, `grammar/`, `reward/`, `sandbox/`, `tasks/`) or
`engine.languages.javascript`. Plug-ins are imported lazily, so Python-only runs never import
esprima or look for node. The policy, trainer, reward arithmetic (cases, output comparison),
hints and UI only ever use this interface:

    NAME: str                                   # "javascript"; also the code panes' lexer name
    Tokenizer.for_task(task) -> Tokenizer       # .tokens .index .pad .sos .eos .unk .task_tokens
                                                # .encode(src) -> ids   .decode(ids) -> runnable src
    Grammar(tokenizer, max_depth=2, max_names=4, max_functions=1)
                                                # same API as engine.grammar.Grammar: .start .done
                                                # .vocab_size .mask(sids, remaining) .step(sids, toks)
                                                # .next_state .trace(ids, budget) .allowed
                                                # .maybe_reset() .n_states .generative_ids()
    missing_constraints(task, source) -> list[str]
                                                # "operator '+'", "number 5", ... with Python's
                                                # meaning: real nodes, live constructs only
    task_problems(task, runner) -> [(field, message)]
                                                # a task file's patterns checked in the sandbox
    Scorer(task, weights=None)                  # the reward: engine.reward.TaskScorer's API
                                                # (.score_many(codes, runner, lengths), .timing)
    minimise(code, succeeds) -> str             # 1-minimal success on the language's own tree
                                                # (succeeds: list of codes -> list of bools)
    Runner(config: SandboxConfig)               # context manager; .run_many(codes, timeout=None)
                                                # -> [ExecResult]; .run_cases(codes, cases)
                                                # -> grid[i][j]; .describe() -> layers in force

ExecResult is `engine.sandbox.ExecResult` (status ok|error|timeout|killed|rejected, stdout,
error "Type: message", duration in seconds) for every language, so the scorer reads one shape.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

PLUGINS = {"python": "engine.languages.python", "javascript": "engine.languages.javascript"}
LANGUAGES = tuple(PLUGINS)

__all__ = ["LANGUAGES", "PLUGINS", "for_task", "plugin"]


def plugin(name: str) -> ModuleType:
    """The plug-in module of a language name (`python`, `javascript`); KeyError if unknown."""
    return importlib.import_module(PLUGINS[name.lower()])


def for_task(task: Any) -> ModuleType:
    """The plug-in of a task's `target_language` (Python when it has none)."""
    return plugin(getattr(task, "target_language", "python") or "python")

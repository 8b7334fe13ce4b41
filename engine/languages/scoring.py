"""Score hand-written programs in the task's language (`altlas-tui score`, `score_program`).

The task's `target_language` picks the plug-in (`engine.languages.for_task`): its Scorer, its
Runner (Python: the Sandbox; JavaScript: the node workers) and its tokenizer for the length term,
so a program is scored with the same terms the trainer uses for that language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from engine.config import SandboxConfig
from engine.languages import for_task

__all__ = ["score_programs", "token_length"]

_WORDS = re.compile(r"\w+|[^\w\s]")


def token_length(task: Any, code: str) -> int:
    """Tokens the learner would write for `code` in the task's language (plus the end token);
    a rough word/punctuation count when its tokenizer cannot encode the text."""
    lang = for_task(task)
    if lang.NAME == "python":  # Python keeps its own rule (and its fallbacks) unchanged
        from engine.reward.shaping import token_length as python_length

        return python_length(task, code)
    try:
        return len(lang.Tokenizer.for_task(task).encode(code)) + 1
    except Exception:  # noqa: BLE001 - any program text, any tokenizer failure: fall back
        return len(_WORDS.findall(code)) + 1


def score_programs(
    task: Any,
    codes: Sequence[str],
    config: SandboxConfig | None = None,
    runner: Any = None,
    lengths: Sequence[int] | None = None,
) -> list[Any]:
    """ScoreResults of `codes` for `task`, all in one batch. Runs them in `runner` when given
    (a runner of the task's language, or its `run_many`), else in a fresh one of the task's
    language built from `config`; `lengths` default to each program's token count."""
    lang = for_task(task)
    scorer = lang.Scorer(task)
    codes = list(codes)
    if lengths is None:
        lengths = [token_length(task, c) for c in codes]
    if runner is not None:
        return scorer.score_many(codes, runner, lengths)
    with lang.Runner(config if config is not None else SandboxConfig()) as fresh:
        return scorer.score_many(codes, fresh, lengths)

"""The reward: programs scored by their behaviour on test cases, in one breakdown.

Layout: `cases` (the cases: a task's tests, or derived ones for the legacy format, and how
programs are rewritten to read required values from globals), `expect` (expected outputs per
case from the task or its patterns, run once per task), `compare` (output similarity),
`constraints` / `facts` / `liveness` (the task's constraints and the static pre-filter),
`variants` / `verdict` (liveness checked on the cases), `execute` (how programs are run on
cases), `score` (the terms and the breakdown), `shaping` (the repetition memory).
"""

from engine.reward.compare import normalise_output, output_similarity
from engine.reward.execute import RunCases, cases_runner, from_run_many, takes_cases
from engine.reward.score import (
    CaseResult,
    ScoreResult,
    ScoreWeights,
    TaskScorer,
    with_repetition,
)

__all__ = [
    "CaseResult",
    "RunCases",
    "ScoreResult",
    "ScoreWeights",
    "TaskScorer",
    "cases_runner",
    "from_run_many",
    "normalise_output",
    "output_similarity",
    "score_program",
    "takes_cases",
    "with_repetition",
]


def score_program(task, code: str, run_many=None, length: int | None = None) -> ScoreResult:  # noqa: ANN001
    """Score one program (`altlas-tui score`), with the same terms the trainer uses. Without a
    runner, runs it in a fresh Sandbox; `length` defaults to the program's token count."""
    from engine.reward.shaping import token_length

    if (getattr(task, "target_language", "") or "python").lower() != "python":
        from engine.languages.scoring import score_programs  # the task language's scorer, runner

        lengths = None if length is None else [length]
        return score_programs(task, [code], runner=run_many, lengths=lengths)[0]
    scorer = TaskScorer(task)
    n = token_length(task, code) if length is None else length
    if run_many is not None:
        return scorer.score_many([code], run_many, [n])[0]
    from engine.sandbox import Sandbox

    with Sandbox() as sandbox:
        return scorer.score_many([code], sandbox, [n])[0]

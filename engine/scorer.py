"""The reward's historical import path: `from engine.scorer import score_program` (see
`engine.reward`, where everything lives now)."""

from engine.reward import (
    CaseResult,
    ScoreResult,
    ScoreWeights,
    TaskScorer,
    normalise_output,
    output_similarity,
    score_program,
    with_repetition,
)

__all__ = [
    "CaseResult",
    "ScoreResult",
    "ScoreWeights",
    "TaskScorer",
    "normalise_output",
    "output_similarity",
    "score_program",
    "with_repetition",
]

"""The plain data that crosses the search package's boundary: a program and its evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Eval:
    """What the trainer's evaluator says about one program (the reward helper fills it).

    `cases` holds one value in [0, 1] per *visible* case (1.0 = that case passes; partial output
    credit below 1 is allowed); hidden cases never appear here, they only decide `success`.
    `iterations`, when known, is the number of loop-body executions per visible case (summed over
    all loops of the program; None for a case where it is unknown), and `loop` the reward's
    label of how the loops behave over the cases; they feed the elite archive's niches.
    """

    score: float  # the reward the learner trains on
    cases: tuple[float, ...] = ()  # per visible case, in [0, 1]
    success: bool = False  # every case (hidden ones included) passes
    iterations: tuple[int | None, ...] | None = None  # loop-body executions per visible case
    # the reward's loop label over the visible cases (engine/reward/loops.py LOOP_LABELS);
    # None: derive a coarser one from `iterations` (selection.loop_bucket)
    loop: str | None = None


@dataclass
class Individual:
    """One program in the search: token ids (ending with EOS, as the trainer stores them)."""

    tokens: tuple[int, ...]
    code: str
    eval: Eval | None = None
    origin: str = "policy"  # "policy", "queue", or the operator that made it ("splice", ...)
    parents: tuple[int, ...] = field(default=(), compare=False)  # hashes of the parents' tokens

    @property
    def score(self) -> float:
        return self.eval.score if self.eval is not None else float("-inf")

    @property
    def cases(self) -> tuple[float, ...]:
        return self.eval.cases if self.eval is not None else ()

    @property
    def success(self) -> bool:
        return self.eval is not None and self.eval.success

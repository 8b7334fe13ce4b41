"""Search that proposes structure and keeps diversity, and minimal solutions (issue 13).

Public face (everything the trainer needs; each piece a switch, usable on its own):

    from engine.search import Eval, Individual, GPConfig, GPStep, minimise

    gp = GPStep(grammar, tokenizer, GPConfig(), budget=max_len, chooser=None)
    #   budget = the trainer's max_len (program tokens + EOS); chooser=PolicyChooser(policy,
    #   tok.sos) lets the policy write new material (call .refresh() after each optimiser step)
    # once per train step, after the policy's batch was scored:
    pop = [Individual(tokens=seq_with_eos, code=code, eval=Eval(score, cases, success, iters))
           for each batch sample and each priority-queue entry]
    children = gp.run(pop, evaluate, rng)   # list[Individual], evaluated, best first
    # -> push children into the priority queue and append them to the training batch
    #    (their masks come from Grammar.trace, as for queue entries)

    evaluate(list_of_token_seqs) -> list[Eval]   # batched; the trainer decodes, runs all cases of
                                                 # all programs in the sandbox, scores them
    minimise(code, succeeds) -> str              # succeeds(list_of_codes) -> list[bool], batched;
                                                 # True = passes every case, hidden ones included

Grammar contract used (read-only): `start`, `mask(sids, remaining)`, `step(sids, toks)`,
`allowed(sid, remaining)`, `tok`. State ids are never kept across calls, so the trainer may call
`Grammar.maybe_reset()` between steps as it does today.

Pieces (modules):
- `individual`: `Eval` (score, per-visible-case values in [0, 1], success, per-case loop-body
  executions or None, the reward's loop label) and `Individual` (tokens ending with EOS, code,
  eval, origin).
- `spans`: statement and block spans of a token-id program.
- `mutation`: `Mutator` (insert/replace/delete/wrap/idiom/unwrap/point/swap/suffix and
  crossover, one child per parent via `mutate_many`/`crossover_many`; every child is replayed
  through the grammar's masks within the budget, batched by `replay`), `Chooser` (how new
  tokens are picked: uniform by default, or the policy: `chooser.PolicyChooser`).
- `pool`: `StatementPool`, donor statements and block headers cut from good programs.
- `crossover`: crossover proposals at statement boundaries.
- `replay`: many programs through the grammar at once (states per position, acceptance).
- `selection`: `lexicase_select` (epsilon-lexicase over case vectors), `tournament_select`,
  `EliteArchive` (MAP-Elites, `per_niche` elites per niche; niche = cases passed x loop behaviour
  over the cases (the reward's label from per-case iteration counts: none / once / constant /
  varies / grows with the input, engine/reward/loops.py) x length bucket; parents drawn per
  loop behaviour, eviction from the most common one).
- `gp`: `GPConfig`, `GPStep` (a few generations per call; archive, donors and an evaluation cache
  persist across calls).
- `minimise`: delta-debugging on the AST to a 1-minimal program that still succeeds.
- `inputs`: `InputGrammar`, a stop-gap grammar with task inputs bound (until the grammar has them).
- `experiment`: `python -m engine.search.experiment` — GP + lexicase with uniform proposals on
  "print the sum of 1..n" (not a test; numbers go to docs/benchmarks.md).
"""

from engine.search.gp import GPConfig, GPStep
from engine.search.individual import Eval, Individual
from engine.search.minimise import minimise
from engine.search.mutation import MutationConfig, Mutator, StatementPool
from engine.search.selection import EliteArchive, lexicase_select

__all__ = [
    "EliteArchive",
    "Eval",
    "GPConfig",
    "GPStep",
    "Individual",
    "MutationConfig",
    "Mutator",
    "StatementPool",
    "lexicase_select",
    "minimise",
]

"""Search that proposes structure and keeps diversity, and minimal solutions (issue 13).

Public face (everything the trainer needs; each piece a switch, usable on its own):

    from engine.search import Eval, Individual, GPConfig, GPStep, minimise

    gp = GPStep(grammar, tokenizer, GPConfig(), budget=max_len, chooser=None)
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

Pieces (modules):
- `individual`: `Eval` (score, per-visible-case values in [0, 1], success, per-case loop-body
  executions or None) and `Individual` (tokens ending with EOS, code, eval, origin).
- `spans`: statement and block spans of a token-id program.
- `mutation`: `Mutator` (grammar-checked insert/replace/delete/wrap/unwrap/point/suffix and
  crossover; every child replays through `Grammar.trace` within the budget), `StatementPool`
  (donor statements and block headers from good programs), `Chooser` (how new tokens are picked:
  uniform by default, or a policy, see `chooser.policy_chooser`).
- `selection`: `lexicase_select` (epsilon-lexicase over case vectors), `tournament_select`,
  `EliteArchive` (MAP-Elites, `per_niche` elites per niche; niche = cases passed x loop behaviour
  over the cases x length bucket).
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

"""The learner: tasks, tokenizer, grammar masks, policy, scorer, sandbox, trainer.

This package never imports textual, rich or altlas_tui; the UI reads it through
`engine.controller.Engine`, `engine.controller.Control` and `engine.snapshot.Snapshot`.
"""

__version__ = "0.1.0"

"""Language plug-ins: everything that depends on the language a task targets.

A task's `target_language` picks a plug-in package (`engine.languages.javascript` today; the
Python pieces in `engine/tokenizer.py`, `grammar.py`, `tasks.py`, `sandbox.py` are to move to
`engine.languages.python` behind the same names). The policy, trainer, reward arithmetic (cases,
output comparison), hints and UI only ever use this interface:

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
    Runner(config: SandboxConfig)               # context manager; .run_many(codes, timeout=None)
                                                # -> [ExecResult]; .run_cases(codes, cases)
                                                # -> grid[i][j]; .describe() -> layers in force

ExecResult is `engine.sandbox.ExecResult` (status ok|error|timeout|killed|rejected, stdout,
error "Type: message", duration in seconds) for every language, so the scorer reads one shape.
"""

"""The engine as a service: `Engine(config, task).run(control)`, publishing immutable snapshots.

The TUI runs this in a worker thread and reads `engine.snapshot` on a timer; the headless CLI runs it
in the main thread. Commands arrive through `Control` and are applied between batches.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from collections.abc import Callable

import numpy as np

from engine.config import Config
from engine.control import Control
from engine.events import Event
from engine.health import token_report, weight_histogram, weight_stats
from engine.hints import HintManager
from engine.languages import for_task
from engine.sandbox import Sandbox
from engine.snapshot import HintRecord, LayerStats, Snapshot, TokenProb
from engine.summary import RunSummary
from engine.tasks import Task, load_task
from engine.trainer import BatchStats, Trainer
from engine.transfer import WarmStart, apply_warm_start

log = logging.getLogger("altlas.engine")

HISTORY = 240  # batches kept for sparklines and plots
STATS_EVERY = 1.0  # seconds between weight statistics (cheap, but not free)
HEALTH_LOG_EVERY = 10  # batches between model-health metrics in the run history


class Engine:
    """Trains the policy on one task at a time; switchable, pausable, stoppable between batches."""

    def __init__(
        self,
        config: Config,
        task: str | Task,
        *,
        task_file: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        fresh: bool = False,
        store=None,
        stop_on_solve: bool = False,
        hints: bool | None = None,
        seed: int | None = None,
        on_batch: Callable[[Snapshot], None] | None = None,
        warm_start: WarmStart | None = None,
    ) -> None:
        self.config = config
        self.task = task if isinstance(task, Task) else load_task(task_file or task)
        self.on_event = on_event
        self.on_batch = on_batch
        self.fresh = fresh
        self.store = store
        self.stop_on_solve = stop_on_solve
        # another task's weights to start the first task from (implies `fresh`; `--init-from`)
        self.warm_start = warm_start
        if warm_start is not None:
            self.fresh = True
        self.hints_enabled = config.hints.enabled if hints is None else hints
        self.seed = config.train.seed if seed is None else seed
        self.snapshot = Snapshot(task_name=self.task.name, status="starting", seed=self.seed,
                                 algo=config.train.algo, language=self._language())  # fmt: skip
        self.trainer: Trainer | None = None
        self.hints: HintManager | None = None
        self._sandbox: Sandbox | None = None
        self._paused = False
        self._held_solved = False  # paused because the task was solved ([search] setting)
        # this task trains on after its solve (the config's setting, or the `keep_training` command)
        self._keep_training = config.search.keep_training_after_solve
        self._budgeted = False  # run() with a budget: a solve ends it instead of holding
        self._events: deque[str] = deque(maxlen=50)
        self._reset_histories()
        self._run_id: int | None = None
        self._last_save = time.monotonic()
        self._last_stats = 0.0
        self._layer_stats: tuple[LayerStats, ...] = ()
        self._histogram: tuple[tuple[float, int], ...] = ()
        self._t_start = time.monotonic()
        self._paused_time = 0.0
        self._attempts_at_start = 0
        self.error: str | None = None
        self.outcome = "running"  # then solved | budget | stopped | interrupted | error
        self.state_path = ""  # where the task's state was last saved
        self.archived: list[str] = []  # where --fresh moved the task's earlier state
        self.finished: list[RunSummary] = []  # tasks left earlier in this session (switches)
        self._t_end: float | None = None
        self._best_cases: tuple[int, int, int, int] = (0, 0, 0, 0)
        self._best_cases_code = ""
        self._sandbox_level = ""

    # -- public -----------------------------------------------------------------------------------

    def run(
        self, control: Control, max_attempts: int | None = None, max_seconds: float | None = None
    ) -> RunSummary:
        """Train until stopped, solved (when `stop_on_solve`), or out of budget. Saves state on exit.

        On an engine error the last state is still saved when possible (the trainer is only ever
        left between batches or inside one batch's scoring, which does not touch the weights),
        the run is recorded as `error`, and the exception propagates to the caller.
        """
        # the task's language plug-in runs its programs (Python: the Sandbox, as before)
        with for_task(self.task).Runner(self.config.sandbox) as sandbox:
            self._sandbox = sandbox
            self._sandbox_level = _level(sandbox)  # fixed for the sandbox's life
            self._budgeted = max_attempts is not None or max_seconds is not None
            self._start_task(self.task)
            outcome = "stopped"
            try:
                outcome = self._loop(control, max_attempts, max_seconds)
            except Exception:
                tb = traceback.format_exc()
                log.error("engine error on %s:\n%s", self.task.name, tb)
                self.error = tb.strip().splitlines()[-1]
                self._t_end = time.monotonic()
                self.outcome = "error"
                if _weights_finite(self.trainer):  # never save weights an error left as NaN
                    try:
                        self._save("error")
                    except Exception:
                        log.exception("could not save the state after the error")
                self._publish(status="error")
                self._emit("error", self.error, traceback=tb)
                self._end_run("error")
                raise
            self._t_end = time.monotonic()
            if outcome == "stopped" and self.trainer is not None and self.trainer.solution:
                outcome = "solved"
            elif outcome == "stopped":
                outcome = control.stop_reason
            self.outcome = outcome
            if self.trainer is not None:
                self.trainer.close()
            self._save("exit")
            self._end_run(outcome)
            self._publish(status="stopped")
            self._emit("stopped", f"stopped ({outcome})")
        return self.summary()

    def summary(self) -> RunSummary:
        tr = self.trainer
        if tr is None:
            return RunSummary(task=self.task.name, seed=self.seed, algo=self.config.train.algo,
                              outcome=self.outcome, error=self.error or "")  # fmt: skip
        seconds = self._elapsed()
        top = np.argsort(-tr.token_counts)[:10]
        hm = self.hints
        return RunSummary(
            task=self.task.name, seed=self.seed, algo=self.config.train.algo,
            solved=tr.solution is not None, attempts_to_solve=tr.attempts_to_solve,
            attempts=tr.attempts, unique_programs=tr.unique_programs, seconds=seconds,
            attempts_per_second=tr.attempts / seconds if seconds > 0 else 0.0,
            best_score=tr.best_score, best_code=tr.best_code, solution=tr.solution,
            solution_raw=tr.solution_raw,
            hints_provided=hm.provided if hm else 0, total_attempts=tr.total_attempts,
            successes=tr.successes, duplicates=tr.duplicates,
            hints_requested=hm.requested if hm else 0, errors_by_type=dict(tr.errors_by_type),
            top_tokens=[(tr.tok.tokens[i], int(tr.token_counts[i])) for i in top if tr.token_counts[i] > 0],
            outcome=self.outcome, error=self.error or "", state_path=self.state_path,
            earlier=list(self.finished),
        )  # fmt: skip

    # -- the loop ---------------------------------------------------------------------------------

    def _loop(self, control: Control, max_attempts: int | None, max_seconds: float | None) -> str:
        while True:
            for cmd in control.drain():
                if cmd.kind == "stop":
                    return "stopped"
                self._apply(cmd.kind, cmd.arg)
            if control.stopping:
                return "stopped"
            if self.stop_on_solve and self._stops_at_solve():
                return "solved"  # resumed (or switched to) a task solved in an earlier run
            if self._paused:
                t0 = time.monotonic()
                control.wait(0.1)
                self._paused_time += time.monotonic() - t0
                continue
            tr = self.trainer
            assert tr is not None and self.hints is not None
            size = tr.config.train.batch_size
            if max_attempts is not None:  # exact budgets: the last batch is cut
                size = max(1, min(size, max_attempts - tr.attempts))
            prefix, rows = self.hints.active_prefix(size)
            left = None if max_attempts is None else max_attempts - tr.attempts
            stats = tr.step(hint=prefix, hint_rows=rows, size=size, budget_left=left)
            self.hints.observe(stats, tr)
            self._drain_hints()
            for note in tr.events:  # exploration boosts (engine/fingerprint.py)
                self._emit("boost", note)
            tr.events.clear()
            for ev in tr.health_events:  # model health (engine/health/)
                self._emit("warning", f"{ev.message}; {ev.suggestion}", health=ev.kind,
                           action=ev.action)  # fmt: skip
            self._shorten_solution(tr)
            self._after_batch(stats)
            if stats.solved_now:
                # training stops at a solve unless [search] keep_training_after_solve (the TUI
                # shows the solved state; resume or a task switch goes on)
                held = not self.stop_on_solve and self._stops_at_solve()
                self._emit("solved", f"solved after {tr.attempts_to_solve:,} attempts"
                           + ("; training stopped" if held else ""),
                           code=tr.solution, attempts=tr.attempts_to_solve,
                           solution_raw=tr.solution_raw, training_stopped=held)  # fmt: skip
                if self.stop_on_solve:
                    return "solved"
                if held and (max_attempts is not None or max_seconds is not None):
                    return "solved"  # a budgeted run has nothing left to do
                if held:
                    self._paused = self._held_solved = True
                    self._publish()  # the snapshot says so at once (training_stopped)
            if max_attempts is not None and tr.attempts >= max_attempts:
                return "solved" if tr.solution else "budget"
            if max_seconds is not None and self._elapsed() >= max_seconds:
                return "solved" if tr.solution else "budget"
            if time.monotonic() - self._last_save >= self.config.store.save_interval:
                self._save("periodic")

    def _shorten_solution(self, tr: Trainer) -> None:
        """Training on after the solve: a shorter success (minimised too) becomes the solution."""
        found, tr.shorter = getattr(tr, "shorter", []), []
        if not found or tr.solution is None:
            return
        for code in sorted(set(found), key=len):
            if len(code) >= len(tr.solution):
                break
            short = tr.search.minimise(code) if self.config.search.minimise else code
            if len(short) < len(tr.solution):
                old, tr.solution, tr.solution_raw = tr.solution, short, code
                if tr.best_code == old:
                    tr.best_code = short
                self._emit("shorter", f"shorter solution: {len(old)} -> {len(short)} characters",
                           code=short, solution_raw=code)  # fmt: skip
                if self.store is not None and self._run_id is not None:
                    self.store.runs.log_best(self._run_id, tr.total_attempts, 1.0, short)

    def _drain_hints(self) -> None:
        hm = self.hints
        if hm is None:
            return
        for rec in hm.given:
            if not rec["forced"]:  # forced hints are announced when the command is applied
                self._emit(
                    "hint", f"hint after being stuck: {rec['text']}", text=rec["text"], forced=False
                )
        hm.given.clear()
        if self.store is not None and self._run_id is not None:
            for rec in hm.measured:
                self.store.runs.log_hint(
                    self._run_id, rec["attempt"], rec["text"], rec["forced"], dict(rec)
                )
        hm.measured.clear()

    def _apply(self, kind: str, arg: str | None) -> None:
        if kind == "pause":
            self._paused = True
        elif kind == "resume":
            self._paused = self._held_solved = False
        elif kind == "toggle_pause":
            self._paused, self._held_solved = not self._paused, False
        elif kind == "keep_training" and self.trainer:
            # for this task (a switch goes back to the config's setting): train on after the
            # solve so the policy can find shorter solutions
            self._keep_training = True
            was_held, self._held_solved = self._held_solved, False
            if was_held:
                self._paused = False
            self._emit("keep_training", f"keep training {self.task.name} after its solve",
                       task=self.task.name)  # fmt: skip
        elif kind == "hint" and self.trainer and self.hints:
            text = self.hints.force(self.trainer)
            self.hints.given.clear()
            self._emit("hint", f"forced hint: {text}", text=text, forced=True)
        elif kind == "reinit" and self.trainer:
            self.trainer.reinitialise()
            self._report_init()
            self._emit("reinit", f"weights reinitialised ({self.trainer.init_method})")
            self._last_stats = 0.0
        elif kind == "save":
            self._save("manual")
        elif kind == "switch_task" and arg:
            try:
                task = load_task(arg)
                if task.target_language != self.task.target_language:  # one runner per run
                    raise ValueError(f"it is {task.target_language}, this run is "
                                     f"{self.task.target_language}; start a new run")  # fmt: skip
            except Exception as exc:  # bad task: report, keep going on the current one
                self._emit("warning", f"cannot switch to {arg}: {exc}")
                return
            self._save("switch")
            self.outcome = "solved" if self.trainer.solution else "stopped"
            self._t_end = time.monotonic()
            self._end_run(self.outcome)
            done = self.summary()
            done.earlier = []
            self.finished.append(done)
            self.outcome, self._t_end, self.state_path = "running", None, ""
            if self._held_solved:  # the hold was for the solved task, not the new one
                self._paused = self._held_solved = False
            self._start_task(task)
            self._emit("task_switched", f"switched to {task.name}", task=task.name)
        self._publish()

    # -- task lifecycle ---------------------------------------------------------------------------

    def _start_task(self, task: Task) -> None:
        assert self._sandbox is not None
        if self.trainer is not None:
            self.trainer.close()
        self.task = task
        self.trainer = Trainer(self.config, task, self._sandbox.run_many, seed=self.seed)
        self.hints = HintManager(
            self.config.hints, task, self.trainer.tok, enabled=self.hints_enabled
        )
        if self.store is not None and self.fresh and hasattr(self.store, "archive_task_state"):
            # keep the old progress, start anew (the CLI says where it went)
            self.archived = [str(p) for p in self.store.archive_task_state(task.name) or []]
        if self.store is not None and not self.fresh:
            state = self.store.load_task_state(task.name, expect=self.trainer.meta())
            if state is not None:
                self.trainer.load_state_dict(state)
                if "hints" in state:
                    self.hints.load_state_dict(state["hints"])
                self._emit(
                    "started", f"resumed {task.name} at {self.trainer.total_attempts:,} attempts"
                )
            else:
                self._emit("started", f"started {task.name} fresh")
        elif self.warm_start is not None:
            warm, self.warm_start = self.warm_start, None  # the first task only
            shared = apply_warm_start(self.trainer.policy, list(self.trainer.tok.tokens), warm)
            self.trainer.health.reset(self.trainer.policy, self.trainer.optimizer)
            self._emit("started", f"started {task.name} from the weights of {warm.source} "
                       f"({shared} of {len(self.trainer.tok)} tokens shared)"
                       + (f"; the earlier state was archived to {', '.join(self.archived)}"
                          if self.archived else ""),
                       init_from=warm.source, shared_tokens=shared)  # fmt: skip
        elif self.archived:
            self._emit("started", f"started {task.name} afresh; the earlier state was archived "
                       f"to {', '.join(self.archived)}")  # fmt: skip
        else:
            self._emit("started", f"started {task.name}")
        if self.store is not None:
            try:
                self.store.set_last_task(task.name)
                self._run_id = self.store.runs.start_run(
                    task.name, self.seed, self.config.train.algo, self.config.to_dict(),
                    start_step=self.trainer.total_attempts,
                )  # fmt: skip
            except Exception:
                log.exception("run store unavailable")
                self._run_id = None
        self._report_init()
        self._keep_training = self.config.search.keep_training_after_solve
        if self._stops_at_solve() and self.stop_on_solve:  # `train`: nothing left to do
            self._emit("solved", f"{task.name} was solved in an earlier run; nothing to train "
                       "(--fresh starts over, search.keep_training_after_solve trains on)",
                       code=self.trainer.solution, earlier=True)  # fmt: skip
        elif self._stops_at_solve() and not self._budgeted:
            # already solved in an earlier run: hold it as a fresh solve would (the TUI offers
            # the next task or to keep training)
            self._paused = self._held_solved = True
            self._emit("solved", f"{task.name} was solved in an earlier run; training stopped",
                       code=self.trainer.solution, attempts=self.trainer.attempts_to_solve,
                       solution_raw=self.trainer.solution_raw, training_stopped=True,
                       earlier=True)  # fmt: skip
        self.fresh = False  # --fresh applies to the first task only; switching back resumes
        self._reset_histories()
        self._t_start = time.monotonic()
        self._t_end = None
        self._best_cases, self._best_cases_code = (0, 0, 0, 0), ""
        self._paused_time = 0.0
        self._last_stats = 0.0
        self._publish(status=None if self._held_solved else "running")

    def _stops_at_solve(self) -> bool:
        """The task is solved and is not to be trained on (the setting or `keep_training`)."""
        return bool(self.trainer and self.trainer.training_done and not self._keep_training)

    def _save(self, why: str) -> None:
        self._last_save = time.monotonic()
        if self.store is None or self.trainer is None:
            return
        state = self.trainer.state_dict()
        if self.hints is not None:
            state["hints"] = self.hints.state_dict()
        path = self.store.save_task_state(self.task.name, state)  # flushes the run history too
        self.state_path = str(path)
        self._checkpoint_at = time.time()
        log.info("checkpoint (%s) %s", why, path)
        self._emit(
            "checkpoint_saved", f"checkpoint saved ({why})", task=self.task.name, path=str(path)
        )

    def _end_run(self, outcome: str) -> None:
        if self.store is None or self._run_id is None:
            return
        try:
            self.store.runs.end_run(self._run_id, outcome, self.summary().to_json())
            self.store.runs.flush()
        except Exception:
            log.exception("could not close run %s", self._run_id)
        self._run_id = None

    # -- publishing -------------------------------------------------------------------------------

    def _reset_histories(self) -> None:
        self._h_score: deque[float] = deque(maxlen=HISTORY)
        self._h_best: deque[float] = deque(maxlen=HISTORY)
        self._h_success: deque[float] = deque(maxlen=HISTORY)
        self._h_loss: deque[float] = deque(maxlen=HISTORY)
        self._h_entropy: deque[float] = deque(maxlen=HISTORY)
        self._h_grad: deque[float] = deque(maxlen=HISTORY)
        self._last: BatchStats | None = None

    def _language(self) -> str:
        """The task's language as the code panes name their lexer ("python", "javascript")."""
        return (getattr(self.task, "target_language", "") or "python").lower()

    def _elapsed(self) -> float:
        end = self._t_end if self._t_end is not None else time.monotonic()
        return max(1e-9, end - self._t_start - self._paused_time)

    def _after_batch(self, stats: BatchStats) -> None:
        tr = self.trainer
        assert tr is not None
        self._last = stats
        self._h_score.append(stats.score_mean)
        self._h_best.append(tr.best_score)
        self._h_success.append(stats.successes / max(1, stats.size))
        self._h_loss.append(stats.loss)
        self._h_entropy.append(stats.entropy)
        self._h_grad.append(stats.grad_norm)
        if self.store is not None and self._run_id is not None:
            step = tr.total_attempts
            self.store.runs.log_metrics(self._run_id, step, {
                "rollout/score_mean": stats.score_mean,
                "rollout/score_max": stats.score_max,
                "rollout/best_score": tr.best_score,
                "rollout/success_rate": stats.successes / max(1, stats.size),
                "rollout/new_programs": float(stats.new_programs),
                "train/loss": stats.loss,
                "train/entropy": stats.entropy,
                "train/grad_norm": stats.grad_norm,
                "train/lr": stats.lr,
                "time/attempts_per_second": tr.attempts / self._elapsed(),
                "hints/provided": float(self.hints.provided if self.hints else 0),
            })  # fmt: skip
            if tr.learning and tr.batches % HEALTH_LOG_EVERY == 0:
                self.store.runs.log_metrics(self._run_id, step, tr.health.metrics())
            if stats.solved_now and tr.solution:
                self.store.runs.log_best(self._run_id, step, 1.0, tr.solution)
        now = time.monotonic()
        if now - self._last_stats >= STATS_EVERY:
            self._last_stats = now
            self._layer_stats = weight_stats(tr.policy)
            self._histogram = weight_histogram(tr.policy)
        self._publish()
        if self.on_batch is not None:
            self.on_batch(self.snapshot)

    def _publish(self, status: str | None = None) -> None:
        tr = self.trainer
        if status is None:
            status = "paused" if self._paused else ("solved" if tr and tr.solution else "running")
            status = "solved" if self._paused and self._held_solved else status
        if tr is None:
            self.snapshot = Snapshot(task_name=self.task.name, status=status, seed=self.seed,
                                     language=self._language())  # fmt: skip
            return
        st = self._last
        elapsed = self._elapsed()
        sample = st.sample if st else None
        tokens = tr.tok.tokens
        counts = tr.token_counts
        order = np.argsort(-counts)
        token_counts = tuple((tokens[i], int(counts[i])) for i in order[:40] if counts[i] > 0)
        gen_ids = tr.grammar.generative_ids()
        usage = token_report(tokens, counts, tr.pair_counts, gen_ids, tr.allowed_counts)
        unused = tuple(usage["unused"][:40])
        top_pairs = np.argsort(-tr.pair_counts)[:15]
        V = len(tokens)
        pairs = tuple(
            (tokens[p // V], tokens[p % V], int(tr.pair_counts[p]))
            for p in top_pairs
            if tr.pair_counts[p] > 0
        )
        probs = ()
        if st is not None:
            probs = tuple(
                TokenProb(tokens[t], round(p, 4), tuple((tokens[a], round(q, 4)) for a, q in alts))
                for t, p, alts in st.sample_tokens
            )
        hm = self.hints
        self.snapshot = Snapshot(
            task_name=self.task.name, task_description=self.task.description,
            language=self._language(), expected_output=self.task.expected_output, status=status,
            algo=self.config.train.algo,
            seed=self.seed, batch=tr.batches, attempts=tr.attempts, total_attempts=tr.total_attempts,
            elapsed=elapsed,
            # paused: nothing is being attempted, so the rate shown is zero, not the last one
            attempts_per_second=tr.attempts / elapsed if tr.attempts and not self._paused else 0.0,
            unique_programs=tr.unique_programs, successes=tr.successes, duplicates=tr.duplicates,
            errors=sum(tr.errors_by_type.values()),
            errors_by_type=tuple(sorted(tr.errors_by_type.items(), key=lambda kv: -kv[1]))[:8],
            attempts_to_solve=tr.attempts_to_solve, solution=tr.solution,
            training_stopped=self._paused and self._held_solved,
            last_code=st.sample_code if st else "", last_score=sample.score if sample else 0.0,
            last_components=(sample.components + (("repetition", -round(st.sample_penalty, 4)),)
                             if sample and st.sample_penalty else sample.components if sample else ()),
            last_status=sample.status if sample else "",
            last_fingerprint=sample.text_fp if sample else "", last_shape=sample.shape_fp if sample else "",
            exploration_boost=round(st.boost, 4) if st else 0.0,
            last_error=sample.error_type if sample else "", last_stdout=sample.stdout if sample else "",
            last_duplicate=bool(st and st.new_programs < st.size), last_token_probs=probs,
            best_code=tr.best_code, best_score=tr.best_score,
            score_history=tuple(self._h_score), best_history=tuple(self._h_best),
            success_history=tuple(self._h_success), loss_history=tuple(self._h_loss),
            entropy_history=tuple(self._h_entropy), grad_norm_history=tuple(self._h_grad),
            lr=tr.lr, loss=st.loss if st else 0.0, entropy=st.entropy if st else 0.0,
            grad_norm=st.grad_norm if st else 0.0, init_method=tr.init_method,
            layer_stats=self._layer_stats, weight_histogram=self._histogram,
            health_warnings=tr.health.warnings,
            vocab_size=V, token_counts=token_counts, token_pairs=pairs, unused_tokens=unused,
            overused_tokens=tuple(t for t, *_ in usage["over_used"][:20]),
            underused_tokens=tuple(t for t, *_ in usage["under_used"][:20]),
            hints_requested=hm.requested if hm else 0, hints_provided=hm.provided if hm else 0,
            hints_forced=hm.forced if hm else 0, hints_declined=hm.declined if hm else 0,
            hint_backoff_level=hm.backoff_level if hm else 0, stuck_checks=hm.stuck_checks if hm else 0,
            active_hint=hm.active_text() if hm else "",
            hints=tuple(HintRecord(**r) for r in (hm.records[-20:] if hm else [])),
            sandbox_level=self._sandbox_level,
            attempt_cases=case_counts(sample), best_cases=self._best_cases_for(tr),
            last_checkpoint=getattr(self, "_checkpoint_at", None), events=tuple(self._events),
        )  # fmt: skip

    def _best_cases_for(self, tr: Trainer) -> tuple[int, int, int, int]:
        # The trainer keeps the best program's text; its outcome is in the (bounded) cache.
        if tr.best_code != self._best_cases_code:
            found = tr.cache.get(tr.best_code) if hasattr(tr, "cache") else None
            if found is not None:
                self._best_cases, self._best_cases_code = case_counts(found), tr.best_code
        return self._best_cases

    def _report_init(self) -> None:
        """Model health: each failed initialisation try as a warning event."""
        report = self.trainer.init_report if self.trainer else None
        if report is None:
            return
        for msg in report.messages():
            self._emit("warning", msg)
        if not report.ok:
            self.trainer.health.add_warning(report.messages()[-1])

    def _emit(self, kind: str, message: str, **data) -> None:
        self._events.append(message)
        log.info("%s: %s", kind, message)
        if (
            self.store is not None
            and self._run_id is not None
            and kind not in ("checkpoint_saved",)
        ):
            try:
                step = self.trainer.total_attempts if self.trainer else 0
                self.store.runs.log_event(self._run_id, step, kind, message)
            except Exception:
                log.exception("could not log event")
        if self.on_event is not None:
            try:
                self.on_event(Event(kind, message, data))
            except Exception:
                log.exception("event handler failed")


def _weights_finite(tr: Trainer | None) -> bool:
    if tr is None:
        return False
    policy = getattr(tr, "policy", None)
    if policy is None:
        return True
    try:
        return all(bool(p.detach().isfinite().all()) for p in policy.parameters())
    except Exception:
        return False


def case_counts(outcome: object) -> tuple[int, int, int, int]:
    """(visible passed, visible total, hidden passed, hidden total) from an outcome's `cases`.

    `cases` may be the 4-tuple itself or a sequence of case results with `passed` and `hidden`
    (attributes or keys); anything else counts as no cases.
    """
    cases = getattr(outcome, "cases", None) if outcome is not None else None
    if not cases:
        return (0, 0, 0, 0)
    if len(cases) == 4 and all(isinstance(c, int) for c in cases):
        return tuple(int(c) for c in cases)  # type: ignore[return-value]
    vp = vt = hp = ht = 0
    for case in cases:
        get = case.get if isinstance(case, dict) else lambda k, c=case: getattr(c, k, False)
        passed, hidden = bool(get("passed")), bool(get("hidden"))
        if hidden:
            ht += 1
            hp += passed
        else:
            vt += 1
            vp += passed
    return (vp, vt, hp, ht)


def _level(sandbox: Sandbox | None) -> str:
    if sandbox is None:
        return ""
    try:
        info = sandbox.describe()
    except Exception:
        return "unknown"
    return str(info.get("level", info)) if isinstance(info, dict) else str(info)

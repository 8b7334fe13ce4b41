"""A deterministic stand-in for `engine.controller.Engine`, for UI tests and demos.

Same interface as the real engine: construct, call `run(control)` from a worker thread, read
`.snapshot` from any thread, receive rare `Event`s through `on_event`. Every Snapshot is a pure
function of (task, batch, counters): no clocks, no randomness, so screenshots are reproducible.
"""

from __future__ import annotations

import logging
import math
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.config import Config
from engine.control import Command, Control
from engine.events import Event
from engine.snapshot import HintRecord, LayerStats, Snapshot, TokenProb
from engine.summary import RunSummary

log = logging.getLogger("altlas.fake")

FAKE_TASKS: dict[str, tuple[str, str]] = {
    "add_two_numbers": ("Generate code that prints the sum of 5 and 3.", "8"),
    "basic_loop": ("Generate code that prints the numbers 1 to 5, one per line.", "1\n2\n3\n4\n5"),
    "concatenate_strings": ("Generate code that prints 'Hello World'.", "Hello World"),
}

_PROGRAMS = (
    "print(5)",
    "x=5\nprint(x)",
    "print(5+5)",
    "x=5\ny=3\nprint(x-y)",
    "print(3+5)",
    "for i in range(5):\n    print(i)",
    "print('5'+'3')",
    "x=5\ny=3\nprint(x+y)",
)
_VOCAB = (
    "print", "(", ")", "x", "y", "=", "+", "-", "*", "5", "3", "1", "range", "for", "in", ":",
    "\\n", "INDENT", "DEDENT", "'a'", "if", "return", "def", "while", "<", ">", "==", "len",
)  # fmt: skip
SOLVE_BATCH = 60  # add_two_numbers is "solved" at this batch; other fake tasks never are


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from its arguments (stable across processes)."""
    return (zlib.crc32(repr(parts).encode()) % 10_000) / 10_000


@dataclass
class _TaskState:
    batch: int = 0
    base: int = 0  # batch at the last reinit: histories restart there
    hints: list[HintRecord] = field(default_factory=list)
    hints_forced: int = 0
    hints_provided: int = 0
    reinits: int = 0
    keep_training: bool = False  # trains on after the solve (config or `keep_training`)


class FakeEngine:
    """Deterministic fake of the engine controller (see module docstring)."""

    BATCH_SIZE = 32
    HISTORY = 60

    def __init__(
        self,
        config: Config,
        task: str,
        *,
        task_file: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        fresh: bool = False,
        step_delay: float = 0.02,
        start_batch: int = 0,
        frozen: bool = False,
        fail_at: int | None = None,
    ) -> None:
        self.config = config
        self.task_file = task_file
        self.on_event = on_event
        self.fresh = fresh
        self.step_delay = step_delay
        self.frozen = frozen
        self.fail_at = fail_at
        self.task_name = task
        self._states: dict[str, _TaskState] = {task: _TaskState(batch=start_batch)}
        self.paused = False
        self.held = False  # stopped at the solve, like the real engine ([search] setting)
        self.running = False
        self.stopped = False
        self.saves = 0
        self.commands: list[Command] = []
        self.run_thread: threading.Thread | None = None
        self.snapshot: Snapshot = self._make_snapshot("starting")

    # -- the public interface -------------------------------------------------------------
    @property
    def state(self) -> _TaskState:
        return self._states.setdefault(self.task_name, _TaskState())

    @property
    def batch(self) -> int:
        return self.state.batch

    def run(
        self, control: Control, max_attempts: int | None = None, max_seconds: float | None = None
    ) -> RunSummary:
        """Advance one fake batch per `step_delay` until `control.stop()`; honour every command."""
        self.run_thread = threading.current_thread()
        self.running = True
        self._emit("started", f"started task {self.task_name}", task=self.task_name)
        log.info("fake engine started on %s", self.task_name)
        try:
            while True:
                for cmd in control.drain():
                    self._handle(cmd)
                if control.stopping:
                    break
                if self.paused or self.held or self.frozen:
                    self._publish()
                    control.wait(0.05)
                    continue
                self.state.batch += 1
                if self.fail_at is not None and self.state.batch >= self.fail_at:
                    # like the real engine: save, publish the error status and event, raise
                    message = f"fake engine failure at batch {self.state.batch}"
                    self._save("error")
                    self._publish("error")
                    self._emit("error", f"RuntimeError: {message}", traceback=message)
                    raise RuntimeError(message)
                self._publish()
                if self.state.batch % 20 == 0:
                    log.info("batch %d: best %.3f", self.state.batch, self.snapshot.best_score)
                if self.state.batch % 50 == 0:
                    log.warning("batch %d: entropy is low", self.state.batch)
                if self.task_name == "add_two_numbers" and self.state.batch == SOLVE_BATCH:
                    keep = self.state.keep_training or self.config.search.keep_training_after_solve
                    self.held = max_attempts is None and not keep
                    self._publish()
                    self._emit("solved", "solved add_two_numbers", code=self.snapshot.solution,
                               attempts=self.snapshot.attempts_to_solve,
                               training_stopped=self.held)  # fmt: skip
                if max_attempts is not None and self.snapshot.attempts >= max_attempts:
                    break
                control.wait(self.step_delay)
            self._save("on stop")
            self.stopped = True
            self._publish("stopped")
            self._emit("stopped", "engine stopped")
            return self.summary()
        finally:
            self.running = False

    def summary(self) -> RunSummary:
        s = self.snapshot
        return RunSummary(
            task=s.task_name,
            seed=s.seed,
            algo=s.algo,
            solved=s.solution is not None,
            attempts_to_solve=s.attempts_to_solve,
            attempts=s.attempts,
            unique_programs=s.unique_programs,
            seconds=s.elapsed,
            attempts_per_second=s.attempts_per_second,
            best_score=s.best_score,
            best_code=s.best_code,
            solution=s.solution,
            hints_provided=s.hints_provided,
            total_attempts=s.total_attempts,
            successes=s.successes,
            duplicates=s.duplicates,
            hints_requested=s.hints_requested,
            errors_by_type=dict(s.errors_by_type),
            top_tokens=list(s.token_counts[:10]),
            outcome="error" if s.status == "error" else ("solved" if s.solution else "stopped"),
        )

    # -- commands ---------------------------------------------------------------------------
    def _handle(self, cmd: Command) -> None:
        self.commands.append(cmd)
        st = self.state
        if cmd.kind in ("pause", "resume", "toggle_pause"):
            self.paused = {"pause": True, "resume": False}.get(cmd.kind, not self.paused)
            if cmd.kind != "pause" and self.held:  # resuming a held task trains on
                self.held = self.paused = False
            log.info("fake engine %s", "paused" if self.paused else "resumed")
        elif cmd.kind == "hint":
            st.hints_forced += 1
            st.hints_provided += 1
            text = "print(5"[: 2 + len(st.hints)]
            st.hints.append(
                HintRecord(
                    attempt=st.batch * self.BATCH_SIZE,
                    text=text,
                    forced=True,
                    mean_before=round(self._mean(st.batch), 3),
                    best_before=round(self._best(st.batch), 3),
                    mean_after=round(self._mean(st.batch) + 0.05, 3),
                    best_after=round(self._best(st.batch) + 0.02, 3),
                    solved_after=False,
                )
            )
            self._emit("hint", f"forced hint: {text}", text=text, forced=True)
        elif cmd.kind == "reinit":
            st.reinits += 1
            st.base = st.batch
            self._emit("reinit", "weights reinitialised")
            log.warning("weights reinitialised (%d)", st.reinits)
        elif cmd.kind == "keep_training":
            st.keep_training = True
            self.held = False
            self._emit("keep_training", f"keep training {self.task_name} after its solve",
                       task=self.task_name)  # fmt: skip
        elif cmd.kind == "switch_task" and cmd.arg:
            self.task_name = cmd.arg
            self._states.setdefault(cmd.arg, _TaskState())
            # a task solved earlier is held at once, as the real engine does on resuming it
            keep = self.state.keep_training or self.config.search.keep_training_after_solve
            self.held = self.snapshot_solved() and not keep
            self._emit("task_switched", f"switched to {cmd.arg}", task=cmd.arg)
            log.info("switched to task %s", cmd.arg)
        elif cmd.kind == "save":
            self._save("on request")
        self._publish()

    def _save(self, why: str) -> None:
        self.saves += 1
        path = f"state/{self.task_name}/checkpoint.pt"
        self._emit("checkpoint_saved", f"checkpoint saved ({why})", task=self.task_name, path=path)

    def _emit(self, kind: str, message: str, **data: object) -> None:
        if self.on_event is not None:
            self.on_event(Event(kind, message, dict(data)))

    # -- the deterministic picture --------------------------------------------------------
    def _publish(self, status: str | None = None) -> None:
        if status is None:
            status = "paused" if self.paused else "running"
            if self.snapshot_solved():
                status = "solved" if not self.paused else "paused"
        self.snapshot = self._make_snapshot(status)

    def snapshot_solved(self) -> bool:
        return self.task_name == "add_two_numbers" and self.state.batch >= SOLVE_BATCH

    def _mean(self, b: int) -> float:
        k = b - self.state.base
        return max(0.0, min(1.0, 0.2 + 0.5 * (1 - math.exp(-k / 40)) + 0.1 * math.sin(b / 3)))

    def _best(self, b: int) -> float:
        k = b - self.state.base
        best = min(1.0, 0.3 + 0.7 * (1 - math.exp(-k / 25)))
        if self.task_name == "add_two_numbers" and b >= SOLVE_BATCH:
            best = 1.0
        return round(best, 4)

    def _make_snapshot(self, status: str) -> Snapshot:
        st = self.state
        b = st.batch
        task = self.task_name
        desc, expected = FAKE_TASKS.get(task, (f"Task {task}.", "?"))
        attempts = b * self.BATCH_SIZE
        k = b - st.base
        code = _PROGRAMS[b % len(_PROGRAMS)]
        solved = self.snapshot_solved()
        solution = "x=5\ny=3\nprint(x+y)" if solved else None
        hist = range(max(st.base, b - self.HISTORY) + 1, b + 1)
        counts = sorted(
            (
                (tok, int(attempts * (0.5 + _unit(tok, task)) / (1 + i)))
                for i, tok in enumerate(_VOCAB)
            ),
            key=lambda kv: (-kv[1], kv[0]),
        )
        used = [(t, c) for t, c in counts if c > 0]
        layers = tuple(
            LayerStats(
                name=name,
                mean=round((_unit(name, k) - 0.5) / 50, 5),
                std=round(0.05 + _unit(name, "s", k) / 10, 5),
                min=round(-0.3 - _unit(name, "lo") / 3, 4),
                max=round(0.3 + _unit(name, "hi") / 3, 4),
                near_zero=round(_unit(name, "z") / 20, 4),
                grad_norm=round(_unit(name, "g", b) / 4, 4),
            )
            for name in ("embed.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "head.weight")
        )
        histogram = tuple(
            (round(-0.4 + 0.8 * i / 24, 3), int(400 * math.exp(-(((i - 12) / 5) ** 2))) + i % 3)
            for i in range(25)
        )
        probs = tuple(
            TokenProb(
                token=tok,
                prob=round(0.3 + 0.69 * _unit(tok, b, j), 3),
                alternatives=(
                    (_VOCAB[(j + 3) % len(_VOCAB)], 0.1),
                    (_VOCAB[(j + 7) % len(_VOCAB)], 0.05),
                ),
            )
            for j, tok in enumerate(
                code.replace("\n", " \\n ").replace("(", " ( ").replace(")", " ) ").split()
            )
        )
        errors = (("NameError", b * 3), ("SyntaxError", b * 2), ("TypeError", b))
        score = round(self._mean(b) + 0.2 * _unit("s", b) - 0.1, 4)
        return Snapshot(
            task_name=task,
            task_description=desc,
            expected_output=expected,
            status=status,
            algo=self.config.train.algo,
            seed=self.config.train.seed,
            batch=b,
            attempts=attempts,
            total_attempts=attempts + 1000,
            elapsed=b * 0.5,
            attempts_per_second=float(self.BATCH_SIZE * 2) if b and not self.held else 0.0,
            unique_programs=attempts // 3,
            successes=max(0, b - SOLVE_BATCH) if solved else 0,
            duplicates=attempts // 4,
            errors=sum(n for _, n in errors),
            errors_by_type=errors,
            attempts_to_solve=SOLVE_BATCH * self.BATCH_SIZE if solved else None,
            solution=solution,
            training_stopped=self.held and status == "solved",
            last_code=code,
            last_score=score,
            # the real engine's component names (tests check the two agree)
            last_components=(
                ("parses", 0.1),
                ("runs", 0.1),
                ("prints", 0.1),
                ("output", round(score * 0.6, 3)),
            ),  # fmt: skip
            last_status=("ok", "error", "ok", "duplicate")[b % 4],
            last_error="NameError: name 'z' is not defined" if b % 4 == 1 else "",
            last_stdout="5" if b % 4 != 1 else "",
            last_duplicate=b % 4 == 3,
            last_fingerprint=f"{zlib.crc32(code.encode()):08x}",
            last_shape="Module(Expr(Call(Name,BinOp)))",
            last_token_probs=probs,
            best_code=solution or "x=5\ny=3\nprint(x-y)",
            best_score=self._best(b),
            score_history=tuple(round(self._mean(i), 4) for i in hist),
            best_history=tuple(self._best(i) for i in hist),
            success_history=tuple(
                1.0 if (task == "add_two_numbers" and i >= SOLVE_BATCH) else 0.0 for i in hist
            ),
            loss_history=tuple(round(1.5 * math.exp(-(i - st.base) / 50) + 0.1, 4) for i in hist),
            entropy_history=tuple(round(2.0 - (i - st.base) / 100, 4) for i in hist),
            grad_norm_history=tuple(round(0.5 + 0.3 * math.sin(i / 4), 4) for i in hist),
            lr=self.config.train.lr,
            loss=round(1.5 * math.exp(-k / 50) + 0.1, 4),
            entropy=round(2.0 - k / 100, 4),
            grad_norm=round(0.5 + 0.3 * math.sin(b / 4), 4),
            init_method=self.config.train.init_method,
            layer_stats=layers,
            weight_histogram=histogram,
            health_warnings=("entropy below 0.5",) if k > 150 else (),
            vocab_size=len(_VOCAB),
            token_counts=tuple(used),
            token_pairs=tuple(
                (_VOCAB[i], _VOCAB[(i + 1) % len(_VOCAB)], max(0, attempts // (2 + i)))
                for i in range(8)
            ),
            unused_tokens=tuple(t for t, c in counts if c == 0) or ("while", "len"),
            hints_requested=st.hints_forced + b // 100,
            hints_provided=st.hints_provided,
            hints_forced=st.hints_forced,
            hints_declined=b // 100,
            hint_backoff_level=len(st.hints),
            stuck_checks=(b // 25) % 4,
            active_hint=st.hints[-1].text if st.hints else "",
            hints=tuple(st.hints),
            exploration_boost=0.0,
            sandbox_level="full",
            last_checkpoint=None,
            events=(),
        )


def demo(argv: list[str] | None = None) -> int:
    """`python -m altlas_tui.fake_engine [TASK]`: the TUI over the fake engine (no torch needed)."""
    import sys
    from functools import partial

    from altlas_tui.app import run_app

    args = sys.argv[1:] if argv is None else argv
    code, summary = run_app(
        Config(),
        args[0] if args else "add_two_numbers",
        engine_factory=partial(FakeEngine, step_delay=0.1),
    )
    if summary is not None:
        from engine.summary import render_text

        print(render_text(summary))
    return code


if __name__ == "__main__":
    raise SystemExit(demo())

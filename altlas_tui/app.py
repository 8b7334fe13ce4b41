"""The AltLAS Textual app: watch the learner and steer it from the keyboard.

The engine runs in one thread worker (`AltlasApp.run_engine`); screens poll its latest immutable
snapshot on timers while they are shown; rare engine events and log records arrive as messages.
Entry point: `run_app(...)`, which returns the exit code and the run summary.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable
from typing import Any

from textual import work
from textual.app import App, ScreenStackError, SystemCommand, UnknownModeError
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from altlas_tui.bridge import EngineBridge, EngineFactory, PostingLogHandler, default_engine_factory
from altlas_tui.messages import EngineEvent, LogLine
from altlas_tui.offer import SolvedOffers
from altlas_tui.palette import palette_commands, save_screenshot
from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.screens.confirm import ConfirmScreen
from altlas_tui.screens.dashboard import DashboardScreen
from altlas_tui.screens.error import ErrorScreen
from altlas_tui.screens.help import HelpScreen
from altlas_tui.screens.hints import HintsScreen
from altlas_tui.screens.log import LogScreen
from altlas_tui.screens.model import ModelScreen
from altlas_tui.screens.sweep import SweepScreen
from altlas_tui.screens.tasks import TasksScreen, short_name
from altlas_tui.screens.tokens import TokensScreen
from altlas_tui.themes import load_themes, persist_theme
from engine.config import Config
from engine.errors import InputError
from engine.events import Event
from engine.snapshot import Snapshot
from engine.summary import RunSummary

log = logging.getLogger("altlas.tui")

DEFAULT_TASK = "add_two_numbers"
DEFAULT_THEME = "altlas-dark"
LOG_LINES = 2000
LOW_BANDWIDTH_FPS = 1
SCREENS = (  # key, mode, title, footer label
    ("1", "dashboard", "Dashboard", "Dash"),
    ("2", "tokens", "Tokens", "Tokens"),
    ("3", "model", "Model", "Model"),
    ("4", "hints", "Hints", "Hints"),
    ("5", "tasks", "Tasks", "Tasks"),
    ("6", "log", "Log", "Log"),
    ("7", "sweeps", "Sweeps", "Sweeps"),
)
# The footer shows the screen keys as one compact group ("1234567 Screens"): it fits 80 columns.
SCREEN_GROUP = Binding.Group("Screens", compact=True)
SIGNAL_EXIT = {"SIGHUP": 129, "SIGTERM": 143}  # 128 + signal number, as shells report it
SIGHUP_SAVE_WAIT = 120.0  # seconds the engine gets to save after the terminal went away
SIGHUP_GRACE = 5.0  # then seconds for a normal shutdown before the process is ended


def engine_traceback(error: BaseException | None) -> str:
    """The traceback of an engine failure without the worker machinery's own frames."""
    if error is None:
        return ""
    tb = traceback.TracebackException.from_exception(error)
    internal = ("/textual/", "/concurrent/futures/", "/asyncio/")
    tb.stack = traceback.StackSummary.from_list(
        [frame for frame in tb.stack if not any(part in frame.filename for part in internal)]
    )
    return "".join(tb.format())


class AltlasApp(App[None]):
    """Six live screens over one engine worker (and the sweeps from the run store), with keys
    for every command."""

    CSS_PATH = "app.tcss"
    TITLE = "AltLAS"
    MODES = {
        "dashboard": DashboardScreen,
        "tokens": TokensScreen,
        "model": ModelScreen,
        "hints": HintsScreen,
        "tasks": TasksScreen,
        "log": LogScreen,
        "sweeps": SweepScreen,
    }
    DEFAULT_MODE = "dashboard"
    # Narrow terminals keep the footer's first keys: Help and Quit come first on purpose.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-medium"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-medium-height"), (40, "-tall")]
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help", tooltip="This help"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit (stops the engine, saves state)"),
        Binding("space,p", "toggle_pause", "Pause", id="pause", tooltip="Pause or resume training"),
        Binding("h", "force_hint", "Hint", id="hint", tooltip="Give the learner a hint now"),
        Binding(
            "r", "reinit", "Reinit", id="reinit", tooltip="Reinitialise the weights (asks first)"
        ),
        Binding("t", "tasks", "Tasks", id="tasks", show=False, tooltip="Task picker"),
        Binding("s", "save", "Save", id="save", tooltip="Save a checkpoint now"),
        # only while a solved task waits for a choice (the offer bar shows these keys)
        Binding(
            "n",
            "offer_next",
            "Next task",
            id="offer_next",
            show=False,
            tooltip="Solved: start the next unsolved task",
        ),
        Binding(
            "k",
            "keep_training",
            "Keep training",
            id="keep_training",
            show=False,
            tooltip="Solved: keep training this task (to shorten its solution)",
        ),
        Binding(
            "escape",
            "offer_stay",
            "Stay",
            id="offer_stay",
            show=False,
            tooltip="Solved: stay on this task, training stopped (hides the offer)",
        ),
        *(
            Binding(
                key,
                f"show_screen('{mode}')",
                label,
                id=f"screen_{mode}",
                tooltip=title,
                group=SCREEN_GROUP,
            )
            for key, mode, title, label in SCREENS
        ),
        Binding(
            "ctrl+c",
            "interrupt",
            "Quit",
            show=False,
            priority=True,
            id="quit_ctrl_c",
            tooltip="Quit (stops the engine, saves state, exit code 130)",
        ),
    ]

    def __init__(
        self,
        config: Config | None = None,
        task: str | None = None,
        *,
        task_file: str | None = None,
        engine_factory: EngineFactory | None = None,
        fps: int | None = None,
        low_bandwidth: bool | None = None,
        fresh: bool = False,
        persist_theme_choice: bool = True,
    ) -> None:
        self.config = config or Config()
        ui = self.config.ui
        self.low_bandwidth = ui.low_bandwidth if low_bandwidth is None else low_bandwidth
        if not fps:
            # Low bandwidth without an explicit --fps: refresh text once a second (measured:
            # about 5 KB/s on the dashboard instead of about 13 KB/s at 4 Hz).
            fps = min(ui.fps, LOW_BANDWIDTH_FPS) if self.low_bandwidth else ui.fps
        self.fps = max(1, min(int(fps or 4), 30))
        self.text_interval = 1.0 / self.fps
        self.plot_interval = max(1.0, self.text_interval)
        self.persist_theme_choice = persist_theme_choice
        super().__init__()
        if self.low_bandwidth:
            self.animation_level = "none"
        self.bridge = EngineBridge(
            engine_factory or default_engine_factory(),
            self.config,
            task or DEFAULT_TASK,
            task_file=task_file,
            fresh=fresh,
            on_event=self._forward_event,
        )
        self.log_lines: deque[tuple[int, str]] = deque(maxlen=LOG_LINES)
        self.log_seq = 0
        self.best_by_task: dict[str, float] = {}
        self.offers = SolvedOffers(self)
        self.engine_error: str | None = None
        self.events_seen: list[Event] = []
        self._engine_worker: Worker | None = None
        self._quitting = False
        self._quit_code = 0
        self.attached = False  # viewing a run in another process (`altlas-tui attach`)
        self.interrupted = ""  # "SIGHUP", "SIGTERM" or "SIGINT" when the app was interrupted
        self._log_handler: PostingLogHandler | None = None
        self._logger_level: int | None = None
        self._theme_errors: list[InputError] = []
        self._persisted_theme = ""
        self._register_own_themes()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications here carry engine text (programs, hints with `[`): no markup by default."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- start-up ---------------------------------------------------------------------------
    def _register_own_themes(self) -> None:
        themes, self._theme_errors = load_themes()
        for theme in themes:
            self.register_theme(theme)
        wanted = self.config.ui.theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            self._theme_errors.append(
                InputError(f"unknown theme {wanted!r}, using {DEFAULT_THEME}", "config", "ui.theme")
            )
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        self._persisted_theme = wanted

    def on_mount(self) -> None:
        self._install_signal_handlers()
        for error in self._theme_errors:
            self.notify(str(error), title="Theme skipped", severity="warning", timeout=8)
        self._apply_keymap()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._install_log_handler()
        self._engine_worker = self.run_engine()

    def _apply_keymap(self) -> None:
        keys = dict(self.config.ui.keys)
        modal_bindings = [*ConfirmScreen.BINDINGS, *HelpScreen.BINDINGS, *ErrorScreen.BINDINGS]
        known = {b.id for b in self._bindings_with_ids()}
        known |= {b.id for b in modal_bindings if isinstance(b, Binding) and b.id}
        unknown = sorted(set(keys) - known)
        for binding_id in unknown:
            keys.pop(binding_id)
        if unknown:
            self.notify(
                f"config: ui.keys: unknown binding id(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})",
                severity="warning",
                timeout=8,
            )
        if keys:
            self.set_keymap(keys)

    def _install_signal_handlers(self) -> None:
        """SIGHUP (the SSH connection dropped) and SIGTERM stop the engine, which saves once."""
        import asyncio
        import signal

        try:
            loop = asyncio.get_running_loop()
            for name in SIGNAL_EXIT:
                loop.add_signal_handler(getattr(signal, name), self._on_signal, name)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests)
            pass

    def _on_signal(self, name: str) -> None:
        log.warning("%s received: saving and stopping", name)
        self.bridge.control.stop("interrupted")
        self.interrupted = name
        # The terminal may be gone (SIGHUP): leave without waiting for the engine here;
        # run_app waits for it to save before returning.
        self.exit(return_code=SIGNAL_EXIT[name])
        if name == "SIGHUP":
            threading.Thread(
                target=_exit_when_saved, args=(self.bridge, SIGNAL_EXIT[name]), daemon=True
            ).start()

    def _bindings_with_ids(self) -> list[Binding]:
        out = [b for b in self.BINDINGS if isinstance(b, Binding) and b.id]
        for screen in (LogScreen, SweepScreen):
            out += [b for b in screen.BINDINGS if isinstance(b, Binding) and b.id]
        return out

    def _install_log_handler(self) -> None:
        logger = logging.getLogger("altlas")
        self._log_handler = PostingLogHandler(self.post_message, LogLine)
        logger.addHandler(self._log_handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            self._logger_level = logger.level
            logger.setLevel(logging.INFO)

    def on_unmount(self) -> None:
        # However the app ends (quit, exception, test harness), the engine thread must not outlive it.
        self.bridge.control.stop()
        logger = logging.getLogger("altlas")
        if self._log_handler is not None:
            logger.removeHandler(self._log_handler)
        if self._logger_level is not None:
            logger.setLevel(self._logger_level)

    # -- the engine worker --------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="engine", name="engine")
    def run_engine(self) -> RunSummary:
        """Build and run the engine in this worker's thread until it is told to stop."""
        return self.bridge.run()

    def _forward_event(self, event: Event) -> None:
        """Called in the engine thread: hand the event to the UI thread without blocking."""
        self.post_message(EngineEvent(event))

    def on_engine_event(self, message: EngineEvent) -> None:
        event = message.event
        if event.kind == "boost" and self.events_seen and self.events_seen[-1].kind == "boost":
            # exploration boosts come in start/end pairs, often: the latest one says it all
            self.events_seen[-1] = event
        else:
            self.events_seen.append(event)
            del self.events_seen[:-200]  # bounded: the dashboard shows the last few
        level = {"warning": logging.WARNING, "error": logging.ERROR}.get(event.kind, logging.INFO)
        recent = list(self.log_lines)[-8:]
        if not any(event.message in text for _, text in recent):  # the engine may log it too
            stamp = time.strftime("%H:%M:%S")
            self._add_log_line(level, f"{stamp} EVENT   {event.kind}: {event.message}")
        if self.live_screen() is None:  # shutting down: keep the record, show nothing
            return
        if event.kind == "checkpoint_saved":
            self.notify(event.message, title="Checkpoint saved", timeout=3)
        elif event.kind == "task_switched":
            self.notify(
                f"now working on {event.data.get('task', '?')}", title="Task switched", timeout=3
            )
        elif event.kind == "solved" and not event.data.get("training_stopped"):
            self.notify(event.message, title="Solved", timeout=5)  # else the offer bar says it
        elif event.kind == "reinit":
            self.notify(event.message, title="Reinitialised", timeout=3)
        elif event.kind == "hint":
            self.notify(event.message, title="Hint", timeout=3)
        elif event.kind == "attached":
            self.notify(event.message, title="Attached", timeout=6)
        elif event.kind == "warning":
            self.notify(event.message, title="Warning", severity="warning", timeout=5)
        elif event.kind == "error":
            self._show_error(event.message, str(event.data.get("traceback", "")))
        screen = self.live_screen()
        if isinstance(screen, SnapshotScreen):
            if event.kind in ("task_switched", "reinit", "started"):
                screen.set_pending("")  # the command it stood for has taken effect
            screen.engine_event(event)
            screen.poll()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._engine_worker:
            return
        state = event.state
        if state == WorkerState.ERROR:
            error = event.worker.error
            if isinstance(error, InputError):  # bad input: one line, no traceback
                message, details = str(error), ""
                log.error("engine could not start: %s", error)
            else:
                message, details = f"{type(error).__name__}: {error}", engine_traceback(error)
                log.error("engine failed: %s\n%s", message, details)  # to the log file too
            self.engine_error = message
            if self._quitting:
                self.exit(return_code=self._quit_code or 1)
            else:
                self._show_error(message, details)
        elif state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            if self._quitting:
                self.exit(return_code=self._exit_code())
            else:
                self._engine_ended()

    def _engine_ended(self) -> None:
        """The engine ended on its own (an attached run finished): say so, keep the picture."""
        screen = self.live_screen()
        if isinstance(screen, SnapshotScreen):
            screen.poll(force=True)
        self.notify("the engine has stopped · q quits", title="Stopped", timeout=8)

    def _exit_code(self) -> int:
        return self._quit_code or (1 if self.engine_error else 0)

    def _show_error(self, message: str, details: str) -> None:
        self.engine_error = message
        screen = self.live_screen()
        if isinstance(screen, SnapshotScreen):
            screen.poll(force=True)  # the header shows ✖ ERROR before the dialog covers it
        if not any(isinstance(s, ErrorScreen) for s in self.screen_stack):
            self.push_screen(ErrorScreen(message, details))

    def live_screen(self) -> Screen | None:
        """The shown screen, or None while the app is starting or shutting down."""
        try:
            return self.screen
        except (ScreenStackError, UnknownModeError):
            return None

    # -- log ----------------------------------------------------------------------------------
    def on_log_line(self, message: LogLine) -> None:
        self._add_log_line(message.levelno, message.text)

    def _add_log_line(self, levelno: int, text: str) -> None:
        self.log_lines.append((levelno, text))
        self.log_seq += 1
        screen = self.live_screen()
        if isinstance(screen, LogScreen):
            screen.add_line(levelno, text)

    # -- commands -----------------------------------------------------------------------------
    def _command(self, kind: str, arg: str | None = None, pending: str = "") -> None:
        self.bridge.send(kind, arg)
        screen = self.live_screen()
        if isinstance(screen, SnapshotScreen):
            if pending:
                screen.set_pending(pending)
            # Show the effect as soon as the engine has applied it, not at the next tick.
            for delay in (0.03, 0.08, 0.14):
                self.set_timer(delay, screen.poll)

    def action_toggle_pause(self) -> None:
        paused = self.bridge.snapshot.status == "paused"
        self._command("toggle_pause", pending="resuming" if paused else "pausing")

    def action_force_hint(self) -> None:
        self._command("hint")
        self.notify("hint requested", timeout=2)

    def action_reinit(self) -> None:
        task = self.bridge.snapshot.task_name or self.bridge.task

        def answered(yes: bool | None) -> None:
            if yes:
                self._command("reinit", pending="reinitialising")

        self.push_screen(
            ConfirmScreen(
                "Reinitialise the policy's weights?",
                f"What the policy has learned on {task} is discarded (saved programs and "
                "statistics are kept).",
                yes="Reinitialise",
                no="Cancel",
            ),
            answered,
        )

    # -- after a solve: the offer (altlas_tui/offer.py) -----------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        offer = self.offers.offer
        if action in ("offer_next", "keep_training"):
            # keys that do nothing now must not swallow the key from the screen
            return bool(offer and offer.steer and (action != "offer_next" or offer.next_task))
        if action == "offer_stay":
            return offer is not None
        return True

    def show_offer(self) -> None:
        screen = self.live_screen()
        if isinstance(screen, SnapshotScreen):
            screen.show_offer()

    def action_offer_next(self) -> None:
        offer = self.offers.close()
        if offer is not None and offer.next_task:
            self.switch_task(offer.next_task)

    def action_keep_training(self) -> None:
        if self.offers.close() is not None:
            self._command("keep_training", pending="training on")

    def action_offer_stay(self) -> None:
        offer = self.offers.close()
        if offer is not None and offer.steer:
            self.notify(f"{offer.task} stays solved with training stopped · "
                        f"{self.key_of('pause')} trains on · {self.key_of('tasks') or 't'} "
                        "picks a task", timeout=5)  # fmt: skip

    def action_tasks(self) -> None:
        self.action_show_screen("tasks")

    def action_save(self) -> None:
        self._command("save")

    def switch_task(self, name: str) -> None:
        self._command("switch_task", name, pending="switching task")

    def action_show_screen(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str]]:
        """(keys, description) for every command, with the keys as currently bound."""
        rows = []
        for binding in self._bindings_with_ids():
            keys = self._keymap.get(binding.id or "", binding.key)
            shown = ", ".join(self.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))
            description = binding.tooltip or binding.description or binding.id or ""
            if binding.id == "log_level":
                description = "Log screen: cycle the minimum level"
            elif binding.id and binding.id.startswith("sweep_"):
                description = f"Sweeps screen: {description.lower()}"
            elif binding.id and binding.id.startswith("screen_"):
                description = f"Screen: {description}"
            rows.append((shown, description))
        merged: dict[str, list[str]] = {}
        for shown, description in rows:
            merged.setdefault(description, []).append(shown)
        return [(", ".join(keys), description) for description, keys in merged.items()]

    async def action_quit(self) -> None:
        """Stop the engine (it saves its state), wait for its thread, then exit.

        A second quit while the engine is still finishing its batch leaves at once; `run_app`
        still waits for the engine to stop and save before returning.
        """
        if self._quitting:
            self.exit(return_code=self._exit_code())
            return
        self._quitting = True
        self.bridge.control.stop("interrupted" if self._quit_code == 130 else "stopped")
        worker = self._engine_worker
        if worker is None or worker.is_finished:
            self.exit(return_code=self._exit_code())
            return
        screen = self.live_screen()
        if isinstance(screen, SnapshotScreen):
            screen.set_pending("stopping")
        if self.attached:
            self.notify("detaching: the run goes on", timeout=30)
        else:
            self.notify("stopping the engine and saving state…", timeout=30)

    async def action_interrupt(self) -> None:
        """Ctrl+C: like quit (the engine saves), but the exit code says it was interrupted."""
        self.interrupted = self.interrupted or "SIGINT"
        self._quit_code = 130
        await self.action_quit()

    # -- command palette --------------------------------------------------------------------
    def key_of(self, binding_id: str) -> str:
        """The keys bound to `binding_id` now (after any rebinding), as shown to people."""
        binding = next((b for b in self._bindings_with_ids() if b.id == binding_id), None)
        if binding is None:
            return ""
        keys = self._keymap.get(binding_id, binding.key)
        return ", ".join(self.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from palette_commands(self, super().get_system_commands(screen))

    def action_save_screenshot(self) -> None:
        save_screenshot(self)

    # -- themes -------------------------------------------------------------------------------
    def _theme_changed(self, theme: Any) -> None:
        name = getattr(theme, "name", str(theme))
        if name == self._persisted_theme or not self.persist_theme_choice:
            return
        try:
            path = persist_theme(name)
        except (InputError, OSError) as exc:
            self.notify(str(exc), title="Theme not saved", severity="warning", timeout=8)
            return
        self._persisted_theme = name
        self.config.ui.theme = name
        self.notify(f"theme {name} saved to {path}", timeout=3)

    # -- snapshot bookkeeping used by screens -------------------------------------------------
    def remember_best(self, snap: Snapshot) -> None:
        """Keep each task's best score seen this session (for the Tasks screen)."""
        if snap.task_name and snap.status != "starting" and (snap.attempts or snap.total_attempts):
            self.best_by_task[short_name(snap.task_name)] = snap.best_score


def _exit_when_saved(bridge: EngineBridge, code: int) -> None:
    """After SIGHUP: once the engine has saved, make sure the process ends.

    With its terminal gone, Textual's shutdown can block for ever restoring it (its writer
    thread waits on a queue nobody drains), which left orphaned processes holding the lock.
    """
    saved = bridge.finished.wait(SIGHUP_SAVE_WAIT)
    time.sleep(SIGHUP_GRACE)  # a normal shutdown finishes well within this
    log.warning("terminal gone: exiting (state %s)", "saved" if saved else "NOT saved in time")
    logging.shutdown()
    os._exit(code)


def run_app(
    config: Config,
    task: str | None,
    task_file: str | None = None,
    fps: int | None = None,
    low_bandwidth: bool = False,
    engine_factory: EngineFactory | None = None,
    fresh: bool = False,
) -> tuple[int, RunSummary | None]:
    """Run the TUI until the user quits; returns (exit code, the run's summary or None)."""
    app = AltlasApp(
        config,
        task or DEFAULT_TASK,
        task_file=task_file,
        engine_factory=engine_factory,
        fps=fps,
        low_bandwidth=low_bandwidth or config.ui.low_bandwidth,
        fresh=fresh,
    )
    try:
        try:
            app.run()
        except OSError:  # the terminal went away (SIGHUP): the engine must still save below
            if not app.interrupted:
                raise
    finally:
        # However the app ended, the engine must stop and save before we report.
        stopped = app.bridge.stop_and_join(timeout=60)
    code = app.return_code or 0
    if app.engine_error and not code:
        code = 1
    if not stopped:
        log.error("the engine did not stop within 60 s")
        code = code or 1
    return int(code), app.bridge.summary()

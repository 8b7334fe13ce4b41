"""The link between the Textual app and the engine: who owns the engine, its thread and its log.

The engine is created and run inside the app's single thread worker (see `AltlasApp.run_engine`);
the UI only ever reads `bridge.snapshot` (an immutable object, one attribute read) on a timer and
sends commands through `bridge.control`. The engine factory is swappable so tests inject
`altlas_tui.fake_engine.FakeEngine`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from engine.config import Config
from engine.control import Control
from engine.events import Event
from engine.snapshot import Snapshot
from engine.summary import RunSummary


class EngineLike(Protocol):
    """What the UI needs from an engine (the real controller and the fake both fit)."""

    snapshot: Snapshot

    def run(
        self, control: Control, max_attempts: int | None = None, max_seconds: float | None = None
    ) -> RunSummary: ...

    def summary(self) -> RunSummary: ...


EngineFactory = Callable[..., EngineLike]


class StoredEngine:
    """The real engine with its own writer `Store`, opened and closed in the worker thread.

    The Store is what makes the engine save its state (periodically, on `s`, on quit) and
    resume it; it holds the single-writer lock and an SQLite connection, so it must live in the
    thread that runs the engine.
    """

    def __init__(self, config: Config, task: str, **kwargs: Any) -> None:
        from engine.controller import Engine
        from engine.store import Store

        self.store = Store(command="altlas-tui")
        try:
            self.engine = Engine(config, task, store=self.store, **kwargs)
        except BaseException:
            self.store.close()
            raise

    @property
    def snapshot(self) -> Snapshot:
        return self.engine.snapshot

    def run(
        self, control: Control, max_attempts: int | None = None, max_seconds: float | None = None
    ) -> RunSummary:
        server = _serve(self.store, self.engine, control)  # `altlas-tui attach` can watch too
        try:
            return self.engine.run(control, max_attempts, max_seconds)
        finally:
            if server is not None:
                server.close(self.engine.summary())
            self.store.close()

    def summary(self) -> RunSummary:
        return self.engine.summary()


def _serve(store: Any, engine: Any, control: Control) -> Any:
    try:
        from altlas_tui.attach.server import SnapshotServer

        server = SnapshotServer.for_store(store, engine, control, command="altlas-tui")
        server.start()
        return server
    except Exception as exc:  # noqa: BLE001 - viewers are a convenience, training is the job
        logging.getLogger("altlas.tui").warning("attach server not started: %s", exc)
        return None


def default_engine_factory() -> EngineFactory:
    """The real engine with a Store (imported only when the worker builds it: torch is slow)."""
    return StoredEngine


class EngineBridge:
    """Creates the engine in the worker thread, runs it, and hands its state to the UI."""

    def __init__(
        self,
        factory: EngineFactory,
        config: Config,
        task: str,
        *,
        task_file: str | None = None,
        fresh: bool = False,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.factory = factory
        self.config = config
        self.task = task
        self.task_file = task_file
        self.fresh = fresh
        self.on_event = on_event
        self.control = Control()
        self.engine: EngineLike | None = None
        self.result: RunSummary | None = None
        self.thread: threading.Thread | None = None
        self.finished = threading.Event()
        self._placeholder = Snapshot(task_name=task, status="starting")

    # -- worker side ------------------------------------------------------------------------
    def run(self) -> RunSummary:
        """Build and run the engine; blocks until it stops. Call from the thread worker only."""
        self.thread = threading.current_thread()
        try:
            self.engine = self.factory(
                self.config,
                self.task,
                task_file=self.task_file,
                on_event=self.on_event,
                fresh=self.fresh,
            )
            if self.control.stopping:  # quit was pressed while the engine was being built
                self.result = self.engine.summary()
                return self.result
            self.result = self.engine.run(self.control)
            return self.result
        finally:
            self.finished.set()

    # -- UI side ----------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        engine = self.engine
        return engine.snapshot if engine is not None else self._placeholder

    def summary(self) -> RunSummary | None:
        """The run's summary: the engine's return value, else the summary so far, else None."""
        if self.result is not None:
            return self.result
        if self.engine is not None:
            try:
                return self.engine.summary()
            except Exception:  # noqa: BLE001 - a broken engine must not break the exit path
                logging.getLogger("altlas.tui").exception("engine.summary() failed")
        return None

    def send(self, kind: str, arg: str | None = None) -> None:
        self.control.send(kind, arg)

    def stop_and_join(self, timeout: float | None = 30.0) -> bool:
        """Ask the engine to stop and wait until `run` has returned; True when it has.

        (Textual runs thread workers on an executor thread that outlives the work, so we wait
        for `run` to finish rather than for the thread to end.)
        """
        self.control.stop()
        if self.thread is None:  # the worker never started the engine
            return True
        if self.thread is threading.current_thread():
            return self.finished.is_set()
        return self.finished.wait(timeout)


class PostingLogHandler(logging.Handler):
    """A logging handler that forwards records to the app as messages (safe from any thread)."""

    def __init__(self, post: Callable[[Any], Any], make_message: Callable[[int, str], Any]) -> None:
        super().__init__(level=logging.DEBUG)
        self._post = post
        self._make = make_message
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._post(self._make(record.levelno, self.format(record)))
        except Exception:  # noqa: BLE001 - logging must never raise into the engine
            self.handleError(record)

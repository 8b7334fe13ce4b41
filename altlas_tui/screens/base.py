"""The common shape of every live screen: status bar, body, footer, and a snapshot timer."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer

from altlas_tui.widgets.key_footer import KeyFooter
from altlas_tui.widgets.offer_bar import OfferBar
from altlas_tui.widgets.status_bar import StatusBar
from engine.events import Event
from engine.snapshot import Snapshot

if TYPE_CHECKING:
    from altlas_tui.app import AltlasApp


class SnapshotScreen(Screen):
    """Polls the engine's latest snapshot at the app's text rate while shown, never when hidden.

    Subclasses compose their body in `compose_body` and render a snapshot in `apply_snapshot`,
    which runs inside `App.batch_update()` and only when the snapshot object changed.
    """

    SCREEN_TITLE = ""

    def __init__(self) -> None:
        super().__init__()
        self._last: Snapshot | None = None
        self._timer: Timer | None = None
        self.applied = 0  # snapshots applied, for tests and benchmarks

    @property
    def altlas(self) -> AltlasApp:
        return cast("AltlasApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusBar(self.SCREEN_TITLE)
        yield from self.compose_body()
        yield OfferBar()  # after a solve: next task, keep training or stay
        yield KeyFooter(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self._timer = self.set_interval(self.altlas.text_interval, self.poll, name="snapshot")
        self.poll()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def on_screen_resume(self) -> None:
        if self._timer is not None:
            self._timer.resume()
        self.poll(force=True)

    def poll(self, force: bool = False) -> None:
        """Apply the engine's latest snapshot if it is new (or `force`)."""
        if not self.is_attached:  # a late timer after the app began to close
            return
        snap = self.altlas.bridge.snapshot
        if snap is self._last and not force:
            return
        self._last = snap
        self.altlas.remember_best(snap)
        self.altlas.offers.observe(snap)
        with self.app.batch_update():
            self.query_one(StatusBar).show(snap)
            self.query_one(OfferBar).show(self.altlas.offers.offer)
            self.apply_snapshot(snap)
        self.applied += 1

    def show_offer(self) -> None:
        """Show (or hide) the app's current solved-task offer."""
        if self.is_attached:
            self.query_one(OfferBar).show(self.altlas.offers.offer)

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Render `snap` into this screen's widgets (override)."""

    def engine_event(self, event: Event) -> None:
        """A rare engine event arrived while this screen is shown (override if useful)."""

    def set_pending(self, text: str) -> None:
        self.query_one(StatusBar).indicator.pending = text

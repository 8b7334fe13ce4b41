"""The solved-task offer shown above the footer of every screen (see `altlas_tui.offer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from altlas_tui.offer import Offer


def offer_content(offer: Offer, key_of) -> Content:  # noqa: ANN001 - key_of: binding id -> keys
    """Two lines: what happened, then the choices with their current keys."""
    attempts = f" in {offer.attempts:,} attempts" if offer.attempts else ""
    if offer.earlier:
        attempts += " (an earlier run)"
    head = Content.assemble(
        ("✔ Solved ", "bold $text-success"),
        (offer.task, "bold"),
        attempts,
        (" · training stopped", "$text-muted"),
    )
    if not offer.steer:
        choices = Content.assemble(
            ("read-only viewer: whoever steers the run picks what comes next · ", "$text-muted"),
            (key_of("offer_stay") or "Esc", "bold $text-accent"),
            " hide",
        )
        return Content("\n").join([head, choices])
    parts: list[Content] = []
    if offer.next_task:
        parts.append(Content.assemble(
            (key_of("offer_next") or "n", "bold $text-accent"), " start next unsolved: ",
            (offer.next_task, "bold"),
        ))  # fmt: skip
    else:
        parts.append(Content.styled("no unsolved task left", "$text-muted"))
    parts.append(Content.assemble((key_of("keep_training") or "k", "bold $text-accent"),
                                  " keep training"))  # fmt: skip
    parts.append(Content.assemble((key_of("offer_stay") or "Esc", "bold $text-accent"), " stay"))
    return Content("\n").join([head, Content(" · ").join(parts)])


class OfferBar(Static):
    """Hidden unless the app has an offer; it only shows it (the keys are the app's)."""

    DEFAULT_CSS = """
    OfferBar {
        display: none;
        height: auto;
        padding: 0 1;
        background: $success-muted;
        border-left: outer $success;
    }
    OfferBar.-shown { display: block; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._shown: Offer | None = None

    def show(self, offer: Offer | None) -> None:
        if offer == self._shown:
            return
        self._shown = offer
        self.set_class(offer is not None, "-shown")
        if offer is not None:
            self.update(offer_content(offer, getattr(self.app, "key_of", lambda _id: "")))

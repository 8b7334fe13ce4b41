"""The command palette's entries: every command with its current key, no duplicates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand

if TYPE_CHECKING:
    from altlas_tui.app import AltlasApp


def palette_commands(
    app: AltlasApp, textual_commands: Iterable[SystemCommand]
) -> Iterator[SystemCommand]:
    """Textual's own entries (minus the two ours replace), then the app's, each showing its key."""
    from altlas_tui.app import SCREENS

    for command in textual_commands:
        # Textual's "Keys" duplicates our Help; its "Screenshot" goes to a browser download
        # that a terminal never shows. Ours below replace both.
        if command.title in ("Keys", "Screenshot"):
            continue
        if command.title == "Quit":
            command = SystemCommand(
                "Quit", f"Stop the engine, save, leave ({app.key_of('quit')})", app.action_quit
            )
        yield command

    def cmd(title: str, help: str, action, binding_id: str) -> SystemCommand:
        key = app.key_of(binding_id)
        return SystemCommand(title, f"{help} ({key})" if key else help, action)

    yield cmd("Pause / resume", "Pause or resume training", app.action_toggle_pause, "pause")
    yield cmd("Force a hint", "Give the learner one hint now", app.action_force_hint, "hint")
    yield cmd(
        "Reinitialise weights", "Start the policy afresh (asks first)", app.action_reinit, "reinit"
    )
    yield cmd("Save checkpoint", "Save the task's state now", app.action_save, "save")
    offer = app.offers.offer  # after a solve, while the engine holds the task
    if offer is not None and offer.steer:
        if offer.next_task:
            yield cmd(f"Start {offer.next_task}", f"{offer.task} is solved: start the next "
                      "unsolved task", app.action_offer_next, "offer_next")  # fmt: skip
        yield cmd("Keep training", f"Train on {offer.task} to shorten its solution",
                  app.action_keep_training, "keep_training")  # fmt: skip
    yield cmd("Help", "Show every key", app.action_help, "help")
    yield SystemCommand(
        "Screenshot", "Save an SVG of the screen to the data dir", app.action_save_screenshot
    )
    for _key, mode, title, _ in SCREENS:
        yield cmd(
            f"Screen: {title}",
            f"Show the {title} screen",
            lambda m=mode: app.action_show_screen(m),
            f"screen_{mode}",
        )


def save_screenshot(app: AltlasApp) -> None:
    """Write an SVG of the current screen where the data lives, and say where."""
    try:
        from engine.store import paths

        folder = paths().data / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        path = app.save_screenshot(path=str(folder))
    except Exception as exc:  # noqa: BLE001 - a screenshot must not break the app
        app.notify(f"screenshot failed: {exc}", severity="warning", timeout=6)
        return
    app.notify(f"saved {path}", title="Screenshot", timeout=6)

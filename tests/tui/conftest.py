"""Helpers for the TUI tests: an app over the deterministic fake engine, and condition waits."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from altlas_tui.app import AltlasApp
from altlas_tui.fake_engine import FakeEngine
from engine.config import Config

SIZE = (120, 40)


class Harness:
    """Builds an `AltlasApp` over a `FakeEngine` and remembers the engine it made."""

    def __init__(self) -> None:
        self.engine: FakeEngine | None = None

    def factory(self, **fake_kwargs) -> Callable[..., FakeEngine]:
        def make(config, task, **kwargs) -> FakeEngine:
            self.engine = FakeEngine(config, task, **kwargs, **fake_kwargs)
            return self.engine

        return make

    def app(
        self, config: Config | None = None, task: str = "add_two_numbers", **fake_kwargs
    ) -> AltlasApp:
        fake_kwargs.setdefault("step_delay", 0.01)
        return AltlasApp(
            config or Config(),
            task,
            engine_factory=self.factory(**fake_kwargs),
            persist_theme_choice=True,
        )


@pytest.fixture
def harness() -> Harness:
    return Harness()


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        await pilot.pause(0.02)

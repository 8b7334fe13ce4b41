"""Fixtures for the JavaScript language tests: one shared runner per module (workers are slow to start)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.config import SandboxConfig
from engine.languages.javascript import JSRunner, find_node

needs_node = pytest.mark.skipif(find_node() is None, reason="node is not installed")


@pytest.fixture(scope="module")
def js() -> Iterator[JSRunner]:
    if find_node() is None:
        pytest.skip("node is not installed")
    with JSRunner(SandboxConfig(workers=2, timeout=0.05, max_output=2000)) as runner:
        yield runner

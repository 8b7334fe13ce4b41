"""Shared test fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _altlas_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep every test away from the real home directory."""
    home = tmp_path_factory.mktemp("altlas_home")
    monkeypatch.setenv("ALTLAS_HOME", str(home))
    return home

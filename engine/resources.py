"""Where shipped data (tasks, themes) lives, installed or in a source checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def shipped_dir(kind: str, package: str = "engine") -> Path:
    """The folder holding shipped `kind` files ("tasks" or "themes")."""
    try:
        candidate = Path(str(resources.files(package) / "_data" / kind))
        if candidate.is_dir():
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    return _REPO_ROOT / kind

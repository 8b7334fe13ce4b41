"""Backends by name: the local process pool (default) or a Ray cluster."""

from __future__ import annotations

from engine.errors import InputError
from engine.sweep.driver import Backend


def make_backend(name: str, workers: int | None = None, address: str | None = None) -> Backend:
    """The named backend, started (Ray: connected). InputError for a missing Ray or bad address."""
    if name == "local":
        from engine.sweep.local import LocalBackend

        return LocalBackend(workers)
    if name == "ray":
        from engine.sweep.ray_backend import RayBackend, require_ray

        require_ray()
        try:
            return RayBackend(address, workers)
        except (ConnectionError, TimeoutError, ValueError) as exc:
            where = address or "ray.init()"
            raise InputError(f"cannot start or reach Ray: {exc}", where, "--address") from None
    raise InputError(f"unknown backend {name!r} (expected local or ray)", "--backend")

"""The log file: DEBUG and up from the "altlas" logger hierarchy, rotated at ~1 MB, 3 backups."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(name)s: %(message)s"


class _AltlasFileHandler(logging.handlers.RotatingFileHandler):
    """Marks the handler setup_logging added, so a second call replaces it instead of doubling."""


def setup_logging(
    level: str | int = "DEBUG",
    log_dir: Path | None = None,
    max_bytes: int = 1_000_000,
    backups: int = 3,
) -> Path:
    """Send the "altlas" loggers to `altlas-tui.log` in the log folder; returns the file path.

    Engine modules log with `logging.getLogger("altlas.<module>")`. Tracebacks belong here, not on
    the screen: use `log.exception(...)`.
    """
    if log_dir is None:
        from engine.store.paths import paths

        log_dir = paths().log
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "altlas-tui.log"
    logger = logging.getLogger("altlas")
    for h in list(logger.handlers):
        if isinstance(h, _AltlasFileHandler):
            logger.removeHandler(h)
            h.close()
    handler = _AltlasFileHandler(
        log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    return log_file

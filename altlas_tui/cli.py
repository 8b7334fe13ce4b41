"""Command line entry point (filled in by the engine issue)."""


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("not yet")

"""`python -m engine.sandbox [--describe]`: start a Sandbox and print what is in force."""

from __future__ import annotations

import json
import sys

from .api import Sandbox, SandboxError


def main(argv: list[str] | None = None) -> int:
    """Print describe() as JSON; exit 1 with the reason if the sandbox cannot start."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in ("--describe", "-h", "--help"):
        print(f"usage: python -m engine.sandbox [--describe] (got {args[0]!r})", file=sys.stderr)
        return 2
    if args and args[0] in ("-h", "--help"):
        print("usage: python -m engine.sandbox [--describe]")
        return 0
    try:
        with Sandbox() as sb:
            print(json.dumps(sb.describe(), indent=2))
    except SandboxError as e:
        print(f"sandbox: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m altlas_tui.cli`."""

from altlas_tui.cli import main

raise SystemExit(main())

"""A read-only, syntax-highlighted view of a program (no tree-sitter needed)."""

from __future__ import annotations

from textual.content import Content
from textual.highlight import highlight
from textual.widgets import Static


class CodeView(Static):
    """Python source highlighted with the app theme's colours; re-rendered only when it changes."""

    DEFAULT_CSS = """
    CodeView {
        height: auto;
        min-height: 3;
        padding: 0 1;
        background: $surface;
        /* a wrapped continuation would look like a numbered line: cut long lines with … */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, placeholder: str = "(no program yet)", **kwargs) -> None:
        super().__init__(Content(placeholder), **kwargs)
        self.placeholder = placeholder
        self.code: str | None = None

    def show(self, code: str) -> None:
        if code == self.code:
            return
        self.code = code
        if not code.strip():
            self.update(Content(self.placeholder))
            return
        lines = highlight(code, language="python").split("\n")
        width = len(str(len(lines)))
        numbered = [
            Content.assemble((f"{n:>{width}} ", "$text-muted"), line)
            for n, line in enumerate(lines, start=1)
        ]
        self.update(Content("\n").join(numbered))

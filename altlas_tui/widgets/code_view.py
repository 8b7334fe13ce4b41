"""A read-only, syntax-highlighted view of a program (no tree-sitter needed)."""

from __future__ import annotations

from textual.content import Content
from textual.highlight import highlight
from textual.widgets import Static


class CodeView(Static):
    """A program highlighted in its task's language with the app theme's colours.

    Re-rendered only when the code or the language changes."""

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
        self.language = "python"

    def show(self, code: str, language: str = "python") -> None:
        """Show `code` highlighted as `language` (a Pygments lexer name: "python", "javascript";
        an unknown name shows plain text)."""
        if code == self.code and language == self.language:
            return
        self.code, self.language = code, language
        if not code.strip():
            self.update(Content(self.placeholder))
            return
        lines = highlight(code, language=language).split("\n")
        width = len(str(len(lines)))
        numbered = [
            Content.assemble((f"{n:>{width}} ", "$text-muted"), line)
            for n, line in enumerate(lines, start=1)
        ]
        self.update(Content("\n").join(numbered))

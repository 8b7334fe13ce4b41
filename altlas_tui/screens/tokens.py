"""Tokens: what the policy writes — frequencies, over/under-use, pairs, and per-token confidence."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.widgets.keyed_table import KeyedTable
from altlas_tui.widgets.token_strip import TokenStrip
from engine.snapshot import Snapshot

TOP_N = 40
TABLE_INTERVAL = 1.0  # seconds between frequency-table refreshes


def usage_extremes(snap: Snapshot, n: int = 8) -> tuple[list[str], list[str]]:
    """Tokens used far more and far less than expected.

    The engine judges them against the grammar-allowed positions (what uniform choice among the
    allowed tokens would write); without that (older snapshots, the fake engine), against a
    uniform share of the vocabulary (>3x / <1/3x).
    """
    if snap.overused_tokens or snap.underused_tokens:
        under = list(dict.fromkeys([*snap.unused_tokens, *snap.underused_tokens]))[:n]
        return list(snap.overused_tokens[:n]), under
    total = sum(c for _, c in snap.token_counts)
    vocab = snap.vocab_size or len(snap.token_counts) or 1
    if not total:
        return [], list(snap.unused_tokens[:n])
    uniform = total / vocab
    over = [t for t, c in snap.token_counts if c > 3 * uniform][:n]
    under = [t for t, c in reversed(snap.token_counts) if c < uniform / 3][:n]
    under = list(dict.fromkeys([*snap.unused_tokens, *under]))[:n]
    return over, under


class TokensScreen(SnapshotScreen):
    """Token analytics of the running policy."""

    SCREEN_TITLE = "Tokens"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="tokens-top"):
            with Vertical(id="token-counts-panel", classes="panel") as p:
                p.border_title = f"Token frequency (top {TOP_N})"
                yield KeyedTable(["Token", "Count", "Share"], id="token-counts")
            with Vertical(id="token-pairs-panel", classes="panel") as p:
                p.border_title = "Top pairs"
                yield KeyedTable(["Pair", "Count"], id="token-pairs")
            with Vertical(id="token-usage-panel", classes="panel") as p:
                p.border_title = "Usage vs vocabulary"
                yield Static("", id="token-usage")
        with Vertical(id="token-probs-panel", classes="panel") as p:
            p.border_title = "Current attempt: p(chosen token) and top alternatives"
            yield TokenStrip(id="token-strip")
            yield KeyedTable(["#", "Token", "p", "Alternatives"], id="token-probs")

    def __init__(self) -> None:
        super().__init__()
        self._tables_at = -TABLE_INTERVAL

    def apply_snapshot(self, snap: Snapshot) -> None:
        self.query_one("#token-strip", TokenStrip).show(snap.last_token_probs)
        self.query_one("#token-probs", KeyedTable).sync(
            [
                (
                    str(i),
                    (
                        tp.token,
                        f"{tp.prob:.3f}",
                        "  ".join(f"{tok} {p:.2f}" for tok, p in tp.alternatives) or "—",
                    ),
                )
                for i, tp in enumerate(snap.last_token_probs, start=1)
            ]
        )
        # Frequencies drift slowly and re-sorting redraws every row: once a second is plenty.
        now = time.monotonic()
        if now - self._tables_at >= TABLE_INTERVAL:
            self._tables_at = now
            self._apply_frequencies(snap)

    def _apply_frequencies(self, snap: Snapshot) -> None:
        total = sum(c for _, c in snap.token_counts) or 1
        self.query_one("#token-counts", KeyedTable).sync(
            [
                (tok, (f"{count:,}", f"{100 * count / total:5.1f}%"))
                for tok, count in snap.token_counts[:TOP_N]
            ]
        )
        self.query_one("#token-pairs", KeyedTable).sync(
            [(f"{a} → {b}", (f"{count:,}",)) for a, b, count in snap.token_pairs[:TOP_N]]
        )
        over, under = usage_extremes(snap)
        by_grammar = bool(snap.overused_tokens or snap.underused_tokens)
        basis_over = ">4× allowed positions" if by_grammar else ">3× uniform"
        basis_under = "<¼ allowed positions" if by_grammar else "<⅓ uniform"
        usage = Content.assemble(
            ("vocabulary ", "$text-muted"),
            (f"{snap.vocab_size}", "bold"),
            ("   used ", "$text-muted"),
            (f"{len(snap.token_counts)}", "bold"),
            ("   never used ", "$text-muted"),
            (f"{len(snap.unused_tokens)}", "bold"),
            "\n\n",
            (f"over-used ({basis_over})\n", "$text-warning"),
            "  " + ("  ".join(over) or "—"),
            "\n\n",
            (f"under-used ({basis_under})\n", "$text-accent"),
            "  " + ("  ".join(under) or "—"),
        )
        self.query_one("#token-usage", Static).update(usage)

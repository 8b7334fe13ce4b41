"""Reusable widgets of the AltLAS TUI, one per file."""

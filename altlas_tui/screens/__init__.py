"""The screens of the AltLAS TUI (one per mode) and its modal dialogs."""

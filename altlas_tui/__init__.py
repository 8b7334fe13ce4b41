"""AltLAS TUI: watch and steer a from-scratch program-writing learner in the terminal."""

__version__ = "0.1.0"

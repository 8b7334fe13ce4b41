"""Entry point of every sandbox process: `python -I -S -B entry.py fast|zygote FDS...`.

Run as a script in a fresh interpreter, never imported by the engine: it holds nothing of the
engine (no torch, no expected answers, no environment). Standard library only; the sibling
modules are imported as top-level modules from this directory.
"""

import os
import signal
import sys


def main():
    """Dispatch to the fast worker or the strict-tier zygote."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the engine's business
    kind = sys.argv[1]
    fds = [int(a) for a in sys.argv[2:]]
    if kind == "fast":
        import fast

        fast.fast_main(*fds)
    elif kind == "zygote":
        import strict

        strict.zygote_main(*fds)
    os._exit(2)


if __name__ == "__main__":
    main()

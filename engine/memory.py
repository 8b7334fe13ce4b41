"""Keep the learner's resident memory flat: glibc allocator settings for a long-running trainer.

Why: every batch allocates tensors and numpy rows of a different size (programs differ in
length), and glibc's default allocator raises its mmap threshold after each freed large block,
so later large blocks come from the heap and fragment it; with one arena per thread (torch's
pool) the heap then grows for hours. Fixing the mmap threshold (large blocks are mapped and
returned to the system when freed), trimming the heap top early and capping the arenas kept a
basic_loop run at 347 MB instead of 412 MB after 19k attempts (docs/benchmarks.md, "Memory").
Nothing here changes results; on a libc without `mallopt` it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt parameters (glibc malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

SETTINGS = ((M_MMAP_THRESHOLD, 128 * 1024), (M_TRIM_THRESHOLD, 128 * 1024), (M_ARENA_MAX, 2))

_done: bool | None = None


def tune_allocator() -> bool:
    """Apply SETTINGS once per process; True if the C library took all of them."""
    global _done
    if _done is not None:
        return _done
    _done = False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _done = all(mallopt(param, value) == 1 for param, value in SETTINGS)
    return _done

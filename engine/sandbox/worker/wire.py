"""Worker side of the wire protocol: length-prefixed frames, marshal in, JSON out.

Engine -> worker payloads are `marshal` (the engine is trusted); worker -> engine payloads are
JSON (the engine never unmarshals data a sandboxed process could have written). Frame: 4-byte
little-endian length + payload. Standard library only: this runs inside the sandbox processes.
"""

import json
import marshal
import os

HDR = 4
# Loop-iteration counters (engine/reward/loops.py instruments a program with `altlasi[k] += 1`
# at the start of each loop body and `altlasi = [0, ...]` before it): after a run the worker
# sends the list back as a result's optional fifth element. The program could have replaced it
# with anything, so only a plain list of at most COUNTERS_MAX plain ints in [0, COUNT_MAX] is
# sent; the engine checks it again (engine/sandbox/protocol.py has the same three constants).
COUNTER_NAME = "altlasi"
COUNTERS_MAX = 64
COUNT_MAX = 1 << 40


def read_exact(fd, n):
    """Read exactly `n` bytes; leave quietly when the engine hung up."""
    chunks = []
    while n > 0:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            os._exit(0)  # engine went away
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def recv(fd):
    """One message from the engine."""
    n = int.from_bytes(read_exact(fd, HDR), "little")
    return marshal.loads(read_exact(fd, n))


def send(fd, obj, _dumps=json.dumps, _write=os.write):
    """One message to the engine (JSON; `ensure_ascii` keeps lone surrogates encodable)."""
    data = _dumps(obj).encode("utf-8")
    data = len(data).to_bytes(HDR, "little") + data
    view = memoryview(data)
    while view:
        n = _write(fd, view)
        view = view[n:]


def describe_exc(e, _type=type, _str=str, _len=len, _isinstance=isinstance):
    """'TypeName: message', short; never raises."""
    try:
        name = _type(e).__name__
    except BaseException:
        name = "Exception"
    try:
        msg = _str(e)
    except BaseException:
        msg = ""
    if not _isinstance(name, str):
        name = "Exception"
    if not _isinstance(msg, str):
        msg = ""
    text = f"{name}: {msg}" if msg else name
    return text if _len(text) <= 300 else text[:297] + "..."


def counters(g, _type=type, _list=list, _int=int, _len=len):
    """The loop counters a run left in its globals `g`: a fresh list of ints, or None (absent or
    not a plain list of bounded plain ints). Runs no code of the program (exact type checks)."""
    c = g.get(COUNTER_NAME)
    if c is None or _type(c) is not _list or _len(c) > COUNTERS_MAX:
        return None
    out = []
    for v in c:
        if _type(v) is not _int or v < 0 or v > COUNT_MAX:
            return None
        out.append(v)
    return out

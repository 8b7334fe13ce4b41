"""Worker side of the wire protocol: length-prefixed frames, marshal in, JSON out.

Engine -> worker payloads are `marshal` (the engine is trusted); worker -> engine payloads are
JSON (the engine never unmarshals data a sandboxed process could have written). Frame: 4-byte
little-endian length + payload. Standard library only: this runs inside the sandbox processes.
"""

import json
import marshal
import os

HDR = 4


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

"""Throughput of the JavaScript runner on typical short policy programs (not a test).

PYTHONPATH=. python tests/js/bench_js_runner.py --workers 2 --n 4000 [--loops 0.01]
"""

from __future__ import annotations

import argparse
import os
import random
import time

from engine.config import SandboxConfig
from engine.languages.javascript import JSRunner


def programs(n: int, loops: float, seed: int = 0) -> list[str]:
    """Programs shaped like the grammar's samples; `loops` share of them never end."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        k = rng.randrange(4)
        if rng.random() < loops:
            out.append(f"let x = {a};\nwhile (x < 10) {{\n  x = x - 1;\n}}\nconsole.log(x);")
        elif k == 0:
            out.append(f"console.log({a} + {b});")
        elif k == 1:
            out.append(f"let x = {a};\nlet y = {b};\nconsole.log(x * y);")
        elif k == 2:
            out.append(
                f"let n = 0;\nfor (let i = 0; i < {a}; i++) {{\n  n += i;\n}}\nconsole.log(n);"
            )
        else:
            out.append(
                f"function f(x) {{\n  return x + {b};\n}}\nif ({a} > 3) {{\n  console.log(f({a}));\n}}"
                f" else {{\n  console.log('no');\n}}"
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--loops", type=float, default=0.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    codes = programs(args.n, args.loops)
    with JSRunner(SandboxConfig(workers=args.workers, timeout=0.05)) as js:
        print(js.describe()["summary"])
        js.run_many(codes[:200])  # warm-up
        for _ in range(args.repeats):
            t = time.perf_counter()
            rs = js.run_many(codes)
            dt = time.perf_counter() - t
            counts = {s: sum(r.status == s for r in rs) for s in ("ok", "timeout", "killed")}
            print(f"{len(codes) / dt:,.0f} programs/s  {counts}  load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

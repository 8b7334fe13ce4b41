"""Run untrusted generated programs: fast tier for plain programs, strict tier for the rest.

    with Sandbox(config.sandbox) as sb:
        results = sb.run_many(codes)            # list[ExecResult], same order as codes
        table = sb.run_cases(codes, cases)      # table[i][j]: program i on case j
        sb.describe()                           # isolation layers actually in force

Modules: `api` (public names), `backend` + `fastpool` (pool and worker supervision),
`procs` (processes, uid pool), `protocol` (wire format, engine side), `layers` (namespaces,
uids, seccomp filters), `describe`, `inprocess` (tests of other modules only), and `worker/`
(the sandbox processes' side, standard library only). See docs/sandbox.md.
"""

from .api import STATUSES, ExecResult, Sandbox, SandboxError

__all__ = ["STATUSES", "ExecResult", "Sandbox", "SandboxError"]

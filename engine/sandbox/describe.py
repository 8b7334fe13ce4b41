"""`describe()`: the isolation layers actually in force, from what each process reported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import layers
from .batch import HARD_MARGIN, STRICT_SLACK

if TYPE_CHECKING:
    from .backend import ProcessBackend


def _new_ns(info: dict[str, Any], own: dict[str, Any], ns: str) -> bool:
    theirs = (info.get("ns") or {}).get(ns)
    return bool(theirs) and theirs != own.get(ns)


def describe(be: ProcessBackend) -> dict[str, Any]:
    """Layers in force per tier, an overall level and a one-line summary for the TUI."""

    engine_netns = layers.own_netns()
    own = layers.own_ns()
    fi, si = be.fast_info, be.strict_info
    fast_netns = bool(fi.get("netns_id")) and fi.get("netns_id") != engine_netns
    strict_netns = bool(si.get("netns_id")) and si.get("netns_id") != engine_netns
    uid_drop = bool(fi.get("uid_drop")) and bool(si.get("uid_drop"))
    chroot = bool(fi.get("chroot")) and bool(si.get("chroot"))
    seccomp = bool(fi.get("seccomp")) and bool(si.get("seccomp"))
    ipcns = _new_ns(fi, own, "ipc") and _new_ns(si, own, "ipc")
    utsns = _new_ns(fi, own, "uts") and _new_ns(si, own, "uts")
    userns = _new_ns(si, own, "user")
    keyring = bool(fi.get("session_keyring")) and bool(si.get("session_keyring"))
    rl = fi.get("rlimits", {})
    layers_on = ["processes", "rlimits"]
    layers_on += ["chroot"] if chroot else []
    layers_on += ["uid"] if uid_drop else []
    layers_on += ["netns"] if fast_netns and strict_netns else []
    layers_on += ["pidns"] if si.get("pidns") else []
    layers_on += ["ipcns"] if ipcns else []
    layers_on += ["utsns"] if utsns else []
    layers_on += ["userns"] if userns else []
    layers_on += ["seccomp"] if seccomp else []
    layers_on += ["keyring"] if keyring else []
    if uid_drop and chroot and fast_netns and strict_netns and seccomp:
        level = "full"
    elif uid_drop or chroot or seccomp:
        level = "partial"
    else:
        level = "minimal"
    missing = []
    if not seccomp:
        missing.append(
            "no seccomp (libseccomp.so.2 not found)"
            if layers.libseccomp() is None
            else "no seccomp (filter did not load)"
        )
    for ok, what in (
        (uid_drop, "no uid drop (not root)"),
        (chroot, "no chroot (not root)"),
        (fast_netns and strict_netns, "no network namespace in both tiers"),
        (ipcns, "no ipc namespace in both tiers"),
    ):
        if not ok:
            missing.append(what)
    summary = f"{level}: {'+'.join(layers_on)}" + (f"; {', '.join(missing)}" if missing else "")
    return {
        "backend": "process",
        "level": level,
        "summary": summary,
        "layers": layers_on,
        "missing": missing,
        "fast_tier": {
            "workers": be.cfg.workers,
            "helper_workers": len(be.pool) - be.cfg.workers,
            "builtins": "restricted",
            "builtin_names": len(fi.get("builtins", [])),
            "rlimits": sorted(k for k, v in rl.items() if v),
            "uid": fi.get("uid"),
            "uid_drop": bool(fi.get("uid_drop")),
            "chroot": bool(fi.get("chroot")),
            "netns": fast_netns,
            "ipcns": _new_ns(fi, own, "ipc"),
            "utsns": _new_ns(fi, own, "uts"),
            "pdeathsig": bool(fi.get("pdeathsig")),
            "no_new_privs": bool(fi.get("no_new_privs")),
            "session_keyring": bool(fi.get("session_keyring")),
            "seccomp": "allow-list" if fi.get("seccomp") else False,
            "integrity_check": "after every program",
            "integrity_mutable_types": fi.get("mutable_types", []),
            "soft_deadline": "recorded; re-fires until the program ends",
            "hard_kill_margin": HARD_MARGIN,
            "recycle_every": be.cfg.recycle_every,
        },
        "strict_tier": {
            "fork_per_program": True,
            "zygote": "fresh python -I -S",
            "builtins": "full",
            "preloaded_modules": si.get("modules", []),
            "rlimits": ["AS", "CORE", "CPU", "FSIZE", "MEMLOCK", "MSGQUEUE", "NOFILE", "RTPRIO"]
            + (["NPROC"] if si.get("uid_drop") else []),
            "uid": si.get("uid"),
            "uid_drop": bool(si.get("uid_drop")),
            "chroot": bool(si.get("chroot")),
            "netns": strict_netns,
            "pidns": bool(si.get("pidns")),
            "ipcns": _new_ns(si, own, "ipc"),
            "utsns": _new_ns(si, own, "uts"),
            "userns": userns,
            "session_keyring": bool(si.get("session_keyring")),
            "seccomp": "deny-list" if si.get("seccomp") else False,
        },
        "uid_drop": uid_drop,
        "chroot": chroot,
        "netns": fast_netns and strict_netns,
        "pidns": bool(si.get("pidns")),
        "ipcns": ipcns,
        "utsns": utsns,
        "userns": userns,
        "seccomp": seccomp,
        "seccomp_available": layers.libseccomp() is not None,
        "env_cleared": True,
        "compile_in_sandbox": True,
        "timeout": be.cfg.timeout,
        "strict_timeout_slack": STRICT_SLACK,
        "max_output": be.cfg.max_output,
        "max_source": be.cfg.max_source,
        "memory_mb": be.cfg.memory_mb,
        "stats": dict(be.stats),
    }

"""Which constraints a program really meets: the static verdict first, then the liveness
variants run on the visible cases (see `engine.reward.variants`).

Required numbers and strings: every occurrence is rewritten into a global (see `cases`), and a
variant per occurrence reads a perturbed value instead. The value counts if some occurrence is
statically live and, unless a valid pattern of the task also holds the value without reading it
(list_operations' 1 in `[1, 2, 3, 4, 5]`), every occurrence changes some visible case's output:
an inert twin (`print(min(5 + 3, 4 + 4))`'s 4s aside, `[1, 2, 3, 4, 5][2] + 5` with the list's
5 never read) means the value is not used as the task means it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.reward.cases import rewrite
from engine.reward.execute import ExecLike
from engine.reward.facts import Facts
from engine.reward.liveness import Liveness, static_verdict
from engine.reward.variants import Parents, variants
from engine.tasks import normalise_output

if TYPE_CHECKING:
    from engine.reward.score import TaskScorer


@dataclass
class Analysis:
    """What the reward knows about one program text (cached)."""

    parses: bool
    syntax_error: str = ""
    exec_src: str = ""  # the text run on the cases (required values read from globals)
    static: tuple[tuple[bool, str], ...] = ()  # per constraint: (may count, why not)
    hardcoded: str | None = None
    met: tuple[bool, ...] | None = None  # per constraint, once checked on the cases
    reasons: tuple[str, ...] | None = None
    # loops instrumented with counters in exec_src (engine/reward/loops.py); None: not counted
    # (counting off, another language, or the program could not be instrumented)
    loops: int | None = None


@dataclass
class Work:
    """A fresh analysis's parsed (and rewritten) tree with its facts: handed to the variant
    planner in the same batch so no program is parsed twice; never cached."""

    tree: ast.Module
    facts: Facts
    live: Liveness
    occurrences: list


def static_met(scorer: TaskScorer, a: Analysis, ran: bool) -> None:
    """Fill `a.met` / `a.reasons` from the static verdicts alone (programs that pass no visible
    case: no variants are run for them). A program that fails on every visible case meets no
    constraint, as its variants could show no effect either."""
    met: list[bool] = []
    reasons: list[str] = []
    for c, (ok, why) in zip(scorer.constraints, a.static, strict=True):
        if ok and not ran:
            ok, why = False, (f"{c.label} does not count: the program fails on every visible "
                              "case")  # fmt: skip
        met.append(ok)
        if not ok:
            reasons.append(why)
    a.met = tuple(met)
    a.reasons = tuple(reasons)


@dataclass
class Plan:
    """Variants to run for one program: per constraint, groups of variant sources (a group is
    one candidate construct or one occurrence of a value), or a fixed verdict."""

    fixed: dict[int, tuple[bool, str]] = field(default_factory=dict)
    groups: dict[int, list[list[str | None] | str]] = field(default_factory=dict)
    static_live: dict[int, list[bool]] = field(default_factory=dict)  # values: per occurrence

    def sources(self) -> list[str]:
        return [s for gs in self.groups.values() for g in gs if not isinstance(g, str)
                for s in g if s is not None]  # fmt: skip


def plan_variants(scorer: TaskScorer, code: str, ran: bool, work: Work | None = None) -> Plan:
    """The liveness variants of one program (none if it ran on no visible case). `work`: the
    program's tree and facts from this batch's analysis (else it is parsed again)."""
    a = scorer.analyse(code)
    plan = Plan()
    cons = scorer.constraints
    for i, (ok, why) in enumerate(a.static):
        if not ok:
            plan.fixed[i] = (False, why)
        elif not ran and cons[i].types is not None:
            plan.fixed[i] = (False, f"{cons[i].label} does not count: the program fails on "
                             "every visible case")  # fmt: skip
    todo = [i for i in range(len(cons)) if i not in plan.fixed]
    if not todo:
        return plan
    values = scorer.expect.values if scorer.expect else []
    try:
        if work is not None:
            tree, facts, live, occurrences = work.tree, work.facts, work.live, work.occurrences
        else:
            tree = ast.parse(code)
            facts = Facts(tree, cons, *scorer._dispatch())
            live = Liveness(facts)
            occurrences = rewrite(tree, values)
        parents = Parents(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        for i in todo:
            plan.fixed[i] = (False, f"{cons[i].label} does not count: too complex to check")
        return plan
    from engine.reward.cases import occurrence_variants

    for i in todo:
        c = cons[i]
        if c.is_value:
            mine = [k for k, (vi, _, _) in enumerate(occurrences)
                    if values[vi].kind == c.kind and values[vi].value == c.value]  # fmt: skip
            if not mine:
                plan.fixed[i] = (True, "")  # only index positions: the static verdict stands
                continue
            picked = [occurrences[k] for k in mine]
            plan.groups[i] = list(occurrence_variants(tree, picked))
            plan.static_live[i] = [_node_live(live, orig) for _, _, orig in picked]
            continue
        groups: list[list[str | None] | str] = []
        candidates = [n for n in facts.candidates[i] if static_verdict(n, live, facts)[0]]
        for node in candidates[: scorer.weights.max_candidates]:
            try:
                vs = variants(tree, parents, node, c)
            except (ValueError, TypeError, AttributeError, RecursionError):
                vs = "it is too complex to check"
            if vs is None:
                plan.fixed[i] = (True, "")  # checked statically only
                break
            groups.append(vs)
        if i not in plan.fixed:
            plan.groups[i] = groups
    return plan


def _node_live(live: Liveness, node: ast.AST) -> bool:
    # A negative number is `-constant`: the walk records one of the two nodes.
    if isinstance(node, ast.UnaryOp) and live.node_live(node.operand):
        return True
    return live.node_live(node)


def _effect(
    scorer: TaskScorer, base: list[ExecLike], var: list[ExecLike], visible: list[int]
) -> str:
    """changed | crash | same: what a variant did to the visible cases."""
    task = scorer.task
    crashed = False
    for r, j in zip(var, visible, strict=True):
        b = base[j]
        if b.status == "ok" and r.status == "ok":
            if normalise_output(r.stdout or "", task) != normalise_output(b.stdout or "", task):
                return "changed"
        elif r.status == "ok":
            return "changed"  # the construct made the program fail
        elif b.status == "ok":
            crashed = True
    return "crash" if crashed else "same"


def dynamic_met(
    scorer: TaskScorer,
    a: Analysis,
    plan: Plan,
    base: list[ExecLike],
    outcome: dict[str, list[ExecLike]],
) -> None:
    """Fill `a.met` and `a.reasons` from the variants' results."""
    expect = scorer.expect
    assert expect is not None
    visible = expect.visible
    met: list[bool] = []
    reasons: list[str] = []
    for i, c in enumerate(scorer.constraints):
        if i in plan.fixed:
            ok, why = plan.fixed[i]
        elif c.is_value:
            effects = [
                "changed" if any(_effect(scorer, base, outcome[s], visible) == "changed"
                                 for s in g if s is not None) else "same"
                for g in plan.groups[i] if not isinstance(g, str)
            ]  # fmt: skip
            live_any = any(e == "changed" for e in effects)
            index = next(v.index for v in expect.values if v.kind == c.kind and v.value == c.value)
            if index in expect.inert_allowed:
                ok, why = True, ""
            elif not live_any:
                ok, why = False, f"{c.label} does not affect the output"
            elif not all(e == "changed" for e in effects):
                ok, why = False, (f"{c.label} does not count: a copy of it does not affect the "
                                  "output (the answer does not come from it)")  # fmt: skip
            else:
                ok, why = any(plan.static_live[i]), f"{c.label} does not count: it is dead code"
        else:
            ok, why = False, f"{c.label} does not affect the output"
            for g in plan.groups[i]:
                if isinstance(g, str):
                    why = f"{c.label} does not count: {g}"
                    continue
                effects = [_effect(scorer, base, outcome[s], visible) for s in g if s is not None]
                if "changed" in effects and "same" not in effects:
                    ok, why = True, ""
                    break
        met.append(ok)
        if not ok:
            reasons.append(why)
    a.met = tuple(met)
    a.reasons = tuple(reasons)

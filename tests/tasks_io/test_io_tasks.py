"""The shipped IO benchmarks (tasks/io/): well-formed, spread-out cases, patterns the grammar can write."""

from __future__ import annotations

import ast
import builtins
import json
import keyword
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.grammar import Grammar
from engine.tasks import keyword_matches
from engine.tokenizer import Tokenizer

IO_DIR = Path(__file__).resolve().parents[2] / "tasks" / "io"
FILES = sorted(IO_DIR.glob("*.json"))
DIFFICULTIES = ("beginner", "intermediate", "advanced")


@dataclass
class FileTask:
    """What the tokenizer and grammar read, straight from the JSON (independent of the loader)."""

    name: str
    description: str
    valid_patterns: tuple[str, ...]
    required_numbers: tuple
    required_strings: tuple
    input_names: tuple[str, ...]
    max_tokens: int


def _pattern(entry) -> str:
    p = entry["pattern"] if isinstance(entry, dict) else entry
    return "\n".join(p) if isinstance(p, list) else p


def _load(path: Path) -> tuple[dict, FileTask]:
    data = json.loads(path.read_text())
    crit, cons = data["success_criteria"], data.get("constraints", {})
    task = FileTask(
        name=data["name"],
        description=data.get("description", ""),
        valid_patterns=tuple(_pattern(e) for e in crit["valid_patterns"]),
        required_numbers=tuple(cons.get("required_numbers", ())),
        required_strings=tuple(cons.get("required_strings", ())),
        input_names=tuple(crit["tests"][0]["inputs"]),
        max_tokens=cons["max_tokens"],
    )
    return data, task


def test_enough_tasks_at_every_level():
    assert len(FILES) >= 12
    levels = [json.loads(p.read_text())["difficulty"] for p in FILES]
    assert set(levels) == set(DIFFICULTIES)
    assert all(levels.count(d) >= 3 for d in DIFFICULTIES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_cases_well_formed_and_spread(path: Path):
    data, task = _load(path)
    assert data["name"] == path.stem and data["difficulty"] in DIFFICULTIES
    assert "expected_output" not in data["success_criteria"]  # the cases say it
    tests = data["success_criteria"]["tests"]
    assert 4 <= len(tests) <= 6
    assert any(c.get("hidden") for c in tests) and not all(c.get("hidden") for c in tests)
    for name in task.input_names:
        assert name.isidentifier() and not keyword.iskeyword(name) and not hasattr(builtins, name)
    for case in tests:
        assert tuple(case["inputs"]) == task.input_names
        assert isinstance(case["expected_output"], str)
    visible = [c["expected_output"] for c in tests if not c.get("hidden")]
    # a constant program matches at most half of the visible cases
    assert max(visible.count(v) for v in visible) <= len(visible) // 2
    # spread-out inputs: no two cases share an input vector
    vectors = [json.dumps(c["inputs"], sort_keys=True) for c in tests]
    assert len(set(vectors)) == len(vectors)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_patterns_encode_and_trace_within_budget(path: Path):
    data, task = _load(path)
    tok = Tokenizer.for_task(task)
    g = Grammar(tok)
    lengths = []
    for src in task.valid_patterns:
        ids = tok.encode(src)
        assert tok.unk not in ids, (src, [tok.tokens[i] for i in ids])
        assert ast.dump(ast.parse(tok.decode(ids))) == ast.dump(ast.parse(src))
        _, ok = g.trace(ids + [tok.eos], task.max_tokens + 1)  # the trainer's budget
        assert ok, src
        lengths.append(len(ids))
    # the budget fits the shortest pattern with slack, without being wildly loose
    assert min(lengths) + 4 <= task.max_tokens <= max(max(lengths), 2 * min(lengths))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_patterns_meet_their_constraints(path: Path):
    data, task = _load(path)
    cons = data.get("constraints", {})
    for src in task.valid_patterns:
        tree = ast.parse(src)
        nodes = list(ast.walk(tree))
        for kw in cons.get("required_keywords", ()):
            assert any(keyword_matches(kw, n) for n in nodes), (kw, src)
        consts = [n.value for n in nodes if isinstance(n, ast.Constant)]
        for num in cons.get("required_numbers", ()):
            assert num in consts, (num, src)
        for s in cons.get("required_strings", ()):
            assert s in consts, (s, src)


def test_every_pattern_passes_every_case_in_the_sandbox():
    """Run in the real sandbox (task-file code is untrusted), inputs bound as globals."""
    from engine.sandbox import Sandbox

    codes, want = [], []
    for path in FILES:
        data, task = _load(path)
        for src in task.valid_patterns:
            for case in data["success_criteria"]["tests"]:
                bind = "".join(f"{k} = {v!r}\n" for k, v in case["inputs"].items())
                codes.append(bind + src)
                want.append((path.stem, case["expected_output"]))
    with Sandbox() as sb:
        results = sb.run_many(codes, timeout=None)
    for (name, expected), res in zip(want, results, strict=True):
        assert res.status == "ok", (name, res.error)
        assert res.stdout.strip() == expected, (name, res.stdout, expected)

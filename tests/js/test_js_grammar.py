"""JavaScript syntax masks: every sample parses (node itself decides) and runs without scope errors."""

from __future__ import annotations

import json
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest

from engine.config import SandboxConfig
from engine.languages.javascript import JSRunner, find_node
from engine.languages.javascript.grammar import Grammar
from engine.languages.javascript.tokenizer import Tokenizer

NODE = find_node()
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

TASKS = [
    SimpleNamespace(
        required_numbers=[5, 3], required_strings=[], description="", valid_patterns=[]
    ),
    SimpleNamespace(
        required_numbers=[15, 10],
        required_strings=["Greater", "Less or equal"],
        description="prints 'hello'",
        valid_patterns=[],
    ),
]

# Reads a JSON list of sources on stdin; prints the indices and messages of those that do not parse.
CHECK_JS = r"""
const vm = require('vm');
let data = '';
process.stdin.on('data', (c) => { data += c; });
process.stdin.on('end', () => {
  const bad = [];
  JSON.parse(data).forEach((src, i) => {
    try { new vm.Script(src); } catch (e) { bad.push([i, String(e)]); }
  });
  process.stdout.write(JSON.stringify(bad));
});
"""


def sample(g: Grammar, n: int, budget: int, seed: int) -> list[list[int]]:
    """Uniformly random allowed tokens, batched like the policy does."""
    rng = np.random.default_rng(seed)
    sids = np.full(n, g.start, dtype=np.int64)
    out = np.full((n, budget), g.tok.pad, dtype=np.int64)
    for t in range(budget):
        remaining = np.full(n, budget - t)
        mask = g.mask(sids, remaining)
        assert mask.any(axis=1).all(), "a state with no allowed token"
        scores = np.where(mask, rng.random(mask.shape), -1.0)
        toks = scores.argmax(axis=1)
        out[:, t] = toks
        sids = g.step(sids, toks)
    assert (sids == g.done).all(), "sample did not finish within its budget"
    return [[int(x) for x in row if x != g.tok.pad] for row in out]


def node_syntax_errors(sources: list[str]) -> list[list]:
    proc = subprocess.run(
        [NODE or "node", "-e", CHECK_JS],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(proc.stdout)


@needs_node
@pytest.mark.parametrize("task", TASKS)
def test_ten_thousand_samples_parse_in_node(task: SimpleNamespace) -> None:
    tok = Tokenizer.for_task(task)
    g = Grammar(tok)
    sources = []
    for k, budget in enumerate((12, 25, 40, 60)):
        sources += [tok.decode(ids) for ids in sample(g, 2500, budget, seed=k)]
    assert len(sources) == 10_000
    assert node_syntax_errors(sources) == []
    # the samples are not trivially alike
    assert len(set(sources)) > 5000


@needs_node
def test_checker_catches_invalid_sources() -> None:
    bad = node_syntax_errors(
        ["let x = 1;\nlet x = 2;", "console.log(1)", "- -1;", "--1;", "return 1;"]
    )
    assert [i for i, _ in bad] == [0, 3, 4]


@needs_node
def test_samples_run_without_scope_errors() -> None:
    tok = Tokenizer.for_task(TASKS[1])
    g = Grammar(tok)
    sources = [tok.decode(ids) for ids in sample(g, 3000, 40, seed=7)]
    with JSRunner(SandboxConfig(workers=2, timeout=0.02)) as js:
        results = js.run_many(sources)
    bad = [
        (src, r.error)
        for src, r in zip(sources, results, strict=True)
        if r.error.startswith(("SyntaxError", "ReferenceError")) or "constant variable" in r.error
    ]
    assert bad == []
    assert sum(r.status == "ok" for r in results) > 1500


@pytest.mark.parametrize(
    "src",
    [
        "let x = 5;\nlet y = 3;\nconsole.log(x + y);",
        "console.log(5 + 3);",
        "function f(x, y) {\n  return x + y;\n}\nconsole.log(f(5, 3));",
        "let n = 0;\nfor (let i = 1; i <= 5; i++) {\n  n += i;\n}\nconsole.log(n);",
        "if (15 > 10) {\n  console.log('Greater');\n} else {\n  console.log('Less or equal');\n}",
        "const x = [1, 2];\nfor (const y of x) {\n  console.log(y);\n}",
        "let n = 3;\nwhile (n > 0) {\n  n--;\n  if (n === 1) {\n    break;\n  }\n}\nconsole.log(n);",
    ],
)
def test_patterns_are_in_the_language(src: str) -> None:
    task = SimpleNamespace(
        required_numbers=[5, 3, 15, 10],
        required_strings=["Greater", "Less or equal"],
        description="",
        valid_patterns=[],
    )
    tok = Tokenizer.for_task(task)
    g = Grammar(tok, max_names=4)
    ids = tok.encode(src) + [tok.eos]
    assert tok.unk not in ids
    _, ok = g.trace(ids, 80)
    assert ok
    assert tok.decode(ids) == src + "\n"


@pytest.mark.parametrize(
    "src",
    [
        "let x = 1;\nlet x = 2;\nconsole.log(x);",  # redeclaration
        "const x = 1;\nx = 2;\nconsole.log(x);",  # assignment to a constant
        "console.log(y);",  # undeclared
        "let x = x;\nconsole.log(x);",  # temporal dead zone
        "for (let i = 0; i < 2; i++) {\n  console.log(i);\n}\nconsole.log(i);",  # out of scope
        "return 1;\nconsole.log(1);",  # return outside a function
        "break;\nconsole.log(1);",  # break outside a loop
        "function f(x, x) {\n  return x;\n}\nconsole.log(f(1, 2));",  # duplicate parameter
        "let x = 1;",  # never prints
    ],
)
def test_invalid_programs_are_refused(src: str) -> None:
    tok = Tokenizer.for_task(TASKS[0])
    g = Grammar(tok)
    ids = tok.encode(src) + [tok.eos]
    assert tok.unk not in ids
    _, ok = g.trace(ids, 80)
    assert not ok


INPUT_TASK = SimpleNamespace(
    required_numbers=[], required_strings=["even", "odd"], description="", valid_patterns=[],
    tests=[SimpleNamespace(inputs={"n": 4, "nums": [1, 2]})],
)  # fmt: skip


@needs_node
def test_input_names_are_read_from_the_first_token() -> None:
    tok = Tokenizer.for_task(INPUT_TASK)
    assert tok.input_names == ("n", "nums") and "nums" in tok.index
    g = Grammar(tok)
    assert {tok.tokens[i] for i in g.input_ids} == {"n", "nums"}
    # readable and assignable at once; never redeclared at the top level
    for src, ok in [("console.log(nums[0] + n);", True), ("n += 1;\nconsole.log(n);", True),
                    ("let n = 2;\nconsole.log(n);", False),
                    ("if (n > 1) {\n  let n = 2;\n  console.log(n);\n}", True)]:  # fmt: skip
        ids = tok.encode(src) + [tok.eos]
        assert tok.unk not in ids
        assert g.trace(ids, 60)[1] is ok, src
    sources = [tok.decode(ids) for ids in sample(g, 3000, 30, seed=3)]
    assert node_syntax_errors(sources) == []
    assert sum("nums" in s for s in sources) > 300 and sum(" n" in s for s in sources) > 300
    cases = [{"n": 4, "nums": [1, 2]}, {"n": -3, "nums": [5]}]
    with JSRunner(SandboxConfig(workers=2, timeout=0.02)) as js:
        grid = js.run_cases(sources, cases)
    bad = [(src, r.error) for src, row in zip(sources, grid, strict=True) for r in row
           if r.error.startswith(("SyntaxError", "ReferenceError"))]  # fmt: skip
    assert bad == []

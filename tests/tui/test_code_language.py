"""Code panes highlight the task's language: the snapshot carries it from the engine (and over
`attach`), the dashboard's live and best panes pass it to `CodeView`."""

from __future__ import annotations

import json
import threading
import time

import pytest

from altlas_tui.app import AltlasApp
from altlas_tui.attach import RemoteEngine, SnapshotServer, connect
from altlas_tui.widgets.code_view import CodeView
from engine.config import Config
from engine.control import Control
from engine.snapshot import Snapshot, snapshot_from_dict, snapshot_to_dict

from .conftest import wait_for
from .replay import ReplayEngine, real_snapshot

JS_LIVE = "const n = 5;\nconsole.log(n + 3);"
JS_BEST = "let x = 5;\nfunction f(a) {\n  return a;\n}\nconsole.log(f(x) + 3);"


def _style_of(view: CodeView, word: str) -> set[str]:
    """The styles the pane gives the first occurrence of `word` (line numbers included in the
    offsets, as rendered)."""
    content = view.content
    start = content.plain.index(word)
    end = start + len(word)
    return {str(s.style) for s in content.spans if s.start <= start and s.end >= end}


def _app(snap: Snapshot) -> AltlasApp:
    config = Config()
    config.ui.theme, config.ui.fps, config.ui.keys = "altlas-dark", 8, {}
    return AltlasApp(
        config,
        snap.task_name,
        engine_factory=lambda config, task, on_event=None, **kw: ReplayEngine(snap, on_event),
        persist_theme_choice=False,
    )


@pytest.mark.parametrize(("language", "keyword_style"), [("javascript", True), ("python", False)])
async def test_dashboard_panes_highlight_the_snapshot_language(language, keyword_style):
    # `const`/`let`/`function` are keywords in JavaScript, plain names in Python: the same code
    # shows them in the keyword colour only when the snapshot says javascript
    snap = real_snapshot(
        task_name="js_add_two_numbers", language=language, last_code=JS_LIVE, best_code=JS_BEST,
        solution=None,
    )  # fmt: skip
    app = _app(snap)
    async with app.run_test(size=(120, 36)) as pilot:
        live = app.screen.query_one("#live-code", CodeView)
        best = app.screen.query_one("#best-code", CodeView)
        await wait_for(pilot, lambda: live.code == JS_LIVE and best.code == JS_BEST)
        assert live.language == best.language == language
        for view, word in ((live, "const"), (best, "let"), (best, "function")):
            assert ("$text-accent" in _style_of(view, word)) is keyword_style, (view.id, word)


async def test_code_view_rerenders_when_only_the_language_changes():
    from textual.app import App, ComposeResult

    class One(App):
        def compose(self) -> ComposeResult:
            yield CodeView()

    app = One()
    async with app.run_test() as pilot:
        view = app.query_one(CodeView)
        view.show(JS_LIVE, "python")
        await pilot.pause()
        assert "$text-accent" not in _style_of(view, "const")
        view.show(JS_LIVE, "javascript")
        await pilot.pause()
        assert "$text-accent" in _style_of(view, "const")


def test_snapshot_language_survives_serialisation_and_defaults_to_python():
    snap = Snapshot(task_name="js_add_two_numbers", language="javascript", last_code=JS_LIVE)
    data = json.loads(json.dumps(snapshot_to_dict(snap)))
    assert snapshot_from_dict(data).language == "javascript"
    del data["language"]  # an older engine's snapshot
    assert snapshot_from_dict(data).language == "python"


def test_attached_viewer_gets_the_language(tmp_path):
    class Source:
        snapshot = Snapshot(task_name="js_add_two_numbers", status="running", attempts=32,
                            language="javascript", last_code=JS_LIVE)  # fmt: skip
        on_event = None

    path = tmp_path / "s.sock"
    server = SnapshotServer(path, Source(), Control())
    server.start()
    try:
        remote = RemoteEngine(connect(steer=False, path=path))
        control = Control()
        thread = threading.Thread(target=remote.run, args=(control,), daemon=True)
        thread.start()
        end = time.monotonic() + 5
        while remote.snapshot.attempts != 32 and time.monotonic() < end:
            time.sleep(0.01)
        assert remote.snapshot.language == "javascript"
        assert remote.snapshot.last_code == JS_LIVE
        control.stop()
        thread.join(5)
    finally:
        server.close()


def test_engine_snapshots_name_the_task_language():
    from engine.controller import Engine
    from engine.languages.javascript import find_node

    assert Engine(Config(), "add_two_numbers").snapshot.language == "python"
    if find_node() is None:
        pytest.skip("node is not installed")
    engine = Engine(Config(), "js_add_two_numbers")
    assert engine.snapshot.language == "javascript"
    config = Config()
    config.train.batch_size = 16
    engine = Engine(config, "js_add_two_numbers")
    engine.run(Control(), max_attempts=16)
    assert engine.snapshot.language == "javascript" and engine.snapshot.attempts >= 16

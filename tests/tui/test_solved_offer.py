"""After a solve: the engine holds the task, every screen offers the next unsolved task."""

from __future__ import annotations

import pytest

from altlas_tui.app import AltlasApp
from altlas_tui.attach import RemoteEngine, SnapshotServer, connect
from altlas_tui.fake_engine import SOLVE_BATCH, FakeEngine
from altlas_tui.offer import next_unsolved
from altlas_tui.screens import tasks
from altlas_tui.widgets.offer_bar import OfferBar
from altlas_tui.widgets.run_indicator import RunIndicator
from engine.config import Config
from engine.control import Control
from engine.snapshot import Snapshot

from .conftest import SIZE, wait_for

ROWS = [
    tasks.TaskRow("add_two_numbers", difficulty="beginner"),
    tasks.TaskRow("hard_one", difficulty="advanced"),
    tasks.TaskRow("basic_loop", difficulty="intermediate"),
    tasks.TaskRow("concatenate_strings", difficulty="beginner"),
    tasks.TaskRow("js_add", difficulty="beginner", language="javascript"),
]


@pytest.fixture
def catalogue(monkeypatch):
    """The fake's tasks and a run history in which concatenate_strings was solved."""
    history = {"concatenate_strings": (1.0, True), "basic_loop": (0.6, False)}
    monkeypatch.setattr(tasks, "available_tasks", lambda task_file=None: ROWS)
    monkeypatch.setattr(tasks, "history_best", lambda: history)
    return history


def bar_text(app: AltlasApp) -> str:
    bar = app.screen.query_one(OfferBar)
    return str(bar.render()) if bar.display else ""


async def held(pilot, app: AltlasApp) -> None:
    await wait_for(pilot, lambda: app.offers.offer is not None, timeout=10)
    await pilot.pause(0.05)


def test_next_unsolved_goes_easiest_first_same_language_and_wraps():
    assert next_unsolved("add_two_numbers", ROWS, set()) == "concatenate_strings"
    assert next_unsolved("add_two_numbers", ROWS, {"concatenate_strings"}) == "basic_loop"
    # after the hardest one it wraps round to the unsolved easy ones
    assert next_unsolved("hard_one", ROWS, {"add_two_numbers"}) == "concatenate_strings"
    # never another language (the engine cannot switch a run's language)
    assert next_unsolved("js_add", ROWS, set()) is None
    everything = {r.name for r in ROWS}
    assert next_unsolved("add_two_numbers", ROWS, everything) is None


async def test_a_solve_holds_the_task_and_n_starts_the_next_unsolved(harness, catalogue):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, app)
        engine = harness.engine
        assert engine.held and app.bridge.snapshot.training_stopped
        text = bar_text(app)
        # concatenate_strings is solved in the history: the next unsolved is basic_loop
        assert "Solved add_two_numbers in 1,920 attempts" in text and "basic_loop" in text
        assert "n start next unsolved" in text and "k keep training" in text
        await wait_for(pilot, lambda: "IDLE" in str(app.screen.query_one(RunIndicator).render()))
        live = app.screen.query_one("#live-panel")
        assert not live.display  # the stale attempt gives its room to the solution
        assert "Solution" in str(app.screen.query_one("#best-panel").border_title)
        await pilot.pause(0.2)
        assert engine.batch == SOLVE_BATCH  # not training: the live pane does not pretend
        await pilot.press("n")
        await wait_for(pilot, lambda: engine.task_name == "basic_loop")
        await wait_for(pilot, lambda: engine.batch > 3)
        assert app.offers.offer is None and not bar_text(app)
        assert app.bridge.snapshot.status == "running"


async def test_k_keeps_training_the_solved_task(harness, catalogue):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, app)
        await pilot.press("k")
        engine = harness.engine
        await wait_for(pilot, lambda: engine.batch > SOLVE_BATCH + 5)
        assert engine.task_name == "add_two_numbers" and engine.state.keep_training
        assert any(c.kind == "keep_training" for c in engine.commands)
        assert app.offers.offer is None and not bar_text(app)
        await wait_for(pilot, lambda: "RUNNING" in str(app.screen.query_one(RunIndicator).render()))


async def test_escape_stays_on_the_solved_task_and_the_offer_does_not_come_back(harness, catalogue):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.offers.offer is None)
        await pilot.pause(0.3)  # several snapshots of the same held solve
        assert app.offers.offer is None and not bar_text(app)
        engine = harness.engine
        assert engine.held and engine.batch == SOLVE_BATCH and engine.task_name == "add_two_numbers"
        await pilot.press("n")  # no offer: n is not bound to anything, nothing happens
        await pilot.pause(0.1)
        assert engine.task_name == "add_two_numbers"
        await pilot.press("space")  # training on is still one key away
        await wait_for(pilot, lambda: engine.batch > SOLVE_BATCH)


async def test_the_offer_shows_on_every_screen_and_says_when_all_are_solved(harness, catalogue):
    catalogue.update({name: (1.0, True) for name in ("basic_loop", "hard_one")})
    app = harness.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await held(pilot, app)
        assert "no unsolved task left" in bar_text(app)
        await pilot.press("5")
        await wait_for(pilot, lambda: app.current_mode == "tasks")
        await wait_for(pilot, lambda: "no unsolved task left" in bar_text(app))
        table = app.screen.query_one("#task-table")
        # solved in this session (the history does not say so yet: the run is still open)
        await wait_for(pilot, lambda: "1.000 ✔" in str(table.get_row("add_two_numbers")[2]))
        await pilot.press("n")  # nothing to start
        await pilot.pause(0.1)
        assert harness.engine.task_name == "add_two_numbers"


async def test_the_palette_offers_the_same_choices_while_held(harness, catalogue):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Keep training" not in titles  # nothing to choose yet
        await held(pilot, app)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "(k)" in commands["Keep training"].help
        commands["Start basic_loop"].callback()
        await wait_for(pilot, lambda: harness.engine.task_name == "basic_loop")


async def test_keep_training_in_the_config_never_holds(harness, catalogue):
    config = Config()
    config.search.keep_training_after_solve = True
    app = harness.app(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: harness.engine.batch > SOLVE_BATCH + 5, timeout=10)
        assert app.offers.offer is None and not harness.engine.held


async def test_switching_back_to_a_solved_task_offers_again(harness, catalogue):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, app)
        await pilot.press("n")
        engine = harness.engine
        await wait_for(pilot, lambda: engine.task_name == "basic_loop")
        app.switch_task("add_two_numbers")
        await wait_for(pilot, lambda: engine.task_name == "add_two_numbers")
        await held(pilot, app)
        assert "basic_loop" in bar_text(app)


# -- over attach: a steering viewer chooses, a read-only one only sees ----------------------
HELD = Snapshot(task_name="add_two_numbers", status="solved", attempts=6144, batch=48,
                attempts_to_solve=6100, solution="print(5 + 3)", training_stopped=True,
                best_score=1.0)  # fmt: skip


class Source:
    def __init__(self) -> None:
        self.snapshot = HELD
        self.on_event = None


@pytest.fixture
def served(tmp_path):
    source, control = Source(), Control()
    server = SnapshotServer(tmp_path / "s.sock", source, control)
    source.on_event = server.publish_event
    server.start()
    yield tmp_path / "s.sock", control
    server.close()


def viewer(path, steer: bool) -> AltlasApp:
    conn = connect(steer=steer, path=path)
    app = AltlasApp(
        Config(),
        "add_two_numbers",
        engine_factory=lambda config, task, on_event=None, **kw: RemoteEngine(
            conn, on_event, read_only=not steer
        ),
        persist_theme_choice=False,
    )
    app.attached = True
    return app


async def test_a_steering_viewer_gets_the_offer_and_k_reaches_the_run(served, catalogue):
    path, control = served
    app = viewer(path, steer=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await held(pilot, app)
        assert "basic_loop" in bar_text(app) and "keep training" in bar_text(app)
        assert "print(5 + 3)" in str(app.screen.query_one("#best-code").render())
        await pilot.press("k")
        await wait_for(pilot, lambda: any(c.kind == "keep_training" for c in control.drain()))


async def test_a_read_only_viewer_sees_the_solve_but_cannot_start_a_task(served, catalogue):
    path, control = served
    app = viewer(path, steer=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await held(pilot, app)
        text = bar_text(app)
        assert "Solved add_two_numbers" in text and "read-only" in text
        assert "start next" not in text and "keep training" not in text
        await pilot.press("n", "k")
        await pilot.pause(0.3)
        assert control.drain() == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: not bar_text(app))


def test_the_fake_holds_like_the_real_engine():
    fake = FakeEngine(Config(), "add_two_numbers")
    control = Control()
    import threading

    t = threading.Thread(target=fake.run, args=(control,), kwargs={"max_attempts": None})
    fake.step_delay = 0.001
    t.start()
    try:
        import time

        deadline = time.monotonic() + 10
        while not fake.held:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert fake.snapshot.status == "solved" and fake.snapshot.training_stopped
        assert fake.snapshot.attempts_per_second == 0.0
    finally:
        control.stop()
        t.join(10)

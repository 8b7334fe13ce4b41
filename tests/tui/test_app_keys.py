"""Pilot tests: every key of the TUI against the deterministic fake engine."""

from __future__ import annotations

import logging

from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.screens.confirm import ConfirmScreen
from altlas_tui.screens.error import ErrorScreen
from altlas_tui.screens.help import HelpScreen
from altlas_tui.screens.log import LogScreen
from altlas_tui.widgets.keyed_table import KeyedTable
from altlas_tui.widgets.level_log import LevelLog
from altlas_tui.widgets.run_indicator import RunIndicator
from engine.config import Config

from .conftest import SIZE, wait_for


def indicator(app) -> RunIndicator:
    return app.screen.query_one(RunIndicator)


async def started(pilot, app) -> None:
    await wait_for(
        pilot, lambda: app.bridge.snapshot.status == "running" and app.bridge.snapshot.batch > 2
    )


async def test_pause_and_resume_with_p_and_space(harness):
    app = harness.app(task="basic_loop")  # never solved by the fake: status stays running
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        app.action_toggle_pause()  # what p does; the indicator shows it before the engine confirms
        assert indicator(app).pending == "pausing"
        await wait_for(pilot, lambda: indicator(app).status == "paused")
        await pilot.press("p")
        await wait_for(pilot, lambda: indicator(app).status == "running")
        await pilot.press("p")
        await wait_for(pilot, lambda: indicator(app).status == "paused")
        assert "PAUSED" in str(indicator(app).render())
        assert harness.engine.paused
        frozen_at = app.bridge.snapshot.batch
        await pilot.pause(0.2)
        assert app.bridge.snapshot.batch == frozen_at  # pause stops the counter
        await pilot.press("space")
        await wait_for(pilot, lambda: indicator(app).status == "running")
        await wait_for(pilot, lambda: app.bridge.snapshot.batch > frozen_at)
        assert "RUNNING" in str(indicator(app).render())


async def test_h_forces_a_hint_and_the_hints_screen_lists_it(harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("h")
        await wait_for(pilot, lambda: app.bridge.snapshot.hints_forced == 1)
        assert app.bridge.snapshot.hints_provided == 1
        assert any(ev.kind == "hint" for ev in app.events_seen)
        await pilot.press("4")
        await wait_for(pilot, lambda: app.current_mode == "hints")
        table = app.screen.query_one("#hint-table", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        assert str(table.get_row("1")[2]) == "forced"


async def test_r_asks_to_confirm_before_reinit(harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.1)
        assert harness.engine.state.reinits == 0
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: harness.engine.state.reinits == 1)
        await wait_for(pilot, lambda: any(ev.kind == "reinit" for ev in app.events_seen))
        assert [c.kind for c in harness.engine.commands].count("reinit") == 1
        await wait_for(pilot, lambda: indicator(app).pending == "")  # "reinitialising" is gone


async def test_t_opens_the_task_picker_and_enter_switches_task(harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("t")
        await wait_for(pilot, lambda: app.current_mode == "tasks")
        table = app.screen.query_one("#task-table", KeyedTable)
        await wait_for(pilot, lambda: table.row_count >= 2)
        names = [str(row.key.value) for row in table.ordered_rows]
        assert "add_two_numbers" in names and "basic_loop" in names
        table.move_cursor(row=names.index("basic_loop"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bridge.snapshot.task_name == "basic_loop")
        assert harness.engine.task_name == "basic_loop"
        await wait_for(pilot, lambda: any(ev.kind == "task_switched" for ev in app.events_seen))
        await wait_for(pilot, lambda: "▶" in str(table.get_row("basic_loop")[3]))
        await wait_for(pilot, lambda: indicator(app).pending == "")
        # the earlier task keeps its best score in the table
        assert str(table.get_row("add_two_numbers")[2]) != "—"


async def test_s_saves_a_checkpoint_and_shows_the_event(harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("s")
        await wait_for(pilot, lambda: any(ev.kind == "checkpoint_saved" for ev in app.events_seen))
        assert harness.engine.saves == 1
        assert any("checkpoint saved" in text for _, text in app.log_lines)
        await wait_for(pilot, lambda: "checkpoint" in str(app.screen.query_one("#events").render()))


async def test_number_keys_switch_screens(harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        for key, mode in zip(
            "234561", ["tokens", "model", "hints", "tasks", "log", "dashboard"], strict=True
        ):
            await pilot.press(key)
            await wait_for(pilot, lambda m=mode: app.current_mode == m)
            assert isinstance(app.screen, SnapshotScreen)
            await wait_for(pilot, lambda: app.screen.applied > 0)
        await pilot.press("7")
        await wait_for(pilot, lambda: app.current_mode == "sweeps")
        await wait_for(pilot, lambda: app.screen.refreshes > 0)  # read the (empty) run store


async def test_question_mark_shows_help_with_current_keys(harness):
    config = Config()
    config.ui.keys = {"hint": "g"}
    app = harness.app(config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = dict((desc, keys) for keys, desc in app.screen.rows)
        assert rows["Give the learner a hint now"] == "g"
        assert rows["Pause or resume training"] == "space, p"
        assert rows["Quit (stops the engine, saves state)"] == "q"
        assert rows["Quit (stops the engine, saves state, exit code 130)"] == "^c"
        assert rows["Screen: Log"] == "6"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_q_stops_and_joins_the_engine(harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    engine = harness.engine
    assert engine.stopped and not engine.running
    assert engine.saves >= 1  # the engine saved its state on stop
    assert app.return_code == 0
    assert app.bridge.stop_and_join(timeout=5)
    summary = app.bridge.summary()
    assert summary is not None and summary.task == "add_two_numbers" and summary.attempts > 0


async def test_ctrl_c_quits_the_same_way(harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert harness.engine.stopped and harness.engine.saves >= 1
    assert app.return_code == 130  # interrupted, like every other command
    assert app.bridge.control.stop_reason == "interrupted"


async def test_keys_are_rebindable_from_config(harness):
    config = Config()
    config.ui.keys = {"pause": "x", "screen_log": "0"}
    app = harness.app(config, task="basic_loop")  # never solved, so never held by the fake
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("p")
        await pilot.pause(0.15)
        assert not harness.engine.paused  # p is no longer bound
        await pilot.press("x")
        await wait_for(pilot, lambda: harness.engine.paused)
        footer_keys = {k.key for k in app.screen.query("FooterKey")}
        assert "x" in footer_keys and "space" not in footer_keys  # the footer shows the new key
        await pilot.press("0")
        await wait_for(pilot, lambda: app.current_mode == "log")


async def test_unknown_binding_id_in_config_is_reported_not_fatal(harness):
    config = Config()
    config.ui.keys = {"no_such_binding": "z"}
    app = harness.app(config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        assert any("no_such_binding" in str(n.message) for n in app._notifications)


async def test_engine_error_shows_error_screen_and_app_stays_alive(harness):
    app = harness.app(fail_at=5)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert "fake engine failure" in app.screen.message
        assert app.is_running
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ErrorScreen))
        await wait_for(pilot, lambda: any("engine failed" in text for _, text in app.log_lines))
        assert app.screen.query_one("RunIndicator").status == "error"  # the header says so
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert app.return_code == 1


async def test_q_quits_from_the_error_dialog_itself(harness):
    app = harness.app(fail_at=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert app.return_code == 1


async def test_log_screen_filters_by_level(harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        logging.getLogger("altlas.test").info("an info line")
        logging.getLogger("altlas.test").warning("a warning line")
        await pilot.press("6")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        log = app.screen.query_one(LevelLog)
        await wait_for(pilot, lambda: any("a warning line" in t for _, t in app.log_lines))
        await pilot.pause(0.05)
        text = "\n".join(strip.text for strip in log.lines)
        assert "an info line" in text and "a warning line" in text
        app.screen.set_level(logging.WARNING)
        await wait_for(pilot, lambda: log.min_level == logging.WARNING)
        await pilot.pause(0.05)
        text = "\n".join(strip.text for strip in log.lines)
        assert "a warning line" in text and "an info line" not in text
        await pilot.press("l")  # cycles to error
        await wait_for(pilot, lambda: log.min_level == logging.ERROR)


async def test_hidden_screens_do_not_update(harness):
    app = harness.app(task="basic_loop")  # trains on: add_two_numbers is held at its solve
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        dashboard = app.screen
        await pilot.press("2")
        await wait_for(pilot, lambda: app.current_mode == "tokens")
        applied = dashboard.applied
        before = app.bridge.snapshot.batch
        await wait_for(pilot, lambda: app.bridge.snapshot.batch > before + 5)
        assert dashboard.applied == applied  # its timer is paused while hidden
        assert app.screen.applied > 0


async def test_low_bandwidth_model_screen_has_no_plots(harness):
    from textual_plotext import PlotextPlot

    config = Config()
    config.ui.low_bandwidth = True
    app = harness.app(config)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("3")
        await wait_for(pilot, lambda: app.current_mode == "model")
        assert not app.screen.query(PlotextPlot)
        assert app.screen.query("#spark-loss")
        assert app.animation_level == "none"


async def test_engine_text_that_looks_like_markup_is_shown_as_text(harness):
    from altlas_tui.messages import EngineEvent
    from engine.events import Event

    app = harness.app(task="[b]odd[/x]")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        app.post_message(EngineEvent(Event("hint", "forced hint: print([x][/]", {})))
        app.post_message(EngineEvent(Event("warning", "[/bad] markup", {})))
        for key in "2451":
            await pilot.press(key)
        await pilot.pause(0.2)
        info = str(app.screen.query_one("#sb-info").render())
        assert "[b]odd[/x]" in info
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert app.return_code == 0


async def test_palette_has_no_duplicates_shows_keys_and_screenshots_to_the_data_dir(
    harness, tmp_path, monkeypatch
):
    monkeypatch.setenv("ALTLAS_HOME", str(tmp_path))
    config = Config()
    config.ui.keys = {"hint": "g"}
    app = harness.app(config)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        commands = list(app.get_system_commands(app.screen))
        titles = [c.title for c in commands]
        assert len(titles) == len(set(titles)) and "Keys" not in titles
        hint = next(c for c in commands if c.title == "Force a hint")
        assert "(g)" in hint.help  # the entry shows its (rebound) key
        next(c for c in commands if c.title == "Screenshot").callback()
        await wait_for(pilot, lambda: list((tmp_path / "data" / "screenshots").glob("*.svg")))
        await wait_for(
            pilot, lambda: any(str(n.message).startswith("saved ") for n in app._notifications)
        )

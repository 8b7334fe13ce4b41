"""At 80x24 every screen stays usable: footer keys on screen, header essentials, help scrolls."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from altlas_tui.screens.help import HelpScreen
from altlas_tui.widgets.status_bar import StatusBar

from .conftest import wait_for
from .test_snapshots import SCREENS, replay_app


@pytest.mark.parametrize(("key", "mode"), SCREENS, ids=[m for _, m in SCREENS])
async def test_footer_and_header_fit_80x24(key, mode):
    app = replay_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.bridge.snapshot.status == "running")
        if key:
            await pilot.press(key)
        await wait_for(pilot, lambda: app.current_mode == mode)
        footer_keys = {k.key: k for k in app.screen.query("FooterKey")}
        for needed in ("question_mark", "q"):
            assert needed in footer_keys, sorted(footer_keys)
            region = footer_keys[needed].region
            assert region.right <= 80 and region.width > 0, (needed, region)
        if mode == "sweeps":  # the run store's screen has its own title line
            return
        bar = app.screen.query_one(StatusBar)
        await wait_for(pilot, lambda: bar._info != "")
        await pilot.pause(0.1)
        info = bar._info
        assert "add_two_numbers" in info and "att" in info and "best" in info, info
        indicator = bar.indicator
        assert indicator.region.right <= 80 and "RUNNING" in str(indicator.render())


async def test_help_scrolls_to_its_last_line_at_80x24():
    app = replay_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.bridge.snapshot.status == "running")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        dialog = app.screen.query_one("#help-dialog")
        await pilot.pause(0.1)
        assert dialog.max_scroll_y > 0  # it does not fit: it must scroll
        await pilot.press("end")
        await wait_for(pilot, lambda: dialog.scroll_y == dialog.max_scroll_y)
        foot = app.screen.query_one("#help-foot", Static)
        assert dialog.region.contains_region(foot.region) or foot.region.bottom <= 24
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))

"""Theme files: shipped themes load, bad files are reported and skipped, the choice persists."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from altlas_tui.themes import (
    config_dir,
    load_theme_file,
    load_themes,
    parse_theme,
    persist_theme,
    set_ui_theme_text,
)
from engine.errors import InputError
from engine.resources import shipped_dir

from .conftest import SIZE, wait_for


def test_shipped_themes_are_valid_and_include_altlas_dark():
    themes, errors = load_themes([shipped_dir("themes", package="altlas_tui")])
    assert not errors
    names = {t.name for t in themes}
    assert {"altlas-dark", "altlas-light"} <= names
    assert len(names) >= 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"primary": "#fff"}, "name"),
        ({"name": "x y", "primary": "#fff"}, "name"),
        ({"name": "x"}, "primary"),
        ({"name": "x", "primary": "not-a-colour"}, "primary"),
        ({"name": "x", "primary": "#fff", "dark": "yes"}, "dark"),
        ({"name": "x", "primary": "#fff", "colour": "#000"}, "colour"),
        ({"name": "x", "primary": "#fff", "variables": {"a": 1}}, "variables"),
    ],
)
def test_bad_theme_fields_name_the_file_and_field(data, field):
    with pytest.raises(InputError) as exc:
        parse_theme(data, "my.toml")
    assert exc.value.path == "my.toml" and exc.value.field == field


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(InputError, match="broken.toml"):
        load_theme_file(path)


def test_set_ui_theme_text_keeps_everything_else():
    text = '# my settings\n[train]\nlr = 0.01  # fast\n\n[ui]\nfps = 8\ntheme = "old"\n\n[ui.keys]\npause = "x"\n'
    new = set_ui_theme_text(text, "altlas-light")
    data = tomllib.loads(new)
    assert data["ui"]["theme"] == "altlas-light" and data["ui"]["fps"] == 8
    assert data["ui"]["keys"] == {"pause": "x"} and data["train"]["lr"] == 0.01
    assert "# my settings" in new and "# fast" in new
    added = tomllib.loads(set_ui_theme_text("[train]\nlr = 0.01\n", "t"))
    assert added == {"train": {"lr": 0.01}, "ui": {"theme": "t"}}
    assert tomllib.loads(set_ui_theme_text("", "t")) == {"ui": {"theme": "t"}}
    inserted = tomllib.loads(set_ui_theme_text("[ui]\nfps = 2\n[hints]\nenabled = false\n", "t"))
    assert inserted["ui"] == {"fps": 2, "theme": "t"} and inserted["hints"] == {"enabled": False}


def test_set_ui_theme_text_handles_every_ui_layout():
    inline = set_ui_theme_text('ui = { theme = "x", fps = 2 }\n', "t")
    assert inline == 'ui = { theme = "t", fps = 2 }\n'
    dotted = set_ui_theme_text('ui.theme = "a"\nui.fps = 3  # keep\n', "t")
    assert dotted == 'ui.theme = "t"\nui.fps = 3  # keep\n'
    sub_only = set_ui_theme_text('[ui.keys]\npause = "x"\n', "t")
    assert tomllib.loads(sub_only)["ui"] == {"theme": "t", "keys": {"pause": "x"}}
    quoted = set_ui_theme_text("", 'we"ird\\name')
    assert tomllib.loads(quoted)["ui"]["theme"] == 'we"ird\\name'
    with pytest.raises(ValueError, match="ui is a"):
        set_ui_theme_text('ui = "dark"\n', "t")
    with pytest.raises(ValueError, match="not valid TOML"):
        set_ui_theme_text("[ui\n", "t")


def test_persist_theme_writes_atomically_and_refuses_what_it_cannot_edit(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    persist_theme("altlas-light", path)
    assert tomllib.loads(path.read_text()) == {"ui": {"theme": "altlas-light"}}
    for text in ('ui = "dark"\n', "[ui\ntheme = 1\n"):
        odd = tmp_path / "odd.toml"
        odd.write_text(text)
        with pytest.raises(InputError, match="odd.toml: ui.theme: cannot update the theme"):
            persist_theme("altlas-light", odd)
        assert odd.read_text() == text  # untouched
    # a failed write leaves the old file whole and no temp file behind
    import engine.store.atomic as atomic

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(InputError, match="cannot write: disk full"):
        persist_theme("altlas-dark", path)
    assert tomllib.loads(path.read_text()) == {"ui": {"theme": "altlas-light"}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "odd.toml"]


def test_config_dir_is_under_altlas_home():
    assert config_dir() == Path(os.environ["ALTLAS_HOME"]).absolute() / "config"


async def test_app_registers_themes_skips_bad_files_and_persists_the_choice(harness):
    user_themes = config_dir() / "themes"
    user_themes.mkdir(parents=True)
    (user_themes / "mine.json").write_text('{"name": "mine", "primary": "#123456"}')
    (user_themes / "bad.toml").write_text('name = "bad"\nprimary = "nope"\n')
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:

        def messages() -> list[str]:
            return [str(n.message) for n in app._notifications]

        await wait_for(pilot, lambda: any("bad.toml" in m for m in messages()))
        assert app.theme == "altlas-dark"
        assert {"altlas-dark", "altlas-light", "mine", "textual-dark"} <= set(app.available_themes)
        assert "bad" not in app.available_themes
        assert any("bad.toml" in m and "primary" in m for m in messages())
        config_file = config_dir() / "config.toml"
        assert not config_file.exists()  # starting up writes nothing
        app.theme = "altlas-light"  # what the palette's theme picker does
        await wait_for(pilot, lambda: config_file.exists())
        assert tomllib.loads(config_file.read_text())["ui"]["theme"] == "altlas-light"
        assert app.config.ui.theme == "altlas-light"


async def test_unknown_configured_theme_falls_back_with_a_notice(harness):
    from engine.config import Config

    config = Config()
    config.ui.theme = "no-such-theme"
    app = harness.app(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("no-such-theme" in str(n.message)
                                          for n in app._notifications))  # fmt: skip
        assert app.theme == "altlas-dark"

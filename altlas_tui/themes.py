"""Theme data files: load Textual `Theme`s from TOML/JSON, and persist the chosen theme name.

Shipped themes live in `themes/` (in the wheel: `altlas_tui/_data/themes`), user themes in
`<config dir>/themes`. A theme file holds the fields of `textual.theme.Theme` at top level
(`name`, `primary`, ... , `dark`) and an optional `[variables]` table. The chosen theme is written
back to `<config dir>/config.toml` as `[ui] theme = "..."` through tomlkit, which keeps every
other key, comment and the layout (tables, inline tables, dotted keys) as the person wrote it,
and replaced atomically (engine/store/atomic.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from textual.color import Color, ColorParseError
from textual.theme import Theme

from engine.errors import InputError
from engine.resources import shipped_dir
from engine.store.atomic import atomic_write_text
from engine.store.paths import paths

_COLOUR_FIELDS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)  # fmt: skip
_THEME_FIELDS = {f.name for f in fields(Theme)}


def config_dir() -> Path:
    """The config folder of `engine.store.paths` (`$ALTLAS_HOME/config` or the platform's)."""
    return paths(create=False).config


def theme_dirs() -> list[Path]:
    """Where themes are read from, shipped first so a user file of the same name wins."""
    return [shipped_dir("themes", package="altlas_tui"), config_dir() / "themes"]


def parse_theme(data: Any, where: str) -> Theme:
    """Validate a theme mapping and build a `Theme`; `InputError` names the file and field."""
    if not isinstance(data, dict):
        raise InputError("expected a table of theme fields", where)
    unknown = sorted(set(data) - _THEME_FIELDS)
    if unknown:
        raise InputError(
            f"unknown field (known: {', '.join(sorted(_THEME_FIELDS))})", where, unknown[0]
        )
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise InputError("expected a name of letters, digits, '-', '_' or '.'", where, "name")
    if "primary" not in data:
        raise InputError("missing (a colour such as '#0178D4')", where, "primary")
    for key in _COLOUR_FIELDS:
        if key in data:
            value = data[key]
            try:
                if not isinstance(value, str):
                    raise ColorParseError("not a string")
                Color.parse(value)
            except ColorParseError:
                raise InputError(f"expected a colour, got {value!r}", where, key) from None
    for key in ("dark", "ansi"):
        if key in data and not isinstance(data[key], bool):
            raise InputError("expected true or false", where, key)
    for key in ("luminosity_spread", "text_alpha"):
        if key in data and (
            not isinstance(data[key], (int, float))
            or isinstance(data[key], bool)
            or not 0 <= data[key] <= 1
        ):
            raise InputError("expected a number between 0 and 1", where, key)
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise InputError("expected a table of strings", where, "variables")
    return Theme(**{**data, "variables": {str(k): v for k, v in variables.items()}})


def load_theme_file(path: Path) -> Theme:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", where) from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"invalid {path.suffix[1:].upper()}: {exc}", where) from None
    return parse_theme(data, where)


def load_themes(dirs: list[Path] | None = None) -> tuple[list[Theme], list[InputError]]:
    """Every valid theme file in `dirs` (later dirs override earlier ones), and the errors."""
    themes: dict[str, Theme] = {}
    errors: list[InputError] = []
    for folder in theme_dirs() if dirs is None else dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".toml", ".json") or not path.is_file():
                continue
            try:
                theme = load_theme_file(path)
            except InputError as exc:
                errors.append(exc)
                continue
            themes[theme.name] = theme
    return list(themes.values()), errors


def set_ui_theme_text(text: str, theme: str) -> str:
    """`text` (a config.toml) with `ui.theme` set to `theme`; everything else kept as written.

    ValueError if `text` is not TOML or `ui` is not a table.
    """
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    ui = doc.get("ui")
    if ui is None:
        table = tomlkit.table()
        table["theme"] = theme
        doc["ui"] = table
    elif isinstance(ui, dict):  # a [ui] table, an inline table or dotted ui.* keys
        ui["theme"] = theme
    else:
        raise ValueError(f"ui is a {type(ui).__name__}, expected a table")
    return tomlkit.dumps(doc)


def persist_theme(theme: str, path: Path | None = None) -> Path:
    """Write `[ui] theme` into the config file atomically; raises InputError if it cannot."""
    path = path or config_dir() / "config.toml"
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", str(path)) from None
    try:
        new = set_ui_theme_text(old, theme)
    except ValueError as exc:
        raise InputError(f"cannot update the theme: {exc}", str(path), "ui.theme") from None
    # the round trip must say exactly what we meant, or the file is left alone
    if tomllib.loads(new).get("ui", {}).get("theme") != theme:
        raise InputError("cannot update the theme; edit it by hand", str(path), "ui.theme")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write_text(path, new)
    except OSError as exc:
        raise InputError(f"cannot write: {exc}", str(path)) from None
    return path

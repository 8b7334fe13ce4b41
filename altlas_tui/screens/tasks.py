"""Tasks: every available task with its difficulty and best result; Enter switches the engine."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.widgets.keyed_table import KeyedTable
from engine.events import Event
from engine.snapshot import Snapshot

log = logging.getLogger("altlas.tui")


@dataclass(frozen=True)
class TaskRow:
    """What the Tasks screen shows about one task."""

    name: str
    description: str = ""
    difficulty: str = ""
    expected_output: str = ""
    language: str = "python"


def short_name(name: str) -> str:
    """Task names with or without the `benchmark_` prefix are the same task."""
    return name.removeprefix("benchmark_").removesuffix(".json")


def available_tasks(task_file: str | None = None) -> list[TaskRow]:
    """The engine's task catalogue (shipped, user folder, `--task-file`)."""
    try:
        from engine.tasks import list_tasks
    except ImportError:
        return _shipped_task_rows()
    try:
        try:
            tasks = list_tasks(extra_paths=[task_file] if task_file else ())
        except Exception:  # noqa: BLE001 - a bad --task-file must not hide the catalogue
            log.exception("listing tasks with %s failed", task_file)
            tasks = list_tasks()
    except Exception:  # noqa: BLE001 - a broken catalogue must not take the screen down
        log.exception("listing tasks failed")
        return _shipped_task_rows()
    return [
        TaskRow(
            name=short_name(str(getattr(t, "name", t))),
            description=str(getattr(t, "description", "") or ""),
            difficulty=str(getattr(t, "difficulty", "") or ""),
            expected_output=str(getattr(t, "expected_output", "") or ""),
            language=str(getattr(t, "target_language", "") or "python"),
        )
        for t in tasks
    ]


def _shipped_task_rows() -> list[TaskRow]:
    """Fallback without `engine.tasks`: read the shipped JSON files directly."""
    from engine.resources import shipped_dir

    rows: list[TaskRow] = []
    folder = shipped_dir("tasks")
    for path in sorted(folder.rglob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("target_language", "python") != "python":
            continue
        rows.append(
            TaskRow(
                short_name(path.stem),
                str(data.get("description", "")),
                str(data.get("difficulty", "")),
            )
        )
    return rows


def history_best() -> dict[str, tuple[float, bool]]:
    """Best score and solved flag per task from the run history (read-only, no lock)."""
    try:
        from engine.store import Store

        reader = Store(read_only=True)
    except Exception:  # noqa: BLE001 - no history is not an error
        return {}
    out: dict[str, tuple[float, bool]] = {}
    try:
        for run in reader.runs.list_runs():
            name = short_name(str(run.get("task") or ""))
            best = float(run.get("best_score") or 0.0)
            solved = bool(run.get("solved"))
            old_best, old_solved = out.get(name, (0.0, False))
            out[name] = (max(best, old_best), solved or old_solved)
    except Exception:  # noqa: BLE001
        log.exception("reading the run history failed")
    finally:
        reader.close()
    return out


class TasksScreen(SnapshotScreen):
    """Pick the task the engine works on; each task keeps its own saved progress."""

    SCREEN_TITLE = "Tasks"
    AUTO_FOCUS = "#task-table"

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[TaskRow] = []
        self.history: dict[str, tuple[float, bool]] = {}
        self._current = ""

    def compose_body(self) -> ComposeResult:
        with Vertical(id="tasks-panel", classes="panel") as p:
            p.border_title = "Tasks"
            yield KeyedTable(["Task", "Difficulty", "Best", "", "Description"], id="task-table")
            yield Static("↑/↓ choose · Enter switch the engine to the task", id="tasks-help")
        with Vertical(id="task-detail-panel", classes="panel") as p:
            p.border_title = "Selected task"
            yield Static("", id="task-detail")

    def on_mount(self) -> None:
        self.reload_tasks()
        super().on_mount()

    def reload_tasks(self) -> None:
        self.tasks = available_tasks(self.altlas.bridge.task_file)
        self._last = None
        self.load_history()

    @work(thread=True, exclusive=True, group="task-history", exit_on_error=False)
    def load_history(self) -> None:
        """Read best results from the run history off the UI thread, then show them once."""
        history = history_best()
        try:
            self.app.call_from_thread(self._set_history, history)
        except RuntimeError:  # the app closed meanwhile
            pass

    def _set_history(self, history: dict[str, tuple[float, bool]]) -> None:
        self.history = history
        self.poll(force=True)

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load_history()

    def best_text(self, name: str) -> str:
        session = self.altlas.best_by_task.get(name)
        past, solved = self.history.get(name, (None, False))
        solved = solved or name in self.altlas.offers.solved_here  # this session's solves too
        scores = [x for x in (session, past) if x is not None]
        if not scores:
            return "—"
        return f"{max(scores):.3f}" + (" ✔" if solved else "")

    def engine_event(self, event: Event) -> None:
        if event.kind == "task_switched":
            self.poll(force=True)

    def apply_snapshot(self, snap: Snapshot) -> None:
        current = short_name(snap.task_name)
        rows = list(self.tasks)
        if current and current not in {t.name for t in rows}:
            rows.append(TaskRow(current, snap.task_description))
        table = self.query_one("#task-table", KeyedTable)
        table.sync(
            [
                (
                    t.name,
                    (
                        t.difficulty or "—",
                        self.best_text(t.name),
                        "▶ running" if t.name == current else "",
                        t.description,
                    ),
                )
                for t in rows
            ]
        )
        if current != self._current:
            self._current = current
            if current in table.rows:
                table.move_cursor(row=table.get_row_index(current))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = str(event.row_key.value) if event.row_key is not None else ""
        task = next((t for t in self.tasks if t.name == name), None)
        if task is None:
            text = Content(name)
        else:
            expected = task.expected_output.replace("\n", "⏎")
            text = Content.assemble(
                (task.name, "bold"),
                ("   difficulty ", "$text-muted"),
                task.difficulty or "—",
                "\n",
                task.description,
                "\n",
                ("expected output  ", "$text-muted"),
                expected or "—",
            )
        self.query_one("#task-detail", Static).update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        name = str(event.row_key.value)
        if name == short_name(self.altlas.bridge.snapshot.task_name):
            self.app.notify(f"already working on {name}")
            return
        self.altlas.switch_task(name)

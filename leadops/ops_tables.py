"""What `leadops backfill` and `leadops undo` show: a progress bar, tables, messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:
    from flows.backfill_report import Progress as Passes

COUNTS = ("applied", "dry-run", "failed", "skipped")


def option_error(error: dict) -> str:
    """A pydantic error of `BackfillParams` as the command-line option it came from."""
    option = "--" + str(error["loc"][0]).replace("_", "-") if error["loc"] else "backfill"
    return f"{option}: {error['msg'].removeprefix('Value error, ')}"


def passes_table(summary: dict) -> Table:
    """A backfill's passes: each window, then the time-based rules."""
    table = Table(title="Backfill passes", title_justify="left")
    for column in ("pass", "from", "to", "state", "changes", "failed"):
        table.add_column(column, justify="right" if column in ("changes", "failed") else "left")
    for row in summary["windows"]:
        cells = (row["pass"], _minute(row["since"]), _minute(row["until"]), row["state"])
        table.add_row(*cells, str(row["changes"]), str(row["failed"]))
    return table


def _minute(moment: str | None) -> str:
    """An ISO timestamp to the minute, `2026-10-01 00:00` (UTC, as backfills are)."""
    return moment[:16].replace("T", " ") if moment else "—"


def undo_table(summary: dict) -> Table:
    """An undo's counts per action (restore, delete-task, leave-list) and outcome."""
    mode = "[yellow]dry run: nothing written[/]" if summary["dry_run"] else "[green]applied[/]"
    table = Table(title=f"undo of {summary['run']} — {mode}", title_justify="left")
    table.add_column("undo")
    for column in COUNTS:
        table.add_column("kept" if column == "skipped" else column, justify="right")
    for action, counts in summary["actions"].items():
        table.add_row(action, *(str(counts[k]) for k in COUNTS))
    if not summary["actions"]:
        table.add_row("(nothing to undo)", "0", "0", "0", "0")
    return table


@contextmanager
def pass_bar(console: Console, title: str) -> Iterator[Callable[[Passes], None]]:
    """A progress bar over a backfill's passes; yields what to call after each pass."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} passes"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(f"{title}: starting Prefect…", total=None)

        def show(passes: Passes) -> None:
            described = f"{title}: {passes.label}"
            bar.update(task, total=passes.total, completed=passes.done, description=described)

        yield show

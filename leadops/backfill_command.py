"""`leadops backfill`: the backfill flow from a terminal, with a progress bar."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from leadops.dates import BadDate, past_range

if TYPE_CHECKING:
    from flows.backfill_report import Progress as Passes


def backfill_command(
    start: Annotated[
        str, typer.Option(help="First day (2026-10-01 = midnight UTC) or an ISO date and time.")
    ],
    end: Annotated[
        str | None, typer.Option(help="End, exclusive (same formats); default: now.")
    ] = None,
    window_hours: Annotated[
        int, typer.Option(help="Window size in hours for promote and new_lead (24 = a day).")
    ] = 24,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and report; write nothing.")
    ] = False,
) -> None:
    """Run the cycle over past dates: windows for promote/new_lead, then the rest once.

    Promote and new_lead replay each window (oldest first) over the contacts modified in it;
    attempted, followup and recycle are judged once, as of now, after the windows (no task
    is due in the past). Exit 1 if a change or a window failed; a rerun is safe.
    """
    from leadops.cli import _fail as fail
    from leadops.cli import _settings as load_settings
    from leadops.cli import console, print_summary

    try:
        since, until = past_range(start, end, datetime.now(UTC))
    except BadDate as exc:
        raise fail(str(exc)) from None
    load_settings()
    from pydantic import ValidationError

    from flows.backfill import BackfillParams, backfill, on_progress

    try:
        params = BackfillParams(start=since, end=until, window_hours=window_hours, dry_run=dry_run)
    except ValidationError as exc:
        raise fail("; ".join(_option_error(e) for e in exc.errors())) from None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} passes"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("Starting Prefect…", total=None)

        def show(passes: Passes) -> None:
            mode = " (dry run)" if dry_run else ""
            description = f"Backfill{mode}: {passes.label}"
            bar.update(task, total=passes.total, completed=passes.done, description=description)

        listening = on_progress.set(show)
        try:
            state = backfill(params, return_state=True)
        finally:
            on_progress.reset(listening)
    if not state.is_completed():
        raise fail(state.message or f"the backfill ended {state.name}", 1)
    summary = state.result()
    console.print(_passes_table(summary))
    print_summary(summary)
    if summary["failed"]:
        raise typer.Exit(1)


def _option_error(error: dict) -> str:
    option = "--" + str(error["loc"][0]).replace("_", "-") if error["loc"] else "backfill"
    return f"{option}: {error['msg'].removeprefix('Value error, ')}"


def _passes_table(summary: dict) -> Table:
    table = Table(title="Backfill passes", title_justify="left")
    for column in ("pass", "from", "to", "state", "changes", "failed"):
        table.add_column(column, justify="right" if column in ("changes", "failed") else "left")
    for row in summary["windows"]:
        table.add_row(
            row["pass"],
            row["since"] or "—",
            row["until"],
            row["state"],
            str(row["changes"]),
            str(row["failed"]),
        )
    return table

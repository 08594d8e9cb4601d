"""`leadops undo RUN`: take back what a run applied (the `undo` flow, from a terminal)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table


def undo_command(
    run: Annotated[
        str,
        typer.Argument(
            help="The run's name, as its report's last note says, or its flow run name alone."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and report what would be undone; write nothing.")
    ] = False,
) -> None:
    """Take back what a run applied (properties, its open tasks, its list additions).

    Properties go back to their before-values, tasks the run created that are still open are
    deleted, contacts it added to a list are removed. What a person changed since is kept and
    reported; a second undo does nothing. Exit 1 if anything could not be undone.
    """
    from leadops.cli import _fail as fail
    from leadops.cli import _settings as load_settings
    from leadops.cli import console

    settings = load_settings()
    from flows.engine import gateway_for
    from flows.undo import UndoParams, undo_run
    from gateway.client import HubSpotError
    from gateway.identity import settings_for_portal
    from runstate.runlog import RunLog, UnknownRun

    try:  # a name that matches no run is told here, before a flow run fails on it
        identity = gateway_for(settings).portal_identity()
        RunLog(settings_for_portal(settings, identity)).load(run)
    except (HubSpotError, UnknownRun) as exc:
        raise fail(str(exc), 1) from None

    with console.status(f"Undoing {run}{' (dry run)' if dry_run else ''}…"):
        state = undo_run(UndoParams(run=run, dry_run=dry_run), return_state=True)
    if not state.is_completed():
        raise fail(state.message or f"the undo ended {state.name}", 1)
    summary = state.result()
    console.print(undo_table(summary))
    for failure in summary["failures"]:
        what = f"{failure['action']} contact {failure['contact_id']}"
        console.print(f"[red]failed[/] {what}: {failure['error']}")
    if summary["kept"]:
        console.print(
            f"[yellow]kept:[/] {summary['kept']} change(s) stay as they are (already undone, or "
            "changed since): the `undo-changes` artifact says why for each"
        )
    if summary["failed"]:
        raise typer.Exit(1)


def undo_table(summary: dict) -> Table:
    mode = "[yellow]dry run: nothing written[/]" if summary["dry_run"] else "[green]applied[/]"
    table = Table(title=f"undo of {summary['run']} — {mode}", title_justify="left")
    table.add_column("undo")
    for column in ("applied", "dry-run", "failed", "skipped"):
        table.add_column("kept" if column == "skipped" else column, justify="right")
    for action, counts in summary["actions"].items():
        table.add_row(
            action, *(str(counts[k]) for k in ("applied", "dry-run", "failed", "skipped"))
        )
    if not summary["actions"]:
        table.add_row("(nothing to undo)", "0", "0", "0", "0")
    return table

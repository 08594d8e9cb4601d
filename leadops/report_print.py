"""`leadops report` output: the report's headline tables and where the report went."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def print_report(console: Console, summary: dict) -> None:
    """The report's headline numbers and where it went."""
    tables = json.loads(Path(summary["files"]["json"]).read_text(encoding="utf-8"))["tables"]
    funnel = Table(
        title=f"Lead report {summary['since'][:10]} → {summary['until'][:16]}", title_justify="left"
    )
    for column in (
        "month",
        "SQLs",
        "attempted",
        "connected",
        "open deal",
        "customer",
        "recycled",
        "unqualified",
    ):
        funnel.add_column(column, justify="left" if column == "month" else "right")
    keys = ("attempted", "connected", "open_deal", "customer", "recycled", "unqualified")
    for row in tables["funnel"]:
        funnel.add_row(row["month"], str(row["sqls"]), *(str(row[k]) for k in keys))
    console.print(funnel)
    sla = Table(title="First touch per owner", title_justify="left")
    for column in ("owner", "New leads", "within SLA", "median h", "p90 h", "stuck"):
        sla.add_column(column, justify="left" if column == "owner" else "right")
    stuck = summary["stuck_by_owner"]  # every stuck lead (the JSON keeps each owner's longest)
    for row in tables["first_touch"]:
        share = "–" if row["share_within_sla"] is None else f"{100 * row['share_within_sla']:.0f} %"
        count = (
            summary["tables"]["stuck"] if row["owner_id"] == "*" else stuck.get(row["owner_id"], 0)
        )
        median = "–" if row["median_hours"] is None else f"{row['median_hours']:g}"
        p90 = "–" if row["p90_hours"] is None else f"{row['p90_hours']:g}"
        sla.add_row(row["owner"], str(row["leads"]), share, median, p90, str(count))
    console.print(sla)
    calls = summary["api_calls"]
    console.print(f"Contacts read: {summary['contacts']}; HubSpot API calls: {calls} (no writes)")
    console.print(f"Report: {summary['files']['html']}")
    console.print(f"Listed contacts (CSV): {summary['files']['csv']}")
    console.print(f"Email: {summary['email']}")
    for note in summary["notes"]:
        console.print(f"[yellow]note:[/] {note}")

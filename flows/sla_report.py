"""The first-touch SLA part of a run report: counts for the returned dict, markdown lines."""

from __future__ import annotations

from typing import Any

from rules.sla import Escalation

LISTED = 50  # breaches listed by name in a report; the counts cover all


def sla_counts(result: Escalation) -> dict[str, Any]:
    return {
        "new": len(result.new),
        "open": len(result.new) + len(result.still_open),
        "closed": len(result.closed),
        "new_breaches": [
            {"contact_id": b.contact_id, "owner_id": b.owner_id, "reason": b.reason}
            for b in result.new[:LISTED]
        ],
        "closed_breaches": [
            {"contact_id": c.contact_id, "reason": c.reason} for c in result.closed[:LISTED]
        ],
    }


def sla_markdown(result: Escalation) -> list[str]:
    open_now = len(result.new) + len(result.still_open)
    lines = [
        "## First-touch SLA",
        "",
        f"{len(result.new)} new breach(es) (managers alerted once), {open_now} open, "
        f"{len(result.closed)} closed.",
    ]
    for title, items in (("New breaches", result.new), ("Still open", result.still_open)):
        if items:
            lines += ["", f"### {title}", ""]
            lines += [f"- {b.contact_name} ({b.contact_id}): {b.reason}" for b in items[:LISTED]]
    if result.closed:
        lines += ["", "### Closed", ""]
        lines += [
            f"- {c.contact_name or 'contact'} ({c.contact_id}): {c.reason}"
            for c in result.closed[:LISTED]
        ]
    return lines

"""Run reports: a markdown summary, the changes as table artifacts in pages Prefect accepts,
and a returned dict. Every change of a run is also in its CSV (`runstate.changes`), which the
summary names.

Prefect's server publishes an event for each keyed artifact with the artifact's data in it,
and refuses (logs "Refusing to publish event of size N", automations never see it) any event
over `PREFECT_SERVER_EVENTS_MAXIMUM_SIZE_BYTES` (default 1,500,000 bytes; `prefect.settings.
models.server.events`). A 100k-contact cycle's table was 21 MB. So the table is cut into pages
of at most half that size, measured as the event carries it (the table JSON-encoded, as a
string inside the event's JSON): the first page under the key `<flow>-changes`, the others
attached to the flow run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.settings import get_current_settings

from flows.artifact_keys import suffixed
from flows.sla_report import sla_counts, sla_markdown
from model.changes import ChangeResult, Outcome
from model.records import Owner
from notify.text import MAX_CELL, one_line
from rules.sla import Escalation
from runstate.changes import OUTCOMES, RunChanges

LISTED_FAILURES = 50  # failures named in the summary; the CSV has them all


@dataclass
class RunSummary:
    """What a run did, per rule and outcome; JSON-able through `as_dict()`."""

    flow: str
    dry_run: bool
    since: datetime | None
    until: datetime
    # A cycle's `RunChanges` (on disk, counted in memory), or a list (backfill totals)
    results: RunChanges | list[ChangeResult] = field(default_factory=list)
    api_calls: Mapping[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    interrupted: str | None = None  # "interrupted after N change(s); …" (Ctrl-C, cancellation)
    # Each rule's window start this run (None: it judged its whole population)
    windows: dict[str, datetime | None] = field(default_factory=dict)
    escalation: Escalation | None = None  # first-touch SLA breaches, when `sla.enabled`

    def counts(self) -> dict[str, dict[str, int]]:
        if isinstance(self.results, RunChanges):
            return self.results.counts()
        table: dict[str, Counter[str]] = {}
        for result in self.results:
            table.setdefault(result.change.rule, Counter())[result.outcome.value] += 1
        return {rule: {o.value: c[o.value] for o in OUTCOMES} for rule, c in table.items()}

    @property
    def failures(self) -> list[ChangeResult]:
        if isinstance(self.results, RunChanges):
            return self.results.failures
        return [r for r in self.results if r.outcome is Outcome.FAILED]

    @property
    def changes_csv(self) -> Path | None:
        """The CSV with every change of the run (a cycle's; None when nothing was written)."""
        results = self.results
        if isinstance(results, RunChanges) and results.csv_path and results.csv_path.exists():
            return results.csv_path
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "dry_run": self.dry_run,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "rules": self.counts(),
            "changes": len(self.results),
            "failed": len(self.failures),
            "failures": [
                {"contact_id": r.change.contact_id, "rule": r.change.rule, "error": r.error}
                for r in self.failures[:50]
            ],
            "api_calls": sum(self.api_calls.values()),
            "changes_csv": str(self.changes_csv) if self.changes_csv else None,
            "notes": self.notes,
            "interrupted": self.interrupted,
            **({"sla": sla_counts(self.escalation)} if self.escalation else {}),
        }


def change_row(result: ChangeResult, owners: Mapping[str, Owner]) -> dict[str, str]:
    """One change as a table row, each cell on one line and at most `MAX_CELL` characters."""
    change = result.change
    owner = owners.get(change.owner_id or "")
    row = {
        "contact": f"{one_line(change.contact_name, MAX_CELL - 12)} ({change.contact_id})",
        "owner": owner.name if owner else (change.owner_id or "unowned"),
        "rule": change.rule,
        "change": change.describe(),
        "reason": change.reason,
        "outcome": result.outcome.value,
        "error": result.error or "",
    }
    return {column: one_line(text, MAX_CELL) for column, text in row.items()}


def change_rows(results: Iterable[ChangeResult], owners: Mapping[str, Owner]) -> list[dict]:
    return [change_row(result, owners) for result in results]


def event_size(rows: list[dict[str, str]]) -> int:
    """Bytes a table of `rows` takes in an artifact's event: the table JSON-encoded, carried
    as a string in the event's JSON."""
    return len(json.dumps(json.dumps(rows)).encode())


def page_budget() -> int:
    """Bytes one page of the table may take: half the largest event Prefect publishes (the
    rest of the event, the key, description and related resources, is far smaller)."""
    return get_current_settings().server.events.maximum_size_bytes // 2


def table_pages(
    results: Iterable[ChangeResult], owners: Mapping[str, Owner], budget: int
) -> Iterator[list[dict[str, str]]]:
    """The change rows in pages of at most `budget` bytes of event (`event_size`), in run
    order; one page in memory at a time."""
    page: list[dict[str, str]] = []
    size = 2
    for result in results:
        row = change_row(result, owners)
        cost = event_size([row])  # the row, quoted, with its brackets: a slight overestimate
        if page and size + cost > budget:
            yield page
            page, size = [], 2
        page.append(row)
        size += cost
    if page:
        yield page


def summary_markdown(summary: RunSummary, pages: int = 0, changes_key: str = "") -> str:
    """The summary; `pages`: how many table artifacts hold the changes (`publish`)."""
    mode = "dry run: nothing written" if summary.dry_run else "applied"
    start = summary.since.isoformat() if summary.since else "the beginning"
    window = f"{start} → {summary.until.isoformat()}"
    lines = [
        f"# {summary.flow} ({mode})",
        "",
        f"Window: {window}  ",
        f"HubSpot API calls: {sum(summary.api_calls.values())}",
        "",
        "| rule | " + " | ".join(o.value for o in OUTCOMES) + " |",
        "|---|" + "---|" * len(OUTCOMES),
    ]
    for rule, counts in summary.counts().items():
        lines.append(f"| {rule} | " + " | ".join(str(counts[o.value]) for o in OUTCOMES) + " |")
    if not summary.results:
        lines.append("| (no changes) |" + " |" * len(OUTCOMES))
    if summary.changes_csv:
        lines += ["", f"Every change ({len(summary.results):,}): `{summary.changes_csv}`"]
    if pages > 1:
        lines.append(
            f"  \nThe changes table: {pages} pages (`{changes_key}`, then the flow run's artifacts)"
        )
    failures = summary.failures
    if failures:
        lines += ["", "## Failures", ""]
        lines += [
            f"- {r.change.rule} · {one_line(r.change.contact_name)} ({r.change.contact_id}): "
            f"{one_line(r.error or '', 500)}"
            for r in failures[:LISTED_FAILURES]
        ]
        if len(failures) > LISTED_FAILURES:
            lines.append(f"- … and {len(failures) - LISTED_FAILURES} more (in the CSV)")
    if summary.escalation:
        lines += ["", *sla_markdown(summary.escalation)]
    if summary.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in summary.notes]]
    return "\n".join(lines)


def publish(
    summary: RunSummary, owners: Mapping[str, Owner], key: str, suffix: str | None = None
) -> None:
    """The run's artifacts: the changes as tables in pages Prefect accepts (the first under
    `<key>-changes`, the others on the flow run), then a markdown summary (`<key>-summary`)
    naming the CSV. `suffix` ends both keys (`flows.artifact_keys`: one portal's set)."""
    changes_key = suffixed(f"{key}-changes", suffix)
    total, done, number = len(summary.results), 0, 0
    for number, page in enumerate(table_pages(summary.results, owners, page_budget()), 1):
        span = f"changes {done + 1:,}–{done + len(page):,} of {total:,}"
        create_table_artifact(
            key=changes_key if number == 1 else None,
            table=page,
            description=f"{summary.flow}: {span}, with reason and outcome",
        )
        done += len(page)
    if not total:
        create_table_artifact(key=changes_key, table=[{"contact": "(no changes)"}])
    pages = number if total else 0
    create_markdown_artifact(
        key=suffixed(f"{key}-summary", suffix),
        markdown=summary_markdown(summary, pages=pages, changes_key=changes_key),
        description="Run summary",
    )

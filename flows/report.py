"""Run reports: every change as a Prefect table artifact, a markdown summary, a returned dict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.sla_report import sla_counts, sla_markdown
from model.changes import ChangeResult, Outcome
from model.records import Owner
from notify.plan import MAX_CELL, one_line
from rules.sla import Escalation

OUTCOMES = (Outcome.APPLIED, Outcome.PLANNED, Outcome.FAILED, Outcome.SKIPPED)


@dataclass
class RunSummary:
    """What a run did, per rule and outcome; JSON-able through `as_dict()`."""

    flow: str
    dry_run: bool
    since: datetime | None
    until: datetime
    results: list[ChangeResult] = field(default_factory=list)
    api_calls: Mapping[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    interrupted: str | None = None  # "interrupted after N change(s); …" (Ctrl-C, cancellation)
    # Each rule's window start this run (None: it judged its whole population)
    windows: dict[str, datetime | None] = field(default_factory=dict)
    escalation: Escalation | None = None  # first-touch SLA breaches, when `sla.enabled`

    def counts(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = {}
        for result in self.results:
            table.setdefault(result.change.rule, Counter())[result.outcome.value] += 1
        return {rule: {o.value: c[o.value] for o in OUTCOMES} for rule, c in table.items()}

    @property
    def failures(self) -> list[ChangeResult]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]

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
            "notes": self.notes,
            "interrupted": self.interrupted,
            **({"sla": sla_counts(self.escalation)} if self.escalation else {}),
        }


def change_rows(results: Sequence[ChangeResult], owners: Mapping[str, Owner]) -> list[dict]:
    rows = []
    for result in results:
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
        rows.append({column: one_line(text, MAX_CELL) for column, text in row.items()})
    return rows


def summary_markdown(summary: RunSummary) -> str:
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
    if summary.failures:
        lines += ["", "## Failures", ""]
        lines += [
            f"- {r.change.rule} · {r.change.contact_name} ({r.change.contact_id}): {r.error}"
            for r in summary.failures
        ]
    if summary.escalation:
        lines += ["", *sla_markdown(summary.escalation)]
    if summary.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in summary.notes]]
    return "\n".join(lines)


def publish(summary: RunSummary, owners: Mapping[str, Owner], key: str) -> None:
    """The run's artifacts: a table of every change and a markdown summary."""
    create_table_artifact(
        key=f"{key}-changes",
        table=change_rows(summary.results, owners) or [{"contact": "(no changes)"}],
        description=f"Every change {summary.flow} planned or made, with its reason and outcome.",
    )
    create_markdown_artifact(
        key=f"{key}-summary", markdown=summary_markdown(summary), description="Run summary"
    )

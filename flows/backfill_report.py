"""What a backfill reports: one row per pass (each window, then the time-based rules), totals
that count each change once, and its progress with an ETA.

A change is identified by `Change.key` (rule, contact, action): when two passes plan or make
the same change, the later one supersedes the earlier, so a 60-day dry run counts each
contact's change once, as one real cycle would make it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flows.report import RunSummary
from model.changes import ChangeResult

TIME_RULES_PASS = "time-based rules"


class Covered(Protocol):
    """What a backfill covers (`flows.backfill.BackfillParams` is one)."""

    start: datetime
    end: datetime
    window_hours: int
    dry_run: bool


@dataclass
class Pass:
    """One pass of a backfill: a window of the event-based rules, or the time-based rules."""

    label: str  # "window" or TIME_RULES_PASS
    since: datetime | None
    until: datetime
    state: str = "Pending"
    summary: RunSummary | None = None
    error: str | None = None

    @property
    def completed(self) -> bool:
        return self.state == "Completed"

    def row(self) -> dict[str, Any]:
        counts = self.summary.as_dict() if self.summary else {}
        return {
            "pass": self.label,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "state": self.state,
            "changes": counts.get("changes", 0),
            "failed": counts.get("failed", 0),
            "api_calls": counts.get("api_calls", 0),
            **({"error": self.error} if self.error else {}),
        }


def merged_results(passes: Sequence[Pass]) -> list[ChangeResult]:
    """Every pass's results, each change once: a later pass's result for the same
    (rule, contact, action) replaces an earlier one."""
    latest: dict[tuple[str, str, str], ChangeResult] = {}
    for done in passes:
        for result in done.summary.results if done.summary else ():
            latest.pop(result.change.key, None)  # re-inserted: ordered by its latest pass
            latest[result.change.key] = result
    return list(latest.values())


def summarize(params: Covered, windows_total: int, passes: list[Pass]) -> dict:
    """The backfill's JSON-able summary: the passes so far (of `windows_total` windows and
    the time-based rules), and totals counting each change once."""
    windows = [p for p in passes if p.label == "window"]
    results = merged_results(passes)
    merged = RunSummary("backfill", params.dry_run, params.start, params.end, results=results)
    return {
        "flow": "backfill",
        "dry_run": params.dry_run,
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "window_hours": params.window_hours,
        "windows_total": windows_total,
        "windows_completed": sum(p.completed for p in windows),
        "windows": [p.row() for p in passes],
        "rules": merged.counts(),
        "changes": len(merged.results),
        "failed": len(merged.failures),
        "failures": merged.as_dict()["failures"],
        "api_calls": sum(p.row()["api_calls"] for p in passes),
        "notes": [f"{p.label} {p.since or ''}: {p.error}" for p in passes if p.error],
    }


def summary_markdown(summary: dict) -> str:
    """The backfill's report: one row per pass, then the totals per rule."""
    mode = "dry run: nothing written" if summary["dry_run"] else "applied"
    lines = [
        f"# Backfill ({mode})",
        "",
        f"Range: {summary['start']} → {summary['end']} in {summary['window_hours']}-hour windows "
        f"— {summary['windows_completed']}/{summary['windows_total']} completed  ",
        f"Changes (each counted once): {summary['changes']} · failed changes: "
        f"{summary['failed']} · HubSpot API calls: {summary['api_calls']}",
        "",
        "Promote and new_lead replay each window; attempted, followup and recycle are judged "
        "once, as of now, after the windows.",
        "",
        "| pass | from | to | state | changes | failed |",
        "|---|---|---|---|---:|---:|",
    ]
    for row in summary["windows"]:
        lines.append(
            f"| {row['pass']} | {row['since'] or '—'} | {row['until']} | {row['state']} "
            f"| {row['changes']} | {row['failed']} |"
        )
    if summary["rules"]:
        outcomes = sorted({o for counts in summary["rules"].values() for o in counts})
        lines += ["", "## Totals per rule", "", "| rule | " + " | ".join(outcomes) + " |"]
        lines.append("|---|" + "---:|" * len(outcomes))
        for rule, counts in summary["rules"].items():
            cells = " | ".join(str(counts.get(o, 0)) for o in outcomes)
            lines.append(f"| {rule} | {cells} |")
    return "\n".join(lines)


@dataclass
class Progress:
    """Passes done out of all, with the percentage and an ETA from the pace so far."""

    total: int
    started: datetime
    done: int = 0
    label: str = ""

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0

    def eta(self, now: datetime) -> datetime | None:
        """When the last pass should end at the average pace so far; None before the first."""
        if not self.done:
            return None
        return now + (now - self.started) / self.done * (self.total - self.done)

    def describe(self, now: datetime) -> str:
        eta = self.eta(now)
        left = f"ETA {eta:%H:%M:%S} UTC ({_duration(eta - now)} left)" if eta else "ETA soon"
        if self.done == self.total:
            left = f"done in {_duration(now - self.started)}"
        last = f" · last: {self.label}" if self.label else ""
        return f"{self.done}/{self.total} passes · {self.percent:.0f}% · {left}{last}"


def _duration(span: timedelta) -> str:
    seconds = max(0, round(span.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"

"""Backfill: run the lifecycle cycle over a past date range, one window at a time, oldest first.

Each window is a `lifecycle-cycle` subflow with `since`/`until` set, so event-based rules look
only at contacts modified in it. The rules are idempotent: rerunning a backfill changes nothing
more. Explicit windows never move the scheduled cycle's watermarks.

Example:
    ```python
    from flows.backfill import BackfillParams, backfill

    summary = backfill(BackfillParams(start="2026-11-01", end="2026-11-08", dry_run=True))
    print(summary["windows_completed"], summary["rules"])
    ```
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from flows.params import RunParams, RunSettings
from model.changes import ALL_RULES, RuleName

MAX_WINDOWS = 366
MIN_WINDOW_HOURS = 1

Window = tuple[datetime, datetime]
WINDOW_KEYS = ("rules", "changes", "failed", "api_calls", "notes")  # kept from each cycle summary


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def plan_windows(start: datetime, end: datetime, size: timedelta, now: datetime) -> list[Window]:
    """Consecutive `[since, until)` windows of `size` from `start` to `min(end, now)`.

    The last window is cut short at the end; windows never reach into the future.
    """
    if size <= timedelta(0):
        raise ValueError(f"window size must be positive, got {size}")
    stop = min(as_utc(end), as_utc(now))
    cursor, windows = as_utc(start), []
    while cursor < stop:
        windows.append((cursor, min(cursor + size, stop)))
        cursor = windows[-1][1]
    return windows


def count_windows(start: datetime, end: datetime, size: timedelta, now: datetime) -> int:
    """How many windows `plan_windows` makes, without making them."""
    span = min(as_utc(end), as_utc(now)) - as_utc(start)
    return max(0, math.ceil(span / size))


class BackfillParams(BaseModel):
    """A past date range to run the lifecycle cycle over, in windows, oldest first.

    Dates without a timezone are UTC. An end in the future is cut at the moment the run starts.
    """

    model_config = ConfigDict(extra="forbid")

    start: datetime = Field(description="Start of the first window (inclusive), in the past.")
    end: datetime = Field(description="End of the last window (exclusive); capped at now.")
    window_hours: int = Field(
        default=24,
        ge=MIN_WINDOW_HOURS,
        description=f"Window size in hours (at least {MIN_WINDOW_HOURS}; 24 = one day). "
        f"At most {MAX_WINDOWS} windows per backfill.",
    )
    rules: list[RuleName] = Field(
        default_factory=lambda: list(ALL_RULES),
        min_length=1,
        description="Rules to run in each window, in cycle order.",
    )
    dry_run: bool = Field(default=False, description="Plan and report only; write nothing.")
    notify: bool = Field(
        default=False, description="Email owners a digest after each window (usually off)."
    )

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @field_validator("start")
    @classmethod
    def _start_in_past(cls, value: datetime) -> datetime:
        now = datetime.now(UTC)
        if value >= now:
            raise ValueError(
                f"start {value.isoformat()} is not in the past (now is {now:%Y-%m-%dT%H:%M}Z): "
                "a backfill covers past dates; scheduled runs cover what comes next"
            )
        return value

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError(f"end {value.isoformat()} must be after start {start.isoformat()}")
        return value

    @field_validator("window_hours")
    @classmethod
    def _not_too_many(cls, value: int, info: ValidationInfo) -> int:
        start, end = info.data.get("start"), info.data.get("end")
        if start is None or end is None:
            return value
        count = count_windows(start, end, timedelta(hours=value), datetime.now(UTC))
        if count > MAX_WINDOWS:
            hours = math.ceil((min(end, datetime.now(UTC)) - start) / timedelta(hours=1))
            raise ValueError(
                f"window_hours={value} splits {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} into "
                f"{count} windows; at most {MAX_WINDOWS} are allowed: use window_hours ≥ "
                f"{math.ceil(hours / MAX_WINDOWS)} or a shorter range"
            )
        return value

    def windows(self, now: datetime) -> list[Window]:
        return plan_windows(self.start, self.end, timedelta(hours=self.window_hours), now)

    def run_params(self, window: Window) -> RunParams:
        since, until = window
        return RunParams(
            dry_run=self.dry_run, since=since, until=until, rules=self.rules, notify=self.notify
        )


def summarize(params: BackfillParams, windows: list[Window], results: list[dict]) -> dict:
    """One JSON-able summary over every window run so far (`results` in window order)."""
    totals: dict[str, Counter[str]] = {}
    for result in results:
        for rule, counts in result.get("rules", {}).items():
            totals.setdefault(rule, Counter()).update(counts)
    completed = [r for r in results if r["state"] == "Completed"]
    return {
        "flow": "backfill",
        "dry_run": params.dry_run,
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "window_hours": params.window_hours,
        "windows_total": len(windows),
        "windows_completed": len(completed),
        "windows": results,
        "rules": {rule: dict(counts) for rule, counts in totals.items()},
        "changes": sum(r.get("changes", 0) for r in results),
        "failed": sum(r.get("failed", 0) for r in results),
        "api_calls": sum(r.get("api_calls", 0) for r in results),
    }


def summary_markdown(summary: dict) -> str:
    """The backfill's report: one row per window, then the totals per rule."""
    mode = "dry run: nothing written" if summary["dry_run"] else "applied"
    lines = [
        f"# Backfill ({mode})",
        "",
        f"Range: {summary['start']} → {summary['end']} in {summary['window_hours']}-hour windows "
        f"— {summary['windows_completed']}/{summary['windows_total']} completed  ",
        f"Changes: {summary['changes']} · failed changes: {summary['failed']} · "
        f"HubSpot API calls: {summary['api_calls']}",
        "",
        "| window start | window end | state | changes | failed |",
        "|---|---|---|---:|---:|",
    ]
    for row in summary["windows"]:
        lines.append(
            f"| {row['since']} | {row['until']} | {row['state']} | {row.get('changes', 0)} "
            f"| {row.get('failed', 0)} |"
        )
    if summary["rules"]:
        outcomes = sorted({o for counts in summary["rules"].values() for o in counts})
        lines += ["", "## Totals per rule", "", "| rule | " + " | ".join(outcomes) + " |"]
        lines.append("|---|" + "---:|" * len(outcomes))
        for rule, counts in summary["rules"].items():
            cells = " | ".join(str(counts.get(o, 0)) for o in outcomes)
            lines.append(f"| {rule} | {cells} |")
    return "\n".join(lines)


def _run_window(params: BackfillParams, window: Window, settings: RunSettings) -> dict[str, Any]:
    """One cycle subflow over `window`; its summary plus the window and its final state."""
    from flows.cycle import lifecycle_cycle

    since, until = window
    named = lifecycle_cycle.with_options(flow_run_name=f"backfill {since:%Y-%m-%d %H:%M}")
    state = named(params.run_params(window), settings, return_state=True)
    row: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
    if not state.is_completed():
        return {**row, "state": state.name, "error": state.message or state.name}
    summary = state.result()
    return {**row, "state": "Completed", **{key: summary[key] for key in WINDOW_KEYS}}


class BackfillFailed(RuntimeError):
    """A window failed; the windows before it are done and a rerun is safe."""


@flow(name="backfill", log_prints=True)
def backfill(params: BackfillParams, settings: RunSettings = None) -> dict:
    """Run the lifecycle cycle over `[start, end)`, window by window, oldest first."""
    windows = params.windows(datetime.now(UTC))
    progress = create_progress_artifact(
        progress=0.0, key="backfill-progress", description=f"{len(windows)} window(s)"
    )
    results: list[dict[str, Any]] = []
    for done, window in enumerate(windows, start=1):
        results.append(_run_window(params, window, settings))
        update_progress_artifact(progress, progress=100.0 * done / len(windows))
        print(f"window {done}/{len(windows)} {window[0]:%Y-%m-%d %H:%M}: {results[-1]['state']}")
        if results[-1]["state"] != "Completed":
            break
    summary = summarize(params, windows, results)
    create_markdown_artifact(
        key="backfill-summary", markdown=summary_markdown(summary), description="Backfill summary"
    )
    if results and results[-1]["state"] != "Completed":
        raise BackfillFailed(
            f"window {results[-1]['since']} → {results[-1]['until']} ended "
            f"{results[-1]['state']}: {results[-1]['error']}. {summary['windows_completed']} of "
            f"{len(windows)} windows completed; rerun the backfill (already-done windows change "
            "nothing) or start it at the failed window."
        )
    return summary

"""Backfill: the lifecycle cycle over a past date range, one window at a time, oldest first.

Event-based rules (`promote`, `new_lead`: `RuleDef.event_based`) replay each window: a
`backfill-window` subflow per window looks only at contacts modified in it. Time-based rules
(`attempted`, `followup`, `recycle`) are about time passing, so replaying them per window
would judge (and date tasks) as of a past instant: they are judged ONCE, as of now, after the
windows, seeing what the windows planned or made. The totals count each change once (a later
pass's change to the same contact by the same rule supersedes an earlier one), so a dry run
over the whole history plans what one real cycle would. The rules are idempotent: rerunning a
backfill changes nothing more. Explicit windows never move the scheduled cycle's watermarks.

Example:
    ```python
    from flows.backfill import BackfillParams, backfill

    summary = backfill(BackfillParams(start="2026-11-01", end="2026-11-08", dry_run=True))
    print(summary["windows_completed"], summary["rules"])
    ```
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prefect import flow
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from config.settings import Settings
from flows.artifact_keys import artifact_key
from flows.backfill_report import (
    TIME_RULES_PASS,
    Pass,
    Progress,
    merged_results,
    summarize,
    summary_markdown,
)
from flows.cycle import run_cycle
from flows.params import RunParams, RunSettings
from flows.report import RunSummary
from model.changes import ALL_RULES, RuleName
from notify.alerts import ALERT_HOOKS
from rules.registry import RULES

MAX_WINDOWS = 366
MIN_WINDOW_HOURS = 1

Window = tuple[datetime, datetime]


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
        description="Rules to run: qualify, promote and new_lead replay "
        "each window; the ladder, attempted, followup, bad_timing and recycle are judged "
        "once, as of now, after the windows.",
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

    @property
    def event_rules(self) -> list[RuleName]:
        """The chosen rules each window replays."""
        return [name for name in self.rules if RULES[name].event_based]

    @property
    def time_rules(self) -> list[RuleName]:
        """The chosen rules judged once, as of now, after the windows."""
        return [name for name in self.rules if not RULES[name].event_based]

    def run_params(self, window: Window) -> RunParams:
        """One window's run: the event-based rules over contacts modified in it."""
        since, until = window
        return RunParams(
            dry_run=self.dry_run,
            since=since,
            until=until,
            rules=self.event_rules,
            notify=self.notify,
        )

    def final_params(self) -> RunParams:
        """The time-based rules' run after the windows: judged as of the moment it starts."""
        return RunParams(dry_run=self.dry_run, rules=self.time_rules, notify=self.notify)


# The terminal's view of a running backfill (`leadops backfill` sets it): called after each pass.
on_progress: ContextVar[Callable[[Progress], None] | None] = ContextVar(
    "backfill_on_progress", default=None
)


@flow(name="backfill-window")
def backfill_window(params: RunParams, settings: RunSettings = None) -> RunSummary:
    """One backfill window: the event-based rules over the contacts modified in it. Its
    report is published as `backfill-window-changes`/`-summary`, never as the cycle's."""
    return run_cycle(params, "backfill-window", settings)


def _run_window(params: RunParams, settings: RunSettings) -> Pass:
    since, until = params.since, params.until
    assert since is not None and until is not None
    step = Pass("window", since, until)
    named = backfill_window.with_options(flow_run_name=f"backfill {since:%Y-%m-%d %H:%M}")
    state = named(params, settings, return_state=True)
    if not state.is_completed():
        step.state, step.error = state.name, state.message or state.name
        return step
    step.state, step.summary = "Completed", state.result()
    return step


def _run_time_rules(params: BackfillParams, settings: RunSettings, passes: list[Pass]) -> Pass:
    """The time-based rules, once, as of now, seeing what the windows planned or made."""
    run_params = params.final_params()
    step = Pass(TIME_RULES_PASS, None, run_params.now())
    prior = merged_results(passes)
    try:
        step.summary = run_cycle(run_params, "backfill-time-rules", settings, prior=prior)
        step.state = "Completed"
    except Exception as exc:  # reported in the summary, then raised as BackfillFailed
        step.state, step.error = "Failed", f"{type(exc).__name__}: {exc}"
    return step


class BackfillFailed(RuntimeError):
    """A pass failed; the passes before it are done and a rerun is safe."""


@flow(name="backfill", log_prints=True, **ALERT_HOOKS)
def backfill(params: BackfillParams, settings: RunSettings = None) -> dict:
    """Replay the event-based rules over `[start, end)` window by window, oldest first, then
    judge the time-based rules once, as of now."""
    started = datetime.now(UTC)
    keyed = settings or Settings()  # the artifact keys' portal suffix, if any
    windows = params.windows(started) if params.event_rules else []
    progress = Progress(len(windows) + bool(params.time_rules), started)
    artifact = create_progress_artifact(
        progress=0.0,
        key=artifact_key("backfill-progress", keyed),
        description=progress.describe(started),
    )
    passes: list[Pass] = []
    steps = [lambda w=w: _run_window(params.run_params(w), settings) for w in windows]
    if params.time_rules:
        steps.append(lambda: _run_time_rules(params, settings, passes))
    for step in steps:
        passes.append(step())
        _report_progress(progress, passes[-1], artifact)
        if not passes[-1].completed:
            break
    summary = summarize(params, len(windows), passes)
    create_markdown_artifact(
        key=artifact_key("backfill-summary", keyed),
        markdown=summary_markdown(summary),
        description="Backfill summary",
    )
    if passes and not passes[-1].completed:
        failed = passes[-1]
        where = failed.label
        if failed.since is not None:
            where = f"window {failed.since.isoformat()} → {failed.until.isoformat()}"
        raise BackfillFailed(
            f"{where} ended {failed.state}: {failed.error}. {summary['windows_completed']} of "
            f"{len(windows)} windows completed; rerun the backfill (what is done already "
            "changes nothing) or start it at the failed window."
        )
    return summary


def _report_progress(progress: Progress, step: Pass, artifact: UUID) -> None:
    now = datetime.now(UTC)
    progress.done += 1
    progress.label = f"{step.label} {step.since:%Y-%m-%d %H:%M}" if step.since else step.label
    described = progress.describe(now)
    update_progress_artifact(artifact, progress=progress.percent, description=described)
    print(f"{described}: {step.state}")
    listener = on_progress.get()
    if listener is not None:
        listener(progress)

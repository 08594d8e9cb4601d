"""Backfill windows and parameters: what a person launching a backfill sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from pydantic import ValidationError

from flows.backfill import MAX_WINDOWS, BackfillParams, count_windows, plan_windows
from flows.backfill_report import Pass, Progress, merged_results, summarize, summary_markdown
from flows.report import RunSummary
from model.changes import Change, ChangeResult, Outcome, RuleName

NOW = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def error_of(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        BackfillParams(**values)
    return str(caught.value)


def test_whole_days_make_one_window_each_in_order() -> None:
    assert plan_windows(at(1), at(4), DAY, NOW) == [(at(1), at(2)), (at(2), at(3)), (at(3), at(4))]


def test_last_window_is_cut_at_the_end() -> None:
    windows = plan_windows(at(1), at(2, 12), DAY, NOW)
    assert windows == [(at(1), at(2)), (at(2), at(2, 12))]


def test_windows_never_reach_past_now() -> None:
    windows = plan_windows(at(22), at(30), DAY, NOW)
    assert windows == [(at(22), at(23)), (at(23), NOW)]


def test_windows_tile_the_range_without_gaps_or_overlaps() -> None:
    windows = plan_windows(at(1, 3), at(20, 17), timedelta(hours=7), NOW)
    assert windows[0][0] == at(1, 3) and windows[-1][1] == at(20, 17)
    assert all(a[1] == b[0] for a, b in pairwise(windows))
    assert len(windows) == count_windows(at(1, 3), at(20, 17), timedelta(hours=7), NOW)


def test_naive_datetimes_are_utc() -> None:
    naive = plan_windows(datetime(2026, 11, 1), datetime(2026, 11, 2), DAY, NOW)
    assert naive == [(at(1), at(2))]


def test_params_default_to_day_windows_all_rules_no_email() -> None:
    params = BackfillParams(start="2026-11-01", end="2026-11-03")
    assert params.window_hours == 24 and not params.notify and not params.dry_run
    assert params.rules == [
        "qualify",
        "promote",
        "new_lead",
        "open_deal",
        "meeting_scheduled",
        "connected",
        "attempted",
        "followup",
        "bad_timing",
        "recycle",
    ]
    assert params.start == at(1)
    assert len(params.windows(NOW)) == 2


def test_each_window_becomes_cycle_params() -> None:
    params = BackfillParams(start=at(1), end=at(3), rules=["promote"], dry_run=True)
    run = params.run_params((at(1), at(2)))
    assert (run.since, run.until, run.rules, run.dry_run, run.notify) == (
        at(1),
        at(2),
        ["promote"],
        True,
        False,
    )


def test_end_before_start_names_both_values() -> None:
    message = error_of(start="2026-11-05", end="2026-11-01")
    assert "end" in message and "must be after start" in message
    assert "2026-11-01T00:00:00+00:00" in message and "2026-11-05T00:00:00+00:00" in message


def test_start_in_the_future_is_refused() -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    message = error_of(start=later, end=later + DAY)
    assert "start" in message and "is not in the past" in message


def test_window_under_an_hour_is_refused() -> None:
    message = error_of(start="2026-11-01", end="2026-11-02", window_hours=0)
    assert "window_hours" in message and "greater than or equal to 1" in message


def test_too_many_windows_says_what_would_fit() -> None:
    message = error_of(start="2026-01-01", end="2026-03-01", window_hours=1)
    assert "window_hours" in message and f"at most {MAX_WINDOWS}" in message
    assert "1416 windows" in message and "window_hours ≥ 4" in message


def test_a_year_of_days_is_allowed() -> None:
    assert BackfillParams(start="2025-11-01", end="2026-11-01").window_hours == 24


def test_unknown_rule_and_unknown_field_are_refused() -> None:
    assert "recycle" in error_of(start="2026-11-01", end="2026-11-02", rules=["nope"])
    assert "extra" in error_of(start="2026-11-01", end="2026-11-02", colour="red").lower()


def test_the_ui_form_enforces_the_window_minimum() -> None:
    schema = BackfillParams.model_json_schema()
    assert schema["properties"]["window_hours"]["minimum"] == 1
    assert set(schema["required"]) == {"start", "end"}


def applied(rule: RuleName, contact_id: str, outcome: Outcome = Outcome.APPLIED) -> ChangeResult:
    change = Change(
        rule, contact_id, f"contact {contact_id}", None, "because", properties={"a": "b"}
    )
    return ChangeResult(change, outcome)


def window(since: datetime, *results: ChangeResult, state: str = "Completed") -> Pass:
    summary = RunSummary("backfill-window", False, since, since + DAY, results=list(results))
    return Pass("window", since, since + DAY, state, summary if state == "Completed" else None)


def test_summary_adds_up_windows_and_reports_each() -> None:
    params = BackfillParams(start=at(1), end=at(3))
    passes = [window(at(1), applied("promote", "1"), applied("promote", "2"))]
    passes.append(window(at(2), applied("promote", "3")))
    summary = summarize(params, 2, passes)
    assert summary["windows_completed"] == summary["windows_total"] == 2
    assert summary["rules"]["promote"]["applied"] == 3
    assert summary["changes"] == 3
    markdown = summary_markdown(summary)
    assert "2/2 completed" in markdown
    assert "| promote | 3 | 0 | 0 | 0 |" in markdown  # applied, dry-run, failed, skipped
    assert markdown.count("| Completed |") == 2


def test_a_change_planned_in_two_passes_counts_once_as_its_latest() -> None:
    params = BackfillParams(start=at(1), end=at(3), dry_run=True)
    first = window(at(1), applied("promote", "1", Outcome.PLANNED), applied("new_lead", "2"))
    later = window(at(2), applied("promote", "1", Outcome.FAILED))
    summary = summarize(params, 2, [first, later])
    assert summary["changes"] == 2
    assert summary["rules"]["promote"] == {"applied": 0, "dry-run": 0, "failed": 1, "skipped": 0}
    assert [r.change.rule for r in merged_results([first, later])] == ["new_lead", "promote"]


def test_summary_of_a_failed_window_shows_how_far_it_got() -> None:
    params = BackfillParams(start=at(1), end=at(4))
    failed = Pass("window", at(2), at(3), "Failed", error="HubSpot said no")
    summary = summarize(params, 3, [window(at(1), applied("promote", "1")), failed])
    assert (summary["windows_completed"], summary["windows_total"]) == (1, 3)
    assert "| Failed |" in summary_markdown(summary)
    assert summary["windows"][1]["error"] == "HubSpot said no"


def test_windows_replay_event_rules_and_time_rules_run_once_as_of_now() -> None:
    params = BackfillParams(start=at(1), end=at(3), dry_run=True)
    assert params.run_params((at(1), at(2))).rules == ["qualify", "promote", "new_lead"]
    final = params.final_params()
    assert final.rules == [
        "open_deal",
        "meeting_scheduled",
        "connected",
        "attempted",
        "followup",
        "bad_timing",
        "recycle",
    ]
    assert final.since is None and final.until is None and final.dry_run
    assert BackfillParams(start=at(1), end=at(3), rules=["followup"]).event_rules == []


def test_progress_shows_percent_and_an_eta_from_the_pace_so_far() -> None:
    progress = Progress(total=4, started=NOW)
    assert "0/4 passes · 0%" in progress.describe(NOW)
    progress.done = 1
    assert progress.eta(NOW + timedelta(minutes=2)) == NOW + timedelta(minutes=8)
    text = progress.describe(NOW + timedelta(minutes=2))
    assert "1/4 passes · 25% · ETA 12:38:00 UTC (6m00s left)" in text
    progress.done = 4
    assert "100% · done in 3m00s" in progress.describe(NOW + timedelta(minutes=3))

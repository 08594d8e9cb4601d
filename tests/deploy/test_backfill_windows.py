"""Backfill windows and parameters: what a person launching a backfill sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from pydantic import ValidationError

from flows.backfill import (
    MAX_WINDOWS,
    BackfillParams,
    count_windows,
    plan_windows,
    summarize,
    summary_markdown,
)

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
    assert params.rules == ["qualify", "promote", "new_lead", "attempted", "followup", "recycle"]
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


def window_result(since: datetime, applied: int, state: str = "Completed") -> dict:
    return {
        "since": since.isoformat(),
        "until": (since + DAY).isoformat(),
        "state": state,
        "rules": {"promote": {"applied": applied, "failed": 0}},
        "changes": applied,
        "failed": 0,
        "api_calls": 3,
        "notes": [],
    }


def test_summary_adds_up_windows_and_reports_each() -> None:
    params = BackfillParams(start=at(1), end=at(3))
    windows = params.windows(NOW)
    summary = summarize(params, windows, [window_result(at(1), 2), window_result(at(2), 1)])
    assert summary["windows_completed"] == summary["windows_total"] == 2
    assert summary["rules"] == {"promote": {"applied": 3, "failed": 0}}
    assert (summary["changes"], summary["api_calls"]) == (3, 6)
    markdown = summary_markdown(summary)
    assert "2/2 completed" in markdown
    assert "| promote | 3 | 0 |" in markdown
    assert markdown.count("| Completed |") == 2


def test_summary_of_a_failed_window_shows_how_far_it_got() -> None:
    params = BackfillParams(start=at(1), end=at(4))
    failed = {"since": at(2).isoformat(), "until": at(3).isoformat(), "state": "Failed"}
    summary = summarize(params, params.windows(NOW), [window_result(at(1), 1), failed])
    assert (summary["windows_completed"], summary["windows_total"]) == (1, 3)
    assert "| Failed |" in summary_markdown(summary)

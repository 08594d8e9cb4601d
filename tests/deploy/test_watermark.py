"""Watermarks: never backwards, hand edits understood, windows overlap the last run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from runstate.watermark import (
    WatermarkError,
    advance_watermark,
    read_watermark,
    variable_name,
    window_start,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OVERLAP = timedelta(minutes=30)


class FakeVariables:
    """A dict in place of Prefect Variables."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value


@pytest.fixture
def store() -> FakeVariables:
    return FakeVariables()


def test_name_is_a_valid_prefect_variable_name() -> None:
    name = variable_name("12345", "new_lead")
    assert name == "leadops_watermark_12345_new_lead"
    assert variable_name("EU-Portal 7", "cycle") == "leadops_watermark_eu_portal_7_cycle"


def test_no_watermark_before_the_first_run(store: FakeVariables) -> None:
    assert read_watermark("12345", "promote", store) is None


def test_advance_stores_json_ops_can_read(store: FakeVariables) -> None:
    advance_watermark("12345", "promote", T0, store)
    assert store.values == {"leadops_watermark_12345_promote": {"until": T0.isoformat()}}
    assert read_watermark("12345", "promote", store) == T0


def test_watermark_never_moves_backwards(store: FakeVariables) -> None:
    advance_watermark("12345", "promote", T0, store)
    assert advance_watermark("12345", "promote", T0 - timedelta(hours=1), store) == T0
    assert read_watermark("12345", "promote", store) == T0
    later = T0 + timedelta(minutes=15)
    assert advance_watermark("12345", "promote", later, store) == later


def test_watermarks_are_per_portal_and_rule(store: FakeVariables) -> None:
    advance_watermark("1", "promote", T0, store)
    assert read_watermark("2", "promote", store) is None
    assert read_watermark("1", "recycle", store) is None


def test_a_hand_edited_plain_timestamp_is_understood(store: FakeVariables) -> None:
    store.values["leadops_watermark_1_promote"] = "2026-11-20T08:00:00"
    assert read_watermark("1", "promote", store) == datetime(2026, 11, 20, 8, tzinfo=UTC)


def test_a_broken_watermark_says_which_variable_and_how_to_fix_it(store: FakeVariables) -> None:
    store.values["leadops_watermark_1_promote"] = {"until": "yesterday"}
    with pytest.raises(WatermarkError, match=r"leadops_watermark_1_promote.*Prefect UI"):
        read_watermark("1", "promote", store)


def test_naive_until_is_refused(store: FakeVariables) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        advance_watermark("1", "promote", datetime(2026, 11, 23), store)


def test_first_window_looks_at_everything(store: FakeVariables) -> None:
    assert window_start("1", "promote", None, OVERLAP, store) is None


def test_next_window_starts_at_the_watermark_minus_overlap(store: FakeVariables) -> None:
    advance_watermark("1", "promote", T0, store)
    assert window_start("1", "promote", None, OVERLAP, store) == T0 - OVERLAP
    assert window_start("1", "new_lead", None, OVERLAP, store) is None  # per rule


def test_explicit_window_wins_over_the_watermark(store: FakeVariables) -> None:
    advance_watermark("1", "promote", T0, store)
    since = T0 - timedelta(days=9)
    assert window_start("1", "promote", since, OVERLAP, store) == since

"""The backfill flow on a temporary Prefect API, with a stand-in cycle: order, report, failure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from prefect import flow, get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

import flows.cycle
from config.settings import Settings
from flows.backfill import BackfillParams, backfill
from flows.params import RunParams

pytestmark = pytest.mark.usefixtures("prefect_harness")


class FakeCycle:
    """Records the windows it is run over; fails on the window starting at `fail_at`."""

    def __init__(self, fail_at: datetime | None = None) -> None:
        self.windows: list[tuple[datetime, datetime]] = []
        self.fail_at = fail_at

        @flow(name="lifecycle-cycle")
        def fake_cycle(params: RunParams, settings: Settings | None = None) -> dict[str, Any]:
            self.windows.append((params.since, params.until))
            if params.since == self.fail_at:
                raise RuntimeError("HubSpot said no")
            return {
                "rules": {"promote": {"applied": 1, "failed": 0}},
                "changes": 1,
                "failed": 0,
                "api_calls": 4,
                "notes": [],
            }

        self.flow = fake_cycle


def day(n: int) -> datetime:
    return datetime(2026, 10, n, tzinfo=UTC)


def artifacts(run_id: UUID) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    return {artifact.key: artifact for artifact in found}


def test_windows_run_oldest_first_and_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeCycle()
    monkeypatch.setattr(flows.cycle, "lifecycle_cycle", fake.flow)
    state = backfill(BackfillParams(start=day(1), end=day(4), dry_run=True), return_state=True)
    assert state.is_completed()
    summary = state.result()
    assert fake.windows == [(day(1), day(2)), (day(2), day(3)), (day(3), day(4))]
    assert (summary["windows_completed"], summary["changes"], summary["api_calls"]) == (3, 3, 12)
    assert summary["rules"] == {"promote": {"applied": 3, "failed": 0}}
    made = artifacts(state.state_details.flow_run_id)
    assert made["backfill-progress"].data == 100.0
    assert "Backfill (dry run: nothing written)" in made["backfill-summary"].data
    assert "3/3 completed" in made["backfill-summary"].data


def test_a_failed_window_stops_the_backfill_and_says_how_far_it_got(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeCycle(fail_at=day(2))
    monkeypatch.setattr(flows.cycle, "lifecycle_cycle", fake.flow)
    state = backfill(BackfillParams(start=day(1), end=day(4)), return_state=True)
    assert state.is_failed()
    assert fake.windows == [(day(1), day(2)), (day(2), day(3))]
    assert "window 2026-10-02T00:00:00+00:00 → 2026-10-03T00:00:00+00:00" in state.message
    assert "HubSpot said no" in state.message and "1 of 3 windows completed" in state.message
    made = artifacts(state.state_details.flow_run_id)
    assert "1/3 completed" in made["backfill-summary"].data
    assert "| Failed |" in made["backfill-summary"].data


def test_prefect_refuses_an_end_before_the_start_before_any_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeCycle()
    monkeypatch.setattr(flows.cycle, "lifecycle_cycle", fake.flow)
    state = backfill({"start": "2026-10-05", "end": "2026-10-01"}, return_state=True)
    assert state.is_failed() and fake.windows == []
    assert "end 2026-10-01T00:00:00+00:00 must be after start 2026-10-05" in state.message

"""The backfill flow on a temporary Prefect API, with a stand-in cycle: passes, report, failure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

import flows.backfill
from config.settings import Settings
from flows.backfill import BackfillParams, backfill
from flows.params import RunParams
from flows.report import RunSummary
from model.changes import Change, ChangeResult, Outcome

pytestmark = pytest.mark.usefixtures("prefect_harness")


class FakeCycle:
    """Stands in for `run_cycle`: records each pass (its params, report key and what earlier
    passes handed it), promotes contact "1" in every window; fails the window at `fail_at`."""

    def __init__(self, fail_at: datetime | None = None) -> None:
        self.passes: list[tuple[RunParams, str, int]] = []
        self.fail_at = fail_at

    def __call__(
        self,
        params: RunParams,
        flow_name: str,
        settings: Settings | None = None,
        prior: Sequence[ChangeResult] = (),
    ) -> RunSummary:
        self.passes.append((params, flow_name, len(prior)))
        if params.since is not None and params.since == self.fail_at:
            raise RuntimeError("HubSpot said no")
        rule = "promote" if "promote" in params.rules else params.rules[0]
        change = Change(rule, "1", "Ada", None, "because", properties={"hs_lead_status": "NEW"})
        result = ChangeResult(change, Outcome.PLANNED if params.dry_run else Outcome.APPLIED)
        summary = RunSummary(flow_name, params.dry_run, params.since, params.now(), [result])
        summary.api_calls = {"POST /crm/v3/objects/contacts/search": 4}
        return summary

    @property
    def windows(self) -> list[tuple[datetime | None, datetime | None]]:
        return [(p.since, p.until) for p, name, _ in self.passes if name == "backfill-window"]


def day(n: int) -> datetime:
    return datetime(2026, 10, n, tzinfo=UTC)


def artifacts(run_id: UUID) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    return {artifact.key: artifact for artifact in found}


def test_windows_run_oldest_first_then_the_time_rules_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeCycle()
    monkeypatch.setattr(flows.backfill, "run_cycle", fake)
    state = backfill(BackfillParams(start=day(1), end=day(4), dry_run=True), return_state=True)
    assert state.is_completed()
    summary = state.result()
    assert fake.windows == [(day(1), day(2)), (day(2), day(3)), (day(3), day(4))]
    final, name, handed = fake.passes[-1]
    assert (name, final.rules, final.since, final.until) == (
        "backfill-time-rules",
        [
            "open_deal",
            "meeting_scheduled",
            "connected",
            "attempted",
            "followup",
            "bad_timing",
            "recycle",
        ],
        None,
        None,
    )
    assert handed == 1  # the windows' one change (contact 1 promoted three times) once
    # promote's change to contact 1, planned in three windows, counts once
    assert summary["rules"]["promote"]["dry-run"] == 1
    assert (summary["windows_completed"], summary["changes"], summary["api_calls"]) == (3, 2, 16)
    made = artifacts(state.state_details.flow_run_id)
    assert made["backfill-progress"].data == 100.0
    assert "4/4 passes · 100% · done in" in made["backfill-progress"].description
    assert "Backfill (dry run: nothing written)" in made["backfill-summary"].data
    assert "3/3 completed" in made["backfill-summary"].data
    assert "| time-based rules |" in made["backfill-summary"].data


def test_a_failed_window_stops_the_backfill_and_says_how_far_it_got(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeCycle(fail_at=day(2))
    monkeypatch.setattr(flows.backfill, "run_cycle", fake)
    state = backfill(BackfillParams(start=day(1), end=day(4)), return_state=True)
    assert state.is_failed()
    assert fake.windows == [(day(1), day(2)), (day(2), day(3))]
    assert all(name == "backfill-window" for _, name, _ in fake.passes)  # no time rules
    assert "window 2026-10-02T00:00:00+00:00 → 2026-10-03T00:00:00+00:00" in state.message
    assert "HubSpot said no" in state.message and "1 of 3 windows completed" in state.message
    made = artifacts(state.state_details.flow_run_id)
    assert "1/3 completed" in made["backfill-summary"].data
    assert "| Failed |" in made["backfill-summary"].data


def test_prefect_refuses_an_end_before_the_start_before_any_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeCycle()
    monkeypatch.setattr(flows.backfill, "run_cycle", fake)
    state = backfill({"start": "2026-10-05", "end": "2026-10-01"}, return_state=True)
    assert state.is_failed() and fake.passes == []
    assert "end 2026-10-01T00:00:00+00:00 must be after start 2026-10-05" in state.message

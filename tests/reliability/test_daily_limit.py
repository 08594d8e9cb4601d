"""HubSpot's DAILY limit mid-cycle: the run stops at once (no retries), says why and when it
can go on, reports and tells owners what it did before the stop, and ends Failed; the run
after the reset finishes the job without redoing or re-telling anything."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from portal_state import (
    CLEAN_COUNTS,
    FastRetries,
    Reference,
    artifacts_of,
    demo_portal,
    outbox_files,
    point_at,
    run,
    run_state,
    snapshot,
    told,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.mark.parametrize("where", ["budget-runs-out-mid-cycle", "answered-to-a-list-write"])
def test_daily_429_stops_cleanly_reports_and_the_next_day_finishes(
    fast: FastRetries,
    reference: Reference,
    outbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_config(time_zone="Europe/Berlin")  # the portal's, from account-info
        monkeypatch.setenv("LEADOPS_DAILY_BUDGET_SHARE", "1")  # HubSpot's own limit stops it
        if where == "budget-runs-out-mid-cycle":
            # About half the calls of a clean cycle: the budget runs out in the middle.
            handle.set_limits(daily=reference.summary["api_calls"] // 2)
        else:  # recycling's first write (a list membership) meets the DAILY limit
            handle.set_faults(daily=1.0, endpoints=["memberships/add"])
        state = run_state()
        stats = handle.stats()

        assert state.is_failed()
        message = str(state.message)
        assert "DailyLimitReached" in message and "DAILY API limit" in message
        assert "midnight" in message and "Europe/Berlin" in message
        assert stats["rate_limited"] == {"DAILY": 1}  # stopped at once: no retry
        assert fast.retries() == {}
        assert stats["writes_total"] > 0

        # The report says what was done before the stop.
        artifacts = {a.key: a for a in artifacts_of(state.state_details.flow_run_id)}
        summary_md = artifacts["lifecycle-cycle-summary"].data
        assert "stopped early" in summary_md and "DAILY" in summary_md
        rows = artifacts["lifecycle-cycle-changes"].data
        rows = json.loads(rows) if isinstance(rows, str) else rows
        outcomes = Counter(row["outcome"] for row in rows)
        assert outcomes["applied"] > 0, outcomes
        if where == "answered-to-a-list-write":  # the batch in flight is reported, not lost
            recycled = CLEAN_COUNTS["recycle"]  # the whole of recycle's batch
            assert str(rows).count("DAILY limit stopped the run") == recycled

        # Owners are told what was applied (and only that); ops get the failure alert.
        before = told(outbox)
        assert before and all(reference.told[item] == 1 for item in before)
        assert sum(before.values()) < sum(reference.told.values())
        alerts = [p for p in outbox_files(outbox) if ".alert." in p.name]
        assert len(alerts) == 1 and "DAILY" in alerts[0].read_text()

        handle.set_limits(daily=None)  # midnight in Berlin
        handle.set_faults()
        after = run()
        assert after["failed"] == 0
        assert snapshot(handle) == reference.state
        assert told(outbox) == reference.told

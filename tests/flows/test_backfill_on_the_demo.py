"""Backfills against the sandbox's demo seed: time-based rules judged once, as of now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from config.settings import Settings
from flows.backfill import BackfillParams, backfill
from model.records import parse_time
from sandbox.server import SandboxHandle

from support import SEED_CYCLE_COUNTS

pytestmark = pytest.mark.usefixtures("prefect_harness")


def artifact_count(key: str) -> int:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    return len(found)


def planned(summary: dict) -> dict[str, int]:
    return {rule: c["dry-run"] for rule, c in summary["rules"].items() if c["dry-run"]}


def test_a_dry_run_over_the_whole_history_plans_what_one_cycle_would(
    settings: Settings, sandbox: SandboxHandle
) -> None:
    now = datetime.now(UTC)
    params = BackfillParams(
        start=now - timedelta(days=120), end=now, window_hours=24 * 30, dry_run=True
    )
    summary = backfill(params, settings)
    assert summary["windows_completed"] == summary["windows_total"] == 4
    assert planned(summary) == SEED_CYCLE_COUNTS  # each contact's change counted once
    assert summary["changes"] == sum(SEED_CYCLE_COUNTS.values())
    assert sandbox.stats()["writes_total"] == 0


def test_a_backfill_of_two_past_days_creates_no_task_due_in_the_past(
    settings: Settings, sandbox: SandboxHandle
) -> None:
    cycle_reports = artifact_count("lifecycle-cycle-changes")
    window_reports = artifact_count("backfill-window-changes")
    existing = set(sandbox.store.tables["tasks"].records)
    started = datetime.now(UTC)
    params = BackfillParams(start=started - timedelta(days=61), end=started - timedelta(days=59))
    summary = backfill(params, settings)
    assert summary["windows_completed"] == 2
    followups = summary["rules"]["followup"]["applied"]
    assert followups > 0
    table = sandbox.store.tables["tasks"]
    tasks = [t for i, t in table.records.items() if i not in existing]
    task_rules = ("followup", "bad_timing", "meeting_scheduled")  # the rules that create tasks
    assert followups < len(tasks) <= sum(summary["rules"][r]["applied"] for r in task_rules)
    due = sorted(parse_time(t.props["hs_timestamp"]) for t in tasks)
    assert due[0] > started, f"a task is due {due[0]}, before the backfill started ({started})"
    # Each window published its own report; the cycle's latest report is untouched.
    assert artifact_count("backfill-window-changes") == window_reports + 2
    assert artifact_count("lifecycle-cycle-changes") == cycle_reports

"""The full cycle, replayed from recorded HubSpot calls (no server, no network).

Recorded against the demo sandbox (or a real test portal) with `make cassettes`; runs are
judged at the recording's instant so every request matches its recording.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from flows.cycle import lifecycle_cycle
from flows.params import RunParams

from support import RECORDING_NOW, SEED_CYCLE_COUNTS, portal_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.mark.vcr
def test_recorded_cycle_applies_then_changes_nothing(
    recorded_settings: Settings, tmp_path: Path
) -> None:
    settings = portal_settings(recorded_settings, tmp_path / "outbox", portal_id=800_001)
    params = RunParams(until=RECORDING_NOW, notify=False)

    first = lifecycle_cycle(params, settings)
    assert first["failed"] == 0
    applied = {rule: c["applied"] for rule, c in first["rules"].items()}
    assert applied == SEED_CYCLE_COUNTS

    second = lifecycle_cycle(params, settings)
    assert second["changes"] == 0


@pytest.mark.vcr
def test_recorded_dry_run_reports_the_same_plan(
    recorded_settings: Settings, tmp_path: Path
) -> None:
    settings = portal_settings(recorded_settings, tmp_path / "outbox", portal_id=800_002)
    summary = lifecycle_cycle(RunParams(until=RECORDING_NOW, dry_run=True, notify=False), settings)
    planned = {rule: c["dry-run"] for rule, c in summary["rules"].items()}
    assert planned == SEED_CYCLE_COUNTS
    assert all(c["applied"] == 0 for c in summary["rules"].values())

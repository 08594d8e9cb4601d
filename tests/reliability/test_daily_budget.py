"""leadops spends at most its share of the portal's daily API budget, then stops cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from portal_state import artifacts_of

from config.settings import Settings
from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from sandbox.server import SandboxHandle

from support import portal_settings, sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def portal(sandbox: SandboxHandle) -> SandboxHandle:
    return sandbox


@pytest.fixture
def settings(sandbox: SandboxHandle, tmp_path: Path) -> Settings:
    return portal_settings(sandbox_settings(sandbox.url, sandbox.token), tmp_path / "outbox")


def test_a_run_stops_at_its_share_of_the_daily_budget_and_reports_the_day(
    portal: SandboxHandle, settings: Settings
) -> None:
    portal.set_limits(daily=1000)
    settings = settings.model_copy(update={"leadops_daily_budget_share": 0.04})  # 40 requests

    state = lifecycle_cycle(RunParams(notify=False), settings, return_state=True)

    assert state.is_failed()
    message = str(state.message)
    assert "share of HubSpot's daily API budget is used up" in message
    assert "40 of the portal's 1,000 requests a day" in message
    assert "LEADOPS_DAILY_BUDGET_SHARE" in message
    stats = portal.stats()
    assert stats["requests_total"] <= 40  # not one request past the share
    assert stats["rate_limited_total"] == 0  # stopped by leadops, not by HubSpot
    artifacts = {a.key: a for a in artifacts_of(state.state_details.flow_run_id)}
    summary_md = artifacts["lifecycle-cycle-summary"].data
    assert "stopped early" in summary_md and "HubSpot daily budget" in summary_md


def test_a_share_spent_before_the_run_stops_it_before_any_write(
    portal: SandboxHandle, settings: Settings
) -> None:
    portal.set_limits(daily=2000)
    lifecycle_cycle(RunParams(dry_run=True, notify=False), settings)  # earlier use today
    used = portal.stats()["requests_total"]
    settings = settings.model_copy(update={"leadops_daily_budget_share": used / 2 / 2000})

    state = lifecycle_cycle(RunParams(notify=False), settings, return_state=True)

    assert state.is_failed() and "daily API budget is used up" in str(state.message)
    assert portal.stats()["writes_total"] == 0


def test_every_sandbox_answer_carries_the_daily_budget_headers(portal: SandboxHandle) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"{portal.url}/crm/v3/owners/", headers={"Authorization": f"Bearer {portal.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["X-HubSpot-RateLimit-Daily"] == "250000"
        assert int(response.headers["X-HubSpot-RateLimit-Daily-Remaining"]) < 250000

"""The portal's id, timezone and UI domain come from HubSpot; settings only check them."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from gateway.identity import PortalIdentityMismatch
from sandbox.server import SandboxHandle, running_sandbox

from support import next_portal_id, portal_settings, sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _promoted(summary: dict) -> int:
    return summary["rules"]["promote"]["applied"]


def test_two_portals_on_one_prefect_server_keep_their_own_watermarks(tmp_path: Path) -> None:
    """No HUBSPOT_PORTAL_ID set: each portal's watermark is its own, so the second portal's
    MQLs (modified before the first portal's run) are still promoted."""
    outbox = tmp_path / "outbox"
    with running_sandbox(seed="demo") as first, running_sandbox(seed="demo") as second:
        settings = portal_settings(sandbox_settings(first.url, first.token), outbox)
        assert (
            _promoted(lifecycle_cycle(RunParams(rules=["promote"], notify=False), settings)) == 33
        )

        settings = portal_settings(sandbox_settings(second.url, second.token), outbox)
        assert (
            _promoted(lifecycle_cycle(RunParams(rules=["promote"], notify=False), settings)) == 33
        )


def test_an_eu_portal_gets_app_eu1_links_in_digests(sandbox: SandboxHandle, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    portal_id = next_portal_id()
    settings = portal_settings(sandbox_settings(sandbox.url, sandbox.token), outbox, portal_id)
    sandbox.set_config(ui_domain="app-eu1.hubspot.com")

    lifecycle_cycle(RunParams(rules=["promote"]), settings)

    mails = "".join(p.read_text(encoding="utf-8") for p in outbox.rglob("*.eml"))
    assert f"https://app-eu1.hubspot.com/contacts/{portal_id}/record/0-1/" in mails
    assert "https://app.hubspot.com/" not in mails


def test_a_configured_portal_id_hubspot_contradicts_stops_before_any_write(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    portal_id = str(next_portal_id())
    settings = portal_settings(
        sandbox_settings(sandbox.url, sandbox.token), tmp_path / "outbox", int(portal_id)
    )

    with pytest.raises(PortalIdentityMismatch) as raised:
        lifecycle_cycle(RunParams(), settings.model_copy(update={"hubspot_portal_id": "424242"}))

    message = str(raised.value)
    assert "HUBSPOT_PORTAL_ID is '424242'" in message and repr(portal_id) in message
    assert "nothing was written" in message and "Unset" in message
    assert sandbox.stats()["writes_total"] == 0


def test_a_configured_value_that_agrees_is_accepted(sandbox: SandboxHandle, tmp_path: Path) -> None:
    portal_id = next_portal_id()
    settings = portal_settings(
        sandbox_settings(sandbox.url, sandbox.token), tmp_path / "outbox", portal_id
    )
    sandbox.set_config(time_zone="US/Eastern")
    checks = {"hubspot_portal_id": str(portal_id), "hubspot_portal_timezone": "America/New_York"}

    params = RunParams(rules=["promote"], dry_run=True, notify=False)
    summary = lifecycle_cycle(params, settings.model_copy(update=checks))  # the same zone
    assert summary["rules"]["promote"]["dry-run"] == 33

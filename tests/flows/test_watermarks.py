"""Scheduled runs look at [watermark − overlap, now) and advance the watermark only for real."""

from __future__ import annotations

import pytest

from config.settings import Settings
from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from runstate.watermark import read_watermark
from sandbox.server import SandboxHandle

pytestmark = pytest.mark.usefixtures("prefect_harness")
DAY_MS = 24 * 3_600_000


def add_hot_mql(sandbox: SandboxHandle, email: str, modified_ms: int) -> str:
    props = {
        "email": email,
        "lifecyclestage": "marketingqualifiedlead",
        "lead_score": "90",
        "hubspot_owner_id": "70000001",
    }
    return str(sandbox.store.insert("contacts", props, modified_ms).id)


def test_second_run_sees_only_contacts_modified_since_the_watermark(
    sandbox: SandboxHandle, settings: Settings
) -> None:
    portal = str(sandbox.sandbox.config.portal_id)
    params = RunParams(rules=["promote"], notify=False)

    first = lifecycle_cycle(params, settings)
    assert first["rules"]["promote"]["applied"] == 33
    assert "promote: contacts modified since the beginning" in first["notes"]
    mark = read_watermark(portal, "promote")
    assert mark is not None

    old = add_hot_mql(sandbox, "old@example.test", sandbox.store.clock() - 2 * DAY_MS)
    fresh = add_hot_mql(sandbox, "fresh@example.test", sandbox.store.clock())
    second = lifecycle_cycle(params, settings)

    assert second["rules"]["promote"]["applied"] == 1
    assert sandbox.store.get("contacts", fresh).props["lifecyclestage"] == "salesqualifiedlead"
    assert sandbox.store.get("contacts", old).props["lifecyclestage"] == "marketingqualifiedlead"
    assert read_watermark(portal, "promote") > mark


def test_dry_runs_and_explicit_windows_leave_the_watermark_alone(
    sandbox: SandboxHandle, settings: Settings
) -> None:
    portal = str(sandbox.sandbox.config.portal_id)
    lifecycle_cycle(RunParams(rules=["promote"], dry_run=True, notify=False), settings)
    assert read_watermark(portal, "promote") is None

    lifecycle_cycle(RunParams(rules=["new_lead"], notify=False), settings)
    mark = read_watermark(portal, "new_lead")
    assert mark is not None
    assert read_watermark(portal, "promote") is None  # one watermark per rule

    since = mark.replace(year=mark.year - 1)
    lifecycle_cycle(RunParams(rules=["new_lead"], since=since, notify=False), settings)
    assert read_watermark(portal, "new_lead") == mark

"""The whole cycle on a sandbox that enforces HubSpot's limits (issue #10's "done when").

The demo seed scaled to 400 contacts has 100 New leads: more than the 50 inputs HubSpot takes
in a batch read with property histories. The sandbox enforces that cap, the 100-input batch
cap, search limits, traced batch creates (one bad input fails the batch without trace ids),
the 10-second request budget and the associations API's own burst budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from sandbox.server import SandboxHandle, running_sandbox

from support import portal_settings, sandbox_settings

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.integration]


@pytest.fixture
def strict_portal(tmp_path: Path) -> Iterator[tuple[SandboxHandle, Settings]]:
    """A Professional-tier sandbox (190 / 10 s, 5 searches / s, 100 associations calls /
    10 s) and leadops paced below it, as on a real portal."""
    with running_sandbox(
        seed="demo", contacts=400, requests_per_10s=190, searches_per_second=5
    ) as sb:
        sb.set_limits(associations_per_10s=100)
        settings = sandbox_settings(
            sb.url, sb.token,
            hubspot_requests_per_10s=190, hubspot_association_requests_per_10s=100,
            hubspot_searches_per_second=5,
        )  # fmt: skip
        yield sb, portal_settings(settings, tmp_path / "outbox")


def new_leads(sb: SandboxHandle) -> int:
    table = sb.store.tables["contacts"].records.values()
    return sum(1 for c in table if c.props.get("hs_lead_status") == "NEW")


def leadops_tasks(sb: SandboxHandle) -> list:
    table = sb.store.tables["tasks"].records.values()
    return [t for t in table if "[leadops:" in (t.props.get("hs_task_body") or "")]


def test_a_cycle_past_50_new_leads_passes_within_every_limit(
    strict_portal: tuple[SandboxHandle, Settings], tmp_path: Path
) -> None:
    sandbox, settings = strict_portal
    assert new_leads(sandbox) > 50
    first = lifecycle_cycle(RunParams(), settings)
    assert first["failed"] == 0, first["failures"]
    assert list((tmp_path / "outbox" / "pending").glob("*.eml")), "no digest was written"
    applied = {rule: c["applied"] for rule, c in first["rules"].items()}
    assert all(applied[rule] > 0 for rule in ("attempted", "followup", "recycle")), applied
    stats = sandbox.stats()
    assert stats["rate_limited_total"] == 0
    refused = {s for s in stats["statuses"] if s == "400" or s.startswith("5")}
    assert not refused, stats["statuses"]  # (404s: nurture lists looked up before creating)

    second = lifecycle_cycle(RunParams(notify=False), settings)
    assert second["changes"] == 0 and second["failed"] == 0


def test_tasks_edited_by_a_person_in_hubspot_are_not_created_again(
    strict_portal: tuple[SandboxHandle, Settings],
) -> None:
    sandbox, settings = strict_portal
    lifecycle_cycle(RunParams(notify=False), settings)
    created = leadops_tasks(sandbox)
    assert created
    for task in created:  # a rep opens each task, adds a line and saves: the body becomes HTML
        body = sandbox.edit_task_as_person(
            str(task.id), f"{task.props['hs_task_body']}\nCalled & left a message <urgent>"
        )
        assert body.startswith("<p>") and "&amp;" in body and "<br>" in body
    tasks_before = len(sandbox.store.tables["tasks"].records)

    again = lifecycle_cycle(RunParams(notify=False), settings)
    assert again["changes"] == 0, again["rules"]
    assert len(sandbox.store.tables["tasks"].records) == tasks_before

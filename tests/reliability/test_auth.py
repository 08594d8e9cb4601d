"""401 and 403: the run stops (or reports the records it could not write) with a message that
says what to fix, naming the missing scope when HubSpot names it; nothing is written and no
token is shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from portal_state import (
    CLEAN_COUNTS,
    FastRetries,
    Reference,
    applied,
    demo_portal,
    outbox_files,
    point_at,
    run,
    run_state,
    snapshot,
    told,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_a_wrong_token_stops_the_run_before_any_write(
    fast: FastRetries, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-WRONG-TOKEN-0000")
        state = run_state()
        stats = handle.stats()
    assert state.is_failed()
    message = str(state.message)
    assert "(401)" in message and "HUBSPOT_ACCESS_TOKEN" in message
    assert "WRONG-TOKEN" not in message
    assert stats["writes_total"] == 0
    assert stats["statuses"] == {"401": stats["requests_total"]}  # 401 is never retried
    assert fast.retries() == {}
    [alert] = [p for p in outbox_files(outbox) if ".alert." in p.name]
    assert "(401)" in alert.read_text() and "WRONG-TOKEN" not in alert.read_text()


SCOPES_READ = ["crm.objects.owners.read"]
SCOPES_WRITE = ["crm.lists.write"]


def test_a_missing_read_scope_stops_the_run_before_any_write_naming_it(
    fast: FastRetries, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_faults(missing_scopes=SCOPES_READ, endpoints=["/crm/v3/owners"])
        state = run_state()
        stats = handle.stats()
    assert state.is_failed()
    message = str(state.message)
    assert "PortalMismatchError" in message and "nothing was written" in message
    assert "(403)" in message and "crm.objects.owners.read" in message
    assert "Private apps" in message  # where to add it
    assert stats["writes_total"] == 0
    assert stats["statuses"]["403"] == stats["requests"]["GET /crm/v3/owners/"]  # not retried


def test_a_missing_write_scope_fails_those_writes_naming_it_and_applies_the_rest(
    fast: FastRetries, reference: Reference, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_faults(
            missing_scopes=SCOPES_WRITE, endpoints=["POST /crm/v3/lists", "memberships/add"]
        )
        state = run_state()
        assert state.is_completed()
        summary = state.result()
        # Recycling needs the list: no contact is moved back without its membership.
        recycled = CLEAN_COUNTS["recycle"]
        assert summary["rules"]["recycle"] == {"applied": 0, "dry-run": 0, "failed": recycled,
                                               "skipped": 0}  # fmt: skip
        assert applied(summary) == {k: v for k, v in CLEAN_COUNTS.items() if k != "recycle"}
        for failure in summary["failures"]:
            assert "(403)" in failure["error"] and "crm.lists.write" in failure["error"]

        handle.set_faults()  # the scope was added to the private app
        again = run()
        assert applied(again) == {"recycle": recycled} and again["failed"] == 0
        assert snapshot(handle) == reference.state
        assert told(outbox) == reference.told

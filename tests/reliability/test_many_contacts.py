"""More than 10,000 matching contacts: HubSpot's search stops at 10,000 results per query;
the gateway's keyset paging goes past it, so a rule sees and changes every match once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from portal_state import NOW, FastRetries, demo_portal, point_at, run

from flows.params import RunParams

pytestmark = pytest.mark.usefixtures("prefect_harness")

EXTRA_MQLS = 10_050


def test_a_cycle_promotes_more_than_10k_matching_contacts_each_once(
    fast: FastRetries, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        created = int(NOW.timestamp() * 1000) - 86_400_000
        for i in range(EXTRA_MQLS):
            handle.store.insert(
                "contacts",
                {
                    "email": f"bulk{i}@example.test",
                    "firstname": f"Bulk {i}",
                    "lifecyclestage": "marketingqualifiedlead",
                    "lead_score": "80",
                    "hubspot_owner_id": "70000001",
                },
                created,
            )
        started = time.monotonic()
        summary = run(RunParams(until=NOW, rules=["promote"], notify=False))
        elapsed = time.monotonic() - started
        stats = handle.stats()
    assert summary["failed"] == 0
    assert summary["rules"]["promote"]["applied"] == EXTRA_MQLS + 33
    updates = stats["writes"]["POST /crm/v3/objects/contacts/batch/update"]
    assert updates == -(-(EXTRA_MQLS + 33) // 100)  # every contact written once, 100 per call
    assert stats["statuses"].get("400") is None  # never paged into the 10k cap
    print(f"\n{EXTRA_MQLS + 33} promotions in {elapsed:.1f} s, {stats['requests_total']} requests")

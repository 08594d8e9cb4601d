"""Promote processes every match past HubSpot's 10,000-results-per-query cap."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from sandbox.server import running_sandbox

from support import portal_settings, sandbox_settings

MATCHING, BELOW = 10_500, 300

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_more_than_ten_thousand_mqls_are_all_promoted_once(tmp_path: Path) -> None:
    with running_sandbox(seed="empty") as sandbox:
        now = sandbox.store.clock() - 60_000
        for i in range(MATCHING + BELOW):
            score = "80" if i < MATCHING else "10"
            props = {
                "email": f"m{i}@example.test",
                "lifecyclestage": "marketingqualifiedlead",
                "lead_score": score,
                "hubspot_owner_id": "70000001",
            }
            sandbox.store.insert("contacts", props, now)
        settings = portal_settings(sandbox_settings(sandbox.url, sandbox.token), tmp_path)

        summary = lifecycle_cycle(RunParams(rules=["promote"], notify=False), settings)

        assert summary["rules"]["promote"]["applied"] == MATCHING
        records = sandbox.store.tables["contacts"].records.values()
        stages = [r.props["lifecyclestage"] for r in records]
        assert stages.count("salesqualifiedlead") == MATCHING
        assert stages.count("marketingqualifiedlead") == BELOW
        updates = sandbox.stats()["requests"]["POST /crm/v3/objects/contacts/batch/update"]
        assert updates == math.ceil(MATCHING / 100)  # batches of 100, each contact once

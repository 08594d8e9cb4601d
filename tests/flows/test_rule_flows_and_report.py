"""Each rule's own flow (what its deployment runs) and the report artifacts a run leaves."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import Artifact

from config.settings import Settings
from flows.params import RunParams
from flows.rule_flows import (
    attempted_flow,
    bad_timing_flow,
    connected_flow,
    followup_flow,
    meeting_scheduled_flow,
    new_lead_flow,
    open_deal_flow,
    promote_flow,
    recycle_flow,
)
from sandbox.server import SandboxHandle

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def portal(sandbox: SandboxHandle, settings: Settings) -> SandboxHandle:
    return sandbox  # `settings` (tests/flows/conftest.py) points the flows at it


@pytest.mark.parametrize(
    ("flow", "rule", "planned"),
    [
        (promote_flow, "promote", 33),
        (new_lead_flow, "new_lead", 15),
        (open_deal_flow, "open_deal", 5),
        (meeting_scheduled_flow, "meeting_scheduled", 9),
        (connected_flow, "connected", 30),
        (attempted_flow, "attempted", 38),
        (followup_flow, "followup", 95),
        (bad_timing_flow, "bad_timing", 2),
        (recycle_flow, "recycle", 50),
    ],
)
def test_a_rule_flow_runs_only_its_rule(
    settings: Settings, portal, flow, rule: str, planned: int
) -> None:
    # Even when asked for every rule, a rule's flow runs its own only.
    summary = flow(RunParams(dry_run=True, notify=False), settings)
    assert summary["flow"] == flow.name
    assert {r: c["dry-run"] for r, c in summary["rules"].items()} == {rule: planned}


async def _artifacts_of(flow_run_id: UUID) -> dict[str, Artifact]:
    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {artifact.key: artifact for artifact in found}


def test_a_run_publishes_every_change_and_a_summary(
    settings: Settings, portal: SandboxHandle
) -> None:
    state = promote_flow(RunParams(notify=False), settings, return_state=True)
    artifacts = asyncio.run(_artifacts_of(state.state_details.flow_run_id))

    table = artifacts["promote-changes"]
    rows = table.data if isinstance(table.data, list) else json.loads(table.data)
    assert len(rows) == 33
    row = rows[0]
    assert set(row) == {"contact", "owner", "rule", "change", "reason", "outcome", "error"}
    assert row["rule"] == "promote" and row["outcome"] == "applied"
    assert "lifecyclestage: marketingqualifiedlead → salesqualifiedlead" in row["change"]
    assert row["reason"].startswith("score ")

    summary = artifacts["promote-summary"]
    assert "| promote | 33 | 0 | 0 | 0 |" in summary.data
    assert "HubSpot API calls:" in summary.data

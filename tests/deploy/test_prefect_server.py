"""leadops on a real Prefect server: deploy, schedules, a worker, cycle and backfill runs.

One server per session (`conftest.py`), one demo sandbox and one worker per module (slow to
start), but no test relies on another having run: each sets up the state it asserts on
(reseeds the sandbox, clears watermarks, switches a schedule on), so they pass alone and in
any order. Everything started here is stopped by the fixtures' finalizers, also on failure.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.blocks.system import Secret
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterParentFlowRunId,
)
from prefect.client.schemas.objects import DeploymentSchedule, FlowRun
from prefect.client.schemas.schedules import CronSchedule
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.states import Cancelling
from prefect_harness import (
    RUN_TIMEOUT,
    Service,
    completed,
    quiet,
    running_worker,
    scheduled_runs,
    start_run,
    two_past_windows,
    until_final,
    wait_for,
)

from bench.state import snapshot, told
from config.rules import load_rules
from config.settings import Settings
from leadops.deploy import PREFECT_YAML, DeployReport, deploy_all, load_project
from rules.registry import RULES
from runstate.watermark import advance_watermark, read_watermark, variable_name
from sandbox.server import SandboxHandle, running_sandbox

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]  # the first starts the server

PORTAL = "12345"
CYCLE = "lifecycle-cycle/cycle"
BACKFILL = "backfill/backfill"
REPORT = "lead-report/lead-report"
RECONCILE = "reconcile/reconcile"


@pytest.fixture(scope="module")
def demo() -> Iterator[SandboxHandle]:
    with running_sandbox(seed="demo") as handle:
        yield handle


@pytest.fixture(scope="module")
def settings(demo: SandboxHandle) -> Settings:
    """What ops would have in .env, pointing at the sandbox; fast pacing for the test."""
    return Settings(
        _env_file=None,
        hubspot_access_token=demo.token,
        hubspot_base_url=demo.url,
        hubspot_portal_id=PORTAL,
        hubspot_requests_per_10s=1000,
    )


@pytest.fixture(scope="module")
def first_deploy(
    prefect_api: str, settings: Settings, client: SyncPrefectClient
) -> tuple[DeployReport, list[DeploymentSchedule]]:
    """The first deploy's report and the cycle's schedules as it left them (tests edit them)."""
    report = deploy_all(settings=settings, prefect_file=PREFECT_YAML)
    return report, client.read_deployment_by_name(CYCLE).schedules


@pytest.fixture(scope="module")
def deployed(first_deploy: tuple[DeployReport, list[DeploymentSchedule]]) -> DeployReport:
    return first_deploy[0]


@pytest.fixture(scope="module")
def worker_outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="module")
def worker(
    deployed: DeployReport,
    client: SyncPrefectClient,
    prefect_env: dict[str, str],
    logs: Path,
    worker_outbox: Path,
) -> Iterator[Service]:
    """A process worker on the pool; only the runs the tests create reach it.

    It gets no HubSpot token: the flows read it from the Secret block `leadops deploy` saved.
    """
    for name in deployed.deployments:
        quiet(client, client.read_deployment_by_name(name).id)
    env = {
        **prefect_env,
        "HUBSPOT_REQUESTS_PER_10S": "1000",
        "HUBSPOT_SEARCHES_PER_SECOND": "5",
        "OUTBOX_DIR": str(worker_outbox),
    }
    with running_worker("worker", "leadops", env, logs) as service:
        yield service


def run_until_final(
    client: SyncPrefectClient, worker: Service, deployment: str, parameters: dict[str, Any]
) -> FlowRun:
    """Start a run of `deployment` on the worker and wait until its state is final."""
    return until_final(client, start_run(client, deployment, parameters), worker.tail)


def run_to_the_end(
    client: SyncPrefectClient, worker: Service, deployment: str, parameters: dict[str, Any]
) -> FlowRun:
    """A run of `deployment` that must complete; a failure shows the run's logs."""
    return completed(client, start_run(client, deployment, parameters), worker.tail)


def artifacts_of(client: SyncPrefectClient, run_id: UUID) -> dict[str, Any]:
    found = client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
    )
    return {artifact.key or artifact.type: artifact for artifact in found}


def hot_mqls(demo: SandboxHandle) -> list[str]:
    """Contact ids that are MQLs scoring at or above the promote threshold."""
    rules = load_rules()
    hot = []
    for record in demo.store.tables["contacts"].records.values():
        score = record.props.get(rules.promote.score_property)
        mql = record.props.get("lifecyclestage") == rules.stages.mql
        if mql and score and float(score) >= rules.promote.threshold:
            hot.append(str(record.id))
    return hot


def test_deploy_creates_pool_limit_block_and_every_deployment(
    deployed: DeployReport, client: SyncPrefectClient, demo: SandboxHandle
) -> None:
    assert deployed.pool_created and deployed.token_saved
    assert set(deployed.created) == set(deployed.deployments)
    assert {CYCLE, BACKFILL, REPORT, RECONCILE} <= set(deployed.deployments)
    assert len(deployed.deployments) == len(load_project()["deployments"])
    assert client.read_work_pool("leadops").type == "process"
    limit = client.read_global_concurrency_limit_by_name("hubspot")
    assert (limit.limit, limit.slot_decay_per_second) == (100, 100.0)
    assert client.read_global_concurrency_limit_by_name("leadops-run").limit == 1
    assert Secret.load("hubspot-token").get() == demo.token
    cycle = client.read_deployment_by_name(CYCLE)
    assert cycle.global_concurrency_limit.limit == 1
    assert cycle.concurrency_options.collision_strategy == "ENQUEUE"
    assert cycle.job_variables["env"] == {
        "HUBSPOT_TOKEN_BLOCK": "hubspot-token",
        "HUBSPOT_GLOBAL_LIMIT": "hubspot",
        "LEADOPS_RUN_LIMIT": "leadops-run",
        "HUBSPOT_BASE_URL": demo.url,
        "HUBSPOT_PORTAL_ID": PORTAL,
    }
    assert demo.token not in str(cycle.job_variables)


def test_scheduler_creates_runs_for_the_default_schedule(
    first_deploy: tuple[DeployReport, list[DeploymentSchedule]], client: SyncPrefectClient
) -> None:
    deployed, [schedule] = first_deploy
    assert set(deployed.scheduled) == {CYCLE, RECONCILE, REPORT}  # daily, weekly
    assert (schedule.schedule.cron, schedule.active) == ("*/15 * * * *", True)
    cycle = client.read_deployment_by_name(CYCLE)
    # The worker fixture switches schedules off: switch the cycle's back on for this test.
    client.update_deployment_schedule(cycle.id, schedule.id, active=True)
    try:
        runs = wait_for("Scheduled runs of the cycle", lambda: scheduled_runs(client, cycle.id), 60)
        assert all(run.auto_scheduled for run in runs)
    finally:
        quiet(client, cycle.id)
    backfill = client.read_deployment_by_name(BACKFILL)
    assert backfill.schedules == [] and scheduled_runs(client, backfill.id) == []


def test_redeploy_keeps_what_ops_changed_in_the_ui(
    deployed: DeployReport, client: SyncPrefectClient, settings: Settings
) -> None:
    cycle = client.read_deployment_by_name(CYCLE)
    edited = CronSchedule(cron="0 7 * * 1-5", timezone="Europe/Berlin")
    client.update_deployment_schedule(
        cycle.id, cycle.schedules[0].id, schedule=edited, active=False
    )
    recycle = client.read_deployment_by_name("recycle/recycle")
    client.update_deployment(recycle.id, DeploymentUpdate(paused=True))
    again = deploy_all(settings=settings, prefect_file=PREFECT_YAML)
    assert (again.created, again.scheduled, again.pool_created) == ([], [], False)
    assert again.deployments == deployed.deployments
    [kept] = client.read_deployment_by_name(CYCLE).schedules
    assert (kept.schedule.cron, kept.schedule.timezone) == ("0 7 * * 1-5", "Europe/Berlin")
    assert kept.active is False
    assert client.read_deployment_by_name("recycle/recycle").paused


def test_watermark_round_trips_through_a_prefect_variable(prefect_api: str) -> None:
    until, portal = datetime(2026, 11, 23, 12, 0, tzinfo=UTC), "67890"  # not the cycle's portal
    assert advance_watermark(portal, "new_lead", until) == until
    assert advance_watermark(portal, "new_lead", until - timedelta(hours=1)) == until
    assert read_watermark(portal, "new_lead") == until
    with get_client(sync_client=True) as prefect_client:
        stored = prefect_client.read_variable_by_name(variable_name(portal, "new_lead"))
    assert stored.value == {"until": until.isoformat()}


def test_the_server_refuses_backfill_windows_under_an_hour(
    deployed: DeployReport, client: SyncPrefectClient
) -> None:
    params = {**two_past_windows(), "window_hours": 0}
    backfill = client.read_deployment_by_name(BACKFILL)
    with pytest.raises(PrefectHTTPStatusError, match="window_hours") as refused:
        client.create_flow_run_from_deployment(backfill.id, parameters={"params": params})
    assert "0 is less than the minimum of 1" in str(refused.value)


def test_backfill_walks_two_windows_promotes_the_hot_mqls_and_a_rerun_changes_nothing(
    worker: Service, client: SyncPrefectClient, demo: SandboxHandle
) -> None:
    demo.reseed()
    hot = hot_mqls(demo)
    assert hot, "the demo seed has MQLs over the threshold"
    run = run_to_the_end(client, worker, BACKFILL, {"params": two_past_windows()})
    windows = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id])
        )
    )
    assert len(windows) == 2 and all(w.state.is_completed() for w in windows)
    artifacts = artifacts_of(client, run.id)
    assert artifacts["backfill-progress"].data == 100.0
    assert "2/2 completed" in artifacts["backfill-summary"].data
    rules = load_rules()
    contacts = demo.store.tables["contacts"].records
    for contact_id in hot:
        props = contacts[int(contact_id)].props
        assert props["lifecyclestage"] == rules.stages.sql, contact_id
        assert props["hs_lead_status"] == rules.lead_status.new, contact_id
    writes_after_first = demo.stats()["writes_total"]
    assert writes_after_first > 0

    run_to_the_end(client, worker, BACKFILL, {"params": two_past_windows()})
    assert demo.stats()["writes_total"] == writes_after_first


def test_cycle_deployment_runs_the_rules_and_publishes_its_report(
    worker: Service, client: SyncPrefectClient, demo: SandboxHandle
) -> None:
    demo.reseed()
    for rule in RULES:  # a full window: no watermark left by an earlier cycle
        with contextlib.suppress(ObjectNotFound):
            client.delete_variable_by_name(variable_name(PORTAL, rule))
    assert hot_mqls(demo), "the demo seed has MQLs over the threshold"
    writes_before = demo.stats()["writes_total"]
    run = run_to_the_end(client, worker, CYCLE, {})
    assert demo.stats()["writes_total"] > writes_before
    assert hot_mqls(demo) == []
    kinds = {artifact.type for artifact in artifacts_of(client, run.id).values()}
    assert {"markdown", "table"} <= kinds


@pytest.mark.timeout(600)  # two cycles with every request slowed down
def test_a_cancelled_cycle_reports_and_tells_what_it_applied_and_the_next_run_finishes(
    worker: Service, client: SyncPrefectClient, demo: SandboxHandle, worker_outbox: Path
) -> None:
    demo.reseed()
    for rule in RULES:  # a full window: no watermark left by an earlier cycle
        with contextlib.suppress(ObjectNotFound):
            client.delete_variable_by_name(variable_name(PORTAL, rule))
    told_before = told(worker_outbox)
    writes_before = demo.stats()["writes_total"]
    demo.set_faults(latency_ms=150)  # every request: the cancellation lands mid-cycle
    try:
        deployment_id = client.read_deployment_by_name(CYCLE).id
        run = client.create_flow_run_from_deployment(deployment_id, parameters={})
        wait_for(
            "the cycle's first writes",
            lambda: demo.stats()["writes_total"] > writes_before,
            RUN_TIMEOUT,
            0.05,
            worker.tail,
        )
        client.set_flow_run_state(run.id, Cancelling(message="cancelled by the test"))

        def final() -> FlowRun | None:
            current = client.read_flow_run(run.id)
            return current if current.state and current.state.is_final() else None

        cancelled = wait_for("the cancelled run to end", final, RUN_TIMEOUT, 0.5, worker.tail)
    finally:
        demo.set_faults()
    assert cancelled.state.is_cancelled(), cancelled.state
    assert hot_mqls(demo) == [], "promote ran before the cancellation"
    summary = artifacts_of(client, run.id)["lifecycle-cycle-summary"].data
    applied = re.search(r"interrupted after (\d+) change\(s\); a rerun is safe", summary)
    assert applied and int(applied.group(1)) > 0, summary
    told_by_cancelled = told(worker_outbox) - told_before
    assert sum(told_by_cancelled.values()) > 0, "what the cancelled run applied is told"

    run_to_the_end(client, worker, CYCLE, {})
    told_now = told(worker_outbox) - told_before
    assert [item for item, times in told_now.items() if times > 1] == []
    assert snapshot(demo).duplicate_tasks() == {}
    assert not list((worker_outbox / "journal").rglob("*.jsonl"))

"""Two portals on one Prefect server: `leadops deploy --portal ID --rules PATH` twice, their
runs at once, and the distributed engine (two workers, PostgreSQL) proven on them.

Two sandboxes play portals 111 and 222 (small demo seeds, each its own token) with different
rules: portal 111 promotes MQLs scoring 50 or more, portal 222 those scoring 60 or more. The
session's server runs on PostgreSQL where one can be started (`conftest.py`); the test of two
workers needs it and says so when it is skipped.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.blocks.system import Secret
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterParentFlowRunId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound
from prefect_harness import (
    Database,
    Service,
    completed,
    quiet,
    running_worker,
    start_run,
    two_past_windows,
    wait_for,
)
from typer.testing import CliRunner

from bench.state import PortalState, snapshot
from config.rules import load_rules
from config.settings import Settings
from leadops.cli import app
from leadops.deploy import PREFECT_YAML, DeployReport, deploy_all
from rules.registry import RULES
from runstate.watermark import variable_name
from sandbox.server import SandboxHandle, running_sandbox

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

POOL = "portals"
THRESHOLDS = {"111": 50, "222": 60}
CONTACTS = 60  # MQLs scoring 0, 0, 49.5, 50, 57, 64, 71
# A writing run holds its portal's run lock from the portal check to its last write.
LOCKED_TASKS = ["read-portal-facts", "update-contacts", "create-tasks", "add-to-lists"]


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[dict[str, SandboxHandle]]:
    with contextlib.ExitStack() as stack:
        handles = {}
        for portal in THRESHOLDS:
            handle = stack.enter_context(
                running_sandbox(seed="demo", contacts=CONTACTS, token=f"token-{portal}")
            )
            handle.set_config(portal_id=int(portal))
            handles[portal] = handle
        yield handles


@pytest.fixture(scope="module")
def outbox_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="module")
def deployed(
    client: SyncPrefectClient,
    sandboxes: dict[str, SandboxHandle],
    outbox_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, DeployReport]:
    """Both portals deployed to the pool, each with its own rules file; schedules off."""
    rules_dir = tmp_path_factory.mktemp("rules")
    reports = {}
    for portal, sandbox in sandboxes.items():
        rules = rules_dir / f"portal-{portal}.yaml"
        rules.write_text(f"promote:\n  threshold: {THRESHOLDS[portal]}\n")
        settings = Settings(
            _env_file=None,
            hubspot_access_token=sandbox.token,
            hubspot_base_url=sandbox.url,
            hubspot_requests_per_10s=1000,
            outbox_dir=outbox_root,
        )
        reports[portal] = deploy_all(
            pool=POOL,
            portal=portal,
            rules=rules,
            only=("cycle", "backfill"),  # what the tests run: `prefect deploy` is slow
            settings=settings,
            prefect_file=PREFECT_YAML,
        )
        for name in reports[portal].deployments:
            quiet(client, client.read_deployment_by_name(name).id)
    return reports


@pytest.fixture(scope="module")
def worker_env(prefect_env: dict[str, str]) -> dict[str, str]:
    # Workers poll every second (Prefect's default is 10 s): a short run must not finish before
    # the other worker first looks, or one worker takes every run.
    return {
        **prefect_env,
        "HUBSPOT_REQUESTS_PER_10S": "1000",
        "HUBSPOT_SEARCHES_PER_SECOND": "5",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        # Which worker ran what is read from the workers' INFO lines; the CLI, when a test ran
        # it in this process, left PREFECT_LOGGING_LEVEL=WARNING in the environment.
        "PREFECT_LOGGING_LEVEL": "INFO",
    }


@pytest.fixture(scope="module")
def worker(
    deployed: dict[str, DeployReport], worker_env: dict[str, str], logs: Path
) -> Iterator[Service]:
    """One worker; `--limit 2` leaves a third run to another worker when there is one."""
    with running_worker("portals-worker-1", POOL, worker_env, logs, "--limit", "2") as service:
        yield service


def fresh(client: SyncPrefectClient, sandboxes: dict[str, SandboxHandle]) -> None:
    """Reseed both portals and forget their watermarks: the next cycles look at everything."""
    for portal, sandbox in sandboxes.items():
        sandbox.reseed(contacts=CONTACTS)
        for rule in RULES:
            with contextlib.suppress(ObjectNotFound):
                client.delete_variable_by_name(variable_name(portal, rule))


def comparable(state: PortalState) -> tuple[Any, ...]:
    """A portal's end state without the instants that depend on when a run ran (due times)."""
    tasks = {
        contact: sorted((body, subject, status, owner) for body, subject, _, status, owner in rows)
        for contact, rows in state.tasks.items()
    }
    return state.contacts, tasks, state.lists


def mql_scores(sandbox: SandboxHandle) -> list[float]:
    rules = load_rules()
    return sorted(
        float(record.props.get(rules.promote.score_property) or 0)
        for record in sandbox.store.tables["contacts"].records.values()
        if record.props.get("lifecyclestage") == rules.stages.mql
    )


@pytest.fixture(scope="module")
def single_worker(
    client: SyncPrefectClient, worker: Service, sandboxes: dict[str, SandboxHandle]
) -> dict[str, tuple[FlowRun, PortalState]]:
    """Both portals' cycles started at once on the one worker: each run and its end state."""
    fresh(client, sandboxes)
    runs = {p: start_run(client, f"lifecycle-cycle/cycle-{p}", {}) for p in sandboxes}
    return {
        p: (completed(client, run, worker.tail), snapshot(sandboxes[p])) for p, run in runs.items()
    }


def test_two_portals_run_at_once_each_with_its_own_rules_state_and_limits(
    single_worker: dict[str, tuple[FlowRun, PortalState]],
    client: SyncPrefectClient,
    sandboxes: dict[str, SandboxHandle],
    deployed: dict[str, DeployReport],
    outbox_root: Path,
) -> None:
    runs = {portal: run for portal, (run, _) in single_worker.items()}
    first, second = runs.values()
    assert first.start_time < second.end_time and second.start_time < first.end_time

    # Each portal's rules applied to it alone: 111 promoted its MQLs scoring 50 and 57,
    # 222 (threshold 60) left them MQLs.
    assert [s for s in mql_scores(sandboxes["111"]) if s >= 50] == []
    assert [s for s in mql_scores(sandboxes["222"]) if s >= 50] == [50.0, 57.0]

    variables = {v.name for v in client.read_variables()}
    for portal, report in deployed.items():
        env = client.read_deployment_by_name(f"lifecycle-cycle/cycle-{portal}").job_variables["env"]
        assert env["LIFECYCLE_CONFIG"].endswith(f"portal-{portal}.yaml")
        assert env["OUTBOX_DIR"] == str(outbox_root / portal)
        assert env["HUBSPOT_TOKEN_BLOCK"] == f"hubspot-token-{portal}"
        assert Secret.load(f"hubspot-token-{portal}").get() == f"token-{portal}"
        for limit in (f"hubspot-{portal}", f"leadops-run-{portal}"):
            assert client.read_global_concurrency_limit_by_name(limit).name == limit
        assert (env["HUBSPOT_GLOBAL_LIMIT"], env["LEADOPS_RUN_LIMIT"]) == (
            report.global_limit,
            report.run_limit,
        )
        assert {variable_name(portal, rule) for rule in ("promote", "new_lead")} <= variables
        assert sandboxes[portal].stats()["writes_total"] > 0

        # Its own outbox: lock, digests about its own contacts only, journals closed.
        folder = outbox_root / portal
        assert len(list((folder / ".locks").glob("*.lock"))) == 1
        digests = [path.read_text() for path in (folder / "pending").glob("*.eml")]
        assert digests, f"portal {portal} told its owners"
        other = next(p for p in THRESHOLDS if p != portal)
        assert all(f"/contacts/{other}/" not in text for text in digests)
        assert any(f"/contacts/{portal}/" in text for text in digests)
        assert not list((folder / "journal").rglob("*.jsonl"))

        # Its own artifacts on the shared server: the run's summary under its suffixed key
        # names its own changes CSV, not the other portal's.
        assert env["LEADOPS_ARTIFACT_SUFFIX"] == portal
        [summary] = run_artifacts(client, runs[portal], f"lifecycle-cycle-summary-{portal}")
        assert str(folder / "journal") in str(summary.data)
        assert str(outbox_root / other) not in str(summary.data)
        assert run_artifacts(client, runs[portal], f"lifecycle-cycle-changes-{portal}")

        # `leadops check --portal` checks what the deployment records, against that portal.
        checked = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["check", "--portal", portal])
        assert checked.exit_code == 0, checked.output
        source = f"deployment lifecycle-cycle/cycle-{portal}, token block hubspot-token-{portal}"
        assert source in " ".join(checked.output.split())  # the table title may wrap
        assert f"portal-{portal}.yaml" in checked.output


def run_artifacts(client: SyncPrefectClient, run: FlowRun, key: str) -> list[Any]:
    """The artifacts `run` published under `key`. Not the key's latest: the PostgreSQL test
    runs the same deployments, before or after this one's reads (the order is shuffled)."""
    only = ArtifactFilter(
        key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])
    )
    return client.read_artifacts(artifact_filter=only)


def locked_spans(client: SyncPrefectClient, runs: list[FlowRun]) -> dict[str, tuple[Any, Any]]:
    """Per flow run (and backfill window) of one portal: first to last task under its lock.

    The server records task runs from events, a moment after the flow run ended: read until
    every flow run with tasks has its portal check recorded and two reads agree."""
    ids = [run.id for run in runs]
    children = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=ids))
    )
    names = {run.id: run.name for run in [*runs, *children]}
    only_these = FlowRunFilter(id=FlowRunFilterId(any_=list(names)))

    def read() -> dict[str, tuple[Any, Any]]:
        tasks = client.read_task_runs(flow_run_filter=only_these, limit=200)  # one API page
        assert len(tasks) < 200, "more task runs than one page"
        spans: dict[str, tuple[Any, Any]] = {}
        checked: set[str] = set()
        for task in tasks:
            kind = task.name.rsplit("-", 1)[0]  # Prefect names a task run `<task>-<suffix>`
            if kind not in LOCKED_TASKS or task.end_time is None:
                continue
            run = names[task.flow_run_id]
            checked |= {run} if kind == "read-portal-facts" else set()
            start, end = spans.get(run, (task.start_time, task.end_time))
            spans[run] = (min(start, task.start_time), max(end, task.end_time))
        return spans if checked == set(spans) else {}

    previous: list[dict[str, tuple[Any, Any]]] = [{}]

    def settled() -> dict[str, tuple[Any, Any]]:
        current = read()
        stable = current if current and current == previous[0] else {}
        previous[0] = current
        return stable

    return wait_for("the runs' task runs on the server", settled, 60, 1)


def test_two_workers_on_postgresql_run_two_portals_and_a_backfill_one_writer_per_portal(
    database: Database,
    single_worker: dict[str, tuple[FlowRun, PortalState]],
    client: SyncPrefectClient,
    worker: Service,
    worker_env: dict[str, str],
    logs: Path,
    sandboxes: dict[str, SandboxHandle],
    outbox_root: Path,
) -> None:
    if not database.url:
        pytest.skip(
            f"PostgreSQL could not be started here ({database.why_not}); install Debian's "
            "`postgresql` package (.ci/run does) to run the distributed engine test"
        )
    fresh(client, sandboxes)
    # The second worker takes one run at a time: the first (it polls every few seconds) takes
    # the others, so both workers run some whichever polls first.
    with running_worker("portals-worker-2", POOL, worker_env, logs, "--limit", "1") as second:
        # Each run as if on its own machine: its own outbox, so the file lock there cannot
        # keep portal 111's cycle and backfill apart; only the Prefect run limit can.
        def machine(name: str, portal: str) -> dict[str, Any]:
            return {"env": {"OUTBOX_DIR": str(outbox_root / name / portal)}}

        runs = {
            "cycle-111": start_run(client, "lifecycle-cycle/cycle-111", {}, **machine("a", "111")),
            "backfill-111": start_run(
                client,
                "backfill/backfill-111",
                {"params": two_past_windows()},
                **machine("b", "111"),
            ),
            "cycle-222": start_run(client, "lifecycle-cycle/cycle-222", {}, **machine("b", "222")),
        }
        context = lambda: worker.tail() + "\n" + second.tail()  # noqa: E731
        done = {name: completed(client, run, context) for name, run in runs.items()}
        by_worker = {w.name: w.log.read_text(errors="replace") for w in (worker, second)}
    for name, log in by_worker.items():
        assert any(str(run.id) in log for run in runs.values()), f"{name} ran none of the runs"

    spans = locked_spans(client, [done["cycle-111"], done["backfill-111"]])
    assert len(spans) >= 3, spans  # the cycle and the backfill's two windows
    for (a, (a_start, a_end)), (b, (b_start, b_end)) in itertools.combinations(spans.items(), 2):
        assert a_end <= b_start or b_end <= a_start, f"{a} and {b} wrote to portal 111 at once"

    for portal, (_, alone) in single_worker.items():
        assert comparable(snapshot(sandboxes[portal])) == comparable(alone), portal

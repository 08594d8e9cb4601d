"""`leadops deploy`: everything a Prefect server needs to run leadops, idempotently.

In order: check the Prefect API, save the token in a Secret block unless one exists (an
existing block is replaced only with `--rotate-token`), create the process work pool, create
or update the global concurrency limits for the portal's HubSpot request budget and for its
writing runs (one at a time, on any worker), run
`prefect --no-prompt deploy --all` on `prefect.yaml` (rendered for the pool and portal), and
give deployments it created their default schedule. Running it again changes nothing that ops
set in the UI: existing schedules are never touched and paused deployments stay paused.

The CLI mounts `deploy_command` as `leadops deploy`: `app.command(name="deploy")(deploy_command)`.

Example:
    ```python
    from leadops.deploy import deploy_all

    report = deploy_all(pool="leadops")  # HUBSPOT_ACCESS_TOKEN and PREFECT_API_URL from env
    print("\\n".join(report.lines()))
    ```
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from config.settings import Settings
from leadops.portals import checked_rules, portal_names

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.schedules import SCHEDULE_TYPES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"
SECRET_ENV = ("HUBSPOT_ACCESS_TOKEN", "SMTP_PASSWORD")  # never handed to the deploy subprocess
PASSED_THROUGH_ENV = ("HUBSPOT_PORTAL_TIMEZONE",)  # only when set explicitly


class DeployError(RuntimeError):
    """Deployment could not proceed; the message says what to do next."""


@dataclass(frozen=True)
class DeployTarget:
    """Where and for which portal the deployments go. `portal` set: a suffixed set per portal."""

    pool: str = "leadops"
    portal: str | None = None
    token_block: str = "hubspot-token"
    global_limit: str | None = "hubspot"  # None: no shared limit, in-process pacing only
    run_limit: str = "leadops-run"  # one writing run of the portal at a time, on any worker
    env: dict[str, str] = field(default_factory=dict)

    def deployment_name(self, base: str) -> str:
        return f"{base}-{self.portal}" if self.portal else base


@dataclass
class DeployReport:
    """What `deploy_all` did; `lines()` says it for people. Holds no secret."""

    api_url: str
    pool: str
    pool_created: bool
    global_limit: str | None
    limit: int
    slot_decay_per_second: float
    token_block: str
    token_saved: bool
    run_limit: str = "leadops-run"
    token_rotated: bool = False
    deployments: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    scheduled: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.token_rotated:
            token = "replaced with HUBSPOT_ACCESS_TOKEN (--rotate-token)"
        elif self.token_saved:
            token = "saved from HUBSPOT_ACCESS_TOKEN"
        else:
            token = (
                "existing block kept (a redeploy never replaces it; --rotate-token saves "
                "HUBSPOT_ACCESS_TOKEN over it)"
            )
        created = set(self.created)
        return [
            f"Prefect API: {self.api_url}",
            f"Work pool {self.pool!r} (process): {'created' if self.pool_created else 'exists'}",
            self._limit_line(),
            f"Run limit {self.run_limit!r}: 1 writing run of the portal at a time",
            f"Secret block {self.token_block!r}: {token}",
            *(
                f"Deployment {name}: {'created' if name in created else 'updated'}"
                + (" with its default schedule" if name in self.scheduled else "")
                for name in self.deployments
            ),
            f"Start a worker: prefect worker start --pool {self.pool}",
        ]

    def _limit_line(self) -> str:
        if self.global_limit is None:
            return "Global concurrency limit: none (each run paces itself in-process)"
        return (
            f"Global concurrency limit {self.global_limit!r}: {self.limit} slot(s), "
            f"decay {self.slot_decay_per_second:g}/s"
        )


def load_project(path: Path = PREFECT_YAML) -> dict[str, Any]:
    """The parsed prefect.yaml (anchors resolved)."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise DeployError(f"{path} not found: run leadops from its repository") from None


def only_entries(project: dict[str, Any], only: Collection[str]) -> dict[str, Any]:
    """`project` with just the deployments named in `only` (all of them when empty)."""
    entries = project.get("deployments", [])
    unknown = sorted(set(only) - {entry["name"] for entry in entries})
    if unknown:
        known = ", ".join(entry["name"] for entry in entries)
        raise DeployError(f"no deployment named {', '.join(unknown)} in prefect.yaml ({known})")
    if not only:
        return project
    return {**project, "deployments": [e for e in entries if e["name"] in set(only)]}


def render_project(project: dict[str, Any], target: DeployTarget) -> dict[str, Any]:
    """prefect.yaml for `target`: pool, names, tags and job env set; schedules never included."""
    rendered = copy.deepcopy(project)
    for entry in rendered.get("deployments", []):
        entry.pop("schedules", None)
        entry["name"] = target.deployment_name(entry["name"])
        if target.portal:
            entry["tags"] = [*entry.get("tags", []), f"portal-{target.portal}"]
        pool = entry.setdefault("work_pool", {})
        pool["name"] = target.pool
        env = pool.setdefault("job_variables", {}).setdefault("env", {})
        env.update(
            HUBSPOT_TOKEN_BLOCK=target.token_block, LEADOPS_RUN_LIMIT=target.run_limit, **target.env
        )
        if target.global_limit:
            env["HUBSPOT_GLOBAL_LIMIT"] = target.global_limit
        else:
            env.pop("HUBSPOT_GLOBAL_LIMIT", None)
    return rendered


def keep_paused(rendered: dict[str, Any], paused: set[str]) -> dict[str, Any]:
    """Mark the deployments ops paused as paused, so the redeploy does not resume them."""
    kept = copy.deepcopy(rendered)
    for entry in kept.get("deployments", []):
        if entry["name"] in paused:
            entry["paused"] = True
    return kept


def default_schedules(project: dict[str, Any], target: DeployTarget) -> dict[str, list[dict]]:
    """`definitions.default_schedules`, keyed by the rendered deployment name."""
    specs = (project.get("definitions") or {}).get("default_schedules") or {}
    return {target.deployment_name(name): list(items) for name, items in specs.items()}


def to_schedule(spec: dict[str, Any]) -> SCHEDULE_TYPES:
    """A Prefect schedule from `{cron, timezone}` or `{interval (seconds), timezone}`."""
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    timezone = spec.get("timezone", "UTC")
    if "cron" in spec:
        return CronSchedule(cron=spec["cron"], timezone=timezone)
    if "interval" in spec:
        return IntervalSchedule(interval=timedelta(seconds=spec["interval"]), timezone=timezone)
    raise DeployError(
        f"default schedule {spec!r} in prefect.yaml needs `cron` or `interval` (seconds)"
    )


def rate_budget(requests_per_10s: int) -> tuple[int, float]:
    """GCL slots and decay for the portal's request rate: a one-second burst, refilled at it.

    The gateway takes one slot per HubSpot request (searches are paced in-process on top).
    """
    per_second = requests_per_10s / 10
    return max(1, math.floor(per_second)), per_second


def prefect_api_url() -> str:
    """PREFECT_API_URL, or an error saying how to point leadops at a server."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise DeployError(
            "PREFECT_API_URL is not set, so there is no Prefect server to deploy to. Start one "
            "(`prefect server start`, then `prefect config set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api`) or log in to Prefect Cloud "
            "(`prefect cloud login`), then rerun `leadops deploy`."
        )
    return url


def check_api(client: SyncPrefectClient, url: str) -> None:
    if (problem := client.api_healthcheck()) is not None:
        raise DeployError(
            f"the Prefect API at {url} is unreachable ({type(problem).__name__}: {problem}). "
            "Start the server (`prefect server start`) or fix PREFECT_API_URL, then rerun."
        )


def ensure_pool(client: SyncPrefectClient, name: str) -> bool:
    """Create the process work pool unless it exists (its settings are then left alone)."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    try:
        pool = client.read_work_pool(name)
    except ObjectNotFound:
        template = ProcessWorker.get_default_base_job_template()
        client.create_work_pool(
            WorkPoolCreate(name=name, type="process", base_job_template=template)
        )
        return True
    if pool.type != "process":
        raise DeployError(
            f"work pool {name!r} exists with type {pool.type!r}; leadops needs a process pool: "
            "pass another name with --pool or delete that pool"
        )
    return False


def save_token(
    client: SyncPrefectClient, block: str, token: str | None, rotate: bool = False
) -> bool:
    """Save `token` in a new Secret block; an existing block is kept (a token rotated in the
    UI must survive a redeploy) unless `rotate`. Returns whether the block was written."""
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    try:
        client.read_block_document_by_name(block, "secret", include_secrets=False)
        exists = True
    except ObjectNotFound:
        exists = False
    if rotate and not token:
        raise DeployError(
            f"--rotate-token replaces the Secret block {block!r} with HUBSPOT_ACCESS_TOKEN, "
            "which is not set: export it (or put it in .env) and rerun"
        )
    if exists and not rotate:
        return False
    if not token:
        raise DeployError(
            f"HUBSPOT_ACCESS_TOKEN is not set and there is no Secret block {block!r}: export "
            "HUBSPOT_ACCESS_TOKEN=<private-app token> (or put it in .env) and rerun "
            "`leadops deploy`, or create the block in the Prefect UI (Blocks → Secret)."
        )
    Secret(value=token).save(block, overwrite=rotate)
    return True


def run_prefect_deploy(rendered: dict[str, Any], cwd: Path = PROJECT_ROOT) -> None:
    """`prefect --no-prompt deploy --all` on `rendered`, from `cwd` (the flows' code location)."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    with tempfile.TemporaryDirectory(prefix="leadops-deploy-") as tmp:
        prefect_file = Path(tmp) / "prefect.yaml"
        prefect_file.write_text(yaml.safe_dump(rendered, sort_keys=False))
        command = [_prefect_executable(), "--no-prompt", "deploy", "--all"]
        done = subprocess.run(
            [*command, "--prefect-file", str(prefect_file)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise DeployError(f"`prefect deploy --all` failed (exit {done.returncode}):\n{tail}")


def _prefect_executable() -> str:
    beside = Path(sys.executable).with_name("prefect")
    return str(beside) if beside.exists() else "prefect"


def _our_deployments(client: SyncPrefectClient, pool: str, names: set[str]) -> dict[str, Any]:
    """Deployments in `pool` with one of `names`, by full name (flow/deployment)."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        WorkPoolFilter,
        WorkPoolFilterName,
    )

    found = client.read_deployments(
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=sorted(names))),
        work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
    )
    return {f"{client.read_flow(d.flow_id).name}/{d.name}": d for d in found}


def add_default_schedules(
    client: SyncPrefectClient, created: dict[str, Any], defaults: dict[str, list[dict]]
) -> list[str]:
    """Give newly created deployments their default schedules; returns their full names."""
    from prefect.client.schemas.actions import DeploymentScheduleCreate

    scheduled = []
    for full_name, deployment in created.items():
        specs = defaults.get(deployment.name)
        if specs:
            client.create_deployment_schedules(
                deployment.id,
                [DeploymentScheduleCreate(schedule=to_schedule(s), active=True) for s in specs],
            )
            scheduled.append(full_name)
    return scheduled


def target_for(
    settings: Settings,
    pool: str,
    portal: str | None,
    shared_limit: bool = True,
    rules: Path | None = None,
    root: Path = PROJECT_ROOT,
) -> DeployTarget:
    """Block and limit names (suffixed per portal), and the non-secret env the flows need: a
    portal's set gets its own outbox and report folders; `rules` (relative to `root`, where
    runs start) is recorded as LIFECYCLE_CONFIG. Bad input is refused here, before any write."""
    names = portal_names(settings, portal)
    env = {"HUBSPOT_BASE_URL": settings.hubspot_base_url}
    if portal or settings.hubspot_portal_id:
        env["HUBSPOT_PORTAL_ID"] = portal or settings.hubspot_portal_id
    env.update({k: os.environ[k] for k in PASSED_THROUGH_ENV if os.environ.get(k)})
    if rules is None and os.environ.get("LIFECYCLE_CONFIG"):
        rules = Path(os.environ["LIFECYCLE_CONFIG"])
    if rules is not None:
        env["LIFECYCLE_CONFIG"] = checked_rules(rules, root)
    if portal:
        env.update(OUTBOX_DIR=str(names.outbox_dir), REPORT_DIR=str(names.report_dir))
        env["LEADOPS_ARTIFACT_SUFFIX"] = portal  # its own "latest" artifacts on the server
    rate_limit = names.rate_limit if shared_limit else None
    return DeployTarget(pool, portal, names.token_block, rate_limit, names.run_limit, env)


def deploy_all(
    *,
    pool: str = "leadops",
    portal: str | None = None,
    rotate_token: bool = False,
    shared_limit: bool = True,
    rules: Path | None = None,
    only: Collection[str] = (),
    prefect_file: Path = PREFECT_YAML,
    settings: Settings | None = None,
) -> DeployReport:
    """Pool, rate limit, token block and every deployment in `prefect_file`; safe to rerun.

    `portal` deploys a separate set for that portal (names, block, limits and folders
    suffixed with it); `rules` is the rules file its runs use (LIFECYCLE_CONFIG).
    The token block is created from HUBSPOT_ACCESS_TOKEN when missing and otherwise kept as
    it is, unless `rotate_token`.
    `shared_limit=False` creates no global concurrency limit and leaves HUBSPOT_GLOBAL_LIMIT
    unset: on a SQLite server each slot costs ~0.5 s (see the README, "The shared rate limit").
    `only` names the prefect.yaml entries to deploy (default: every one).
    """
    from prefect import get_client

    settings = settings or Settings()
    root = prefect_file.resolve().parent
    target = target_for(settings, pool, portal, shared_limit, rules, root)
    project = only_entries(load_project(prefect_file), only)
    rendered = render_project(project, target)
    names = {entry["name"] for entry in rendered.get("deployments", [])}
    url = prefect_api_url()
    limit, decay = rate_budget(settings.hubspot_requests_per_10s)
    with get_client(sync_client=True) as client:
        check_api(client, url)
        token = settings.hubspot_access_token
        token_saved = save_token(
            client, target.token_block, token and token.get_secret_value(), rotate_token
        )
        pool_created = ensure_pool(client, pool)
        if target.global_limit:
            client.upsert_global_concurrency_limit_by_name(target.global_limit, limit, decay)
        client.upsert_global_concurrency_limit_by_name(target.run_limit, 1)
        before = _our_deployments(client, pool, names)
        paused = {d.name for d in before.values() if d.paused}
        run_prefect_deploy(keep_paused(rendered, paused), cwd=root)
        after = _our_deployments(client, pool, names)
        created = {name: d for name, d in after.items() if name not in before}
        scheduled = add_default_schedules(client, created, default_schedules(project, target))
    return DeployReport(
        api_url=url,
        pool=pool,
        pool_created=pool_created,
        global_limit=target.global_limit,
        limit=limit,
        slot_decay_per_second=decay,
        run_limit=target.run_limit,
        token_block=target.token_block,
        token_saved=token_saved,
        token_rotated=token_saved and rotate_token,
        deployments=sorted(after),
        created=sorted(created),
        scheduled=scheduled,
    )


def deploy_command(
    pool: Annotated[str, typer.Option(help="Process work pool to create and deploy to.")] = (
        "leadops"
    ),
    portal: Annotated[
        str | None,
        typer.Option(
            help="Deploy a separate set for this portal (its HubSpot hub id): names, token "
            "block, limits and outbox folder suffixed with it."
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            help="Rules file the deployments' runs use (recorded as LIFECYCLE_CONFIG); "
            "default: LIFECYCLE_CONFIG if set, else config/lifecycle.yaml.",
        ),
    ] = None,
    rotate_token: Annotated[
        bool,
        typer.Option(
            "--rotate-token",
            help="Replace the token in an existing Secret block with HUBSPOT_ACCESS_TOKEN "
            "(without it, an existing block is never overwritten).",
        ),
    ] = False,
    shared_limit: Annotated[
        bool,
        typer.Option(help="Share one HubSpot rate limit across runs (a global concurrency limit)."),
    ] = True,
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Deploy only this prefect.yaml entry (repeatable, e.g. --only cycle); "
            "default: every one."
        ),
    ] = None,
) -> None:
    """Create the work pool, rate limit and token block, then deploy every flow. Safe to rerun."""
    try:
        report = deploy_all(
            pool=pool,
            portal=portal,
            rotate_token=rotate_token,
            shared_limit=shared_limit,
            rules=rules,
            only=only or (),
        )
    except (DeployError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for line in report.lines():
        typer.echo(line)

"""One leadops per portal: what each portal's deployments are named and where their state lives.

`leadops deploy --portal 777 --rules config/acme.yaml` gives portal 777 its own deployments
(`cycle-777`, ...), Secret block (`hubspot-token-777`), HubSpot rate limit (`hubspot-777`),
run limit (`leadops-run-777`, one writing run of the portal at a time, on any worker) and
folders (`<OUTBOX_DIR>/777`: its digests, journals, locks and run state;
`<REPORT_DIR>/777`: its lead reports), and records its rules file in the deployments'
environment. Everything else leadops keeps is keyed by the portal already (watermark
Variables `leadops_watermark_777_*`, journal and lock names). Bad input (a portal id that is
not one, a rules file that is missing or invalid) is refused here, before anything is written.

Example:
    ```python
    from config.settings import Settings
    from leadops.portals import portal_names

    names = portal_names(Settings(_env_file=None), "777")
    print(names.token_block, names.run_limit, names.outbox_dir)
    ```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from config.rules import ConfigError, load_rules
from config.settings import Settings

CYCLE_DEPLOYMENT = "lifecycle-cycle/cycle"
PORTAL_ID = re.compile(r"[1-9][0-9]{0,14}")  # HubSpot's hub id: a positive integer


class PortalInputError(ValueError):
    """A portal id or rules file given on the command line is unusable; nothing was written."""


@dataclass(frozen=True)
class PortalNames:
    """The Prefect objects and folders one deployment set uses."""

    token_block: str
    rate_limit: str
    run_limit: str
    outbox_dir: Path
    report_dir: Path


def checked_portal(portal: str) -> str:
    """`portal` if it is a HubSpot portal (hub) id, else an error saying what is allowed."""
    if not PORTAL_ID.fullmatch(portal):
        raise PortalInputError(
            f"--portal {portal!r} is not a HubSpot portal id: give the portal's hub id, digits "
            "only (e.g. 12345678; HubSpot shows it in the account menu)"
        )
    return portal


def checked_rules(path: Path, root: Path) -> str:
    """The rules file as deployments record it (LIFECYCLE_CONFIG): relative to `root` (where
    runs start) when inside it, else absolute. A missing or invalid file is refused."""
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise PortalInputError(
            f"--rules {str(path)!r}: no such file; give the path of a rules file "
            "(a copy of config/lifecycle.yaml)"
        )
    try:
        load_rules(resolved)
    except ConfigError as exc:
        raise PortalInputError(f"--rules {str(path)!r}: {exc}") from None
    try:
        return str(resolved.relative_to(root.resolve()))
    except ValueError:
        return str(resolved)


def portal_names(settings: Settings, portal: str | None) -> PortalNames:
    """Names for the portal's set; without a portal, the single set's (from the settings)."""
    if portal is None:
        return PortalNames(
            token_block=settings.hubspot_token_block or "hubspot-token",
            rate_limit=settings.hubspot_global_limit or "hubspot",
            run_limit=settings.leadops_run_limit or "leadops-run",
            outbox_dir=settings.outbox_dir,
            report_dir=settings.report_dir,
        )
    portal = checked_portal(portal)
    return PortalNames(
        token_block=f"hubspot-token-{portal}",
        rate_limit=f"hubspot-{portal}",
        run_limit=f"leadops-run-{portal}",
        outbox_dir=settings.outbox_dir / portal,
        report_dir=settings.report_dir / portal,
    )


def deployed_env(portal: str) -> dict[str, str]:
    """The job env `leadops deploy --portal` recorded on the portal's cycle deployment; empty
    when no Prefect server is configured or the portal is not deployed there yet."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return {}
    with get_client(sync_client=True) as client:
        if (problem := client.api_healthcheck()) is not None:
            raise PortalInputError(
                f"the Prefect API at {PREFECT_API_URL.value()} is unreachable "
                f"({type(problem).__name__}), so portal {portal}'s deployment cannot be read: "
                "start the server or unset PREFECT_API_URL to check with the local settings"
            )
        try:
            deployment = client.read_deployment_by_name(f"{CYCLE_DEPLOYMENT}-{portal}")
        except ObjectNotFound:
            return {}
    return dict((deployment.job_variables or {}).get("env") or {})


def settings_to_check(
    settings: Settings, portal: str, rules: Path | None, root: Path
) -> tuple[Settings, str]:
    """What `leadops check --portal` checks: the portal's deployed token block, base URL and
    rules file (`rules` instead when given), expecting HubSpot to report `portal` for the
    token; before the first deploy, the local settings. Returns them and where they came from."""
    env = deployed_env(checked_portal(portal))
    recorded = env.get("LIFECYCLE_CONFIG")
    update: dict[str, object] = {
        "hubspot_portal_id": portal,
        "hubspot_base_url": env.get("HUBSPOT_BASE_URL", settings.hubspot_base_url),
        "outbox_dir": Path(env.get("OUTBOX_DIR") or portal_names(settings, portal).outbox_dir),
    }
    if env:
        update["hubspot_token_block"] = env.get("HUBSPOT_TOKEN_BLOCK")
    if rules is not None:
        update["lifecycle_config"] = rules
    elif recorded:
        update["lifecycle_config"] = root / recorded
    source = (
        f"deployment {CYCLE_DEPLOYMENT}-{portal}, token block {env.get('HUBSPOT_TOKEN_BLOCK')}"
        if env
        else "local settings (not deployed yet), token HUBSPOT_ACCESS_TOKEN"
    )
    return settings.model_copy(update=update), source

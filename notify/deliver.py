"""Notifications from a run: `notify_owners` (a Prefect task) plans, renders, writes the
outbox and delivers it. Failure alerts are in `notify.alerts`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from itertools import chain

from prefect import task
from prefect.cache_policies import NO_CACHE

from config.rules import Rules
from config.settings import DEFAULT_UI_DOMAIN, Settings
from model.changes import ChangeResult
from model.records import Owner
from notify.outbox import (
    DeliveryReport,
    deliver_outbox,
    run_logger,
    scrub,
    secrets_of,
    write_outbox,
)
from notify.plan import Digest, Labels, plan_digests, plan_ops_summary, routed_to_ops
from notify.render import render_digest, render_ops_summary


@dataclass
class NotifySummary:
    """What `notify_owners` did: digests written, whether ops got a summary, the delivery."""

    run_name: str
    digests: int
    recipients: list[str]
    routed_to_ops: int
    ops_summary: bool
    written: list[str]
    delivery: DeliveryReport

    def describe(self) -> str:
        return f"{self.digests} digest(s) for run {self.run_name}; {self.delivery.describe()}"

    def as_dict(self) -> dict[str, object]:
        return {
            "run_name": self.run_name,
            "digests": self.digests,
            "recipients": len(self.recipients),
            "routed_to_ops": self.routed_to_ops,
            "ops_summary": self.ops_summary,
            "written": len(self.written),
            "delivery": self.delivery.as_dict(),
        }


def current_run_name() -> str:
    """`<flow-run name>-<first 8 of its id>`: unique per run, the same when it is retried."""
    from prefect.runtime import flow_run

    run_id = str(flow_run.id or "")
    if not run_id:
        return f"manual-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    return f"{flow_run.name}-{run_id[:8]}"


def _scrubbed(result: ChangeResult, secrets: Sequence[str]) -> ChangeResult:
    name = scrub(result.change.contact_name, secrets)
    reason = scrub(result.change.reason, secrets)
    error = result.error and scrub(result.error, secrets)
    if (name, reason, error) == (result.change.contact_name, result.change.reason, result.error):
        return result  # nothing to mask: no copy (a 100k-contact run has ~77k results)
    change = replace(result.change, contact_name=name, reason=reason)
    return replace(result, change=change, error=error)


def compose(
    results: Sequence[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    settings: Settings,
    run_name: str,
    labels: Labels | None = None,
) -> tuple[list[Digest], list[EmailMessage]]:
    """The run's digests and every message to send (digests, then the ops summary)."""
    digests, messages, _ = compose_lazily(results, owners, rules, settings, run_name, labels)
    return digests, list(messages)


def compose_lazily(
    results: Sequence[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    settings: Settings,
    run_name: str,
    labels: Labels | None = None,
) -> tuple[list[Digest], Iterator[EmailMessage], bool]:
    """As `compose`, but each message is rendered only when iterated (one in memory at a
    time: a digest of 25,000 changes is ~15 MB of email); the flag: an ops summary is last."""
    secrets = secrets_of(settings)
    clean = [_scrubbed(r, secrets) for r in results]
    links = {
        "portal_id": settings.hubspot_portal_id or "0",
        "ui_domain": settings.hubspot_ui_domain or DEFAULT_UI_DOMAIN,
        "run_name": run_name,
    }
    digests = plan_digests(clean, owners, rules, **links, timezone=settings.timezone, labels=labels)
    summary = plan_ops_summary(clean, digests, rules, **links)
    del clean
    ops = [summary] if summary is not None else []
    messages = chain(
        (render_digest(d, rules) for d in digests),
        (render_ops_summary(s, rules) for s in ops),
    )
    return digests, messages, summary is not None


@task(name="notify-owners", cache_policy=NO_CACHE)
def notify_owners(
    results: Sequence[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    settings: Settings,
    run_name: str | None = None,
    labels: Labels | None = None,
) -> NotifySummary:
    """Render each owner's digest (and the ops summary), write them to the outbox, deliver.

    Call it after the rules have been applied; dry runs should not call it. `run_name` names
    the messages (default: the current flow run's name and id), so it must be stable across
    retries of one run and unique across runs. `labels` (property -> value -> label, read
    from the portal once per run) show values as people see them in HubSpot.
    """
    run_name = run_name or current_run_name()
    digests, messages, ops_summary = compose_lazily(
        results, owners, rules, settings, run_name, labels
    )
    written = write_outbox(settings, messages)
    delivery = deliver_outbox(settings)
    summary = NotifySummary(
        run_name=run_name,
        digests=len(digests),
        recipients=[d.recipient for d in digests],
        routed_to_ops=routed_to_ops(digests),
        ops_summary=ops_summary,
        written=[p.name for p in written],
        delivery=delivery,
    )
    run_logger().info(summary.describe())
    return summary

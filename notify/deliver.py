"""Notifications from a run: `notify_owners` (a Prefect task) plans, renders, writes the
outbox and delivers it. Failure alerts are in `notify.alerts`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from itertools import chain
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from config.rules import Rules
from config.settings import DEFAULT_UI_DOMAIN, Settings
from model.changes import ChangeResult
from model.records import Owner
from notify.digest import DigestTally
from notify.ops_plan import plan_ops_summary, routed_to_ops
from notify.outbox import (
    DeliveryReport,
    deliver_outbox,
    run_logger,
    scrub,
    secrets_of,
    write_outbox,
)
from notify.plan import Labels, plan_digests, told
from notify.render import render_digest, render_ops_summary
from runstate.changes import RunChanges
from runstate.journal import journal_folder
from runstate.spool import spool_folder

SPOOL_BATCH = 1000  # changes a recipient's spool takes at a time


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
    results: Collection[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    settings: Settings,
    run_name: str,
    labels: Labels | None = None,
) -> tuple[list[DigestTally], list[EmailMessage]]:
    """Every message to send (digests, then the ops summary), and what each digest held."""
    tallies, messages, _ = compose_lazily(results, owners, rules, settings, run_name, labels)
    return tallies, list(messages)


def compose_lazily(
    results: Collection[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    settings: Settings,
    run_name: str,
    labels: Labels | None = None,
) -> tuple[list[DigestTally], Iterator[EmailMessage], bool]:
    """As `compose`, but one recipient at a time: the results (a big run's `RunChanges`,
    read from disk) are sorted by recipient into spools first, then each digest is planned
    from its spool keeping only what its mail shows, rendered when iterated (its CSV
    attachment streams from a file into the outbox) and dropped before the next. The spools
    and files go to the portal's spool folder (`runstate.spool`). The tallies fill as the
    messages are rendered; the flag: an ops summary comes last."""
    secrets = secrets_of(settings)
    links = {
        "portal_id": settings.hubspot_portal_id or "0",
        "ui_domain": settings.hubspot_ui_domain or DEFAULT_UI_DOMAIN,
        "run_name": run_name,
    }
    folder = spool_folder(journal_folder(settings))
    spools = _by_recipient(results, owners, rules, secrets, folder)
    tallies: list[DigestTally] = []

    def digests() -> Iterator[EmailMessage]:
        for spool in sorted(spools.values(), key=lambda s: s.order):
            planned = plan_digests(
                spool.results,
                owners,
                rules,
                **links,
                timezone=settings.timezone,
                labels=labels,
                folder=folder,
            )
            for digest in planned:  # one: the spool holds one recipient's changes
                tallies.append(digest.tally())
                yield render_digest(digest, rules, settings.leadops_digest_max_bytes)

    def ops() -> Iterator[EmailMessage]:
        clean = (_scrubbed(r, secrets) for r in results)
        summary = plan_ops_summary(clean, tallies, rules, **links)
        if summary is not None:
            yield render_ops_summary(summary, rules)

    with_ops = rules.notify.ops_summary and bool(results)
    return tallies, chain(digests(), ops()), with_ops


@dataclass
class _Spool:
    """One recipient's applied changes, on disk until its digest is planned."""

    order: tuple[bool, str, str]
    results: RunChanges
    pending: list[ChangeResult]

    def flush(self) -> None:
        self.results.add(self.pending)
        self.pending = []


def _by_recipient(
    results: Iterable[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    secrets: Sequence[str],
    folder: Path,
) -> dict[str, _Spool]:
    """The applied changes owners are told of, scrubbed, in a spool per recipient (in run
    order), each ordered as `plan_digests` orders digests."""
    spools: dict[str, _Spool] = {}
    for result, who in told(results, owners, rules):
        spool = spools.get(who.key)
        if spool is None:
            order = (bool(who.note), who.name.lower(), who.address)
            spool = spools[who.key] = _Spool(order, RunChanges(spool_dir=folder), [])
        elif who.note and not spool.order[0]:  # an ops line makes it the ops digest
            spool.order = (True, *spool.order[1:])
        spool.pending.append(_scrubbed(result, secrets))
        if len(spool.pending) >= SPOOL_BATCH:
            spool.flush()
    for spool in spools.values():
        spool.flush()
    return spools


@task(name="notify-owners", cache_policy=NO_CACHE)
def notify_owners(
    results: Collection[ChangeResult],
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
    tallies, messages, ops_summary = compose_lazily(
        results, owners, rules, settings, run_name, labels
    )
    written = write_outbox(settings, messages)
    delivery = deliver_outbox(settings)
    summary = NotifySummary(
        run_name=run_name,
        digests=len(tallies),
        recipients=[d.recipient for d in tallies],
        routed_to_ops=routed_to_ops(tallies),
        ops_summary=ops_summary,
        written=[p.name for p in written],
        delivery=delivery,
    )
    run_logger().info(summary.describe())
    return summary

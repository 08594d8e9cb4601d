"""Which New leads a cycle's first-touch SLA escalation judges: all of them, or only those
whose breach may have changed since its last run (as the rules' triggers do,
`rules.triggers`, `flows.incremental`).

A writing, notifying cycle judges, since the escalation's watermark (less the overlap):
- the contacts of emails, calls and tasks created or modified in the window (a touch closes
  a breach; a first-touch task edited or completed moves its deadline);
- the New leads modified in the window (a lead that became New, changed owner) and the
  contacts of told breaches modified there (a person moved them on): one search of the
  contacts modified in the window, sent only when some contact was;
- the leads whose SLA deadline (`rules.sla.next_deadline`, kept when last judged) passed;
- the contacts this run's rules changed (moved off New, or made New).
Every New lead is judged instead on the escalation's first run, after the rules file changed
(`sla` or a shared section), in the reconcile, and in backfills and manual windows. Only
writing, notifying runs record what they told and move the window on: a dry run or a run that
notifies no one judges what changed since the last one that did (every New lead before any),
and reports as new the breaches not told yet.

Example:
    ```python
    from flows.sla_window import SLA

    print(SLA)  # the name its watermark, deadlines and full judgments are kept under
    ```
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from prefect.utilities.annotations import quote

from flows.engine import RunContext, window_filters
from model.changes import ChangeResult, Outcome
from model.records import EngagementKind, Record
from rules import sla
from rules.kit import eq
from rules.registry import RULES
from rules.triggers import DeadlinePassed, next_deadlines, rule_config_hash
from runstate.watermark import advance_watermark, read_watermark, window_start
from tasks.changes import contacts_of
from tasks.crm import ENRICH_BATCH, read_contacts, search_contacts

SLA = "sla"  # not a rule: its state is kept beside theirs, under this name
FEED: tuple[EngagementKind, ...] = ("email", "call", "task")
DEADLINES = (DeadlinePassed(sla.next_deadline),)


@dataclass(frozen=True)
class SlaWindow:
    """Where this run's escalation looks: `since` None judges every New lead."""

    since: datetime | None
    keeps_state: bool  # a writing, notifying run: it records what it told

    @property
    def full(self) -> bool:
        return self.since is None


def _portal(ctx: RunContext) -> str:
    return ctx.settings.hubspot_portal_id or ""


def sla_window(ctx: RunContext) -> SlaWindow:
    """The escalation's window in this run (see the module's docstring)."""
    params, portal = ctx.params, _portal(ctx)
    keeps_state = not params.dry_run and params.notify
    if params.full or params.since is not None:
        return SlaWindow(None, keeps_state)
    assert ctx.state is not None
    if ctx.state.baseline(portal, SLA) != rule_config_hash(ctx.rules, SLA, RULES):
        return SlaWindow(None, keeps_state)
    if read_watermark(portal, SLA) is None:
        return SlaWindow(None, keeps_state)
    return SlaWindow(window_start(portal, SLA), keeps_state)


def describe(window: SlaWindow) -> str:
    if window.since is None:
        return "first-touch SLA: every New lead (full judgment)"
    return f"first-touch SLA: what changed since {window.since.isoformat()}"


def triggered_leads(
    ctx: RunContext, since: datetime, results: Sequence[ChangeResult], told_contacts: Iterable[str]
) -> list[str]:
    """The contacts whose breach may have changed in `[since, now)` (module docstring)."""
    assert ctx.feed is not None and ctx.state is not None
    found = [
        r.change.contact_id for r in results if r.outcome in (Outcome.APPLIED, Outcome.PLANNED)
    ]
    for kind in FEED:
        found += contacts_of(ctx.feed.engagements(kind, since))
    found += ctx.state.due(_portal(ctx), SLA, ctx.now)
    # The New leads modified, and told breaches' contacts moved on: from the run's shared
    # read of the modified contacts (`flows.modified`), else one windowed search. A contact
    # this run wrote is in `found` already, whatever the shared read saw of it.
    modified = ctx.feed.modified_contacts(since)
    if modified is None:
        window = window_filters(since, ctx.now)
        pages: Iterable[Sequence[Record]] = search_contacts(ctx.gateway, window, ["hs_lead_status"])
    else:
        pages = modified.pages
    told, new = set(told_contacts), ctx.rules.lead_status.new
    for page in pages:
        found += [r.id for r in page if r.get("hs_lead_status") == new or r.id in told]
    return list(dict.fromkeys(found))


def lead_batches(
    ctx: RunContext,
    window: SlaWindow,
    triggered: Sequence[str],
    properties: Sequence[str],
    history: Sequence[str],
) -> Iterator[tuple[list[str], list[Record]]]:
    """(ids asked for, their records with the lead-status history), a batch at a time: every
    New lead in a full judgment, else the triggered contacts (whatever their status now)."""
    if window.full:
        new = [eq("hs_lead_status", ctx.rules.lead_status.new)]
        id_batches: Iterable[list[str]] = (
            [r.id for r in batch] for batch in search_contacts(ctx.gateway, new, ["hs_lead_status"])
        )
    else:
        id_batches = (
            list(triggered[start : start + ENRICH_BATCH])
            for start in range(0, len(triggered), ENRICH_BATCH)
        )
    for ids in id_batches:
        yield ids, read_contacts(ctx.gateway, quote(ids), properties, history)


def settle(ctx: RunContext, window: SlaWindow, deadlines: dict[str, datetime | None]) -> None:
    """After the told breaches were recorded: keep each judged lead's deadline, move the
    watermark to the run's instant, and after a full judgment record its config."""
    if not window.keeps_state:
        return
    assert ctx.state is not None
    portal = _portal(ctx)
    ctx.state.keep_deadlines(portal, SLA, deadlines)
    if ctx.params.since is not None:  # a backfill's window may lie anywhere in the past
        return
    advance_watermark(portal, SLA, ctx.now)
    if window.full:
        ctx.state.set_baseline(portal, SLA, rule_config_hash(ctx.rules, SLA, RULES), ctx.now)


def deadlines_of(
    requested: Sequence[str], records: Sequence[Record], activity: dict, ctx: RunContext
) -> dict[str, datetime | None]:
    """Each judged lead's next SLA deadline (none for a contact HubSpot no longer has)."""
    found: dict[str, datetime | None] = dict.fromkeys(requested)
    return found | next_deadlines(DEADLINES, records, activity, ctx.situation)

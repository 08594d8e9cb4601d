"""How every rule runs: fetch candidates in batches, enrich, plan (pure), apply, keep results.

Each rule describes itself with a `RuleDef` (`rules.registry`); `run_rule` does the rest, one
Prefect task per batch of contacts, never one per contact. Each batch's results go to the
run's `RunChanges` (`runstate.changes`: on disk, counted in memory) as the batch returns.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice

from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

from config.rules import Rules, load_rules
from config.settings import Settings
from flows.incremental import ChangeFeed, keep_deadlines
from flows.modified import ModifiedContacts, written_by
from flows.params import RunParams
from flows.progress import report_progress
from flows.settled import SettledFilter, keep_judgments
from gateway.client import DailyLimitReached, Filter, HubSpotGateway
from gateway.identity import settings_for_portal
from model.changes import ChangeResult
from model.records import DealStage, Engagement, Owner, Record
from rules.definition import RuleDef, Situation
from runstate.changes import RunChanges
from runstate.deadlines import RunStateStore
from runstate.journal import Journal
from runstate.judged import JudgedStore
from tasks.apply import apply_changes
from tasks.crm import (
    ENRICH_BATCH,
    load_engagements,
    read_contacts,
    search_contacts,
    unique_batches,
)


@dataclass
class RunContext:
    """Everything one run shares: settings, rules, the gateway, the instant it judges at,
    and (in a writing run that notifies) its journal."""

    settings: Settings
    rules: Rules
    gateway: HubSpotGateway
    params: RunParams
    now: datetime
    journal: Journal | None = None
    overlay: dict[str, dict[str, str]] = field(default_factory=dict)
    _owners: dict[str, Owner] | None = field(default=None, repr=False)
    list_ids: dict[str, str] = field(default_factory=dict)  # nurture lists by name, as found
    # Read once per run by the portal check: deal stages (open_deal) and option labels
    deal_stages: dict[tuple[str, str], DealStage] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # The gateway's counts before the run's first call (gateways live per process, across runs)
    calls_at_start: Counter[str] = field(default_factory=Counter)
    # Every batch's results as it returns (on disk): what the run reports, also when a rule
    # stops midway
    changes: RunChanges = field(default_factory=RunChanges)
    # What earlier passes of the same backfill planned or made: later rules see it as this
    # run's own earlier results (a dry run's overlay, follow-up's fresh New leads)
    prior: Sequence[ChangeResult] = ()
    state: RunStateStore | None = None  # incremental cycles' deadlines and baselines
    feed: ChangeFeed | None = None  # what changed in the window, read once per run

    @property
    def situation(self) -> Situation:
        return Situation(self.rules, self.now, self.settings.timezone, self.deal_stages)

    def seed_owners(self, owners: Iterable[Owner]) -> None:
        """Owners already read (by the portal check): `owners()` will not read them again."""
        self._owners = {owner.id: owner for owner in owners}

    def owners(self) -> dict[str, Owner]:
        if self._owners is None:
            self._owners = {owner.id: owner for owner in self.gateway.owners()}
        return self._owners


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def window_filters(since: datetime | None, until: datetime) -> list[Filter]:
    """Contacts modified in `[since, until)` (`since` None: up to `until`)."""
    filters: list[Filter] = [
        {"propertyName": "lastmodifieddate", "operator": "LT", "value": _ms(until)}
    ]
    if since:
        filters.append({"propertyName": "lastmodifieddate", "operator": "GTE", "value": _ms(since)})
    return filters


@contextmanager
def _task_results_unlinked() -> Iterator[None]:
    """Forget the links Prefect made to the task results of the block.

    Prefect links every element of every task result to its task run, for the flow run's
    whole life (`FlowRunContext.run_results`, by `id`), to draw a later task's inputs as
    coming from it. A batch's records, engagements and results are not passed to any later
    task, yet at 100,000 contacts the links grow to several hundred thousand entries.
    """
    context = FlowRunContext.get()
    links = getattr(context, "run_results", None)
    kept = len(links) if links is not None else 0
    try:
        yield
    finally:
        if links is not None:
            for key in list(islice(links, kept, None)):
                del links[key]


def _plan_batch(rule: RuleDef, batch: Sequence[Record], ctx: RunContext) -> list[ChangeResult]:
    with _task_results_unlinked():
        return _plan_and_apply(rule, batch, ctx)


def _plan_and_apply(rule: RuleDef, batch: Sequence[Record], ctx: RunContext) -> list[ChangeResult]:
    properties = rule.properties(ctx.rules)
    requested = [r.id for r in batch]
    if rule.history:
        # quote(): Prefect would walk every element of a big argument, twice per task run
        ids = quote([r.id for r in batch])
        batch = read_contacts(ctx.gateway, ids, properties, rule.history)
    engagements: Mapping[str, Sequence[Engagement]] = {}
    if rule.engagements and batch:
        engagements = load_engagements(ctx.gateway, quote([r.id for r in batch]), rule.engagements)
    if ctx.overlay:
        batch = [_overlaid(record, ctx.overlay.get(record.id)) for record in batch]
    changes = rule.plan(batch, engagements, ctx.situation)
    active = [owner.id for owner in ctx.owners().values() if not owner.archived]
    if ctx.journal is not None:
        ctx.journal.intend(changes)
    task_stamps: dict[str, str] = {}
    try:
        results = apply_changes(
            ctx.gateway,
            changes,
            dry_run=ctx.params.dry_run,
            active_owners=active,
            list_ids=ctx.list_ids,
            task_stamps=task_stamps,
        )
    except DailyLimitReached as exc:  # what the batch did before the stop still counts
        ctx.changes.add(exc.results)
        if ctx.journal is not None:
            ctx.journal.record(exc.results)
        raise
    ctx.changes.add(results)
    if ctx.journal is not None:
        ctx.journal.record(results)
    if ctx.state is not None and not ctx.params.dry_run:
        portal = ctx.settings.hubspot_portal_id or ""
        keep_deadlines(
            rule, ctx.state, portal, requested, batch, engagements, ctx.situation, results
        )
        judged = JudgedStore(ctx.state)
        read = (batch, engagements)
        keep_judgments(judged, portal, rule, properties, read, results, task_stamps, ctx.now)
    return results


def _overlaid(record: Record, planned: Mapping[str, str] | None) -> Record:
    """A dry run's view of a record: as if the earlier rules' planned writes had happened."""
    if not planned:
        return record
    return replace(record, properties={**record.properties, **planned})


def _candidates(
    rule: RuleDef,
    ctx: RunContext,
    properties: Sequence[str],
    seen: set[str],
    since: datetime | None,
    settled: SettledFilter | None = None,
) -> Iterator[list[Record]]:
    """Every search group's matches, each contact once, in batches of `ENRICH_BATCH` across
    groups (a small group does not cost its own partial batch of reads and writes); `settled`
    drops those the rule already judged as they are (`flows.settled`)."""
    searches = rule.searches(ctx.rules)
    shared: ModifiedContacts | None = None
    if since is not None and not rule.watches_contacts:
        searches = []  # an incremental run of a rule whose triggers ignore contact edits
    elif since is not None and ctx.feed is not None:
        shared = ctx.feed.modified_contacts(since)  # None: too many, the rule searches

    def own_searches() -> Iterator[Sequence[Record]]:
        for filters in searches:
            if rule.event_based or since is not None:
                filters = [*filters, *window_filters(since, ctx.now)]
            yield from search_contacts(ctx.gateway, filters, properties)

    def pages() -> Iterator[Sequence[Record]]:
        found = (
            own_searches()
            if shared is None  # empty when nothing was modified in the window
            else shared.matching(searches, properties, written_by(ctx.changes))
        )
        for page in found:
            yield page if settled is None else settled(page)

    return unique_batches(pages(), seen, ENRICH_BATCH)


def run_rule(
    rule: RuleDef,
    ctx: RunContext,
    *,
    since: datetime | None = None,
    extra_ids: Iterable[str] = (),
    settled: SettledFilter | None = None,
) -> int:
    """Run one rule over every candidate; its results go to `ctx.changes` batch by batch.
    Returns how many changes it planned (a DAILY stop leaves the results so far there).

    An event-based rule, or any rule given a `since`, looks at contacts modified in
    `[since, ctx.now)`; `extra_ids` adds contacts search may not show yet, or that the rule's
    triggers name; `settled` (`flows.settled`) drops search matches the rule already judged
    as they are.
    """
    planned = 0
    seen: set[str] = set()
    properties = rule.properties(ctx.rules)
    extra = list(dict.fromkeys(extra_ids))
    for batch in _candidates(rule, ctx, properties, seen, since, settled):
        planned += len(_plan_batch(rule, batch, ctx))
        report_progress(rule.name, len(seen), planned)
    missing = [contact_id for contact_id in extra if contact_id not in seen]
    for start in range(0, len(missing), ENRICH_BATCH):
        chunk = missing[start : start + ENRICH_BATCH]
        # A rule reading histories reads its batch again anyway: ids are enough here.
        records = (
            [Record(contact_id, {}) for contact_id in chunk]
            if rule.history
            else read_contacts(ctx.gateway, quote(chunk), properties)
        )
        planned += len(_plan_batch(rule, records, ctx))
    return planned


_gateways: dict[str, HubSpotGateway] = {}


def gateway_for(settings: Settings) -> HubSpotGateway:
    """One gateway (one client, one pacing budget) per process and portal connection."""
    key = settings.model_dump_json(include={"hubspot_base_url", "hubspot_token_block"})
    if settings.hubspot_access_token is not None:
        key += hashlib.sha256(settings.hubspot_access_token.get_secret_value().encode()).hexdigest()
    if key not in _gateways:
        _gateways[key] = HubSpotGateway(settings)
    return _gateways[key]


def context_for(params: RunParams, settings: Settings) -> RunContext:
    """The run's context, with the portal's identity read from HubSpot (`gateway.identity`):
    a configured portal id, timezone or UI domain HubSpot contradicts stops the run here.
    The run's share of the daily API budget starts counting here too (`gateway.budget`)."""
    rules = load_rules(settings.lifecycle_config)  # a bad rules file fails before any call
    gateway = gateway_for(settings)
    calls_at_start = gateway.calls.copy()
    gateway.start_daily_budget(settings.leadops_daily_budget_share)
    settings = settings_for_portal(settings, gateway.portal_identity())
    return RunContext(
        settings=settings,
        rules=rules,
        gateway=gateway,
        params=params,
        now=params.now(),
        calls_at_start=calls_at_start,
    )

"""How every rule runs: fetch candidates in batches, enrich, plan (pure), apply, collect results.

Each rule module describes itself with a `RuleDef`; `run_rule` does the rest, one Prefect task
per batch of contacts, never one per contact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from prefect.utilities.annotations import quote

from config.rules import Rules, load_rules
from config.settings import Settings
from flows.common import ENGAGEMENT_PROPERTIES
from flows.params import RuleName, RunParams
from leadops.model import Change, ChangeResult, Engagement, EngagementKind, Owner, Record
from tasks.apply import apply_changes
from tasks.crm import ENRICH_BATCH, load_engagements, read_contacts, search_contacts
from tasks.gateway import DailyLimitReached, Filter, HubSpotGateway
from tasks.identity import settings_for_portal


@dataclass
class RunContext:
    """Everything one run shares: settings, rules, the gateway and the instant it judges at."""

    settings: Settings
    rules: Rules
    gateway: HubSpotGateway
    params: RunParams
    now: datetime
    since: datetime | None = None
    overlay: dict[str, dict[str, str]] = field(default_factory=dict)
    _owners: dict[str, Owner] | None = field(default=None, repr=False)
    list_ids: dict[str, str] = field(default_factory=dict)  # nurture lists by name, as found
    # The run's journal: each batch's changes just before they are written, and its
    # results as soon as they are known.
    on_planned: Callable[[list[Change]], None] | None = field(default=None, repr=False)
    on_applied: Callable[[list[ChangeResult]], None] | None = field(default=None, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.timezone

    @property
    def until(self) -> datetime:
        return self.now

    def seed_owners(self, owners: Iterable[Owner]) -> None:
        """Owners already read (by the portal check): `owners()` will not read them again."""
        self._owners = {owner.id: owner for owner in owners}

    def owners(self) -> dict[str, Owner]:
        if self._owners is None:
            self._owners = {owner.id: owner for owner in self.gateway.owners()}
        return self._owners


Planner = Callable[[Sequence[Record], Mapping[str, Sequence[Engagement]], RunContext], list[Change]]


@dataclass(frozen=True)
class RuleDef:
    """What a rule needs fetched and how it plans.

    `searches` gives one AND filter group per search (OR across them); `event_based` rules
    look only at contacts modified inside the run's window, the others judge every candidate
    as of `now`.
    """

    name: RuleName
    searches: Callable[[Rules], list[list[Filter]]]
    properties: Callable[[Rules], list[str]]
    plan: Planner
    event_based: bool = True
    history: tuple[str, ...] = ()
    engagement_kinds: tuple[EngagementKind, ...] = ()

    @property
    def engagements(self) -> dict[EngagementKind, Sequence[str]]:
        return {kind: ENGAGEMENT_PROPERTIES[kind] for kind in self.engagement_kinds}


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def window_filters(ctx: RunContext) -> list[Filter]:
    filters: list[Filter] = [
        {"propertyName": "lastmodifieddate", "operator": "LT", "value": _ms(ctx.until)}
    ]
    if ctx.since:
        filters.append(
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": _ms(ctx.since)}
        )
    return filters


def _plan_batch(rule: RuleDef, batch: Sequence[Record], ctx: RunContext) -> list[ChangeResult]:
    properties = rule.properties(ctx.rules)
    if rule.history:
        # quote(): Prefect would walk every element of a big argument, twice per task run
        ids = quote([r.id for r in batch])
        batch = read_contacts(ctx.gateway, ids, properties, rule.history)
    engagements: Mapping[str, Sequence[Engagement]] = {}
    if rule.engagements and batch:
        engagements = load_engagements(ctx.gateway, quote([r.id for r in batch]), rule.engagements)
    if ctx.overlay:
        batch = [_overlaid(record, ctx.overlay.get(record.id)) for record in batch]
    changes = rule.plan(batch, engagements, ctx)
    active = [owner.id for owner in ctx.owners().values() if not owner.archived]
    if ctx.on_planned is not None and not ctx.params.dry_run:
        ctx.on_planned(changes)
    try:
        results = apply_changes(
            ctx.gateway,
            changes,
            dry_run=ctx.params.dry_run,
            active_owners=active,
            list_ids=ctx.list_ids,
        )
    except DailyLimitReached as exc:  # what the batch did before the stop still counts
        if ctx.on_applied is not None:
            ctx.on_applied(list(getattr(exc, "results", [])))
        raise
    if ctx.on_applied is not None:
        ctx.on_applied(results)
    return results


def _overlaid(record: Record, planned: Mapping[str, str] | None) -> Record:
    """A dry run's view of a record: as if the earlier rules' planned writes had happened."""
    if not planned:
        return record
    return replace(record, properties={**record.properties, **planned})


def _candidates(
    rule: RuleDef, ctx: RunContext, properties: Sequence[str], seen: set[str]
) -> Iterator[list[Record]]:
    """Every search group's matches, each contact once, in batches of `ENRICH_BATCH` across
    groups (a small group does not cost its own partial batch of reads and writes)."""
    batch: list[Record] = []
    for filters in rule.searches(ctx.rules):
        if rule.event_based:
            filters = [*filters, *window_filters(ctx)]
        for found in search_contacts(ctx.gateway, filters, properties):
            fresh = [record for record in found if record.id not in seen]
            seen.update(record.id for record in fresh)
            batch += fresh
            if len(batch) >= ENRICH_BATCH:
                yield batch[:ENRICH_BATCH]
                batch = batch[ENRICH_BATCH:]
    if batch:
        yield batch


def run_rule(rule: RuleDef, ctx: RunContext, extra_ids: Iterable[str] = ()) -> list[ChangeResult]:
    """Run one rule over every candidate; `extra_ids` adds contacts search may not show yet."""
    results: list[ChangeResult] = []
    seen: set[str] = set()
    properties = rule.properties(ctx.rules)
    for batch in _candidates(rule, ctx, properties, seen):
        results += _plan_batch(rule, batch, ctx)
    missing = [contact_id for contact_id in dict.fromkeys(extra_ids) if contact_id not in seen]
    if missing:
        records = read_contacts(ctx.gateway, quote(missing), properties)
        results += _plan_batch(rule, records, ctx)
    return results


_gateways: dict[str, HubSpotGateway] = {}


def gateway_for(settings: Settings) -> HubSpotGateway:
    """One gateway (one client, one pacing budget) per process and portal connection."""
    key = settings.model_dump_json(include={"hubspot_base_url", "hubspot_token_block"})
    if settings.hubspot_access_token is not None:
        key += hashlib.sha256(settings.hubspot_access_token.get_secret_value().encode()).hexdigest()
    if key not in _gateways:
        _gateways[key] = HubSpotGateway(settings)
    return _gateways[key]


def context_for(params: RunParams, settings: Settings | None = None) -> RunContext:
    """The run's context, with the portal's identity read from HubSpot (`tasks.identity`):
    a configured portal id, timezone or UI domain HubSpot contradicts stops the run here.
    The run's share of the daily API budget starts counting here too (`tasks.budget`)."""
    settings = settings or Settings()
    rules = load_rules(settings.lifecycle_config)  # a bad rules file fails before any call
    gateway = gateway_for(settings)
    gateway.start_daily_budget(settings.leadops_daily_budget_share)
    settings = settings_for_portal(settings, gateway.portal_identity())
    return RunContext(
        settings=settings,
        rules=rules,
        gateway=gateway,
        params=params,
        now=params.now(),
        since=params.since,
    )

"""What one cycle must do on a seeded portal, worked out offline from the seeded data.

`simulate(store, rules, now)` replays the cycle on a sandbox `Store` without HTTP: for each rule
in cycle order it evaluates the rule's searches on the store (the sandbox's own search code),
builds the records and engagements the rule reads, runs the rule's **pure** planner, and writes
the planned property changes into the store (so later rules see them, as in a real cycle). The
result, a `Workload`, is the data the minimum-call model (`bench.minimum`) and the per-record
baseline (`bench.naive`) are computed from. Run it on a copy of the seeded data: it mutates the
store it is given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from config.check import required_properties
from config.rules import Rules
from model.records import STAGE_ORDER, DealStage, Engagement, Record, parse_time

# EngagementKind -> HubSpot object type (as tasks.crm.OBJECT_TYPES)
OBJECT_TYPES = {
    "email": "emails",
    "call": "calls",
    "meeting": "meetings",
    "task": "tasks",
    "deal": "deals",
}


@dataclass
class RuleWork:
    """One rule's share of the cycle."""

    name: str
    search_matches: list[int] = field(default_factory=list)  # matches per search group
    candidates: int = 0  # distinct contacts the rule judges
    history: bool = False  # needs propertiesWithHistory (a batch read of its candidates)
    engagements: dict[str, int] = field(default_factory=dict)  # object type -> distinct ids
    forward_updates: int = 0  # contacts written once
    backward_updates: int = 0  # stage moved back: clear, set, read back
    tasks: int = 0
    list_adds: dict[str, int] = field(default_factory=dict)  # list name -> contacts added
    skipped: int = 0

    @property
    def changes(self) -> int:
        return (
            self.forward_updates
            + self.backward_updates
            + self.tasks
            + sum(self.list_adds.values())
            + self.skipped
        )


@dataclass
class Workload:
    """Everything the call models need: the portal check's reads and each rule's work."""

    contacts: int
    properties_checked: int
    active_owners: int
    archived_owners: int
    list_names: int  # lists the check looks up
    lists_missing: list[str]  # nurture lists the cycle has to create
    rules: list[RuleWork]
    pipeline_reads: int = 0  # the portal check reads the deal pipelines for open_deal

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Workload:
        rules = [RuleWork(**rule) for rule in data["rules"]]
        return cls(**{**data, "rules": rules})

    def changes_by_rule(self) -> dict[str, int]:
        return {rule.name: rule.changes for rule in self.rules}


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _matching_ids(store: Any, filters: list[dict[str, Any]]) -> list[int]:
    """Ids of contacts matching one AND group, via the sandbox's search (every page)."""
    from sandbox.search import SearchCache, search

    cache, last, found = SearchCache(), None, []
    while True:
        keyset = (
            []
            if last is None
            else [{"propertyName": "hs_object_id", "operator": "GT", "value": str(last)}]
        )
        body = {
            "filterGroups": [{"filters": [*filters, *keyset]}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": ["hs_object_id"],
            "limit": 200,
        }
        page = [int(r["id"]) for r in search(store, "contacts", body, cache)["results"]]
        found += page
        if len(page) < 200:
            return found
        last = page[-1]


def _record(store: Any, record: Any, properties: list[str], history: tuple[str, ...]) -> Record:
    rendered = store.render("contacts", record, properties, list(history) or None)
    versions = {
        name: tuple((v["value"], parse_time(v["timestamp"])) for v in values)
        for name, values in (rendered.get("propertiesWithHistory") or {}).items()
    }
    return Record(str(record.id), rendered["properties"], versions)


def _engagements(
    store: Any, ids: list[int], kinds: tuple[str, ...], properties: dict[str, Any]
) -> tuple[dict[str, list[Engagement]], dict[str, int]]:
    by_contact: dict[str, list[Engagement]] = {}
    distinct: dict[str, int] = {}
    for kind in kinds:
        object_type = OBJECT_TYPES[kind]
        owners_of: dict[int, list[str]] = {}
        for contact_id in ids:
            for engagement_id in store.associated("contacts", contact_id, object_type):
                owners_of.setdefault(engagement_id, []).append(str(contact_id))
        distinct[object_type] = len(owners_of)
        for engagement_id, contacts in owners_of.items():
            record = store.get(object_type, engagement_id)
            props = store.render(object_type, record, list(properties[kind]))["properties"]
            engagement = Engagement(str(engagement_id), kind, props, tuple(contacts))  # type: ignore[arg-type]
            for contact_id in contacts:
                by_contact.setdefault(contact_id, []).append(engagement)
    return by_contact, distinct


def _moves_back(before: str | None, target: str | None) -> bool:
    if not target or not before or target == before:
        return False
    if target in STAGE_ORDER and before in STAGE_ORDER:
        return STAGE_ORDER.index(target) < STAGE_ORDER.index(before)
    return True


def simulate(store: Any, rules: Rules, now: datetime, tz: ZoneInfo, registry: dict) -> Workload:
    """The cycle's work on `store` (mutated: planned property changes are written into it)."""
    from rules.definition import Situation
    from rules.kit import ENGAGEMENT_PROPERTIES
    from sandbox.schema import DEAL_PIPELINES

    stages = {
        (p.id, s.id): DealStage(p.id, s.id, s.label, s.closed, float(s.probability), p.label)
        for p in DEAL_PIPELINES
        for s in p.stages
    }
    situation = Situation(rules, now, tz, stages)
    owners = list(store.owners.values())
    list_names = list(
        dict.fromkeys([*rules.recycle.nurture_lists.values(), rules.recycle.default_list])
    )
    existing_lists = {name.lower() for name in (lst.name for lst in store.lists.values())}
    needed_lists: set[str] = set()
    work: list[RuleWork] = []
    for name, rule in registry.items():
        if not getattr(rules, name).enabled:
            continue
        rw = RuleWork(name=name, history=bool(rule.history))
        seen: dict[int, None] = {}
        for filters in rule.searches(rules):
            filters = list(filters)
            if rule.event_based:
                filters.append(
                    {"propertyName": "lastmodifieddate", "operator": "LT", "value": _ms(now)}
                )
            matched = _matching_ids(store, filters)
            rw.search_matches.append(len(matched))
            seen.update(dict.fromkeys(matched))
        ids = list(seen)
        rw.candidates = len(ids)
        properties = rule.properties(rules)
        records = [_record(store, store.get("contacts", i), properties, rule.history) for i in ids]
        engagements, rw.engagements = _engagements(
            store, ids, rule.engagement_kinds, ENGAGEMENT_PROPERTIES
        )
        changes = rule.plan(records, engagements, situation)
        lists: Counter[str] = Counter()
        for change in changes:
            if change.skip:
                rw.skipped += 1
            elif change.task:
                rw.tasks += 1
            elif change.list_name:
                lists[change.list_name] += 1
            elif change.properties:
                target = change.properties.get("lifecyclestage")
                if _moves_back(change.before.get("lifecyclestage"), target):
                    rw.backward_updates += 1
                else:
                    rw.forward_updates += 1
                record = store.get("contacts", change.contact_id)
                for prop, value in change.properties.items():  # as HubSpot would, after a clear
                    if value == "":
                        record.props.pop(prop, None)
                    else:
                        record.props[prop] = value
                    record.add_history(prop, value, store.clock())
                record.updated = store.clock()
        store.tables["contacts"].version += 1
        rw.list_adds = dict(lists)
        needed_lists.update(name for name in lists if name.lower() not in existing_lists)
        work.append(rw)
    return Workload(
        contacts=len(store.tables["contacts"].records),
        properties_checked=len(required_properties(rules)),
        active_owners=sum(1 for o in owners if not o.archived),
        archived_owners=sum(1 for o in owners if o.archived),
        list_names=len(list_names),
        lists_missing=sorted(needed_lists),
        rules=work,
        pipeline_reads=1 if rules.open_deal.enabled else 0,
    )

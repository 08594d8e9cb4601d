"""Incremental cycles: which window a rule judges in this run, and the contacts its triggers
name there (`rules.triggers`).

A rule with triggers (or an event-based one) judges only what changed since its watermark,
unless it has no full judgment on record for its current config: the first run, a changed
rules file (lowering the promote threshold promotes old MQLs), a run asked to judge in full
(the reconcile) or a lost run-state database. Then it judges its whole population once.

Example:
    ```python
    from flows.incremental import describe_window

    print(describe_window("followup", None))  # followup: whole population (full judgment)
    ```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from config.rules import Rules
from flows.modified import ModifiedContacts, read_modified
from flows.settled import unseen_contacts
from gateway.client import Filter, HubSpotGateway
from model.changes import ChangeResult, Outcome
from model.records import Engagement, EngagementKind, Record
from rules.definition import RuleDef, Situation
from rules.registry import RULES
from rules.triggers import DeadlinePassed, engagement_kinds, next_deadlines, rule_config_hash
from runstate.deadlines import RunStateStore
from runstate.judged import JudgedStore, created_task_key, engagement_key
from runstate.watermark import read_watermark, window_start
from tasks.changes import ChangedEngagement, changed_engagements


@dataclass
class ChangeFeed:
    """What changed in a window, read once per run and shared by the rules that watch it.

    `contact_properties` and `contact_groups`: what the run's readers of modified contacts
    (the rules, the SLA escalation) ask for and search (`flows.modified`)."""

    gateway: HubSpotGateway
    until: datetime
    contact_properties: Sequence[str] = ()
    contact_groups: Sequence[Sequence[Filter]] = ()
    _engagements: dict[tuple[EngagementKind, datetime], list[ChangedEngagement]] = field(
        default_factory=dict
    )
    _contacts: dict[datetime, ModifiedContacts | None] = field(default_factory=dict)

    def modified_contacts(self, since: datetime) -> ModifiedContacts | None:
        """Every contact modified in the window, read once (empty: no reader searches);
        None when the readers' own searches cost less (`flows.modified.read_modified`)."""
        if since not in self._contacts:
            self._contacts[since] = read_modified(
                self.gateway, since, self.until, self.contact_properties, self.contact_groups
            )
        return self._contacts[since]

    def engagements(self, kind: EngagementKind, since: datetime) -> list[ChangedEngagement]:
        key = (kind, since)
        if key not in self._engagements:
            self._engagements[key] = changed_engagements(self.gateway, kind, since, self.until)
        return self._engagements[key]


def contact_readers(
    rules: Rules, names: Iterable[str], sla: bool
) -> tuple[list[str], list[list[Filter]]]:
    """What the run's readers of modified contacts ask for and search: each enabled rule
    that watches contacts, and the first-touch SLA escalation (`sla`: every modified contact,
    its lead status)."""
    properties: list[str] = ["hs_lead_status"] if sla else []
    groups: list[list[Filter]] = [[]] if sla else []
    for name in names:
        rule = RULES[name]
        if getattr(rules, name).enabled and rule.watches_contacts:
            searches = rule.searches(rules)
            properties += rule.properties(rules)
            properties += [f["propertyName"] for group in searches for f in group]
            groups += searches
    return list(dict.fromkeys(properties)), groups


def config_hash(rules: Rules, rule: RuleDef, all_rules: Iterable[str]) -> str:
    return rule_config_hash(rules, rule.name, all_rules)


def rule_window(
    rule: RuleDef,
    rules: Rules,
    portal: str,
    store: RunStateStore,
    *,
    all_rules: Iterable[str],
    since: datetime | None,
    full: bool,
) -> datetime | None:
    """Where `rule`'s window starts in this run; None: judge its whole population.

    An explicit `since` (a backfill, a manual run) bounds an event-based rule's window and,
    as before incremental cycles, leaves the others judging their whole population; `full`
    (the reconcile) judges all. Otherwise the watermark (less the overlap) when the rule's
    last full judgment used the rules as they are now; without one on record, the whole
    population.
    """
    if since is not None:
        return since if rule.event_based else None
    if full or not rule.incremental:
        return None
    if store.baseline(portal, rule.name) != config_hash(rules, rule, all_rules):
        return None
    if read_watermark(portal, rule.name) is None:
        return None
    return window_start(portal, rule.name)


def describe_window(rule: str, since: datetime | None) -> str:
    if since is None:
        return f"{rule}: whole population (full judgment)"
    return f"{rule}: what changed since {since.isoformat()}"


def triggered_contacts(
    rule: RuleDef,
    rules: Rules,
    feed: ChangeFeed,
    store: RunStateStore,
    portal: str,
    since: datetime,
    earlier: Sequence[ChangeResult],
    judged: JudgedStore | None = None,
) -> list[str]:
    """Contacts the rule's triggers name besides the window's searches: those of engagements
    changed in the window (but for those `judged` says the rule saw as they are:
    `flows.settled`, and those the run's read of the modified contacts shows outside every
    search group of the rule under `rules`, as a full cycle's searches would), those whose
    deadline has passed, and those this run's earlier rules changed (a full cycle's searches
    would find them in their new state)."""
    found: list[str] = [
        r.change.contact_id for r in earlier if r.outcome in (Outcome.APPLIED, Outcome.PLANNED)
    ]
    engaged: set[str] = set()
    for kind in engagement_kinds(rule.triggers):
        changed = feed.engagements(kind, since)
        seen: dict[str, str] = {}
        if judged is not None and changed:
            keys = [engagement_key(kind, e.id, c) for e in changed for c in e.contacts]
            keys += [created_task_key(e.id) for e in changed] if kind == "task" else []
            seen = judged.seen(portal, rule.name, keys)
        engaged |= set(unseen_contacts(changed, kind, seen))
    if engaged and rule.watches_contacts:
        modified = feed.modified_contacts(since)  # the rule reads it anyway
        if modified is not None:  # its values are fresh but for what this run wrote
            engaged -= modified.surely_outside(engaged - set(found), rule.searches(rules))
    found += sorted(engaged, key=lambda i: (len(i), i))
    if any(isinstance(t, DeadlinePassed) for t in rule.triggers):
        found += store.due(portal, rule.name, feed.until)
    return list(dict.fromkeys(found))


def keep_deadlines(
    rule: RuleDef,
    store: RunStateStore,
    portal: str,
    requested: Sequence[str],
    contacts: Sequence[Record],
    engagements: Mapping[str, Sequence[Engagement]],
    situation: Situation,
    results: Sequence[ChangeResult],
) -> None:
    """Store each judged contact's next deadline (a requested contact HubSpot no longer has
    gets none). A contact whose change failed stays due now: the next run judges it again
    even if nothing about it changes meanwhile."""
    if not any(isinstance(t, DeadlinePassed) for t in rule.triggers):
        return
    found: dict[str, datetime | None] = dict.fromkeys(requested)
    found |= next_deadlines(rule.triggers, contacts, engagements, situation)
    for result in results:
        if result.outcome is Outcome.FAILED:
            found[result.change.contact_id] = situation.now
    store.keep_deadlines(portal, rule.name, found)

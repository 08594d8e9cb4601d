"""What changed in a window: the change feed of incremental cycles (a search or two each,
so plain functions rather than Prefect tasks: a task run would cost more than the call).

Example:
    ```python
    from datetime import UTC, datetime, timedelta

    from config.settings import Settings
    from gateway.client import HubSpotGateway
    from tasks.changes import contacts_of_changed_engagements

    gateway = HubSpotGateway(Settings())
    now = datetime.now(UTC)
    print(contacts_of_changed_engagements(gateway, "email", now - timedelta(hours=1), now))
    ```
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.client import Filter, HubSpotGateway
from model.records import EngagementKind
from tasks.crm import OBJECT_TYPES


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def modified_between(prop: str, since: datetime, until: datetime) -> list[Filter]:
    """`prop` in `[since, until)`, as HubSpot's search wants dates (epoch ms strings)."""
    return [
        {"propertyName": prop, "operator": "GTE", "value": _ms(since)},
        {"propertyName": prop, "operator": "LT", "value": _ms(until)},
    ]


@dataclass(frozen=True)
class ChangedEngagement:
    """An engagement created or modified in a window: its id, its `hs_lastmodifieddate` as
    search returned it (None when it did not), and its contacts."""

    id: str
    modified: str | None
    contacts: tuple[str, ...]


def changed_engagements(
    gateway: HubSpotGateway, kind: EngagementKind, since: datetime, until: datetime
) -> list[ChangedEngagement]:
    """Every engagement of `kind` created or modified in `[since, until)`
    (`hs_lastmodifieddate`; HubSpot sets it on create too), with its contacts."""
    object_type = OBJECT_TYPES[kind]
    window = modified_between("hs_lastmodifieddate", since, until)
    found = [r for page in gateway.search(object_type, window, ["hs_object_id"]) for r in page]
    if not found:
        return []
    links = gateway.associations(object_type, "contacts", [r.id for r in found])
    return [
        ChangedEngagement(r.id, r.get("hs_lastmodifieddate"), tuple(links.get(r.id, ())))
        for r in found
    ]


def contacts_of_changed_engagements(
    gateway: HubSpotGateway, kind: EngagementKind, since: datetime, until: datetime
) -> list[str]:
    """The contacts associated with every engagement of `kind` created or modified in
    `[since, until)`, in id order."""
    return contacts_of(changed_engagements(gateway, kind, since, until))


def contacts_of(changed: list[ChangedEngagement]) -> list[str]:
    """The contacts of `changed` engagements, each once, in id order."""
    contacts = {contact for engagement in changed for contact in engagement.contacts}
    return sorted(contacts, key=lambda i: (len(i), i))

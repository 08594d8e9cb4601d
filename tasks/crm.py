"""Prefect tasks that read CRM data in batches through the gateway.

Example:
    ```python
    from config.settings import Settings
    from tasks.crm import load_engagements
    from gateway.client import HubSpotGateway

    gateway = HubSpotGateway(Settings())
    by_contact = load_engagements.fn(gateway, ["101", "102"], {"email": ["hs_email_direction"]})
    ```
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from gateway.client import Filter, HubSpotGateway
from model.records import Engagement, EngagementKind, Record

OBJECT_TYPES: dict[EngagementKind, str] = {
    "email": "emails",
    "call": "calls",
    "meeting": "meetings",
    "task": "tasks",
    "deal": "deals",
}
ENRICH_BATCH = 1000  # the associations API reads 1,000 ids per call


def search_contacts(
    gateway: HubSpotGateway,
    filters: Sequence[Filter],
    properties: Sequence[str],
    batch_size: int = ENRICH_BATCH,
) -> Iterator[list[Record]]:
    """Matching contacts in batches of `batch_size`, lazily (search pages of 200 regrouped)."""
    batch: list[Record] = []
    for page in gateway.search("contacts", filters, properties):
        batch.extend(page)
        if len(batch) >= batch_size:
            yield batch[:batch_size]
            batch = batch[batch_size:]
    if batch:
        yield batch


def unique_batches(
    pages: Iterable[Sequence[Record]], seen: set[str], batch_size: int = ENRICH_BATCH
) -> Iterator[list[Record]]:
    """The records of every page, each id once (`seen` grows), lazily regrouped in batches of
    `batch_size`: several searches cost no partial batch each."""
    batch: list[Record] = []
    for page in pages:
        fresh = [record for record in page if record.id not in seen]
        seen.update(record.id for record in fresh)
        batch += fresh
        while len(batch) >= batch_size:
            yield batch[:batch_size]
            batch = batch[batch_size:]
    if batch:
        yield batch


@task(name="read-contacts", cache_policy=NO_CACHE)
def read_contacts(
    gateway: HubSpotGateway,
    ids: Sequence[str],
    properties: Sequence[str],
    history: Sequence[str] = (),
) -> list[Record]:
    """Fresh copies of the given contacts (batch read), with property history when asked."""
    if not ids:
        return []
    return gateway.batch_read("contacts", ids, properties, history=history).succeeded


@task(name="load-engagements", cache_policy=NO_CACHE)
def load_engagements(
    gateway: HubSpotGateway,
    contact_ids: Sequence[str],
    properties_by_kind: Mapping[EngagementKind, Sequence[str]],
) -> dict[str, list[Engagement]]:
    """Every email/call/meeting/task/deal associated with the contacts, by contact id."""
    by_contact: dict[str, list[Engagement]] = defaultdict(list)
    for kind, properties in properties_by_kind.items():
        object_type = OBJECT_TYPES[kind]
        links = gateway.associations("contacts", object_type, contact_ids)
        owners_of: dict[str, list[str]] = defaultdict(list)
        for contact_id, engagement_ids in links.items():
            for engagement_id in engagement_ids:
                owners_of[engagement_id].append(contact_id)
        if not owners_of:
            continue
        records = gateway.batch_read(object_type, list(owners_of), properties).succeeded
        for record in records:
            contacts = tuple(owners_of.get(record.id, ()))
            engagement = Engagement(record.id, kind, record.properties, contacts)
            for contact_id in contacts:
                by_contact[contact_id].append(engagement)
    return dict(by_contact)

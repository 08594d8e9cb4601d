"""hubspot-api-client, set up once: the generated API objects and faster date parsing."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.parser import parse as dateutil_parse
from hubspot import HubSpot

from config.settings import Settings

OBJECT_TYPES = ("contacts", "emails", "calls", "meetings", "tasks", "deals")


@dataclass(frozen=True)
class Apis:
    """The generated API objects, built once: each attribute access on the client builds
    a new ApiClient and connection pool."""

    search: Mapping[str, Any]
    batch: Mapping[str, Any]
    associations: Any
    lists: Any
    memberships: Any
    owners: Any
    properties: Any
    pipelines: Any

    @classmethod
    def build(cls, client: HubSpot) -> Apis:
        crm = client.crm
        kinds = {"contacts": crm.contacts, "deals": crm.deals} | {
            name: getattr(crm.objects, name)
            for name in OBJECT_TYPES
            if name not in ("contacts", "deals")
        }
        return cls(
            search={name: kind.search_api for name, kind in kinds.items()},
            batch={name: kind.batch_api for name, kind in kinds.items()},
            associations=crm.associations.v4.batch_api,
            lists=crm.lists.lists_api,
            memberships=crm.lists.memberships_api,
            owners=crm.owners.owners_api,
            properties=crm.properties.core_api,
            pipelines=crm.pipelines.pipelines_api,
        )


def _parse_datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return dateutil_parse(value)


def fast_datetimes() -> None:
    """Let the generated clients parse HubSpot's ISO-8601 timestamps with `fromisoformat`.

    hubspot-api-client parses every `createdAt`, `updatedAt` and history timestamp with
    `dateutil.parser.parse` (~30 µs each, ~0.1 µs with `fromisoformat`): profiled, it was the
    largest share of leadops' CPU per request (BENCHMARKS.md). Anything `fromisoformat` cannot
    read still goes to dateutil, so answers parse exactly as before.
    """
    for name, module in list(sys.modules.items()):
        if name.startswith("hubspot.") and getattr(module, "parse", None) is dateutil_parse:
            module.parse = _parse_datetime


def build_client(settings: Settings, token: str) -> HubSpot:
    # retries=False turns off urllib3's hidden default retries (3 per request), so every
    # attempt goes through, and is counted by, the gateway's own retry loop.
    # client_side_validation=False parses HubSpot's answers leniently: a field HubSpot
    # leaves out or an enum value it adds must not break a run.
    return HubSpot(
        access_token=token,
        host=settings.hubspot_base_url,
        retries=False,
        client_side_validation=False,
    )

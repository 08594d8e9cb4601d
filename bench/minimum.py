"""The fewest HubSpot calls one cycle's work needs, and the time HubSpot's limits alone impose.

Pure: computed from a `Workload` (what the seeded data makes the cycle do, see
`bench.workload`), never from what a run did.

The model, per endpoint (HubSpot's sizes, see /docs and the gateway):

- **portal identity and budget** (each run): the account details (`portalId`, `timeZone`,
  `uiDomain`) and leadops' API usage today, one call each;
- **portal check** (before any write): one property read per property the rules name, one
  owners page per 100 active owners and one per 100 archived owners (at least one each: the
  archived ones are a separate query), one list lookup per nurture-list name, and one read of
  every deal pipeline when `open_deal` runs;
- per rule, **search**: for each of the rule's AND filter groups (one search each), one page
  per 200 matches, at least one (an empty answer is still a call);
- **contacts batch read** of the candidates (50 per call: HubSpot's cap for batch reads with
  `propertiesWithHistory`) when the rule needs property history (search cannot return it);
- per engagement kind the rule reads, **associations** batch reads of the candidates (1,000
  ids per call) and **batch reads** of the distinct engagements found (100 per call);
- **writes**: contact updates 100 per call; a backward stage move is three calls per 100
  (clear, set, read back: HubSpot only moves stages forward); task creates 100 per call;
  list adds 1,000 ids per call per list; one list create per nurture list that does not exist.

Everything is rounded up once per rule over all its candidates (the ideal: no partial batch
but the last). A run can beat this only by skipping work the rules require.

**Limit-imposed time** for R requests and S searches, under HubSpot's rolling windows
(Professional: 190 per 10 s, 5 searches per 1 s): the k-th request can go out no sooner than
10 s after the (k−190)-th, so R requests need `10 × floor((R−1)/190)` s and S searches
`floor((S−1)/5)` s; both budgets run at once, so the limits impose `max` of the two. Whether
HubSpot counts searches in the 10-s budget is undocumented; leadops assumes it does (its
default pacing, `hubspot_searches_in_request_budget`), so R counts every call, searches too.
Network and server time are not in it: it is the floor no
client can beat on that many calls.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from bench.workload import Workload

SEARCH_PAGE = 200
BATCH = 100
HISTORY_BATCH = 50
ASSOCIATIONS = 1000
LIST_ADD = 1000
OWNERS_PAGE = 100

SEARCH = "POST /crm/v3/objects/contacts/search"
CONTACTS_READ = "POST /crm/v3/objects/contacts/batch/read"
CONTACTS_UPDATE = "POST /crm/v3/objects/contacts/batch/update"
TASKS_CREATE = "POST /crm/v3/objects/tasks/batch/create"
LIST_FIND = "GET /crm/v3/lists/object-type-id/0-1/name/{listName}"
LIST_CREATE = "POST /crm/v3/lists/"
LIST_ADD_ENDPOINT = "PUT /crm/v3/lists/{listId}/memberships/add"
OWNERS = "GET /crm/v3/owners/"
PROPERTY = "GET /crm/v3/properties/contacts/{propertyName}"
ACCOUNT_DETAILS = "GET /account-info/v3/details"
API_USAGE = "GET /account-info/v3/api-usage/daily/private-apps"
PIPELINES = "GET /crm/v3/pipelines/{objectType}"


def associations_endpoint(object_type: str) -> str:
    return f"POST /crm/v4/associations/contacts/{object_type}/batch/read"


def read_endpoint(object_type: str) -> str:
    return f"POST /crm/v3/objects/{object_type}/batch/read"


def is_search(endpoint: str) -> bool:
    return endpoint.startswith("POST ") and endpoint.endswith("/search")


def pages(count: int, size: int) -> int:
    return math.ceil(count / size) if count > 0 else 0


def minimum_calls(work: Workload) -> Counter[str]:
    """The fewest calls per endpoint (gateway endpoint names) the workload needs."""
    calls: Counter[str] = Counter({ACCOUNT_DETAILS: 1, API_USAGE: 1})
    calls[PROPERTY] += work.properties_checked
    calls[OWNERS] += max(1, pages(work.active_owners, OWNERS_PAGE))
    calls[OWNERS] += max(1, pages(work.archived_owners, OWNERS_PAGE))
    calls[LIST_FIND] += work.list_names
    calls[LIST_CREATE] += len(work.lists_missing)
    calls[PIPELINES] += work.pipeline_reads
    for rule in work.rules:
        calls[SEARCH] += sum(max(1, pages(m, SEARCH_PAGE)) for m in rule.search_matches)
        if rule.history:
            calls[CONTACTS_READ] += pages(rule.candidates, HISTORY_BATCH)
        for object_type, distinct in rule.engagements.items():
            calls[associations_endpoint(object_type)] += pages(rule.candidates, ASSOCIATIONS)
            calls[read_endpoint(object_type)] += pages(distinct, BATCH)
        calls[CONTACTS_UPDATE] += pages(rule.forward_updates, BATCH)
        calls[CONTACTS_UPDATE] += 2 * pages(rule.backward_updates, BATCH)
        calls[CONTACTS_READ] += pages(rule.backward_updates, BATCH)
        calls[TASKS_CREATE] += pages(rule.tasks, BATCH)
        for members in rule.list_adds.values():
            calls[LIST_ADD_ENDPOINT] += pages(members, LIST_ADD)
    return +calls


@dataclass(frozen=True)
class Limits:
    """HubSpot's rolling windows (defaults: Professional)."""

    requests_per_10s: int = 190
    searches_per_second: int = 5


def split(calls: Counter[str] | dict[str, int]) -> tuple[int, int]:
    """(requests in the 10-s budget — every call, searches included — and searches)."""
    searches = sum(n for endpoint, n in calls.items() if is_search(endpoint))
    return sum(calls.values()), searches


def limit_seconds(requests: int, searches: int, limits: Limits = Limits()) -> float:
    """Seconds HubSpot's rolling windows alone impose on that many calls (see module doc)."""
    ordinary = 10.0 * ((requests - 1) // limits.requests_per_10s) if requests > 0 else 0.0
    search = float((searches - 1) // limits.searches_per_second) if searches > 0 else 0.0
    return max(ordinary, search)


def rate_seconds(requests: int, searches: int, limits: Limits = Limits()) -> float:
    """The steady-state view (no initial burst): calls divided by the sustained rates."""
    return max(requests / (limits.requests_per_10s / 10.0), searches / limits.searches_per_second)

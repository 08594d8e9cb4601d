"""The per-record baseline: the same work done the way per-record automation tools do it.

Pure: computed from a `Workload`. Workflow tools (Zapier, Make, HubSpot workflows calling
webhooks) run one job per record: they find the records with the same searches (pages of
200, generous to them: their triggers poll), then, **per contact**:

- one single-record read (`GET /crm/v3/objects/contacts/{id}`) when the decision needs
  property history;
- per engagement kind, one association read for the contact
  (`GET /crm/v4/objects/contacts/{id}/associations/{kind}`) and one read per engagement
  found (counted once per distinct engagement: a lower bound, as jobs share nothing);

and **per change**: one request (a contact PATCH, a task create with its association), three
for a backward stage move (clear, set, read back), two for a list membership (find the list
by name, add the one contact). The portal check is left out (such tools do not do one).
"""

from __future__ import annotations

from collections import Counter

from bench.minimum import SEARCH, SEARCH_PAGE, pages
from bench.workload import Workload

CONTACT_GET = "GET /crm/v3/objects/contacts/{id}"
CONTACT_PATCH = "PATCH /crm/v3/objects/contacts/{id}"
TASK_CREATE = "POST /crm/v3/objects/tasks"
LIST_FIND = "GET /crm/v3/lists/object-type-id/0-1/name/{listName}"
LIST_ADD = "PUT /crm/v3/lists/{listId}/memberships/add"


def naive_calls(work: Workload) -> Counter[str]:
    calls: Counter[str] = Counter()
    for rule in work.rules:
        calls[SEARCH] += sum(max(1, pages(m, SEARCH_PAGE)) for m in rule.search_matches)
        if rule.history:
            calls[CONTACT_GET] += rule.candidates
        for object_type, distinct in rule.engagements.items():
            calls[f"GET /crm/v4/objects/contacts/{{id}}/associations/{object_type}"] += (
                rule.candidates
            )
            # at least one read per distinct engagement (a lower bound for per-contact jobs)
            calls[f"GET /crm/v3/objects/{object_type}/{{id}}"] += distinct
        calls[CONTACT_PATCH] += rule.forward_updates + 2 * rule.backward_updates
        calls[CONTACT_GET] += rule.backward_updates
        calls[TASK_CREATE] += rule.tasks
        members = sum(rule.list_adds.values())
        calls[LIST_FIND] += members
        calls[LIST_ADD] += members
    return +calls

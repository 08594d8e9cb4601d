"""Response shapes the product and seeding scripts read, checked on a portal (or the sandbox)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration  # a sandbox on 127.0.0.1, or a real test portal

PAST_CALL = "2026-01-05T10:00:00Z"


def test_no_associations_found_names_the_record_and_both_types(portal) -> None:  # type: ignore[no-untyped-def]
    """A v4 batch read for a record without associations of the type is a 207 whose error has
    subCategory `crm.associations.NO_ASSOCIATIONS_FOUND` and context `fromObjectId`,
    `fromObjectType`, `toObjectType` (singular, lower case).

    Source: HubSpot Associations v4 OpenAPI spec (batch read 200/207, `StandardError.context`:
    string arrays); the context keys as quoted from real portals in public integrations.
    """
    contact = portal.contact()
    answer = portal.request(
        "POST",
        "/crm/v4/associations/contacts/calls/batch/read",
        json={"inputs": [{"id": contact}]},
    )
    assert answer.status_code == 207, answer.text
    error = answer.json()["errors"][0]
    assert error["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert error["context"]["fromObjectId"] == [contact]
    assert error["context"]["fromObjectType"] == ["contact"]
    assert error["context"]["toObjectType"] == ["call"]


@pytest.mark.parametrize(
    "method, path, where",
    [
        ("POST", "/crm/v3/objects/contacts/search", "json"),
        ("GET", "/crm/v3/owners/", "params"),
        ("GET", "/crm/v3/objects/contacts", "params"),
        ("GET", "/crm/v3/lists/{list}/memberships", "params"),
    ],
)
@pytest.mark.parametrize("name", ["limit", "after"])
def test_a_non_numeric_paging_parameter_is_a_validation_error(  # type: ignore[no-untyped-def]
    portal, method: str, path: str, where: str, name: str
) -> None:
    """`limit=ten` or `after=ten` is a 400 VALIDATION_ERROR body, never a 500 or a dropped
    connection.

    Source: HubSpot OpenAPI specs (CRM Contacts, Owners, Lists v3: `limit` is an integer,
    `after` a paging cursor; error bodies are `StandardError`/`Error` with `category`).
    """
    if "{list}" in path:
        name_ = f"contract {uuid.uuid4().hex[:8]}"
        created = portal.request(
            "POST",
            "/crm/v3/lists/",
            json={"name": name_, "objectTypeId": "0-1", "processingType": "MANUAL"},
        )
        path = path.format(list=portal.track("lists", created.json()["list"]["listId"]))
    answer = portal.request(method, path, **{where: {name: "ten"}})
    assert answer.status_code == 400, answer.text
    assert answer.json()["category"] == "VALIDATION_ERROR"


def test_a_non_numeric_association_cursor_is_a_validation_error(portal) -> None:  # type: ignore[no-untyped-def]
    """An association batch read input with `after: "ten"` is a 400 VALIDATION_ERROR.

    Source: HubSpot Associations v4 OpenAPI spec (`BatchInputPublicFetchAssociationsBatch
    Request`: `after` per input).
    """
    contact = portal.contact()
    portal.create("calls", {"hs_timestamp": PAST_CALL}, to_contact=(contact, 194))
    answer = portal.request(
        "POST",
        "/crm/v4/associations/contacts/calls/batch/read",
        json={"inputs": [{"id": contact, "after": "ten"}]},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["category"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("policy", ["TEN_SECONDLY_ROLLING", "DAILY"])
def test_a_429_carries_the_rate_limit_headers(portal, policy: str) -> None:  # type: ignore[no-untyped-def]
    """A 429 carries `X-HubSpot-RateLimit-Max`, `-Remaining`, `-Interval-Milliseconds`, and
    for the daily budget `-Daily`, `-Daily-Remaining`.

    Source: HubSpot API usage guidelines, "Rate limit headers"
    (developers.hubspot.com/docs/api/usage-details). Needs the sandbox's budgets: a real
    portal is not pushed into its limits.
    """
    sb = portal.need_sandbox()
    sb.set_limits(**({"daily": 1} if policy == "DAILY" else {"requests_per_10s": 1}))
    portal.request("GET", "/crm/v3/owners/")
    refused = portal.request("GET", "/crm/v3/owners/")
    assert refused.status_code == 429 and refused.json()["policyName"] == policy
    names = ["Max", "Remaining", "Interval-Milliseconds"]
    names += ["Daily", "Daily-Remaining"] if policy == "DAILY" else []
    for name in names:
        assert refused.headers[f"X-HubSpot-RateLimit-{name}"].isdigit(), name
    left = "Daily-Remaining" if policy == "DAILY" else "Remaining"
    assert refused.headers[f"X-HubSpot-RateLimit-{left}"] == "0"


def test_contacts_can_be_listed_updated_and_archived_one_by_one(portal) -> None:  # type: ignore[no-untyped-def]
    """`GET /crm/v3/objects/contacts` pages with `limit`/`after` and `properties`; `PATCH
    /crm/v3/objects/contacts/{id}` answers the record; `DELETE` answers 204 and the record is
    gone.

    Source: HubSpot CRM Contacts v3 OpenAPI spec (basic API: list, update, archive).
    """
    first, second = portal.contact(), portal.contact()
    page = portal.request(
        "GET", "/crm/v3/objects/contacts", params={"limit": 1, "properties": "email"}
    )
    assert page.status_code == 200, page.text
    assert len(page.json()["results"]) == 1 and "email" in page.json()["results"][0]["properties"]
    assert page.json()["paging"]["next"]["after"]
    updated = portal.request(
        "PATCH", f"/crm/v3/objects/contacts/{first}", json={"properties": {"firstname": "Ada"}}
    )
    assert updated.status_code == 200 and updated.json()["properties"]["firstname"] == "Ada"
    gone = portal.request("DELETE", f"/crm/v3/objects/contacts/{second}")
    assert gone.status_code == 204
    assert portal.request("GET", f"/crm/v3/objects/contacts/{second}").status_code == 404


def test_default_associations_can_be_written(portal) -> None:  # type: ignore[no-untyped-def]
    """`PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}` and `POST
    /crm/v4/associations/{from}/{to}/batch/associate/default` answer 200 with results whose
    `associationSpec` gives the HUBSPOT_DEFINED type id.

    Source: HubSpot Associations v4 OpenAPI spec (`BatchResponsePublicDefaultAssociation`).
    """
    contact = portal.contact()
    note = portal.create("notes", {"hs_timestamp": PAST_CALL, "hs_note_body": "contract"})
    one = portal.request(
        "PUT", f"/crm/v4/objects/notes/{note}/associations/default/contacts/{contact}"
    )
    assert one.status_code == 200, one.text
    specs = [r["associationSpec"] for r in one.json()["results"]]
    assert {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202} in specs
    task = portal.create("tasks", {"hs_timestamp": "2030-01-01T09:00:00Z"})
    batch = portal.request(
        "POST",
        "/crm/v4/associations/tasks/contacts/batch/associate/default",
        json={"inputs": [{"from": {"id": task}, "to": {"id": contact}}]},
    )
    assert batch.status_code == 200, batch.text
    specs = [r["associationSpec"]["associationTypeId"] for r in batch.json()["results"]]
    assert 204 in specs


def test_a_logged_call_rolls_up_to_its_contact(portal) -> None:  # type: ignore[no-untyped-def]
    """Logging an outbound call associated to a contact sets its `notes_last_contacted` (the
    call's time), `num_contacted_notes` and moves its `lastmodifieddate`.

    Source: HubSpot knowledge base, "HubSpot's default contact properties" (Last Contacted:
    last call, sales email or meeting logged; Number of times contacted); HubSpot updates
    them asynchronously, hence the wait.
    """
    contact = portal.contact()
    before = portal.properties("contacts", contact, "lastmodifieddate")["lastmodifieddate"]
    portal.create(
        "calls",
        {"hs_timestamp": PAST_CALL, "hs_call_direction": "OUTBOUND", "hs_call_status": "COMPLETED"},
        to_contact=(contact, 194),
    )
    names = ("notes_last_contacted", "num_contacted_notes", "lastmodifieddate")

    def rolled_up() -> dict[str, str] | None:
        props = portal.properties("contacts", contact, *names)
        return props if props["notes_last_contacted"] else None

    props = portal.eventually(rolled_up, "notes_last_contacted to be set")
    assert props["notes_last_contacted"].startswith("2026-01-05T10:00:00")
    assert props["num_contacted_notes"] == "1"
    assert props["lastmodifieddate"] > before

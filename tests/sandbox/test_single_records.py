"""Single-record routes (list, update, archive), association writes and activity roll-ups."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from hubspot import HubSpot

from sandbox.server import SandboxHandle
from sandbox.tables import iso

pytestmark = pytest.mark.integration  # starts sandbox servers on 127.0.0.1

Api = Callable[..., requests.Response]  # the `api` fixture
HOUR_MS = 3_600_000


def new_contact(api: Api, **props: str) -> str:
    answer = api("POST", "/crm/v3/objects/contacts", json={"properties": props})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def contact_props(api: Api, contact_id: str, *names: str) -> dict[str, str | None]:
    answer = api(
        "GET", f"/crm/v3/objects/contacts/{contact_id}", params={"properties": ",".join(names)}
    )
    return answer.json()["properties"]


def test_single_update_keeps_the_lifecycle_forward_only(sb: SandboxHandle, api: Api) -> None:
    contact = new_contact(api, lifecyclestage="salesqualifiedlead")
    path = f"/crm/v3/objects/contacts/{contact}"
    back = api("PATCH", path, json={"properties": {"lifecyclestage": "lead"}})
    assert back.status_code == 200
    assert back.json()["properties"]["lifecyclestage"] == "salesqualifiedlead"
    api("PATCH", path, json={"properties": {"lifecyclestage": ""}})
    api("PATCH", path, json={"properties": {"lifecyclestage": "lead"}})
    assert contact_props(api, contact, "lifecyclestage")["lifecyclestage"] == "lead"
    bad = api("PATCH", path, json={"properties": {"hs_lead_status": "new"}})
    assert bad.status_code == 400 and "hs_lead_status" in bad.text
    assert api("PATCH", "/crm/v3/objects/contacts/31337", json={}).status_code == 404


def test_the_contact_list_pages_through_every_contact_once(client: HubSpot) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = client.crm.contacts.basic_api.get_page(limit=100, after=after, properties=["email"])
        seen += [c.id for c in page.results]
        assert all("email" in c.properties for c in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == len(set(seen)) > 100


def test_archive_removes_a_record_and_its_associations(sb: SandboxHandle, api: Api) -> None:
    contact = new_contact(api, email="gone@example.com")
    task = api(
        "POST",
        "/crm/v3/objects/tasks",
        json={
            "properties": {
                "hs_timestamp": str(sb.store.anchor_ms + HOUR_MS),
                "hs_task_subject": "x",
            },
            "associations": [
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}],
                }
            ],
        },
    ).json()["id"]
    gone = api("DELETE", f"/crm/v3/objects/contacts/{contact}")
    assert gone.status_code == 204 and gone.content == b""
    assert api("GET", f"/crm/v3/objects/contacts/{contact}").status_code == 404
    assert api("DELETE", f"/crm/v3/objects/contacts/{contact}").status_code == 404
    assert not sb.store.associated("tasks", int(task), "contacts")
    listed = api("POST", "/crm/v3/lists/", json={"name": "temporary"}).json()["list"]
    assert api("DELETE", f"/crm/v3/lists/{listed['listId']}").status_code == 204
    assert api("GET", f"/crm/v3/lists/{listed['listId']}").status_code == 404
    assert sb.stats()["writes"]["DELETE /crm/v3/objects/contacts/{id}"] == 1


def test_default_association_writes_link_both_ways(sb: SandboxHandle, api: Api) -> None:
    contact = new_contact(api)
    note = api(
        "POST",
        "/crm/v3/objects/notes",
        json={"properties": {"hs_timestamp": str(sb.store.anchor_ms)}},
    ).json()["id"]
    one = api("PUT", f"/crm/v4/objects/notes/{note}/associations/default/contacts/{contact}")
    assert one.status_code == 200
    specs = {
        (r["from"]["id"], r["associationSpec"]["associationTypeId"]) for r in one.json()["results"]
    }
    assert specs == {(note, 202), (contact, 201)}
    other = new_contact(api)
    batch = api(
        "POST",
        "/crm/v4/associations/contacts/notes/batch/associate/default",
        json={"inputs": [{"from": {"id": other}, "to": {"id": note}}]},
    )
    assert batch.status_code == 200 and batch.json()["status"] == "COMPLETE"
    assert set(sb.store.associated("notes", int(note), "contacts")) == {int(contact), int(other)}
    missing = api("PUT", f"/crm/v4/objects/notes/{note}/associations/default/contacts/9")
    assert missing.status_code == 404
    unsupported = api(
        "PUT", f"/crm/v4/objects/contacts/{contact}/associations/default/contacts/{other}"
    )
    assert unsupported.status_code == 400


def test_logged_engagements_roll_up_to_the_contact(sb: SandboxHandle, api: Api) -> None:
    contact = new_contact(api, email="rollup@example.com")
    before = contact_props(api, contact, "lastmodifieddate")["lastmodifieddate"]
    yesterday = str(sb.store.anchor_ms - 24 * HOUR_MS)
    call_id = api(
        "POST",
        "/crm/v3/objects/calls",
        json={"properties": {"hs_timestamp": yesterday, "hs_call_direction": "OUTBOUND"}},
    ).json()["id"]
    assert api("PUT", f"/crm/v4/objects/calls/{call_id}/associations/default/contacts/{contact}").ok
    reply = {
        "hs_timestamp": str(sb.store.anchor_ms - HOUR_MS),
        "hs_email_direction": "INCOMING_EMAIL",
    }
    email = api("POST", "/crm/v3/objects/emails", json={"properties": reply}).json()["id"]
    api("PUT", f"/crm/v4/objects/emails/{email}/associations/default/contacts/{contact}")
    props = contact_props(
        api,
        contact,
        "notes_last_contacted",
        "num_contacted_notes",
        "hs_last_sales_activity_timestamp",
        "hs_sales_email_last_replied",
        "lastmodifieddate",
    )
    assert props["notes_last_contacted"] == iso(int(yesterday))
    assert props["num_contacted_notes"] == "1"  # a reply is not the contact being contacted
    assert props["hs_last_sales_activity_timestamp"] == props["hs_sales_email_last_replied"]
    assert props["lastmodifieddate"] > before
    found = api(
        "POST",
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "notes_last_contacted",
                            "operator": "GTE",
                            "value": yesterday,
                        }
                    ]
                }
            ]
        },
    ).json()
    assert contact in [r["id"] for r in found["results"]]


def test_open_tasks_set_the_next_activity_date_until_completed(sb: SandboxHandle, api: Api) -> None:
    contact = new_contact(api)
    due = sb.store.anchor_ms + 48 * HOUR_MS
    task = api(
        "POST",
        "/crm/v3/objects/tasks",
        json={
            "properties": {"hs_timestamp": str(due), "hs_task_status": "NOT_STARTED"},
            "associations": [
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}],
                }
            ],
        },
    ).json()["id"]
    expected = iso(due)
    assert (
        contact_props(api, contact, "notes_next_activity_date")["notes_next_activity_date"]
        == expected
    )
    done = {"properties": {"hs_task_status": "COMPLETED"}}
    assert api("PATCH", f"/crm/v3/objects/tasks/{task}", json=done).ok
    assert (
        contact_props(api, contact, "notes_next_activity_date")["notes_next_activity_date"] is None
    )

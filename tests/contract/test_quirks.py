"""HubSpot quirks the product relies on, one test each (real portal or sandbox)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration  # a sandbox on 127.0.0.1, or a real test portal

MISSING_ID = "9" * 14  # far above any id a test portal hands out


def _eq(name: str, value: str) -> dict[str, str]:
    return {"propertyName": name, "operator": "EQ", "value": value}


def test_lifecycle_stage_only_moves_forward(portal) -> None:  # type: ignore[no-untyped-def]
    """A backward `lifecyclestage` write is ignored or refused; clearing it first works.

    Source: HubSpot knowledge base, "Set lifecycle stages" (a stage can only move forward
    unless cleared) and the CRM contacts API guide; /work/shared/HUBSPOT.md "Properties".
    """
    contact = portal.contact(lifecyclestage="salesqualifiedlead")
    path = f"/crm/v3/objects/contacts/{contact}"
    back = portal.request("PATCH", path, json={"properties": {"lifecyclestage": "lead"}})
    assert back.status_code in (200, 400), back.text
    stage = portal.properties("contacts", contact, "lifecyclestage")["lifecyclestage"]
    assert stage == "salesqualifiedlead"
    for value in ("", "lead"):
        answer = portal.request("PATCH", path, json={"properties": {"lifecyclestage": value}})
        assert answer.status_code == 200, answer.text
    assert portal.properties("contacts", contact, "lifecyclestage")["lifecyclestage"] == "lead"


def test_search_refuses_to_page_past_its_result_cap(portal) -> None:  # type: ignore[no-untyped-def]
    """Paging a search past its cap (10,000 on HubSpot) is a 400, not more results.

    Source: HubSpot CRM search guide, "Limitations" (10,000 results per query). The sandbox
    lowers its cap to 2 so three contacts reach it; a real portal would need 10,000 records.
    """
    sb = portal.need_sandbox()
    sb.set_config(search_result_cap=2)
    marker = uuid.uuid4().hex[:8]
    for _ in range(3):
        portal.contact(company=marker)
    within = portal.search("contacts", _eq("company", marker), limit=1, after="1")
    assert within.status_code == 200, within.text
    past = portal.search("contacts", _eq("company", marker), limit=1, after="2")
    assert past.status_code == 400
    assert past.json()["category"] == "VALIDATION_ERROR"


def test_enumeration_filters_are_case_sensitive(portal) -> None:  # type: ignore[no-untyped-def]
    """`hs_lead_status EQ new` finds nothing where `EQ NEW` finds the contact.

    Source: HubSpot CRM search guide ("filter values for enumeration properties are case
    sensitive"); /work/shared/HUBSPOT.md "Search".
    """
    contact = portal.contact(hs_lead_status="NEW")
    by_id = {"propertyName": "hs_object_id", "operator": "EQ", "value": contact}

    def found(value: str) -> list[str]:
        answer = portal.search("contacts", by_id, _eq("hs_lead_status", value))
        assert answer.status_code == 200, answer.text
        return [r["id"] for r in answer.json()["results"]]

    assert portal.eventually(lambda: found("NEW"), "the contact to be searchable") == [contact]
    assert found("new") == []


def test_list_adds_take_a_bare_array_and_answer_records_ids_added(portal) -> None:  # type: ignore[no-untyped-def]
    """`PUT /crm/v3/lists/{id}/memberships/add` takes a bare JSON array of record ids and
    answers `recordsIdsAdded` (HubSpot's spelling) and `recordIdsMissing`.

    Source: HubSpot Lists v3 OpenAPI spec (`MembershipsUpdateResponse`), HubSpot-public-api-
    spec-collection `CRM/Lists`.
    """
    contact = portal.contact()
    body = {"name": f"contract {uuid.uuid4().hex[:8]}", "objectTypeId": "0-1"}
    created = portal.request("POST", "/crm/v3/lists/", json={**body, "processingType": "MANUAL"})
    assert created.status_code == 200, created.text
    list_id = portal.track("lists", created.json()["list"]["listId"])
    added = portal.request("PUT", f"/crm/v3/lists/{list_id}/memberships/add", json=[contact])
    assert added.status_code == 200, added.text
    assert added.json()["recordsIdsAdded"] == [contact]
    assert added.json()["recordIdsMissing"] == []
    again = portal.request("PUT", f"/crm/v3/lists/{list_id}/memberships/add", json=[contact])
    assert again.json()["recordsIdsAdded"] == []  # existing members are ignored


def test_batch_update_with_an_unknown_id_is_a_207_or_a_400(portal) -> None:  # type: ignore[no-untyped-def]
    """A batch update naming an unknown id answers 207 (the known record updated, the unknown
    one in `errors`) or 400 (nothing written): the product handles both.

    Source: HubSpot CRM objects OpenAPI spec (batch update: 200 or 207) and HubSpot's
    error-handling guide; which one a portal gives is unverified (/work/shared/HUBSPOT.md).
    """
    contact = portal.contact(hs_lead_status="NEW")
    inputs = [
        {"id": contact, "properties": {"hs_lead_status": "OPEN"}},
        {"id": MISSING_ID, "properties": {"hs_lead_status": "OPEN"}},
    ]
    answer = portal.request(
        "POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": inputs}
    )
    status = portal.properties("contacts", contact, "hs_lead_status")["hs_lead_status"]
    if answer.status_code == 207:
        errors = answer.json()["errors"]
        assert any(MISSING_ID in e.get("context", {}).get("ids", []) for e in errors)
        assert status == "OPEN"
    else:
        assert answer.status_code == 400, answer.text
        assert status == "NEW"


def test_task_to_contact_association_type_is_204(portal) -> None:  # type: ignore[no-untyped-def]
    """A task created with association type 204 is linked to the contact; with the reverse
    direction's id (203) it is created all the same, unassociated.

    Source: HubSpot associations v4 guide, "Association type ID values" (task to contact 204,
    contact to task 203); the silent unassociated create is /work/shared/HUBSPOT.md "Tasks".
    """
    contact = portal.contact()
    due = {"hs_timestamp": "2030-01-01T09:00:00Z", "hs_task_subject": "contract"}
    linked = portal.create("tasks", due, to_contact=(contact, 204))
    wrong = portal.create("tasks", due, to_contact=(contact, 203))
    answer = portal.request(
        "POST",
        "/crm/v4/associations/tasks/contacts/batch/read",
        json={"inputs": [{"id": linked}, {"id": wrong}]},
    )
    assert answer.status_code in (200, 207), answer.text
    links = {r["from"]["id"]: r["to"] for r in answer.json()["results"]}
    assert [str(t["toObjectId"]) for t in links[linked]] == [contact]
    assert links[linked][0]["associationTypes"][0]["typeId"] == 204
    assert not links.get(wrong)


def test_owners_read_archived_ones_only_when_asked(portal) -> None:  # type: ignore[no-untyped-def]
    """`GET /crm/v3/owners/?archived=true` lists deactivated owners (archived: true), which
    the default read leaves out.

    Source: HubSpot CRM Owners v3 OpenAPI spec (`archived` query parameter).
    """
    if portal.is_sandbox:
        portal.sandbox.add_owner("left@example.com", "Former", "Rep", archived=True)
    archived = portal.request("GET", "/crm/v3/owners/", params={"archived": "true"})
    active = portal.request("GET", "/crm/v3/owners/")
    assert archived.status_code == active.status_code == 200
    gone = {o["id"] for o in archived.json()["results"]}
    assert all(o["archived"] is True for o in archived.json()["results"])
    assert not gone & {o["id"] for o in active.json()["results"]}
    if portal.is_sandbox:
        assert gone


def test_property_history_is_newest_first(portal) -> None:  # type: ignore[no-untyped-def]
    """`propertiesWithHistory` lists a property's versions newest first.

    Source: HubSpot CRM objects OpenAPI spec (`propertiesWithHistory`) and the CRM API guide
    "Retrieve records" (versions in reverse chronological order).
    """
    contact = portal.contact(hs_lead_status="NEW")
    for value in ("OPEN", "IN_PROGRESS"):
        answer = portal.request(
            "PATCH",
            f"/crm/v3/objects/contacts/{contact}",
            json={"properties": {"hs_lead_status": value}},
        )
        assert answer.status_code == 200, answer.text
    answer = portal.request(
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        json={
            "inputs": [{"id": contact}],
            "properties": [],
            "propertiesWithHistory": ["hs_lead_status"],
        },
    )
    versions = answer.json()["results"][0]["propertiesWithHistory"]["hs_lead_status"]
    assert [v["value"] for v in versions][:3] == ["IN_PROGRESS", "OPEN", "NEW"]
    stamps = [v["timestamp"] for v in versions]
    assert stamps == sorted(stamps, reverse=True)

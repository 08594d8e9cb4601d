"""Associations v4, lists v3, owners and property definitions, through the real client."""

from __future__ import annotations

import pytest
import urllib3
from hubspot import HubSpot
from hubspot.crm.lists.exceptions import ApiException as ListsApiException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from sandbox.schema import LEAD_STATUSES
from sandbox.server import SandboxHandle

pytestmark = pytest.mark.integration  # starts sandbox servers on 127.0.0.1


def test_association_batch_read_shape_207_and_paging(client: HubSpot, sb: SandboxHandle) -> None:
    batch = client.crm.associations.v4.batch_api
    with_emails = next(iter(sb.store.assoc[("contacts", "emails")]))
    without = next(
        i
        for i in sb.store.tables["contacts"].ids
        if not sb.store.associated("contacts", i, "emails")
    )
    answer = batch.get_page(
        "contacts",
        "emails",
        {"inputs": [{"id": str(with_emails)}, {"id": str(without)}, {"id": "31337"}]},
    )
    assert answer.num_errors == 2  # no associations + unknown id
    result = answer.results[0]
    assert result._from.id == str(with_emails)
    first = result.to[0]
    assert first.association_types[0].type_id == 197  # contact -> email
    assert first.association_types[0].category == "HUBSPOT_DEFINED"
    wire = urllib3.request(
        "POST",
        f"{sb.url}/crm/v4/associations/contact/email/batch/read",
        json={"inputs": [{"id": str(with_emails)}]},
        headers={"Authorization": f"Bearer {sb.token}"},
    ).json()
    assert isinstance(wire["results"][0]["to"][0]["toObjectId"], int)  # a number on the wire
    assert wire["results"][0]["to"][0]["associationTypes"][0]["label"] is None
    sb.set_config(empty_associations="empty")
    answer = batch.get_page("contacts", "emails", {"inputs": [{"id": str(without)}]})
    assert answer.results[0].to == [] and not getattr(answer, "errors", None)

    # An engagement -> contact read uses the forward type id.
    email_id = next(iter(sb.store.associated("contacts", with_emails, "emails")))
    back = batch.get_page("emails", "contacts", {"inputs": [{"id": str(email_id)}]})
    assert back.results[0].to[0].to_object_id == str(with_emails)
    assert back.results[0].to[0].association_types[0].type_id == 198


def test_association_paging_per_input(client: HubSpot, sb: SandboxHandle) -> None:
    contact = max(
        sb.store.assoc[("contacts", "calls")],
        key=lambda c: len(sb.store.associated("contacts", c, "calls")),
    )
    count = len(sb.store.associated("contacts", contact, "calls"))
    assert count >= 3
    sb.set_config(association_page_size=2)
    batch = client.crm.associations.v4.batch_api
    seen, after = [], None
    while True:
        item = {"id": str(contact)} | ({"after": after} if after else {})
        result = batch.get_page("contacts", "calls", {"inputs": [item]}).results[0]
        seen += [t.to_object_id for t in result.to]
        if not result.paging:
            break
        after = result.paging.next.after
    assert len(seen) == count and len(set(seen)) == count


def test_lists_create_find_and_members(client: HubSpot, sb: SandboxHandle) -> None:
    lists = client.crm.lists
    created = lists.lists_api.create(
        {"name": "Nurture - CRM", "objectTypeId": "0-1", "processingType": "MANUAL"}
    )
    list_id = created.list.list_id
    assert created.list.processing_type == "MANUAL" and created.list.object_type_id == "0-1"
    found = lists.lists_api.get_by_name(list_name="nurture - crm", object_type_id="0-1")
    assert found.list.list_id == list_id
    with pytest.raises(ListsApiException) as caught:
        lists.lists_api.get_by_name(list_name="Nurture - Nothing", object_type_id="0-1")
    assert caught.value.status == 404
    with pytest.raises(ListsApiException) as caught:
        lists.lists_api.create(
            {"name": "NURTURE - CRM", "objectTypeId": "0-1", "processingType": "MANUAL"}
        )
    assert caught.value.status == 400
    added = lists.memberships_api.add(list_id, ["1001", "1002", "999999"])
    assert added.records_ids_added == ["1001", "1002"]
    assert added.record_ids_missing == ["999999"]
    again = lists.memberships_api.add(list_id, ["1002", "1003"])
    assert again.records_ids_added == ["1003"]  # existing members are ignored
    members = lists.memberships_api.get_page(list_id, limit=2)
    assert [m.record_id for m in members.results] == ["1001", "1002"]
    rest = lists.memberships_api.get_page(list_id, after=members.paging.next.after, limit=2)
    assert [m.record_id for m in rest.results] == ["1003"]
    searched = lists.lists_api.do_search({"query": "nurture", "processingTypes": ["MANUAL"]})
    assert [x.list_id for x in searched.lists] == [list_id]
    assert sb.stats()["writes_total"] == 3


def test_owners_paging_and_archived(client: HubSpot, sb: SandboxHandle) -> None:
    owners = client.crm.owners.owners_api
    active = owners.get_page(limit=2)
    assert [o.id for o in active.results] == ["70000001", "70000002"]
    rest = owners.get_page(limit=2, after=active.paging.next.after)
    assert [o.id for o in rest.results] == ["70000003", "70000005"]
    assert rest.results[1].email is None
    archived = owners.get_page(archived=True)
    assert [(o.id, o.archived, o.user_id) for o in archived.results] == [("70000004", True, None)]
    added = sb.add_owner("zed@example.com", "Zed", "Zulu")
    assert owners.get_by_id(added["id"]).email == "zed@example.com"


def test_property_definitions(client: HubSpot) -> None:
    core = client.crm.properties.core_api
    status = core.get_by_name("contacts", "hs_lead_status")
    assert [o.value for o in status.options] == list(LEAD_STATUSES)
    assert status.type == "enumeration"
    assert core.get_by_name("contacts", "createdate").modification_metadata.read_only_value
    assert core.get_by_name("contacts", "lead_score").type == "number"
    assert [o.value for o in core.get_by_name("contacts", "product_interest").options] == [
        "analytics",
        "crm",
        "payments",
    ]
    assert core.get_by_name("tasks", "hs_task_priority").options
    with pytest.raises(PropertiesApiException) as caught:
        core.get_by_name("contacts", "nope")
    assert caught.value.status == 404

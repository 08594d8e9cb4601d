"""Each gateway operation against recorded HubSpot answers (tests/cassettes/test_gateway_recorded).

Replayed by default, with no server. Re-record against a fresh demo sandbox with
`.venv/bin/pytest tests/gateway/test_gateway_recorded.py --record-mode=rewrite`.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from config.settings import Settings
from gateway.client import HubSpotGateway, NewTask

SEARCH = "POST /crm/v3/objects/contacts/search"
UNKNOWN_ID = "999999999"
HAS_EMAIL = {"propertyName": "email", "operator": "HAS_PROPERTY"}
HAS_STATUS = {"propertyName": "hs_lead_status", "operator": "HAS_PROPERTY"}
DUE = "1767261600000"  # fixed, so the recorded request bodies match on replay


@pytest.fixture
def gateway(recorded_settings: Settings) -> HubSpotGateway:
    """Pacing sleeps are skipped: the recorded sandbox has no limits and replay needs none."""
    return HubSpotGateway(recorded_settings, sleep=lambda _: None)


def contact_ids(gateway: HubSpotGateway, count: int, *filters: dict[str, str]) -> list[str]:
    page = next(gateway.search("contacts", list(filters), [], page_size=count))
    return [record.id for record in page]


@pytest.mark.vcr
def test_search_returns_every_match_once_page_by_page(gateway: HubSpotGateway) -> None:
    pages = list(gateway.search("contacts", [HAS_EMAIL], ["email", "lifecyclestage"], page_size=40))
    ids = [int(record.id) for page in pages for record in page]
    assert len(pages) >= 3
    assert ids == sorted(set(ids))  # ascending by id, no repeats
    assert all(len(page) == 40 for page in pages[:-1]) and 0 < len(pages[-1]) <= 40
    assert gateway.calls == {SEARCH: len(pages)}  # one query per page, none wasted
    assert all(record.get("email") and "lifecyclestage" in record.properties
               for page in pages for record in page)  # fmt: skip
    in_one_go = [r.id for page in gateway.search("contacts", [HAS_EMAIL], []) for r in page]
    assert sorted(in_one_go, key=int) == [str(i) for i in ids]


@pytest.mark.vcr
def test_batch_read_gives_history_newest_first_and_reports_unknown_ids(
    gateway: HubSpotGateway,
) -> None:
    ids = contact_ids(gateway, 5, HAS_STATUS)
    result = gateway.batch_read(
        "contacts", [*ids, UNKNOWN_ID], ["hs_lead_status", "email"], history=["lifecyclestage"]
    )
    assert sorted(r.id for r in result.succeeded) == sorted(ids)
    assert [(e.id, e.category) for e in result.failed] == [(UNKNOWN_ID, "OBJECT_NOT_FOUND")]
    for record in result.succeeded:
        assert record.get("hs_lead_status")
        versions = record.history["lifecyclestage"]
        times = [when for _, when in versions]
        assert all(isinstance(t, datetime) and t.tzinfo is not None for t in times)
        assert times == sorted(times, reverse=True)  # newest first
    assert any(len(r.history["lifecyclestage"]) > 1 for r in result.succeeded)


@pytest.mark.vcr
def test_batch_update_applies_good_records_and_reports_the_rest(gateway: HubSpotGateway) -> None:
    ids = contact_ids(gateway, 3, HAS_STATUS)
    updates = {record_id: {"hs_lead_status": "CONNECTED"} for record_id in ids}
    result = gateway.batch_update("contacts", updates | {UNKNOWN_ID: {"hs_lead_status": "NEW"}})
    assert sorted(r.id for r in result.succeeded) == sorted(ids)
    assert [e.id for e in result.failed] == [UNKNOWN_ID]
    assert "not exist" in result.failed[0].message
    reread = gateway.batch_read("contacts", ids, ["hs_lead_status"]).succeeded
    assert {r.id: r.get("hs_lead_status") for r in reread} == dict.fromkeys(ids, "CONNECTED")


@pytest.mark.vcr
def test_create_tasks_associates_each_task_with_its_contact(gateway: HubSpotGateway) -> None:
    ids = contact_ids(gateway, 2)
    owner = next(o for o in gateway.owners() if o.reachable)
    new = [
        NewTask(contact_id, owner.id, {
            "hs_timestamp": DUE, "hs_task_subject": f"Call contact {contact_id}",
            "hs_task_body": "leadops cassette", "hs_task_status": "NOT_STARTED",
            "hs_task_type": "CALL", "hs_task_priority": "HIGH",
        })
        for contact_id in [*ids, UNKNOWN_ID]
    ]  # fmt: skip
    result = gateway.create_tasks(new)
    assert [e.id for e in result.failed] == [UNKNOWN_ID]
    created = {r.get("hs_task_subject"): r for r in result.succeeded}
    assert set(created) == {f"Call contact {i}" for i in ids}
    assert all(r.get("hubspot_owner_id") == owner.id for r in result.succeeded)
    links = gateway.associations("contacts", "tasks", ids)
    for contact_id in ids:
        assert created[f"Call contact {contact_id}"].id in links[contact_id]


@pytest.mark.vcr
def test_associations_cover_every_id_and_agree_both_ways(gateway: HubSpotGateway) -> None:
    ids = contact_ids(gateway, 200)
    emails = gateway.associations("contacts", "emails", ids)
    assert set(emails) == set(ids)  # contacts without emails map to []
    linked = {contact: found for contact, found in emails.items() if found}
    assert linked and all(e.isdigit() for found in linked.values() for e in found)
    email_ids = [e for found in linked.values() for e in found]
    back = gateway.associations("emails", "contacts", email_ids)
    for contact, found in linked.items():
        assert all(contact in back[e] for e in found)


@pytest.mark.vcr
def test_lists_are_found_or_created_once_and_membership_is_reported(
    gateway: HubSpotGateway,
) -> None:
    name = "leadops cassette nurture"
    assert gateway.find_list(name) is None
    list_id = gateway.find_or_create_list(name)
    assert gateway.find_or_create_list(name.upper()) == list_id  # names are case-insensitive
    assert gateway.calls["POST /crm/v3/lists/"] == 1
    first, second, third = contact_ids(gateway, 3)
    added = gateway.add_to_list(list_id, [first, second, UNKNOWN_ID])
    assert (added.added, added.already_members, added.missing) == (
        (first, second), (), (UNKNOWN_ID,)
    )  # fmt: skip
    again = gateway.add_to_list(list_id, [first, second, third])
    assert (again.added, again.already_members, again.missing) == ((third,), (first, second), ())
    lists_of = gateway.list_memberships([first, second, third])
    assert all(list_id in lists_of[i] for i in (first, second, third))


@pytest.mark.vcr
def test_owners_include_archived_ones_flagged(gateway: HubSpotGateway) -> None:
    owners = gateway.owners()
    assert len({o.id for o in owners}) == len(owners)
    archived = [o for o in owners if o.archived]
    assert archived and any(not o.archived for o in owners)
    assert all(not o.reachable for o in archived)
    assert gateway.calls["GET /crm/v3/owners/"] == 2  # active, then archived


@pytest.mark.vcr
def test_property_info_reads_options_and_flags(gateway: HubSpotGateway) -> None:
    status = gateway.property_info("contacts", "hs_lead_status")
    assert status is not None and status.type == "enumeration" and not status.read_only
    assert {"NEW", "ATTEMPTED_TO_CONTACT", "CONNECTED", "UNQUALIFIED"} <= set(status.options)
    created = gateway.property_info("contacts", "createdate")
    assert created is not None and created.type == "datetime" and created.read_only
    assert created.options == ()
    assert gateway.property_info("contacts", "no_such_property") is None


@pytest.mark.vcr
def test_property_info_reads_option_labels(gateway: HubSpotGateway) -> None:
    status = gateway.property_info("contacts", "hs_lead_status")
    assert status is not None
    assert status.labels["ATTEMPTED_TO_CONTACT"] == "Attempted to Contact"
    assert set(status.labels) == set(status.options)
    stage = gateway.property_info("contacts", "lifecyclestage")
    assert (
        stage is not None and stage.labels["marketingqualifiedlead"] == "Marketing Qualified Lead"
    )


@pytest.mark.vcr
def test_deal_stages_come_from_every_pipeline_with_closed_flags(gateway: HubSpotGateway) -> None:
    stages = gateway.deal_stages()
    assert gateway.calls == {"GET /crm/v3/pipelines/{objectType}": 1}
    lost, qualified = stages["default", "closedlost"], stages["default", "qualifiedtobuy"]
    assert lost.closed and lost.probability == 0.0
    assert not qualified.closed and qualified.probability == 0.4
    assert qualified.pipeline_label == "Sales Pipeline" and qualified.label == "Qualified To Buy"
    assert len({stage.pipeline_id for stage in stages.values()}) == 2


@pytest.mark.vcr
def test_deals_are_read_through_their_contacts(gateway: HubSpotGateway) -> None:
    with_deals = {"propertyName": "num_associated_deals", "operator": "GT", "value": "0"}
    ids = contact_ids(gateway, 20, with_deals)
    links = gateway.associations("contacts", "deals", ids)
    deal_ids = [deal for found in links.values() for deal in found]
    assert ids and all(links[i] for i in ids)
    deals = gateway.batch_read("deals", deal_ids, ["dealstage", "pipeline", "dealname"])
    assert sorted(d.id for d in deals.succeeded) == sorted(deal_ids) and not deals.failed
    assert all(d.get("dealstage") and d.get("pipeline") for d in deals.succeeded)
    assert gateway.calls["POST /crm/v3/objects/deals/batch/read"] == 1

"""Deals, deal pipelines and contact<->deal associations, through the real SDK and raw HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.deals.exceptions import ApiException as DealsApiException

from sandbox.server import SandboxHandle

pytestmark = pytest.mark.integration  # starts sandbox servers on 127.0.0.1

DEAL_TO_CONTACT = 3


def test_pipelines_answer_hubspots_shape_with_string_metadata(client: HubSpot) -> None:
    answer = client.crm.pipelines.pipelines_api.get_all("deals")
    default = next(p for p in answer.results if p.id == "default")
    assert default.label == "Sales Pipeline" and default.archived is False
    stages = {s.id: s.metadata for s in default.stages}
    assert stages["closedlost"] == {"isClosed": "true", "probability": "0.0"}
    assert stages["qualifiedtobuy"] == {"isClosed": "false", "probability": "0.4"}
    one = client.crm.pipelines.pipelines_api.get_by_id("deals", "1001")
    assert one.label == "Renewals"


def test_unknown_pipelines_and_object_types_are_refused(
    api: Callable[..., requests.Response],
) -> None:
    assert api("GET", "/crm/v3/pipelines/deals/nope").status_code == 404
    assert api("GET", "/crm/v3/pipelines/0-3").status_code == 200
    assert api("GET", "/crm/v3/pipelines/tickets").status_code == 400


def test_a_deal_created_with_a_contact_is_read_back_through_v4_associations(
    client: HubSpot, sb: SandboxHandle
) -> None:
    body = {
        "properties": {"dealname": "Acme renewal", "dealstage": "1002", "pipeline": "1001"},
        "associations": [
            {
                "to": {"id": "1001"},
                "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": DEAL_TO_CONTACT}
                ],
            }
        ],
    }
    deal = client.crm.deals.basic_api.create(body)
    assert deal.properties["dealstage"] == "1002" and deal.properties["createdate"]
    links = client.crm.associations.v4.batch_api.get_page(
        "contacts", "deals", {"inputs": [{"id": "1001"}]}
    )
    [result] = links.results
    assert [str(to.to_object_id) for to in result.to] == [deal.id]
    assert result.to[0].association_types[0].type_id == 4  # contact -> deal
    assert sb.store.get("contacts", 1001).props["num_associated_deals"] == "1"


@pytest.mark.parametrize(
    "properties",
    [
        {"dealname": "x", "dealstage": "1002"},  # a Renewals stage, default pipeline
        {"dealname": "x", "dealstage": "qualifiedtobuy", "pipeline": "9999"},
        {"dealstage": "qualifiedtobuy"},  # no name
    ],
)
def test_a_deal_in_a_stage_its_pipeline_lacks_is_400(client: HubSpot, properties: dict) -> None:
    with pytest.raises(DealsApiException) as caught:
        client.crm.deals.basic_api.create({"properties": properties})
    assert caught.value.status == 400


def test_the_demo_seed_has_deals_in_open_and_closed_stages(client: HubSpot) -> None:
    found = client.crm.deals.search_api.do_search(
        {"filterGroups": [], "properties": ["dealstage", "pipeline"], "limit": 100}
    )
    stages = {r.properties["dealstage"] for r in found.results}
    assert {"qualifiedtobuy", "closedlost", "closedwon", "1002"} <= stages


def test_deals_changed_in_a_window_name_their_contacts(client: HubSpot, sb: SandboxHandle) -> None:
    """The open_deal trigger's reads, through the gateway: deals searched by
    `hs_lastmodifieddate` in a window (HubSpot's deals OpenAPI: `POST /crm/v3/objects/0-3/search`,
    a `PublicObjectSearchRequest` whose filters take GTE/LT on any property), then
    `POST /crm/v4/associations/deals/contacts/batch/read` to their contacts."""
    from datetime import UTC, datetime, timedelta

    from gateway.client import HubSpotGateway
    from tasks.changes import contacts_of_changed_engagements

    from support import sandbox_settings

    gateway = HubSpotGateway(sandbox_settings(sb.url, sb.token))
    before = datetime.fromtimestamp(sb.store.clock() / 1000, UTC)
    deals = sb.store.tables["deals"].ids  # the demo seed's, modified before the window
    moved = next(d for d in deals if sb.store.associated("deals", d, "contacts"))
    owners = {str(c) for c in sb.store.associated("deals", moved, "contacts")}
    assert contacts_of_changed_engagements(gateway, "deal", before, before + timedelta(1)) == []
    link = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": DEAL_TO_CONTACT}
    client.crm.deals.basic_api.create(
        {
            "properties": {"dealname": "New", "dealstage": "qualifiedtobuy"},
            "associations": [{"to": {"id": "1001"}, "types": [link]}],
        }
    )
    client.crm.deals.basic_api.update(str(moved), {"properties": {"dealstage": "closedlost"}})
    after = datetime.fromtimestamp(sb.store.clock() / 1000, UTC) + timedelta(seconds=1)
    found = contacts_of_changed_engagements(gateway, "deal", before, after)
    assert set(found) == {"1001"} | owners
    assert contacts_of_changed_engagements(gateway, "deal", after, after + timedelta(hours=1)) == []

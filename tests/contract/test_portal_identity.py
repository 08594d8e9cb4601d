"""Account info, lists memberships by record, and the daily budget headers."""

from __future__ import annotations

import uuid


def test_account_details_name_the_portal_its_timezone_and_ui_domain(portal) -> None:  # type: ignore[no-untyped-def]
    """`GET /account-info/v3/details` answers `portalId` (an integer), `timeZone` and
    `uiDomain` (`app.hubspot.com`, or `app-eu1.hubspot.com` for EU-hosted portals).

    Source: HubSpot Account Info v3 OpenAPI spec (HubSpot/HubSpot-public-api-spec-collection,
    `PublicApiSpecs/Account/Account Info/.../v3/accountInfo.json`, `PortalInformationResponse`).
    """
    response = portal.request("GET", "/account-info/v3/details")
    assert response.status_code == 200, response.text
    details = response.json()
    assert isinstance(details["portalId"], int) and details["portalId"] > 0
    assert isinstance(details["timeZone"], str) and details["timeZone"]
    assert details["uiDomain"].startswith("app") and details["uiDomain"].endswith(".hubspot.com")
    assert isinstance(details["utcOffsetMilliseconds"], int)


def test_memberships_batch_read_lists_each_records_lists(portal) -> None:  # type: ignore[no-untyped-def]
    """`POST /crm/v3/lists/records/memberships/batch/read` takes `{"inputs": [{"objectTypeId",
    "recordId"}]}` and answers `results[]` of `{objectTypeId, recordId,
    recordListMemberships: [{listId, listVersion, ...}]}`.

    Source: HubSpot Lists v3 OpenAPI spec (HubSpot/HubSpot-public-api-spec-collection,
    `PublicApiSpecs/CRM/Lists/.../v3/lists.json`: `BatchInputRecordIdInput`,
    `BatchResponseRecordIdWithMemberships`, `RecordListMembership`).
    """
    tag = uuid.uuid4().hex[:8]
    created = portal.request(
        "POST",
        "/crm/v3/objects/contacts",
        json={"properties": {"email": f"contract-{tag}@example.com"}},
    )
    assert created.status_code == 201, created.text
    contact_id = portal.track("contacts", created.json()["id"])
    made = portal.request(
        "POST",
        "/crm/v3/lists/",
        json={"name": f"leadops contract {tag}", "objectTypeId": "0-1", "processingType": "MANUAL"},
    )
    assert made.status_code == 200, made.text
    list_id = portal.track("lists", made.json()["list"]["listId"])
    added = portal.request("PUT", f"/crm/v3/lists/{list_id}/memberships/add", json=[contact_id])
    assert added.status_code == 200, added.text

    response = portal.request(
        "POST",
        "/crm/v3/lists/records/memberships/batch/read",
        json={"inputs": [{"objectTypeId": "0-1", "recordId": contact_id}]},
    )
    assert response.status_code in (200, 207), response.text
    [result] = response.json()["results"]
    assert str(result["recordId"]) == contact_id and result["objectTypeId"] == "0-1"
    memberships = result["recordListMemberships"]
    assert [str(m["listId"]) for m in memberships] == [list_id]
    assert isinstance(memberships[0]["listVersion"], int)


def test_answers_carry_the_daily_budget_headers(portal) -> None:  # type: ignore[no-untyped-def]
    """Responses carry `X-HubSpot-RateLimit-Daily` and `X-HubSpot-RateLimit-Daily-Remaining`
    (the portal's daily request budget, shared by every app, and what is left of it).

    Source: HubSpot developer docs, "API usage guidelines and limits" (rate limit headers).
    """
    response = portal.request("GET", "/crm/v3/owners/", params={"limit": 1})
    assert response.status_code == 200, response.text
    daily = int(response.headers["X-HubSpot-RateLimit-Daily"])
    remaining = int(response.headers["X-HubSpot-RateLimit-Daily-Remaining"])
    assert daily > 0 and 0 <= remaining <= daily

"""HubSpot shapes the sandbox keeps: error contexts, paging-parameter errors, 429 headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from sandbox.server import SandboxHandle

pytestmark = pytest.mark.integration  # starts sandbox servers on 127.0.0.1


Api = Callable[..., requests.Response]  # the `api` fixture


def test_no_associations_error_names_the_record_and_both_types(sb: SandboxHandle, api: Api) -> None:
    lonely = next(
        i
        for i in sb.store.tables["contacts"].ids
        if not sb.store.associated("contacts", i, "calls")
    )
    answer = api(
        "POST",
        "/crm/v4/associations/contacts/calls/batch/read",
        json={"inputs": [{"id": str(lonely)}]},
    )
    assert answer.status_code == 207
    error = answer.json()["errors"][0]
    assert error["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert error["message"] == f"No call is associated with contact {lonely}."
    assert error["context"] == {
        "fromObjectId": [str(lonely)],
        "fromObjectType": ["contact"],
        "toObjectType": ["call"],
    }


def _list_id(api: Api) -> str:
    return api("POST", "/crm/v3/lists/", json={"name": "paging"}).json()["list"]["listId"]


@pytest.mark.parametrize("name", ["limit", "after"])
@pytest.mark.parametrize(
    "endpoint",
    ["search", "memberships", "owners", "association read", "object list", "list search"],
)
def test_a_non_numeric_paging_parameter_is_a_400_naming_it(
    sb: SandboxHandle, api: Api, endpoint: str, name: str
) -> None:
    bad = "ten"
    if endpoint == "search":
        answer = api("POST", "/crm/v3/objects/contacts/search", json={name: bad})
    elif endpoint == "memberships":
        answer = api("GET", f"/crm/v3/lists/{_list_id(api)}/memberships", params={name: bad})
    elif endpoint == "owners":
        answer = api("GET", "/crm/v3/owners/", params={name: bad})
    elif endpoint == "object list":
        answer = api("GET", "/crm/v3/objects/contacts", params={name: bad})
    elif endpoint == "list search":
        field = "count" if name == "limit" else "offset"
        answer = api("POST", "/crm/v3/lists/search", json={field: bad})
        name = field
    else:
        contact = next(iter(sb.store.assoc[("contacts", "calls")]))
        answer = api(
            "POST",
            "/crm/v4/associations/contacts/calls/batch/read",
            json={"inputs": [{"id": str(contact), "after": bad}]},
        )
        name = "after"  # an association read pages per input only
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert name in body["message"] and repr(bad) in body["message"]
    assert body["correlationId"]


def test_a_ten_secondly_429_carries_the_budget_headers(sb: SandboxHandle, api: Api) -> None:
    sb.set_limits(requests_per_10s=2)
    statuses = [api("GET", "/crm/v3/owners/").status_code for _ in range(2)]
    refused = api("GET", "/crm/v3/owners/")
    assert statuses == [200, 200] and refused.status_code == 429
    assert refused.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert refused.headers["X-HubSpot-RateLimit-Max"] == "2"
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert refused.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"


def test_a_daily_429_carries_the_daily_headers(sb: SandboxHandle, api: Api) -> None:
    sb.set_limits(daily=1)
    assert api("GET", "/crm/v3/owners/").status_code == 200
    refused = api("GET", "/crm/v3/owners/")
    assert refused.status_code == 429 and refused.json()["policyName"] == "DAILY"
    assert refused.headers["X-HubSpot-RateLimit-Daily"] == "1"
    assert refused.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_an_injected_429_has_headers_too_but_a_search_429_has_none(
    sb: SandboxHandle, api: Api
) -> None:
    sb.set_faults(ten_secondly=1.0, endpoints=["owners"])
    refused = api("GET", "/crm/v3/owners/")
    assert refused.status_code == 429
    assert refused.headers["X-HubSpot-RateLimit-Max"] == "190"  # Professional, limits off
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    sb.set_faults(secondly=1.0, endpoints=["search"])
    refused = api("POST", "/crm/v3/objects/contacts/search", json={})
    assert refused.status_code == 429
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in refused.headers)


def test_search_paging_stops_at_the_configured_cap(sb: SandboxHandle, api: Api) -> None:
    body = {"limit": 10, "after": "20"}
    assert api("POST", "/crm/v3/objects/contacts/search", json=body).status_code == 200
    sb.set_config(search_result_cap=25)
    refused = api("POST", "/crm/v3/objects/contacts/search", json=body)
    assert refused.status_code == 400 and "25" in refused.json()["message"]

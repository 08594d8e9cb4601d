"""Auth, rate limits, fault injection and the stats/writes counters."""

from __future__ import annotations

import json
import time

import pytest
import urllib3
from hubspot import HubSpot
from hubspot.crm.contacts.exceptions import ApiException

from sandbox.server import SandboxHandle, running_sandbox

from support import wait_until

pytestmark = pytest.mark.integration  # starts sandbox servers on 127.0.0.1

SEARCH = {"filterGroups": [], "limit": 1}


def raw(
    sb: SandboxHandle,
    path: str,
    token: str | None = "default",
    retries: bool = False,
    body: object = SEARCH,
) -> urllib3.BaseHTTPResponse:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {sb.token if token == 'default' else token}"
    return urllib3.request(
        "POST", sb.url + path, body=json.dumps(body), headers=headers, retries=retries, timeout=5
    )


def test_token_required(sb: SandboxHandle) -> None:
    for token in (None, "wrong"):
        answer = raw(sb, "/crm/v3/objects/contacts/search", token)
        assert answer.status == 401
        assert answer.json()["category"] == "INVALID_AUTHENTICATION"
        assert answer.json()["message"].startswith("Authentication credentials not found")
    with pytest.raises(ApiException) as caught:
        HubSpot(access_token="nope", host=sb.url).crm.contacts.search_api.do_search(SEARCH)
    assert caught.value.status == 401


def test_ten_secondly_limit_and_headers() -> None:
    with running_sandbox(seed="empty", requests_per_10s=3) as sb:
        client = HubSpot(access_token=sb.token, host=sb.url)
        answer = client.crm.owners.owners_api.get_page_with_http_info()
        headers = answer[2]
        assert headers["X-HubSpot-RateLimit-Max"] == "3"
        assert headers["X-HubSpot-RateLimit-Remaining"] == "2"
        assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert headers["X-HubSpot-Correlation-Id"]
        client.crm.owners.owners_api.get_page()
        client.crm.owners.owners_api.get_page()
        with pytest.raises(Exception) as caught:
            client.crm.owners.owners_api.get_page()
        assert caught.value.status == 429
        body = json.loads(caught.value.body)
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["errorType"] == "RATE_LIMIT"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert sb.stats()["rate_limited"] == {"TEN_SECONDLY_ROLLING": 1}


def test_search_secondly_limit_recovers() -> None:
    with running_sandbox(seed="empty", searches_per_second=2) as sb:
        statuses = [raw(sb, "/crm/v3/objects/contacts/search").status for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert raw(sb, "/crm/v3/objects/contacts/search").json()["policyName"] == "SECONDLY"
        wait_until(
            "the secondly search limit to let a search through again",
            lambda: raw(sb, "/crm/v3/objects/contacts/search").status == 200,
        )


def test_daily_limit_and_runtime_limit_changes(sb: SandboxHandle) -> None:
    sb.set_limits(daily=2)
    assert raw(sb, "/crm/v3/objects/contacts/search").status == 200
    assert raw(sb, "/crm/v3/objects/contacts/search").status == 200
    answer = raw(sb, "/crm/v3/objects/contacts/search")
    assert answer.status == 429 and answer.json()["policyName"] == "DAILY"
    sb.set_limits(daily=None)
    assert raw(sb, "/crm/v3/objects/contacts/search").status == 200


def test_injected_429s_are_deterministic_and_carry_retry_after(sb: SandboxHandle) -> None:
    def run() -> list[int]:
        sb.set_faults(ten_secondly=0.5, retry_after=2, seed=7)
        return [raw(sb, "/crm/v3/objects/contacts/search").status for _ in range(20)]

    first = run()
    assert first == run()
    assert 0 < first.count(429) < 20
    sb.set_faults(secondly=1.0, retry_after=1)
    answer = raw(sb, "/crm/v3/objects/contacts/search")
    assert answer.headers["Retry-After"] == "1" and answer.json()["policyName"] == "SECONDLY"
    sb.set_faults()
    assert raw(sb, "/crm/v3/objects/contacts/search").status == 200


def test_server_errors_latency_and_targeting(sb: SandboxHandle) -> None:
    sb.set_faults(server_errors=1.0, endpoints=["/batch/read"])
    assert raw(sb, "/crm/v3/objects/contacts/search").status == 200
    statuses = {
        raw(sb, "/crm/v3/objects/contacts/batch/read", body={"inputs": []}).status
        for _ in range(12)
    }
    assert statuses <= {502, 503, 504} and len(statuses) > 1
    sb.set_faults(latency_ms=300)
    started = time.perf_counter()
    assert raw(sb, "/crm/v3/objects/contacts/search").status == 200
    assert time.perf_counter() - started >= 0.3
    stats = sb.stats()
    assert stats["faults"]["server_error"] == 12


def test_dropped_connections_reach_the_client_as_connection_errors(sb: SandboxHandle) -> None:
    sb.set_faults(drop=1.0)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        raw(sb, "/crm/v3/objects/contacts/search")
    client = HubSpot(access_token=sb.token, host=sb.url)
    with pytest.raises((urllib3.exceptions.ProtocolError, urllib3.exceptions.MaxRetryError)):
        client.crm.contacts.search_api.do_search(SEARCH, _request_timeout=(2, 2))
    sb.set_faults()
    assert raw(sb, "/crm/v3/objects/contacts/search").status == 200
    assert sb.stats()["faults"]["drop"] >= 2


def test_stats_count_requests_and_writes(sb: SandboxHandle, client: HubSpot) -> None:
    client.crm.contacts.search_api.do_search(SEARCH)
    client.crm.contacts.batch_api.read({"inputs": [{"id": "1001"}], "properties": []})
    client.crm.contacts.basic_api.get_by_id("1001")
    assert sb.stats()["writes_total"] == 0
    client.crm.contacts.batch_api.update(
        {"inputs": [{"id": "1001", "properties": {"company": "X"}}]}
    )
    stats = sb.stats()
    assert stats["writes"] == {"POST /crm/v3/objects/contacts/batch/update": 1}
    assert stats["requests"]["GET /crm/v3/objects/contacts/{id}"] == 1
    assert stats["requests_total"] == 4
    sb.reset_stats()
    assert sb.stats()["requests_total"] == 0


def test_reseed_replaces_data(sb: SandboxHandle, client: HubSpot) -> None:
    counts = sb.reseed("demo", contacts=30)
    assert counts["contacts"] == 30
    assert client.crm.contacts.search_api.do_search(SEARCH).total == 30
    sb.reseed("empty")
    assert client.crm.contacts.search_api.do_search(SEARCH).total == 0
    assert len(client.crm.owners.owners_api.get_page().results) == 4

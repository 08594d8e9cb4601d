"""The gateway against a live sandbox on 127.0.0.1: scale, faults, limits and HubSpot quirks.

Retry waits go through an injected `sleep` that does not wait (the sandbox's injected faults
need no real waiting), except in the pacing test, which measures real time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hubspot.discovery.discovery_base import DiscoveryBase

from gateway.client import DailyLimitReached, HubSpotError, HubSpotGateway, NewTask
from sandbox.server import SandboxHandle, running_sandbox

from support import sandbox_settings, sandbox_settled

pytestmark = pytest.mark.integration

SEARCH = "POST /crm/v3/objects/contacts/search"
UPDATE = "POST /crm/v3/objects/contacts/batch/update"
CREATE = "POST /crm/v3/objects/tasks/batch/create"
HAS_EMAIL = {"propertyName": "email", "operator": "HAS_PROPERTY"}


def no_wait(_: float) -> None:
    """Retry and pacing waits, skipped."""


def make_gateway(
    sb: SandboxHandle, sleep: Callable[[float], None] = no_wait, **overrides: Any
) -> HubSpotGateway:
    return HubSpotGateway(sandbox_settings(sb.url, sb.token, **overrides), sleep=sleep)


def all_contacts(gateway: HubSpotGateway, *filters: dict[str, str]) -> list[str]:
    return [r.id for page in gateway.search("contacts", list(filters), []) for r in page]


def stage_of(gateway: HubSpotGateway, contact_id: str) -> str | None:
    (record,) = gateway.batch_read("contacts", [contact_id], ["lifecyclestage"]).succeeded
    return record.get("lifecyclestage")


@pytest.fixture(scope="module")
def big_sandbox() -> Iterator[SandboxHandle]:
    """25,000 leads (the matches) among 26,000 contacts."""
    with running_sandbox(seed="empty") as sb:
        now = sb.store.clock()
        for i in range(26_000):
            stage = "lead" if i % 26 else "subscriber"
            sb.store.insert(
                "contacts", {"email": f"c{i}@example.test", "lifecyclestage": stage}, now
            )
        yield sb


def test_search_pages_past_the_10k_cap_each_match_once(big_sandbox: SandboxHandle) -> None:
    big_sandbox.reset_stats()
    gateway = make_gateway(big_sandbox)
    leads = {"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"}
    started = time.monotonic()
    pages = list(gateway.search("contacts", [leads], ["email"]))
    elapsed = time.monotonic() - started
    ids = [r.id for page in pages for r in page]
    assert len(ids) == 25_000 and len(set(ids)) == 25_000
    assert all(r.get("email") for page in pages for r in page)
    assert len(pages) == math.ceil(25_000 / 200) == gateway.calls[SEARCH]
    stats = big_sandbox.stats()
    assert stats["requests"] == {SEARCH: len(pages)} and stats["statuses"] == {"200": len(pages)}
    print(f"\n25,000 of 26,000 contacts: {len(pages)} search calls, {elapsed:.1f} s unpaced")


def test_a_storm_of_429s_loses_and_duplicates_nothing(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox, hubspot_max_retries=10)
    tasks_before = len(sandbox.store.tables["tasks"].records)
    sandbox.set_faults(ten_secondly=0.2, secondly=0.15, retry_after=None, seed=11)
    ids = all_contacts(gateway)
    read = gateway.batch_read("contacts", ids, ["email"], history=["lifecyclestage"])
    updated = gateway.batch_update("contacts", {i: {"hs_lead_status": "OPEN"} for i in ids})
    created = gateway.create_tasks([NewTask(i, None, {"hs_timestamp": "1767261600000",
                                                      "hs_task_subject": f"Call {i}"})
                                    for i in ids[:150]])  # fmt: skip
    links = gateway.associations("contacts", "tasks", ids[:150])
    list_id = gateway.find_or_create_list("storm")
    gateway.add_to_list(list_id, ids)
    lists_of = gateway.list_memberships(ids)
    stats = sandbox.stats()
    sandbox.set_faults()

    assert ids == [str(i) for i in sorted(sandbox.store.tables["contacts"].records)]
    assert len(read.succeeded) == len(updated.succeeded) == len(ids) == 300
    assert not read.failed and not updated.failed and not created.failed
    assert all(r.props.get("hs_lead_status") == "OPEN"
               for r in sandbox.store.tables["contacts"].records.values())  # fmt: skip
    assert len(sandbox.store.tables["tasks"].records) == tasks_before + 150  # no duplicate
    assert {r.id for r in created.succeeded} <= {t for found in links.values() for t in found}
    assert {i for i, lists in lists_of.items() if list_id in lists} == set(ids)
    assert set(stats["rate_limited"]) == {"TEN_SECONDLY_ROLLING", "SECONDLY"}
    assert gateway.rate_limited == stats["rate_limited_total"] >= 0.2 * stats["requests_total"]
    assert sum(gateway.retries.values()) == stats["rate_limited_total"]
    assert sum(gateway.calls.values()) == stats["requests_total"]  # every attempt counted


def test_pacing_keeps_a_normal_run_free_of_429s() -> None:
    with running_sandbox(seed="demo", searches_per_second=5, requests_per_10s=100) as sb:
        gateway = make_gateway(
            sb, sleep=time.sleep, hubspot_requests_per_10s=100, hubspot_searches_per_second=5
        )
        started = time.monotonic()
        threads = [
            threading.Thread(target=lambda: all_contacts(gateway, HAS_EMAIL)) for _ in range(5)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        stats = sb.stats()
    searches = gateway.calls[SEARCH]
    assert searches == 10  # 5 threads × 2 pages each
    assert stats["rate_limited_total"] == 0 and gateway.rate_limited == 0
    assert elapsed >= 1.0  # 5 per rolling second: the second five wait for the first window


def test_207_partial_failures_are_reported_per_record(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox)
    ids = all_contacts(gateway)[:147]
    unknown = ["990001", "990002", "990003"]
    updates = {i: {"jobtitle": "CTO"} for i in [*ids[:60], unknown[0], *ids[60:], *unknown[1:]]}
    result = gateway.batch_update("contacts", updates)
    assert sorted(e.id for e in result.failed) == unknown
    assert all("not exist" in e.message and e.category == "OBJECT_NOT_FOUND" for e in result.failed)
    assert sorted(r.id for r in result.succeeded) == sorted(ids)
    assert gateway.calls[UPDATE] == 2  # 150 updates: two batches
    assert all(sandbox.store.get("contacts", i).props["jobtitle"] == "CTO" for i in ids)


def test_a_400_batch_is_split_until_the_bad_records_are_isolated(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox)
    ids = all_contacts(gateway)[:98]
    sandbox.set_config(bad_id_mode="400")
    updates = {i: {"hs_lead_status": "CONNECTED"} for i in ids}
    updates |= {"990001": {"hs_lead_status": "NEW"}, ids[40]: {"hs_lead_status": "NOT_A_STATUS"}}
    result = gateway.batch_update("contacts", updates)
    assert sorted(e.id for e in result.failed) == sorted(["990001", ids[40]])
    assert all(e.status == 400 for e in result.failed)
    assert len(result.succeeded) == 97
    good = [i for i in ids if i != ids[40]]
    assert all(
        sandbox.store.get("contacts", i).props["hs_lead_status"] == "CONNECTED" for i in good
    )
    assert gateway.calls[UPDATE] <= 1 + 2 * 2 * math.ceil(math.log2(99))  # not one call per record


def test_read_timeouts_are_retried(sandbox: SandboxHandle) -> None:
    def network_recovers(_: float) -> None:
        sandbox.set_faults()

    # Far apart, so that only the slowed answer times out even on a loaded machine.
    gateway = make_gateway(sandbox, sleep=network_recovers, hubspot_read_timeout=2.5)
    sandbox.set_faults(latency_ms=5000)
    ids = all_contacts(gateway)
    assert len(ids) == 300
    assert gateway.retries == {"ReadTimeoutError": 1}
    assert gateway.calls[SEARCH] == 3  # 2 pages + the retried attempt


def test_dropped_connections_are_retried_for_reads(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox, sleep=lambda _: sandbox.set_faults())
    sandbox.set_faults(drop=1.0)
    owners = gateway.owners()
    assert {o.id for o in owners} == set(sandbox.store.owners)
    assert gateway.retries == {"ProtocolError": 1}


def test_a_timed_out_create_is_reported_not_resent(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox, hubspot_read_timeout=0.3)
    contact = all_contacts(gateway)[0]
    sandbox.set_faults(latency_ms=600, endpoints=["batch/create"])
    result = gateway.create_tasks([NewTask(contact, None, {"hs_timestamp": "1767261600000"})])
    stats = sandbox_settled(sandbox)  # it finishes the request the gateway gave up on
    sandbox.set_faults()
    assert [e.id for e in result.failed] == [contact] and not result.succeeded
    assert "not retried" in result.failed[0].message
    assert gateway.calls[CREATE] == 1 and stats["requests"][CREATE] == 1  # sent once only


def test_the_daily_limit_stops_with_a_clear_message(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox, hubspot_portal_timezone="Europe/Berlin")
    sandbox.set_limits(daily=2)
    gateway.owners()  # two calls: the day's budget
    with pytest.raises(DailyLimitReached) as raised:
        gateway.property_info("contacts", "hs_lead_status")
    message = str(raised.value)
    assert "DAILY" in message and "midnight" in message and "Europe/Berlin" in message
    assert (
        gateway.retries == {}
        and gateway.calls["GET /crm/v3/properties/contacts/{propertyName}"] == 1
    )


def test_a_wrong_token_gives_a_clear_error(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox, hubspot_access_token="wrong-token")
    with pytest.raises(HubSpotError) as raised:
        gateway.owners()
    assert raised.value.status == 401 and raised.value.correlation_id
    assert "HUBSPOT_ACCESS_TOKEN" in str(raised.value) and "wrong-token" not in str(raised.value)
    assert sum(gateway.calls.values()) == 1


def test_lifecycle_moves_forward_only_unless_cleared_first(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox)
    sql = {"propertyName": "lifecyclestage", "operator": "EQ", "value": "salesqualifiedlead"}
    contact = all_contacts(gateway, sql)[0]
    backward = gateway.batch_update("contacts", {contact: {"lifecyclestage": "lead"}})
    assert not backward.failed  # HubSpot accepts the write ...
    assert stage_of(gateway, contact) == "salesqualifiedlead"  # ... and ignores it
    gateway.batch_update("contacts", {contact: {"lifecyclestage": ""}})
    gateway.batch_update("contacts", {contact: {"lifecyclestage": "lead"}})
    assert stage_of(gateway, contact) == "lead"


def test_associations_follow_each_ids_paging(sandbox: SandboxHandle) -> None:
    gateway = make_gateway(sandbox)
    first, second = all_contacts(gateway)[:2]
    due = {"hs_timestamp": "1767261600000"}
    gateway.create_tasks([NewTask(c, None, due) for c in [first] * 7 + [second] * 2])
    whole = gateway.associations("contacts", "tasks", [first, second])
    sandbox.set_config(association_page_size=3)
    paged = make_gateway(sandbox)
    assert paged.associations("contacts", "tasks", [first, second]) == whole
    assert len(whole[first]) >= 7 and len(whole[second]) >= 2
    assert paged.calls["POST /crm/v4/associations/contacts/tasks/batch/read"] == math.ceil(
        len(whole[first]) / 3
    )


def test_api_objects_are_built_once_not_per_call(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    factory = DiscoveryBase._default_api_factory

    def counting_factory(package: Any, api_name: str, config: dict[str, Any]) -> Any:
        built.append(api_name)
        return factory(package, api_name, config)

    monkeypatch.setattr(DiscoveryBase, "_default_api_factory", staticmethod(counting_factory))
    gateway = make_gateway(sandbox)
    at_start = len(built)
    ids = all_contacts(gateway)
    gateway.batch_read("contacts", ids, ["email"])
    gateway.associations("contacts", "emails", ids)
    gateway.owners()
    gateway.property_info("contacts", "email")
    gateway.find_list("nurture")
    assert sum(gateway.calls.values()) >= 9
    assert len(built) == at_start  # no ApiClient (and connection pool) built per call

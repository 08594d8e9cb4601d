"""The gateway's retry loop, counting, pacing hook and error mapping, over scripted fake APIs.

The fakes raise the client's real exception classes (each sub-package has its own) and
urllib3's transport errors, so the gateway is exercised exactly as in production, minus HTTP.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.objects.tasks.exceptions import ApiException as TasksApiException
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from config.settings import Settings
from gateway.calls import SHARED_SLOT_BLOCK
from gateway.client import DailyLimitReached, HubSpotError, HubSpotGateway, NewTask

from support import FakeTime

TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"
SEARCH = "POST /crm/v3/objects/contacts/search"
UPDATE = "POST /crm/v3/objects/contacts/batch/update"
CREATE = "POST /crm/v3/objects/tasks/batch/create"


class FakeResponse:
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.status, self.reason, self.data = status, "Reason", json.dumps(body)
        self._headers = headers

    def getheaders(self) -> dict[str, str]:
        return self._headers


def http_error(status: int, cls: type = ContactsApiException, **body: Any) -> Exception:
    headers = {"Retry-After": str(body.pop("retry_after"))} if "retry_after" in body else {}
    return cls(http_resp=FakeResponse(status, body, headers))


def record(record_id: int) -> SimpleNamespace:
    return SimpleNamespace(
        id=str(record_id), properties={"hs_object_id": str(record_id)}, properties_with_history=None
    )


def created(record_id: int, trace: str) -> SimpleNamespace:
    """A created record as HubSpot answers a batch create, echoing its input's trace id."""
    return SimpleNamespace(**vars(record(record_id)), object_write_trace_id=trace)


def batch(*ids: int) -> SimpleNamespace:
    return SimpleNamespace(results=[record(i) for i in ids], errors=None)


class Script:
    """A fake API method: answers (or raises) the scripted outcomes in turn."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes: Iterator[object] = iter(outcomes)
        self.timeouts: list[object] = []

    def __call__(self, *args: Any, _request_timeout: object = None, **kwargs: Any) -> object:
        self.timeouts.append(_request_timeout)
        outcome = next(self.outcomes)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "hubspot_access_token": TOKEN,
        "hubspot_base_url": "http://127.0.0.1:9",
        "hubspot_requests_per_10s": 1000,
        "hubspot_searches_per_second": 5,
        "hubspot_connect_timeout": 2,
        "hubspot_read_timeout": 7,
        "hubspot_max_retries": 4,
        "hubspot_portal_timezone": "America/New_York",
    } | overrides
    return Settings(_env_file=None, **values)


@pytest.fixture
def slept() -> list[float]:
    return []


def gateway_with(
    slept: list[float], *, search: Script | None = None, update: Script | None = None,
    create: Script | None = None, **overrides: Any,
) -> HubSpotGateway:  # fmt: skip
    """A gateway whose contacts search/update and task create are the given scripts."""
    gateway = HubSpotGateway(settings(**overrides), sleep=slept.append, clock=lambda: 0.0)
    apis = gateway._apis
    contacts_batch = SimpleNamespace(update=update, read=None)
    tasks_batch = SimpleNamespace(create=create)
    gateway._apis = dataclasses.replace(
        apis,
        search={**apis.search, "contacts": SimpleNamespace(do_search=search)},
        batch={**apis.batch, "contacts": contacts_batch, "tasks": tasks_batch},
    )
    return gateway


def tasks(*contact_ids: str) -> list[NewTask]:
    return [NewTask(c, "7", {"hs_task_subject": f"Call {c}"}) for c in contact_ids]


def test_a_429_is_waited_out_and_every_attempt_is_counted(slept: list[float]) -> None:
    search = Script(
        http_error(429, policyName="TEN_SECONDLY_ROLLING", retry_after=3),
        http_error(429, policyName="SECONDLY"),
        SimpleNamespace(results=[record(1), record(2)], total=2),
    )
    gateway = gateway_with(slept, search=search)
    pages = list(gateway.search("contacts", [], ["email"]))
    assert [[r.id for r in page] for page in pages] == [["1", "2"]]
    assert gateway.calls == {SEARCH: 3}
    assert gateway.retries == {"429 TEN_SECONDLY_ROLLING": 1, "429 SECONDLY": 1}
    assert gateway.rate_limited == 2
    assert 3.0 in slept  # Retry-After honoured
    assert any(1.0 <= s <= 1.25 for s in slept)  # SECONDLY: about a second
    assert search.timeouts == [(2.0, 7.0)] * 3  # every attempt has (connect, read) timeouts


def test_retries_stop_at_the_configured_maximum(slept: list[float]) -> None:
    update = Script(*[http_error(503, message="Service unavailable")] * 10)
    gateway = gateway_with(slept, update=update, hubspot_max_retries=2)
    result = gateway.batch_update("contacts", {"1": {"hs_lead_status": "NEW"}})
    assert gateway.calls == {UPDATE: 3}
    assert [e.id for e in result.failed] == ["1"]
    assert "gave up after 3 attempts" in result.failed[0].message
    assert result.failed[0].status == 503


def test_gateway_errors_are_retried_for_updates(slept: list[float]) -> None:
    update = Script(http_error(502), http_error(504), batch(1))
    gateway = gateway_with(slept, update=update)
    result = gateway.batch_update("contacts", {"1": {"hs_lead_status": "NEW"}})
    assert [r.id for r in result.succeeded] == ["1"] and not result.failed
    assert gateway.retries == {"502": 1, "504": 1}


def test_a_create_that_may_have_arrived_is_not_retried(slept: list[float]) -> None:
    create = Script(ReadTimeoutError(None, "/crm/v3/objects/tasks/batch/create", "timed out"))
    gateway = gateway_with(slept, create=create)
    result = gateway.create_tasks(tasks("11", "12"))
    assert gateway.calls == {CREATE: 1}
    assert not result.succeeded
    assert [e.id for e in result.failed] == ["11", "12"]  # the contacts whose task is in doubt
    assert "not retried" in result.failed[0].message


def test_a_create_after_a_5xx_is_not_retried(slept: list[float]) -> None:
    gateway = gateway_with(slept, create=Script(http_error(503, cls=TasksApiException)))
    result = gateway.create_tasks(tasks("11"))
    assert gateway.calls == {CREATE: 1} and result.failed[0].status == 503


def test_a_create_that_never_left_or_was_throttled_is_retried(slept: list[float]) -> None:
    create = Script(
        NewConnectionError(None, "Connection refused"),
        http_error(429, cls=TasksApiException, policyName="TEN_SECONDLY_ROLLING"),
        http_error(423, cls=TasksApiException),
        SimpleNamespace(results=[created(501, "leadops-0")], errors=None),
    )
    gateway = gateway_with(slept, create=create)
    result = gateway.create_tasks(tasks("11"))
    assert [r.id for r in result.succeeded] == ["501"] and not result.failed
    assert result.created_for == {"501": "11"}
    assert gateway.calls == {CREATE: 4}
    assert max(slept) >= 2.0  # 423: at least 2 s


def test_daily_limit_is_not_retried_and_says_when_it_resets(slept: list[float]) -> None:
    search = Script(
        http_error(429, policyName="DAILY", message="You have reached your daily limit.")
    )
    gateway = gateway_with(slept, search=search)
    with pytest.raises(DailyLimitReached) as raised:
        list(gateway.search("contacts", [], []))
    assert gateway.calls == {SEARCH: 1}
    assert "midnight" in str(raised.value) and "America/New_York" in str(raised.value)
    assert raised.value.status == 429 and raised.value.endpoint == SEARCH


def test_daily_limit_stops_batch_writes_instead_of_failing_records(slept: list[float]) -> None:
    gateway = gateway_with(slept, update=Script(http_error(429, policyName="DAILY")))
    with pytest.raises(DailyLimitReached):
        gateway.batch_update("contacts", {"1": {"hs_lead_status": "NEW"}})


def test_a_bad_token_stops_the_run_with_a_clear_error(slept: list[float]) -> None:
    update = Script(
        http_error(401, message="Authentication credentials not found.", correlationId="c9")
    )
    gateway = gateway_with(slept, update=update)
    with pytest.raises(HubSpotError) as raised:
        gateway.batch_update("contacts", {"1": {"hs_lead_status": "NEW"}})
    error = raised.value
    assert (error.status, error.correlation_id, error.endpoint) == (401, "c9", UPDATE)
    assert "HUBSPOT_ACCESS_TOKEN" in str(error)
    assert gateway.calls == {UPDATE: 1}
    assert TOKEN not in str(error) and TOKEN not in repr(error) and TOKEN not in repr(gateway)


def test_client_errors_are_not_retried(slept: list[float]) -> None:
    search = Script(http_error(400, message="Invalid filter", category="VALIDATION_ERROR"))
    gateway = gateway_with(slept, search=search)
    with pytest.raises(HubSpotError, match=r"400 VALIDATION_ERROR.*Invalid filter") as raised:
        list(gateway.search("contacts", [], []))
    assert raised.value.category == "VALIDATION_ERROR"
    assert gateway.calls == {SEARCH: 1} and not gateway.retries


def test_the_global_limit_covers_every_attempt_in_blocks_of_slots(
    slept: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[tuple[str, int, bool]] = []
    monkeypatch.setattr(
        "prefect.concurrency.sync.rate_limit",
        lambda name, occupy=1, strict=False: taken.append((name, occupy, strict)),
    )
    empty = SimpleNamespace(results=[], total=0)
    search = Script(http_error(502), *[empty] * 11)
    gateway = gateway_with(slept, search=search, hubspot_global_limit="hubspot-portal")
    for _ in range(11):  # 12 attempts: one retried, eleven answered
        assert list(gateway.search("contacts", [], [])) == []
    assert sum(gateway.calls.values()) == 12
    # One round trip to Prefect per block of slots, and never fewer slots than requests.
    assert taken == [("hubspot-portal", SHARED_SLOT_BLOCK, False)] * 2


def test_without_a_global_limit_prefect_is_not_asked(
    slept: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("rate_limit must not be called")

    monkeypatch.setattr("prefect.concurrency.sync.rate_limit", refuse)
    gateway = gateway_with(slept, search=Script(SimpleNamespace(results=[], total=0)))
    assert list(gateway.search("contacts", [], [])) == []


def test_search_refuses_what_hubspot_would_refuse(slept: list[float]) -> None:
    gateway = gateway_with(slept, search=Script())
    five = [{"propertyName": f"p{i}", "operator": "HAS_PROPERTY"} for i in range(5)]
    gateway.search("contacts", five, [])  # 5 + the keyset filter = 6: allowed
    with pytest.raises(ValueError, match="at most 6 filters per group"):
        gateway.search("contacts", [*five, five[0]], [])
    with pytest.raises(ValueError, match="3000"):
        gateway.search("contacts", [], [f"custom_property_{i}" for i in range(200)])
    with pytest.raises(ValueError, match="unknown object type 'tickets'"):
        gateway.search("tickets", [], [])
    with pytest.raises(ValueError, match="page_size"):
        gateway.search("contacts", [], [], page_size=201)
    assert gateway.calls == {}


@pytest.mark.parametrize(("counted", "waited"), [(True, True), (False, False)])
def test_searches_also_spend_the_request_budget_unless_told_not_to(
    counted: bool, waited: bool
) -> None:
    fake = FakeTime()
    gateway = HubSpotGateway(
        settings(hubspot_requests_per_10s=1, hubspot_searches_in_request_budget=counted),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    empty = SimpleNamespace(results=[], total=0)
    search = SimpleNamespace(do_search=Script(empty, empty))
    gateway._apis = dataclasses.replace(
        gateway._apis, search={**gateway._apis.search, "contacts": search}
    )
    for _ in range(2):  # two searches: within the search limit (5/s), over 1 request per 10 s
        assert list(gateway.search("contacts", [], [])) == []
    assert (fake.now >= 10) is waited

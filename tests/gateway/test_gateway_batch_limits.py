"""The gateway within HubSpot's batch limits: history reads in 50s, traced task creates that
fail one task at a time, and the associations API's own burst budget."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import Any

import pytest
from hubspot.crm.objects.tasks import ApiException as TasksApiException

from config.settings import Settings
from gateway.client import HubSpotGateway, NewTask
from sandbox.server import SandboxHandle

from support import FakeTime, sandbox_settings

READ = "POST /crm/v3/objects/contacts/batch/read"
CREATE = "POST /crm/v3/objects/tasks/batch/create"
ASSOCIATIONS = "POST /crm/v4/associations/contacts/tasks/batch/read"


def live_gateway(sb: SandboxHandle) -> HubSpotGateway:
    return HubSpotGateway(sandbox_settings(sb.url, sb.token), sleep=lambda _: None)


def contact_ids(sb: SandboxHandle, count: int) -> list[str]:
    now = sb.store.clock()
    return [
        str(sb.store.insert("contacts", {"email": f"c{i}@example.test"}, now).id)
        for i in range(count)
    ]


def task_for(contact_id: str) -> NewTask:
    return NewTask(
        contact_id,
        None,
        {"hs_timestamp": "1790000000000", "hs_task_subject": f"Call {contact_id}"},
    )


@pytest.mark.integration
def test_history_reads_go_in_50s_and_plain_reads_in_100s(empty_sandbox: SandboxHandle) -> None:
    ids = contact_ids(empty_sandbox, 120)
    gateway = live_gateway(empty_sandbox)
    with_history = gateway.batch_read("contacts", ids, ["email"], history=["email"])
    assert sorted(r.id for r in with_history.succeeded) == sorted(ids)
    assert not with_history.failed
    assert all(r.history["email"] for r in with_history.succeeded)
    assert gateway.calls[READ] == 3  # 50 + 50 + 20: HubSpot refuses 51 with history
    plain = gateway.batch_read("contacts", ids, ["email"])
    assert len(plain.succeeded) == 120 and gateway.calls[READ] == 3 + 2


@pytest.mark.integration
def test_one_bad_task_fails_alone_and_the_rest_are_created_once(
    empty_sandbox: SandboxHandle,
) -> None:
    ids = contact_ids(empty_sandbox, 9)
    gateway = live_gateway(empty_sandbox)
    result = gateway.create_tasks([task_for(i) for i in [*ids[:4], "990001", *ids[4:]]])
    assert [(e.id, e.status) for e in result.failed] == [("990001", None)]
    assert "990001" in result.failed[0].message
    assert len(result.succeeded) == 9
    assert gateway.calls[CREATE] == 1  # a 207: no split, no resend
    assert len(empty_sandbox.store.tables["tasks"].records) == 9


class NoTraceHubSpot:
    """A batch create that ignores trace ids: one input for an unknown contact fails the
    whole batch with 400 (HUBSPOT.md: without trace ids, expect the whole batch to fail)."""

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad
        self.created: list[str] = []
        self.calls = 0

    def __call__(self, body: dict[str, Any], _request_timeout: object = None) -> object:
        self.calls += 1
        contacts = [item["associations"][0]["to"]["id"] for item in body["inputs"]]
        refused = [c for c in contacts if c in self.bad]
        if refused:
            error = {"status": "error", "category": "VALIDATION_ERROR",
                     "message": f"CONTACT {refused[0]} does not exist"}  # fmt: skip
            response = SimpleNamespace(status=400, reason="Bad Request", data=json.dumps(error))
            response.getheaders = dict
            raise TasksApiException(http_resp=response)
        self.created += contacts
        results = [
            SimpleNamespace(id=c, properties={"hs_object_id": c}, properties_with_history=None)
            for c in contacts
        ]
        return SimpleNamespace(results=results, errors=None)


def task_contacts(_from: str, _to: str, body: dict[str, Any], **_: Any) -> SimpleNamespace:
    """An associations answer for the fake's tasks: task `c` is on contact `c`."""
    results = [
        SimpleNamespace(
            _from=SimpleNamespace(id=i["id"]), to=[SimpleNamespace(to_object_id=i["id"])]
        )
        for i in body["inputs"]
    ]
    return SimpleNamespace(results=results, errors=None)


def test_a_batch_refused_whole_is_split_so_the_good_tasks_are_created_once() -> None:
    settings = Settings(
        _env_file=None, hubspot_access_token="t", hubspot_base_url="http://127.0.0.1:9",
        hubspot_requests_per_10s=1000,
    )  # fmt: skip
    gateway = HubSpotGateway(settings, sleep=lambda _: None)
    fake = NoTraceHubSpot(bad={"13", "40"})
    gateway._apis = dataclasses.replace(
        gateway._apis,
        batch={**gateway._apis.batch, "tasks": SimpleNamespace(create=fake)},
        associations=SimpleNamespace(get_page=task_contacts),
    )
    contacts = [str(i) for i in range(1, 61)]
    result = gateway.create_tasks([task_for(c) for c in contacts])
    # Without trace ids in the answer, the gateway read the new tasks' contacts.
    assert result.created_for == {c: c for c in contacts if c not in {"13", "40"}}
    assert sorted(e.id for e in result.failed) == ["13", "40"]
    assert all(e.status == 400 and "does not exist" in e.message for e in result.failed)
    assert sorted(fake.created) == sorted(c for c in contacts if c not in {"13", "40"})
    assert len(fake.created) == len(set(fake.created))  # never created twice
    assert fake.calls < 30  # halves, not one call per task


@pytest.mark.parametrize(("budget", "waited"), [(2, True), (100, False)])
def test_associations_calls_are_paced_by_their_own_budget(budget: int, waited: bool) -> None:
    fake = FakeTime()
    settings = Settings(
        _env_file=None, hubspot_access_token="t", hubspot_base_url="http://127.0.0.1:9",
        hubspot_requests_per_10s=100, hubspot_association_requests_per_10s=budget,
    )  # fmt: skip
    gateway = HubSpotGateway(settings, sleep=fake.sleep, clock=fake.clock)
    empty = SimpleNamespace(results=[], errors=None)
    gateway._apis = dataclasses.replace(
        gateway._apis, associations=SimpleNamespace(get_page=lambda *a, **k: empty)
    )
    for _ in range(3):  # within the 100-per-10-s budget; over 2 associations calls per 10 s
        assert gateway.associations("contacts", "tasks", ["1"]) == {"1": []}
    assert gateway.calls[ASSOCIATIONS] == 3
    assert (fake.now >= 10) is waited


def test_the_association_budget_defaults_to_the_lowest_tier() -> None:
    assert Settings(_env_file=None).hubspot_association_requests_per_10s == 100

"""The sandbox refuses what HubSpot refuses: traced batch creates, list-add size."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox.server import SandboxHandle

pytestmark = pytest.mark.integration  # starts a sandbox server on 127.0.0.1


def post(sb: SandboxHandle, method: str, path: str, body: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {sb.token}"}
    return requests.request(method, f"{sb.url}{path}", json=body, headers=headers, timeout=10)


def task(priority: str, trace: str | None) -> dict[str, Any]:
    props = {"hs_timestamp": "1790000000000", "hs_task_priority": priority}
    return {"properties": props} | ({"objectWriteTraceId": trace} if trace else {})


def test_a_bad_option_value_fails_a_traced_input_alone(sb: SandboxHandle) -> None:
    before = len(sb.store.tables["tasks"].records)
    inputs = [task("HIGH", "a"), task("URGENT", "b"), task("LOW", "c")]
    answer = post(sb, "POST", "/crm/v3/objects/tasks/batch/create", {"inputs": inputs})
    assert answer.status_code == 207, answer.text
    (error,) = answer.json()["errors"]
    assert error["context"]["objectWriteTraceId"] == ["b"]
    assert error["category"] == "VALIDATION_ERROR"
    assert sorted(r["objectWriteTraceId"] for r in answer.json()["results"]) == ["a", "c"]
    assert len(sb.store.tables["tasks"].records) == before + 2


@pytest.mark.parametrize("traces", [(None, None, None), ("a", None, "c")])
def test_without_a_trace_id_on_every_input_one_bad_input_fails_all(
    sb: SandboxHandle, traces: tuple[str | None, ...]
) -> None:
    before = len(sb.store.tables["tasks"].records)
    inputs = [task(p, t) for p, t in zip(("HIGH", "URGENT", "LOW"), traces, strict=True)]
    answer = post(sb, "POST", "/crm/v3/objects/tasks/batch/create", {"inputs": inputs})
    assert answer.status_code == 400, answer.text
    assert "hs_task_priority" in answer.text
    assert len(sb.store.tables["tasks"].records) == before


def test_list_adds_over_1000_ids_are_refused(sb: SandboxHandle) -> None:
    created = post(
        sb, "POST", "/crm/v3/lists/",
        {"name": "caps", "objectTypeId": "0-1", "processingType": "MANUAL"},
    )  # fmt: skip
    list_id = created.json()["list"]["listId"]
    path = f"/crm/v3/lists/{list_id}/memberships/add"
    over = post(sb, "PUT", path, [str(1000 + i) for i in range(1001)])
    assert over.status_code == 400 and "max 1000" in over.text
    assert post(sb, "PUT", path, [str(1000 + i) for i in range(1000)]).status_code == 200

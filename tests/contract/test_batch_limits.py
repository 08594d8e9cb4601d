"""Batch limits and batch-create semantics leadops relies on (issue #10, items 1–4)."""

from __future__ import annotations

import uuid
from typing import Any

from model.records import Engagement
from rules.tasks import task_kind

TASK_TO_CONTACT = 204
HISTORY_CAP_MESSAGE = (
    "The maximum number of inputs supported in a batch request for property histories is 50. "
    "Please reduce the number of items and try again"
)


def create_contacts(portal: Any, count: int) -> list[str]:
    run = uuid.uuid4().hex[:10]
    inputs = [{"properties": {"email": f"limits-{run}-{i}@example.test"}} for i in range(count)]
    response = portal.request(
        "POST", "/crm/v3/objects/contacts/batch/create", json={"inputs": inputs}
    )
    assert response.status_code == 201, response.text
    return [portal.track("contacts", r["id"]) for r in response.json()["results"]]


def task_input(contact_id: str, subject: str, trace_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "properties": {"hs_timestamp": "1790000000000", "hs_task_subject": subject},
        "associations": [
            {
                "to": {"id": contact_id},
                "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_CONTACT}
                ],
            }
        ],
    }
    if trace_id is not None:
        item["objectWriteTraceId"] = trace_id
    return item


def test_history_reads_take_at_most_50_inputs(portal: Any) -> None:
    """A batch read with `propertiesWithHistory` takes at most 50 inputs; 51 get 400
    VALIDATION_ERROR with HubSpot's own message.

    Source: HUBSPOT.md "Batch endpoints"; hubspot-api-client `PROPERTY_HISTORY_MAX_SIZE = 50`
    (hubspot/utils/objects.py); activepieces, Pipedream and dlt chunk history reads to 50 for
    this error.
    """
    ids = create_contacts(portal, 51)
    body = {"properties": ["email"], "propertiesWithHistory": ["email"]}
    over = portal.request(
        "POST", "/crm/v3/objects/contacts/batch/read",
        json=body | {"inputs": [{"id": i} for i in ids]},
    )  # fmt: skip
    assert over.status_code == 400, over.text
    assert over.json()["category"] == "VALIDATION_ERROR"
    assert over.json()["message"] == HISTORY_CAP_MESSAGE
    at_cap = portal.request(
        "POST", "/crm/v3/objects/contacts/batch/read",
        json=body | {"inputs": [{"id": i} for i in ids[:50]]},
    )  # fmt: skip
    assert at_cap.status_code == 200, at_cap.text
    assert len(at_cap.json()["results"]) == 50


def test_plain_batches_take_at_most_100_inputs(portal: Any) -> None:
    """Batch read without histories takes up to 100 inputs; 101 get 400 VALIDATION_ERROR.

    Source: HubSpot CRM objects API reference, batch endpoints ("up to 100 records per
    request"); HUBSPOT.md "Batch endpoints".
    """
    inputs = [{"id": str(900_000 + i)} for i in range(101)]
    body = {"properties": ["email"], "propertiesWithHistory": []}
    over = portal.request(
        "POST", "/crm/v3/objects/contacts/batch/read", json=body | {"inputs": inputs}
    )
    assert over.status_code == 400, over.text
    assert over.json()["category"] == "VALIDATION_ERROR"
    at_cap = portal.request(
        "POST", "/crm/v3/objects/contacts/batch/read", json=body | {"inputs": inputs[:100]}
    )
    assert at_cap.status_code in (200, 207), at_cap.text


def test_one_bad_task_fails_the_batch_without_trace_ids_and_alone_with_them(portal: Any) -> None:
    """Batch create: without `objectWriteTraceId` on each input, one input associated with a
    contact that does not exist fails the whole batch (400, nothing created); with them, a 207
    names the failed input by its trace id in `context.objectWriteTraceId` and the rest are
    created, each echoing its trace id.

    Source: HubSpot's error-handling guide, "Multi-status errors" (developers.hubspot.com/docs/
    api-reference/error-handling); the `objectWriteTraceId` field of
    `SimplePublicObjectInputForCreate` / `SimplePublicObject` in HubSpot's CRM OpenAPI specs;
    HUBSPOT.md "Batch endpoints".
    """
    (contact,) = create_contacts(portal, 1)
    missing = "990000001"
    run = uuid.uuid4().hex[:8]
    untraced = [task_input(contact, f"good {run}"), task_input(missing, f"bad {run}")]
    whole = portal.request("POST", "/crm/v3/objects/tasks/batch/create", json={"inputs": untraced})
    assert whole.status_code == 400, whole.text
    if portal.is_sandbox:
        assert portal.sandbox.store.tables["tasks"].records == {}

    traced = [
        task_input(contact, f"good {run}", "good-1"),
        task_input(missing, f"bad {run}", "bad-1"),
    ]
    partial = portal.request("POST", "/crm/v3/objects/tasks/batch/create", json={"inputs": traced})
    assert partial.status_code == 207, partial.text
    answer = partial.json()
    for result in answer["results"]:
        portal.track("tasks", result["id"])
    assert [r["objectWriteTraceId"] for r in answer["results"]] == ["good-1"]
    assert answer["numErrors"] == 1
    assert answer["errors"][0]["context"]["objectWriteTraceId"] == ["bad-1"]


def test_a_task_a_person_edits_comes_back_as_rich_text(portal: Any) -> None:
    """`hs_task_body` is rich text: after a person saves the task in HubSpot's editor, the API
    returns HTML (`<p>`, `<br>`, entities); leadops still finds its marker in it.

    Source: HUBSPOT.md "Engagements" (Tasks: `hs_task_body` is a rich-text field); HubSpot's
    Tasks API reference lists `hs_task_body` as the task's (HTML) notes.
    """
    sandbox = portal.need_sandbox()
    (contact,) = create_contacts(portal, 1)
    item = task_input(contact, "Call back")
    item["properties"]["hs_task_body"] = "Ask about Q&A <pricing>\n\n[leadops:first_touch]"
    created = portal.request("POST", "/crm/v3/objects/tasks", json=item)
    assert created.status_code == 201, created.text
    task_id = portal.track("tasks", created.json()["id"])

    sandbox.edit_task_as_person(task_id)
    read = portal.request(
        "GET", f"/crm/v3/objects/tasks/{task_id}", params={"properties": "hs_task_body"}
    )
    body = read.json()["properties"]["hs_task_body"]
    assert body == "<p>Ask about Q&amp;A &lt;pricing&gt;<br><br>[leadops:first_touch]</p>"
    assert task_kind(Engagement(task_id, "task", {"hs_task_body": body})) == "first_touch"


def test_associations_calls_have_their_own_burst_budget(portal: Any) -> None:
    """The associations API is metered separately (100–200 requests per 10 s by tier): over
    it, HubSpot answers 429 with the TEN_SECONDLY_ROLLING body, while other calls still pass.

    Source: HubSpot's API usage guidelines (developers.hubspot.com/docs/guides/apps/
    api-usage/usage-details, "associations" burst limit); 429 body: HubSpot's error-handling
    guide; HUBSPOT.md "Rate limits and errors".
    """
    sandbox = portal.need_sandbox()
    (contact,) = create_contacts(portal, 1)
    sandbox.set_limits(associations_per_10s=1)
    path = "/crm/v4/associations/contacts/tasks/batch/read"
    first = portal.request("POST", path, json={"inputs": [{"id": contact}]})
    assert first.status_code in (200, 207), first.text
    assert first.headers["X-HubSpot-RateLimit-Max"] == "1"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "0"

    second = portal.request("POST", path, json={"inputs": [{"id": contact}]})
    assert second.status_code == 429, second.text
    body = second.json()
    assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["correlationId"]
    assert second.headers["X-HubSpot-RateLimit-Max"] == "1"  # the associations budget's
    assert second.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    other = portal.request("GET", "/crm/v3/owners/", params={"limit": 1})
    assert other.status_code == 200, other.text

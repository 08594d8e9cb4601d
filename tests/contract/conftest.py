"""The contract suite's portal: a fresh sandbox by default, a real test portal on request.

`make contract` with `LEADOPS_CONTRACT_BASE_URL` and `LEADOPS_CONTRACT_TOKEN` set runs every
test in this folder against a real HubSpot test portal; without them (and in `make test`) each
test gets a fresh, empty sandbox. A test creates the records it needs, registers them with
`portal.track(...)` (`portal.create`/`portal.contact` do it), and they are archived afterwards
(`DELETE` per record, lists too), on a real portal and in the sandbox alike. Tests that
need the sandbox's admin API (fault injection, editing a task "as a person would") call
`portal.need_sandbox()`, which skips them on a real portal.

Every test's docstring cites the HubSpot source of the behaviour it checks.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import requests

from config.settings import Settings
from sandbox.server import SandboxHandle, running_sandbox

from support import sandbox_settings

CONTRACT_URL = os.getenv("LEADOPS_CONTRACT_BASE_URL")
CONTRACT_TOKEN = os.getenv("LEADOPS_CONTRACT_TOKEN")
T = TypeVar("T")


@dataclass
class ContractPortal:
    """Where a contract test talks: raw HTTP, settings for the gateway, created-record cleanup."""

    url: str
    token: str
    sandbox: SandboxHandle | None
    created: list[tuple[str, str]] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    def need_sandbox(self) -> SandboxHandle:
        """The sandbox handle; skips the test on a real portal."""
        if self.sandbox is None:
            pytest.skip("needs the sandbox's admin API")
        return self.sandbox

    def settings(self, **overrides: object) -> Settings:
        """Settings for a `HubSpotGateway` on this portal (real portals: Starter-safe pace)."""
        if self.sandbox is None:
            overrides = {
                "hubspot_requests_per_10s": 90,
                "hubspot_searches_per_second": 4,
                **overrides,
            }
        return sandbox_settings(self.url, self.token, **overrides)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One raw HTTP call (`json=`, `params=`, `data=` as for requests), no retries."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.session.request(
            method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs
        )

    def track(self, object_type: str, record_id: str) -> str:
        """Remember a record this test created, to archive it afterwards; returns the id."""
        self.created.append((object_type, str(record_id)))
        return str(record_id)

    def create(
        self,
        object_type: str,
        properties: dict[str, str],
        to_contact: tuple[str, int] | None = None,
    ) -> str:
        """Create one record (tracked for cleanup), optionally associated to a contact:
        `to_contact=(contact_id, association_type_id)`; returns its id."""
        body: dict[str, Any] = {"properties": properties}
        if to_contact is not None:
            contact_id, type_id = to_contact
            body["associations"] = [
                {
                    "to": {"id": contact_id},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
                    ],
                }
            ]
        answer = self.request("POST", f"/crm/v3/objects/{object_type}", json=body)
        assert answer.status_code == 201, answer.text
        return self.track(object_type, answer.json()["id"])

    def contact(self, **properties: str) -> str:
        """A new contact with a unique example.com address (tracked for cleanup)."""
        return self.create(
            "contacts", {"email": f"contract-{uuid.uuid4().hex[:12]}@example.com", **properties}
        )

    def properties(self, object_type: str, record_id: str, *names: str) -> dict[str, Any]:
        """One record's properties (`GET /crm/v3/objects/{type}/{id}?properties=...`)."""
        answer = self.request(
            "GET",
            f"/crm/v3/objects/{object_type}/{record_id}",
            params={"properties": ",".join(names)},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["properties"]

    def search(self, object_type: str, *filters: dict[str, str], **body: Any) -> requests.Response:
        """One search with the given filters ANDed (`body` adds limit, after, sorts...)."""
        return self.request(
            "POST",
            f"/crm/v3/objects/{object_type}/search",
            json={"filterGroups": [{"filters": list(filters)}], **body},
        )

    def eventually(self, check: Callable[[], T | None], what: str, timeout: float = 60) -> T:
        """Poll `check` until it answers something truthy (HubSpot's search index and
        roll-ups lag writes by seconds); fails naming `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            answer = check()
            if answer:
                return answer
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.2 if self.is_sandbox else 2)

    def cleanup(self) -> None:
        """Archive every tracked record, newest first; raise if any archive failed
        (a 404 counts as gone)."""
        failed = []
        for object_type, record_id in reversed(self.created):
            path = (
                f"/crm/v3/lists/{record_id}"
                if object_type == "lists"
                else f"/crm/v3/objects/{object_type}/{record_id}"
            )
            answer = self.request("DELETE", path)
            if answer.status_code not in (204, 404):
                failed.append(f"DELETE {path}: {answer.status_code} {answer.text[:200]}")
        self.created.clear()
        if failed:
            raise AssertionError("cleanup failed: " + "; ".join(failed))


@pytest.fixture
def portal() -> Iterator[ContractPortal]:
    if CONTRACT_URL and CONTRACT_TOKEN:
        real = ContractPortal(CONTRACT_URL.rstrip("/"), CONTRACT_TOKEN, None)
        try:
            yield real
        finally:
            real.cleanup()
        return
    with running_sandbox(seed="empty") as handle:
        fresh = ContractPortal(handle.url, handle.token, handle)
        yield fresh
        fresh.cleanup()
        assert handle.store.tables["contacts"].ids == [], "cleanup left contacts behind"

"""The contract suite's portal: a fresh sandbox by default, a real test portal on request.

`make contract` with `LEADOPS_CONTRACT_BASE_URL` and `LEADOPS_CONTRACT_TOKEN` set runs every
test in this folder against a real HubSpot test portal; without them (and in `make test`) each
test gets a fresh, empty sandbox. A test creates the records it needs, registers them with
`portal.track(...)`, and they are archived afterwards on a real portal (a sandbox is thrown
away). Tests that need the sandbox's admin API (fault injection, editing a task "as a person
would") call `portal.need_sandbox()`, which skips them on a real portal.

Every test's docstring cites the HubSpot source of the behaviour it checks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from config.settings import Settings
from sandbox.server import SandboxHandle, running_sandbox

from support import sandbox_settings

CONTRACT_URL = os.getenv("LEADOPS_CONTRACT_BASE_URL")
CONTRACT_TOKEN = os.getenv("LEADOPS_CONTRACT_TOKEN")


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

    def cleanup(self) -> None:
        for object_type, record_id in reversed(self.created):
            path = (
                f"/crm/v3/lists/{record_id}"
                if object_type == "lists"
                else f"/crm/v3/objects/{object_type}/{record_id}"
            )
            self.request("DELETE", path)
        self.created.clear()


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
        yield ContractPortal(handle.url, handle.token, handle)

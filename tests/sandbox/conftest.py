"""Fixtures for sandbox tests: a demo sandbox with a fixed clock and a real HubSpot client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from hubspot import HubSpot

from sandbox.server import SandboxHandle, running_sandbox

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def sb() -> Iterator[SandboxHandle]:
    """A demo sandbox whose clock starts at NOW."""
    with running_sandbox(seed="demo", now=NOW) as handle:
        yield handle


@pytest.fixture
def client(sb: SandboxHandle) -> HubSpot:
    """The real SDK pointed at the sandbox."""
    return HubSpot(access_token=sb.token, host=sb.url)


Api = Callable[..., requests.Response]


@pytest.fixture
def api(sb: SandboxHandle) -> Api:
    """Raw HTTP to the sandbox's public API: `api("GET", "/crm/v3/owners/", params=...)`."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.token}"

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return session.request(method, f"{sb.url}{path}", timeout=10, **kwargs)

    return call

"""Fixtures for sandbox tests: a demo sandbox with a fixed clock and a real HubSpot client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
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

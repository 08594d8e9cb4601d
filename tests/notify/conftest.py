"""Fixtures for the notification tests: a real SMTP server, settings pointing at it, rules.

The SMTP server is aiosmtpd on a free 127.0.0.1 port; every message it accepts is kept in
`SmtpServer.messages` (envelope recipients plus the parsed message). Prefect is needed by only a
few tests: they use the root conftest's session-wide `prefect_harness`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.rules import Rules, load_rules
from config.settings import Settings

from smtp_support import HUBSPOT_TOKEN, PORTAL, Handler, SmtpServer, free_port, smtp_settings


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running SMTP server on a free port."""
    server = SmtpServer(free_port(), Handler())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """A server that is not started yet: nothing listens on its port until `.start()`."""
    server = SmtpServer(free_port(), Handler())
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, smtp: SmtpServer) -> Settings:
    """Settings delivering to the `smtp` fixture (INSECURE, no login)."""
    return smtp_settings(tmp_path / "outbox", smtp.port)


@pytest.fixture
def outbox_settings(tmp_path: Path) -> Settings:
    """No SMTP configured: the demo's outbox-only mode."""
    return Settings(
        _env_file=None,
        hubspot_access_token=HUBSPOT_TOKEN,
        hubspot_portal_id=PORTAL,
        outbox_dir=tmp_path / "outbox",
    )


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules()

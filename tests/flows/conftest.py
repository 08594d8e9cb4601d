"""Fixtures for the flow tests: the settings a test passes to the flows it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from sandbox.server import SandboxHandle

from support import portal_settings, sandbox_settings


@pytest.fixture
def settings(sandbox: SandboxHandle, tmp_path: Path) -> Settings:
    """Settings for the demo sandbox (its own portal id, this test's outbox)."""
    return portal_settings(sandbox_settings(sandbox.url, sandbox.token), tmp_path / "outbox")

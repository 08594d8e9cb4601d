"""Fixtures for the reliability suite: fast retries and one clean reference run per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from portal_state import FastRetries, Reference, clean_reference


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch, prefect_harness: None) -> FastRetries:
    return FastRetries(monkeypatch)


@pytest.fixture(scope="session")
def reference(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """A clean cycle on a fresh demo portal: what every faulty scenario must end up equal to.

    Its environment and fast retries are undone before any test runs: kept for the session,
    they leaked into every later test (whatever the order).
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        FastRetries(monkeypatch)
        return clean_reference(monkeypatch, tmp_path_factory.mktemp("clean") / "outbox")


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"

"""`leadops sandbox --now`: the sandbox's clock from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

import sandbox.server
from leadops.cli import app

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `serve` was called with (nothing is served)."""
    calls: dict[str, Any] = {}
    monkeypatch.setattr(sandbox.server, "serve", lambda **kwargs: calls.update(kwargs))
    return calls


def test_now_sets_the_clock_the_sandbox_starts_from(served: dict[str, Any]) -> None:
    result = runner.invoke(app, ["sandbox", "--seed", "empty", "--now", "2026-11-23T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert served["now"] == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_bad_now_names_the_option_the_value_and_the_format(served: dict[str, Any]) -> None:
    result = runner.invoke(app, ["sandbox", "--now", "next tuesday"])
    assert result.exit_code == 2
    assert "--now 'next tuesday'" in result.output and "ISO-8601" in result.output
    assert served == {}


def test_serve_starts_the_clock_at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    apps: list[Any] = []
    monkeypatch.setattr(sandbox.server.uvicorn, "run", lambda app, **_: apps.append(app))
    start = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    sandbox.server.serve(port=1, seed="empty", now=start)
    store = apps[0].app.state.sandbox.store
    assert 0 <= store.clock() - int(start.timestamp() * 1000) < 60_000

"""`leadops report` as a person uses it: help, a clear error for a bad window, and a report
printed, saved and never written to HubSpot."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadops.cli import app
from sandbox.server import SandboxHandle

from support import sandbox_settings, use_portal

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def portal(sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    use_portal(monkeypatch, sandbox_settings(sandbox.url, sandbox.token), tmp_path / "outbox")
    monkeypatch.setenv("REPORT_DIR", str(tmp_path / "reports"))
    return sandbox


def test_report_has_help_naming_its_options() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    assert all(option in result.output for option in ("--since", "--until", "--no-email"))
    assert "writes nothing to HubSpot" in result.output


def test_an_inverted_report_window_is_refused(portal: SandboxHandle) -> None:
    result = runner.invoke(app, ["report", "--since", "2026-11-20", "--until", "2026-11-19"])
    assert result.exit_code == 2
    assert "must be after since" in result.output
    assert portal.stats()["requests_total"] == 0


@pytest.mark.usefixtures("prefect_harness")
def test_report_prints_the_funnel_and_where_it_went(portal: SandboxHandle, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--no-email"])
    assert result.exit_code == 0, result.output
    assert "Lead report" in result.output and "First touch per owner" in result.output
    assert "Alice Archer" in result.output and "(no writes)" in result.output
    assert "Email: not sent" in result.output
    [folder] = (tmp_path / "reports").iterdir()
    assert {"report.html", "report.json", "listed_contacts.csv", "funnel.png"} <= {
        p.name for p in folder.iterdir()
    }
    assert portal.stats()["writes_total"] == 0
    assert not (tmp_path / "outbox" / "pending").exists()

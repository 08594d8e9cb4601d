"""`leadops backfill` and `leadops undo` as a person uses them: help, clear date errors, runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadops.cli import app
from sandbox.server import SandboxHandle

from support import sandbox_settings, use_portal

runner = CliRunner(env={"COLUMNS": "200"})
TODAY = datetime.now(UTC).date()


@pytest.fixture
def portal(sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    use_portal(monkeypatch, sandbox_settings(sandbox.url, sandbox.token), tmp_path / "outbox")
    return sandbox


@pytest.mark.parametrize("command", ["backfill", "undo"])
def test_both_commands_have_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--start", "10/01/2026"], "--start '10/01/2026' is not a date: use a date (2026-10-01"),
        (["--start", "2026-10-05", "--end", "2026-10-01"], "--end '2026-10-01' must be after"),
        (["--start", "2026-10-05", "--end", str(TODAY + timedelta(days=3))], "is in the future"),
        (["--start", str(TODAY + timedelta(days=1))], "--start"),
        (["--start", "2026-10-01", "--window-hours", "0"], "--window-hours: Input should be"),
    ],
)
def test_bad_dates_get_one_clear_line_and_no_call(
    portal: SandboxHandle, options: list[str], message: str
) -> None:
    result = runner.invoke(app, ["backfill", *options])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) <= 3
    assert portal.stats()["requests_total"] == 0


@pytest.mark.usefixtures("prefect_harness")
def test_a_dry_run_backfill_of_whole_days_shows_its_passes(portal: SandboxHandle) -> None:
    start = str(TODAY - timedelta(days=3))
    result = runner.invoke(app, ["backfill", "--start", start, "--end", str(TODAY), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Backfill passes" in result.output and "time-based rules" in result.output
    rows = [line for line in result.output.splitlines() if "│ Completed" in line]
    assert len(rows) == 4  # three day windows, then the time rules (Prefect's logs aside)
    assert "dry run: nothing written" in result.output
    assert portal.stats()["writes_total"] == 0


@pytest.mark.usefixtures("prefect_harness")
def test_undo_of_an_unknown_run_says_so_and_writes_nothing(portal: SandboxHandle) -> None:
    result = runner.invoke(app, ["undo", "no-such-run"])
    assert result.exit_code == 1
    assert "run 'no-such-run' is not a run that applied changes" in result.output
    assert "Traceback" not in result.output
    assert portal.stats()["writes_total"] == 0

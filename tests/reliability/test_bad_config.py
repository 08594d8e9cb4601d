"""Bad configuration stops a cycle with a clear error before it writes anything: problems in
`lifecycle.yaml` itself at load (key path, value given, what is allowed), names the portal
lacks at the portal check."""

from __future__ import annotations

from pathlib import Path

import pytest
from portal_state import NOW, FastRetries, demo_portal, point_at, run, snapshot

from config.rules import ConfigError
from flows.cycle import PortalMismatchError
from flows.params import RunParams

pytestmark = pytest.mark.usefixtures("prefect_harness")

CASES = [
    pytest.param(
        "promote:\n  treshold: 40\n",
        ConfigError,
        ["promote.treshold: unknown key", "check its spelling"],
        id="unknown-key",
    ),
    pytest.param(
        "recycle:\n  min_attempts: many\n",
        ConfigError,
        ["recycle.min_attempts", "'many'", "valid integer"],
        id="wrong-type",
    ),
    pytest.param(
        "promote:\n  threshold: -500000\n",
        ConfigError,
        ["promote.threshold: -500000 is not allowed", "greater than or equal to -100000"],
        id="threshold-out-of-range",
    ),
    pytest.param(
        "lead_status:\n  attempted: TRIED_TO_CALL\n",
        PortalMismatchError,
        ["lead_status.attempted", "'TRIED_TO_CALL' is not an option", "ATTEMPTED_TO_CONTACT"],
        id="lead-status-the-portal-lacks",
    ),
    pytest.param(
        "recycle:\n  lead_status: NURTURING\n",
        PortalMismatchError,
        ["recycle.lead_status", "'NURTURING' is not an option"],
        id="recycle-status-the-portal-lacks",
    ),
    pytest.param(
        "promote:\n  score_property: firstname\n",
        PortalMismatchError,
        ["'firstname' has type 'string'", "must be a number property"],
        id="score-property-not-a-number",
    ),
    pytest.param(
        "recycle:\n  default_list: ''\n",
        ConfigError,
        ["recycle.default_list", "at least 1 character"],
        id="missing-default-list",
    ),
    pytest.param(
        "recycle:\n  nurture_lists:\n    crm: ''\n",
        ConfigError,
        ["recycle.nurture_lists", "list names must not be empty", "crm"],
        id="empty-list-mapping",
    ),
]


@pytest.mark.parametrize(("yaml", "error", "fragments"), CASES)
def test_bad_config_fails_clearly_before_any_write(
    fast: FastRetries,
    outbox: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    yaml: str,
    error: type[Exception],
    fragments: list[str],
) -> None:
    config = tmp_path / "lifecycle.yaml"
    config.write_text(yaml)
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        monkeypatch.setenv("LIFECYCLE_CONFIG", str(config))
        with pytest.raises(error) as raised:
            run()
        stats = handle.stats()
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message
    assert stats["writes_total"] == 0
    if error is ConfigError:
        assert stats["requests_total"] == 0  # refused at load, before HubSpot is asked
        assert str(config) in message


def test_a_product_interest_without_a_list_mapping_goes_to_the_default_list(
    fast: FastRetries, outbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "A missing list mapping" for one interest is not an error: its contacts go to
    `recycle.default_list`, which is always set (an empty one is refused at load)."""
    config = tmp_path / "lifecycle.yaml"
    config.write_text("recycle:\n  nurture_lists: {}\n  default_list: Nurture - Everyone\n")
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        monkeypatch.setenv("LIFECYCLE_CONFIG", str(config))
        summary = run(RunParams(until=NOW, rules=["recycle"], notify=False))
        lists = snapshot(handle).lists
    assert summary["failed"] == 0
    assert list(lists) == ["Nurture - Everyone"] and len(lists["Nurture - Everyone"]) == 25

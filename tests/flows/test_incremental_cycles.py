"""Incremental cycles on the demo portal: an idle cycle costs a few calls, a changed rules
file makes the affected rules judge everything once, and every run reports its cost."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.rules import DEFAULT_RULES
from config.settings import Settings
from flows.cycle import lifecycle_cycle
from flows.engine import gateway_for
from flows.params import RunParams
from sandbox import pipelines
from sandbox.schema import CONTACT_TO_DEAL, DEAL_PIPELINES, DEAL_TO_CONTACT, StageDef
from sandbox.server import SandboxHandle, running_sandbox

from support import RECORDING_NOW, SCORING_CONFIG, portal_settings, sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")
DAY_MS = 24 * 3_600_000
LADDER = ("open_deal", "meeting_scheduled", "connected", "bad_timing")
ON_HOLD = StageDef("1004", "On hold", "0.1", False)
CONTACT_SEARCH = "POST /crm/v3/objects/contacts/search"


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[SandboxHandle, Settings, dict[str, int]]]:
    """The demo portal with a clock that moves only when the test moves it."""
    with running_sandbox(seed="demo", now=RECORDING_NOW) as handle:
        clock = {"ms": int(RECORDING_NOW.timestamp() * 1000)}
        handle.store.clock = lambda: clock["ms"]  # type: ignore[method-assign]
        settings = portal_settings(sandbox_settings(handle.url, handle.token), tmp_path / "out")
        yield handle, settings, clock


def _cycle(settings: Settings, clock: dict[str, int], hours: float, **params: Any) -> dict:
    at = RECORDING_NOW + timedelta(hours=hours)
    clock["ms"] = int(at.timestamp() * 1000)
    return lifecycle_cycle(RunParams(until=at, **{"notify": False, **params}), settings)


def test_a_cycle_with_nothing_changed_costs_a_few_calls(
    portal: tuple[SandboxHandle, Settings, dict[str, int]], tmp_path: Path
) -> None:
    _, settings, clock = portal
    # Every rule, qualify included, and the first-touch SLA escalation (the scoring example's):
    # notifying, as scheduled cycles do (only they record the breaches told).
    settings = settings.model_copy(update={"lifecycle_config": SCORING_CONFIG})
    first = _cycle(settings, clock, 0, notify=True)
    assert first["changes"] > 100 and "followup: whole population (full judgment)" in first["notes"]
    assert first["rules"]["qualify"]["applied"] and first["rules"]["open_deal"]["applied"]
    assert "first-touch SLA: every New lead (full judgment)" in first["notes"]
    assert first["sla"]["new"] > 0
    _cycle(settings, clock, 1, notify=True)  # finds what the first cycle wrote, judged as it is
    idle = _cycle(settings, clock, 2, notify=True)
    assert idle["changes"] == 0
    assert idle["sla"] == {**idle["sla"], "new": 0, "closed": 0, "open": first["sla"]["open"]}
    assert idle["api_calls"] <= 25, idle
    assert all(f"{rule}: what changed since" in " ".join(idle["notes"]) for rule in LADDER)
    assert any(n.startswith("followup: what changed since") for n in idle["notes"])
    assert any(n.startswith("first-touch SLA: what changed since") for n in idle["notes"])
    assert any("HubSpot API calls:" in n and "a day" in n for n in idle["notes"])


def test_the_cycle_right_after_a_busy_one_does_not_judge_its_writes_again(
    portal: tuple[SandboxHandle, Settings, dict[str, int]],
) -> None:
    """The first cycle writes ~260 changes; the next ones find those contacts (and tasks)
    modified inside the watermark's overlap, and skip what each rule judged as it is
    (`flows.settled`). Before, the three cycles after the first read every written contact
    again (98 calls each, where an idle cycle makes 19); then the first of them judged only
    what rules that ran before a writer had not seen (71), the next ones searched (42): one
    windowed search per rule's search group. Now the modified contacts are read once for
    all rules (`flows.modified`), and a contact whose task changed is not judged by a rule
    whose population it is not in (`bad_timing` and the tasks `followup` created): 37, then
    20."""
    _, settings, clock = portal
    first = _cycle(settings, clock, 0)
    assert first["changes"] > 200
    searches = gateway_for(settings).calls
    sent = searches[CONTACT_SEARCH]
    after = _cycle(settings, clock, 0.25)  # the default schedule: 15 minutes later
    skipped = [n for n in after["notes"] if "found modified but unchanged" in n]
    assert after["changes"] == 0
    assert {n.split(":")[0] for n in skipped} >= {"attempted", "followup", "recycle"}, skipped
    # one contact search for every rule (the ~200 written contacts fit one page)
    assert searches[CONTACT_SEARCH] - sent == 1
    assert after["api_calls"] <= 40, after
    # then an idle cycle's 19 calls, and the task association read of the tasks created
    assert _cycle(settings, clock, 0.5)["api_calls"] <= 21


def test_a_changed_rules_file_makes_its_rules_judge_everything_once(
    portal: tuple[SandboxHandle, Settings, dict[str, int]], tmp_path: Path
) -> None:
    handle, settings, clock = portal
    _cycle(settings, clock, 0, rules=["promote"])
    old = handle.store.insert(
        "contacts",
        {"lifecyclestage": "marketingqualifiedlead", "lead_score": "45", "firstname": "Old"},
        clock["ms"] - 3 * DAY_MS,
    )
    assert _cycle(settings, clock, 1, rules=["promote"])["changes"] == 0  # 45 < 50, and old

    rules = yaml.safe_load(DEFAULT_RULES.read_text())
    rules["promote"]["threshold"] = 40
    (tmp_path / "lower.yaml").write_text(yaml.safe_dump(rules))
    lower = settings.model_copy(update={"lifecycle_config": tmp_path / "lower.yaml"})
    changed = _cycle(lower, clock, 2, rules=["promote"])
    assert "promote: contacts modified since the beginning" in changed["notes"]
    assert handle.store.get("contacts", old.id).props["lifecyclestage"] == "salesqualifiedlead"
    again = _cycle(lower, clock, 3, rules=["promote"])
    assert not any("since the beginning" in note for note in again["notes"])


def test_the_reconcile_finds_nothing_after_incremental_cycles(
    portal: tuple[SandboxHandle, Settings, dict[str, int]],
) -> None:
    from flows.reconcile import reconcile

    _, settings, clock = portal
    _cycle(settings, clock, 0)
    clock["ms"] += 3_600_000
    at = datetime.fromtimestamp(clock["ms"] / 1000, UTC)
    checked = reconcile(RunParams(until=at, notify=False), settings)
    assert checked["missed"] == 0
    assert checked["catch_up"]["failed"] == 0
    assert any("whole population" in note for note in checked["notes"])


def test_an_edited_deal_pipeline_makes_open_deal_judge_everything_once(
    portal: tuple[SandboxHandle, Settings, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    handle, settings, clock = portal
    old = clock["ms"] - 3 * DAY_MS
    lead = handle.store.insert(
        "contacts",
        {"lifecyclestage": "salesqualifiedlead", "hs_lead_status": "NEW", "firstname": "Held"},
        old,
    )
    deal = handle.store.insert(
        "deals", {"dealname": "Renewal", "pipeline": "1001", "dealstage": "1004"}, old
    )
    handle.store.associate("deals", deal.id, "contacts", lead.id, DEAL_TO_CONTACT, CONTACT_TO_DEAL)
    _cycle(settings, clock, 0, rules=["open_deal"])
    assert _cycle(settings, clock, 1, rules=["open_deal"])["changes"] == 0  # Churned: closed

    # Ops turn the Renewals pipeline's "Churned" stage into an open "On hold": no deal and
    # no contact is written, only the pipeline
    renewals = replace(DEAL_PIPELINES[1], stages=(*DEAL_PIPELINES[1].stages[:2], ON_HOLD))
    monkeypatch.setattr(pipelines, "DEAL_PIPELINES", (DEAL_PIPELINES[0], renewals))
    edited = _cycle(settings, clock, 2, rules=["open_deal"])
    assert "open_deal: whole population (full judgment)" in edited["notes"]
    assert handle.store.get("contacts", lead.id).props["hs_lead_status"] == "OPEN_DEAL"
    again = _cycle(settings, clock, 3, rules=["open_deal"])
    assert any(note.startswith("open_deal: what changed since") for note in again["notes"])

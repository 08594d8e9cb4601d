"""Qualification and escalation end to end on the demo seed with config/scoring-example.yaml:
multi-criteria promotion, Lead → MQL, first-touch SLA breaches alerted once, and one message
per run to a team channel (a real HTTP receiver on 127.0.0.1)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from config.settings import Settings
from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from sandbox.seeder import Seeder
from sandbox.server import SandboxHandle

from support import SCORING_CONFIG, SEED_SCORING_COUNTS, SEED_SLA_BREACHES
from webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.usefixtures("prefect_harness")


def counts(summary: dict, outcome: str) -> dict[str, int]:
    return {rule: c[outcome] for rule, c in summary["rules"].items() if c[outcome]}


def outbox(settings: Settings) -> list[EmailMessage]:
    pending = Path(settings.outbox_dir) / "pending"
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(pending.glob("*.eml"))
    ]


def breach_alerts(settings: Settings) -> list[EmailMessage]:
    return [m for m in outbox(settings) if "first-touch SLA missed" in str(m["Subject"])]


@pytest.fixture
def scoring(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"lifecycle_config": SCORING_CONFIG})


def with_channel(settings: Settings, tmp_path: Path, receiver: Receiver) -> Settings:
    CustomWebhookNotificationBlock(
        name="sales", url=f"{receiver.url}/team", json_data={"text": "{{subject}}\n{{body}}"}
    ).save("leadops-test-sales-team", overwrite=True)
    config = tmp_path / "rules.yaml"
    text = SCORING_CONFIG.read_text(encoding="utf-8")
    config.write_text(text + "\nchannels:\n  blocks: [custom-webhook/leadops-test-sales-team]\n")
    return settings.model_copy(update={"lifecycle_config": config})


def test_dry_run_plans_qualify_multi_criteria_promote_and_reports_breaches(
    scoring: Settings, sandbox: SandboxHandle
) -> None:
    summary = lifecycle_cycle(RunParams(dry_run=True, notify=True), scoring)
    assert counts(summary, "dry-run") == SEED_SCORING_COUNTS
    assert summary["sla"]["new"] == SEED_SLA_BREACHES
    assert sandbox.stats()["writes_total"] == 0
    assert outbox(scoring) == []  # a dry run tells no one


def test_breaches_are_alerted_once_closed_when_touched_and_posted_once_per_run(
    scoring: Settings, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    with webhook_receiver() as receiver:
        settings = with_channel(scoring, tmp_path, receiver)
        first = lifecycle_cycle(RunParams(), settings)
        assert counts(first, "applied") == SEED_SCORING_COUNTS and first["failed"] == 0
        assert first["sla"]["new"] == SEED_SLA_BREACHES
        alerts = breach_alerts(settings)
        assert len(alerts) == SEED_SLA_BREACHES
        # Alice's leads go to her manager, the others to the team's escalation address.
        recipients = {str(m["To"]) for m in alerts}
        assert recipients == {"sales-lead@example.com", "sales-ops@example.com"}
        [got] = receiver.requests  # one message for the whole run
        text = got.json()["text"]
        assert f"{SEED_SLA_BREACHES} new SLA breach(es)" in text
        assert "/record/0-1/" in text and "- qualify: 5 applied" in text
        assert settings.hubspot_access_token is not None
        assert settings.hubspot_access_token.get_secret_value() not in text

        # Owners see their new breaches first in their digest.
        digest = next(
            m for m in outbox(settings) if "update(s) for your contacts" in str(m["Subject"])
        )
        body = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        sections = [s for s in ("FIRST TOUCH OVERDUE", "NEW SQLS", "TASKS CREATED") if s in body]
        assert sections and sections[0] == "FIRST TOUCH OVERDUE"

        second = lifecycle_cycle(RunParams(), settings)
        assert second["changes"] == 0
        assert second["sla"] == {**second["sla"], "new": 0, "open": SEED_SLA_BREACHES}
        assert len(breach_alerts(settings)) == SEED_SLA_BREACHES  # no second alert
        assert len(receiver.requests) == 1  # a run with nothing to tell posts nothing

        late = first["sla"]["new_breaches"][0]["contact_id"]
        Seeder(sandbox.store).call(int(late), sandbox.store.clock())  # touched, late
        third = lifecycle_cycle(RunParams(), settings)
        assert len(receiver.requests) == 2
        assert "1 breach(es) closed" in receiver.requests[1].json()["text"]
    assert counts(third, "applied") == {"attempted": 1}
    assert third["sla"]["closed"] == 1
    [closed] = third["sla"]["closed_breaches"]
    assert closed["contact_id"] == late
    assert closed["reason"].startswith("touched late: outbound call on")
    assert len(breach_alerts(settings)) == SEED_SLA_BREACHES

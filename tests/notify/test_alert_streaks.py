"""Alerts ops can trust: they arrive when the rules file itself is broken, name the portal and
deployment, and come once per failure streak plus once on recovery."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect import flow

from config.settings import Settings
from flows.cycle import lifecycle_cycle
from notify.alerts import ALERT_HOOKS
from runstate.alert_streak import AlertStreaks, Streak

from smtp_support import SmtpServer
from webhook_receiver import webhook_receiver

pytestmark = pytest.mark.usefixtures("prefect_harness")

TYPO = "promote:\n  treshold: 40\n"  # misspelt key: every run fails loading the rules


def deployment_env(monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer, outbox: Path) -> None:
    """What a worker's flow run reads: SMTP, outbox and the portal from the environment."""
    for name, value in {
        "SMTP_SERVER": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_TYPE": "INSECURE",
        "OUTBOX_DIR": str(outbox),
        "HUBSPOT_PORTAL_ID": "4242",
        "HUBSPOT_ACCESS_TOKEN": "never-used",
        "HUBSPOT_BASE_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LEADOPS_OPS_EMAIL", raising=False)


def rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lifecycle.yaml"
    path.write_text(text)
    return path


def test_a_typo_in_the_rules_file_still_alerts_the_ops_address_from_settings(
    smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment_env(monkeypatch, smtp, tmp_path / "outbox")
    monkeypatch.setenv("LIFECYCLE_CONFIG", str(rules_file(tmp_path, TYPO)))
    monkeypatch.setenv("LEADOPS_OPS_EMAIL", "oncall@example.org")

    state = lifecycle_cycle(return_state=True)

    assert state.is_failed()
    [alert] = smtp.messages
    assert alert.rcpt_tos == ["oncall@example.org"]
    assert alert.message["Subject"].endswith(" failed on portal 4242")
    text = alert.text()
    assert "Portal: portal 4242" in text
    assert "Deployment: lifecycle-cycle (no deployment)" in text
    assert "treshold" in text  # the error names the misspelt key


def test_a_typo_alerts_the_ops_address_of_the_last_rules_that_loaded(
    smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment_env(monkeypatch, smtp, tmp_path / "outbox")
    good = "notify:\n  ops_email: revops@example.org\n"
    monkeypatch.setenv("LIFECYCLE_CONFIG", str(rules_file(tmp_path, good)))

    @flow(name="steady", **ALERT_HOOKS)
    def steady() -> None:
        """Succeeds: its completion hook remembers the rules' notify section."""

    steady()
    rules_file(tmp_path, good + TYPO)  # someone edits the file and misspells a key
    assert lifecycle_cycle(return_state=True).is_failed()

    [alert] = smtp.messages
    assert alert.rcpt_tos == ["revops@example.org"]


def test_a_failure_streak_alerts_once_and_its_recovery_once(
    smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment_env(monkeypatch, smtp, tmp_path / "outbox")

    @flow(name="flaky", **ALERT_HOOKS)
    def flaky(fail: bool) -> None:
        if fail:
            raise RuntimeError("HubSpot said no")

    for _ in range(3):
        assert flaky(True, return_state=True).is_failed()
    [alert] = smtp.messages
    assert alert.message["Subject"].startswith("leadops: flaky run ")
    assert "HubSpot said no" in alert.text()

    flaky(False)
    flaky(False)  # a second success owes nobody anything
    assert len(smtp.messages) == 2
    recovery = smtp.messages[1]
    assert recovery.message["Subject"].strip() == (  # strip: folded past 78 characters
        "leadops: flaky (no deployment) on portal 4242 recovered after 3 failed run(s)"
    )
    assert "works again" in recovery.text()

    assert flaky(True, return_state=True).is_failed()  # a new streak: a new alert
    assert len(smtp.messages) == 3


def test_streaks_survive_a_restart_and_are_kept_per_deployment(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, outbox_dir=tmp_path, hubspot_portal_id="1")
    AlertStreaks(settings).failed("cycle/cycle")
    AlertStreaks(settings).alerted("cycle/cycle")
    again = AlertStreaks(settings)  # a new process reads the same files
    assert again.failed("cycle/cycle") == Streak(failures=2, alerted=True)
    assert again.read("promote/promote") == Streak()
    other_portal = AlertStreaks(settings.model_copy(update={"hubspot_portal_id": "2"}))
    assert other_portal.read("cycle/cycle") == Streak()
    assert again.succeeded("cycle/cycle") == Streak(failures=2, alerted=True)
    assert again.read("cycle/cycle") == Streak()


def test_a_failed_run_is_posted_to_the_team_channels_once_per_streak(
    smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    deployment_env(monkeypatch, smtp, tmp_path / "outbox")
    with webhook_receiver() as receiver:
        CustomWebhookNotificationBlock(
            name="ops", url=f"{receiver.url}/ops", json_data={"text": "{{subject}}\n{{body}}"}
        ).save("leadops-test-failures", overwrite=True)
        channels = "channels:\n  blocks: [custom-webhook/leadops-test-failures]\n"
        monkeypatch.setenv("LIFECYCLE_CONFIG", str(rules_file(tmp_path, channels)))

        @flow(name="doomed", **ALERT_HOOKS)
        def doomed() -> None:
            raise RuntimeError("HubSpot said no")

        assert doomed(return_state=True).is_failed()
        assert doomed(return_state=True).is_failed()  # the same streak: no second post

    [got] = receiver.requests
    text = got.json()["text"]
    assert text.startswith("leadops: doomed run ") and "on portal 4242" in text
    assert "HubSpot said no" in text and "never-used" not in text  # no token, ever
    assert len(smtp.messages) == 1

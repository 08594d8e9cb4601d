"""Team channels through Prefect's notification blocks, checked against a real HTTP receiver
on 127.0.0.1: what arrives, one message per post, retries, and no secret in any report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook
from tenacity import wait_none

from model.changes import Change, ChangeResult, Outcome
from notify.channels import ChannelPost, plan_channel_post, post_to_channels
from rules.sla import Breach, Escalation

from webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.usefixtures("prefect_harness")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POST = ChannelPost(subject="leadops run amber-fox: 3 applied", body="- promote: 3 applied")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def custom_block(url: str, name: str) -> str:
    CustomWebhookNotificationBlock(
        name="leadops", url=url, json_data={"text": "{{subject}}\n{{body}}"}
    ).save(name, overwrite=True)
    return f"custom-webhook/{name}"


def test_a_custom_webhook_gets_the_message_once(receiver: Receiver) -> None:
    block = custom_block(f"{receiver.url}/hooks/team-a", "leadops-test-custom")
    report = post_to_channels(POST, [block], secrets=[], wait=wait_none())
    assert report.posted == [block] and report.failed == {}
    [got] = receiver.requests
    assert got.path == "/hooks/team-a"
    assert got.json() == {"text": "leadops run amber-fox: 3 applied\n- promote: 3 applied"}


def test_a_slack_webhook_block_posts_through_apprise(receiver: Receiver) -> None:
    # Apprise's JSON notifier stands in for hooks.slack.com (not reachable from tests): the
    # same SlackWebhook block and Apprise client, a local URL.
    host = receiver.url.removeprefix("http://")
    SlackWebhook(url=f"json://{host}/slack").save("leadops-test-slack", overwrite=True)
    report = post_to_channels(POST, ["slack-webhook/leadops-test-slack"], secrets=[])
    assert report.failed == {}
    [got] = receiver.requests
    assert got.path == "/slack"
    assert (got.json()["title"], got.json()["message"]) == (POST.subject, POST.body)


def test_a_failed_post_is_retried_then_succeeds() -> None:
    with webhook_receiver(fail_first=2) as flaky:
        block = custom_block(f"{flaky.url}/hook", "leadops-test-flaky")
        report = post_to_channels(POST, [block], secrets=[], wait=wait_none())
    assert report.posted == [block]
    assert len(flaky.requests) == 3  # two 500s, then accepted


def test_a_channel_that_stays_down_is_reported_without_its_url_and_others_still_get_it(
    receiver: Receiver,
) -> None:
    with webhook_receiver(fail_first=-1) as down:
        broken = custom_block(f"{down.url}/hook/T0KEN-SECRET", "leadops-test-down")
        working = custom_block(f"{receiver.url}/hook", "leadops-test-up")
        missing = "custom-webhook/leadops-no-such-block"
        report = post_to_channels(
            POST, [broken, missing, working], secrets=["hunter2"], attempts=3, wait=wait_none()
        )
        assert len(down.requests) == 3
    assert report.posted == [working] and len(receiver.requests) == 1
    assert set(report.failed) == {broken, missing}
    assert "500" in report.failed[broken] and "T0KEN-SECRET" not in report.describe()
    assert "failed 2 after 3 attempts" in report.describe()


def breach(contact_id: str, name: str) -> Breach:
    return Breach(contact_id, name, "7", NOW, NOW, "no outbound touch 4 hour(s) after becoming New")


def test_the_run_message_has_counts_failures_breaches_with_links_and_no_secret() -> None:
    failed = ChangeResult(
        Change("promote", "1001", "Ada pat-na1-11111111-2222", "7", "score 72 ≥ 50"),
        Outcome.FAILED,
        error="HTTP 500 with token hunter2",
    )
    escalation = Escalation(
        new=tuple(breach(str(i), f"Lead {i}") for i in range(12)), still_open=(), closed=()
    )
    post = plan_channel_post(
        run_name="amber-fox",
        counts={"promote": {"applied": 3, "failed": 1, "skipped": 0}},
        failures=[failed],
        escalation=escalation,
        portal_id="12345",
        ui_domain="app-eu1.hubspot.com",
        secrets=["hunter2"],
    )
    assert post is not None
    assert post.subject == "leadops run amber-fox: 3 applied, 1 failed, 12 new SLA breach(es)"
    assert "- promote: 3 applied, 1 failed, 0 skipped" in post.body
    assert "https://app-eu1.hubspot.com/contacts/12345/record/0-1/1001" in post.body
    assert "https://app-eu1.hubspot.com/contacts/12345/record/0-1/0" in post.body
    assert "… and 2 more" in post.body
    assert "hunter2" not in post.body and "pat-na1" not in post.body


def test_nothing_to_say_is_no_message() -> None:
    quiet = dict(run_name="r", counts={}, failures=[], escalation=None, portal_id="1")
    assert plan_channel_post(**quiet) is None  # type: ignore[arg-type]
    only_summary = dict(quiet, counts={"promote": {"applied": 1}}, post=["breaches"])
    assert plan_channel_post(**only_summary) is None  # type: ignore[arg-type]

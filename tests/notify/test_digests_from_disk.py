"""Digests planned one recipient at a time from a run's changes on disk are the very messages
planned from all of them at once in memory."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from config.rules import Rules
from config.settings import Settings
from model.changes import ChangeResult, Outcome
from notify.deliver import compose
from notify.ops_plan import plan_ops_summary
from notify.plan import plan_digests
from notify.render import render_digest, render_ops_summary
from runstate.changes import RunChanges

from notify_builders import ALAN, ARCHIVED, GRACE, OWNERS, applied, attempted, promote, task


def shown(message: EmailMessage) -> list[str]:
    """What a reader sees: the To, the subject, every part's text (a boundary is random), as
    written to the outbox (an attachment streams in from its file)."""
    message = message_from_bytes(message.as_bytes(policy=policy.default), policy=policy.default)
    parts = [part.get_content() for part in message.walk() if not part.is_multipart()]
    return [message["To"], message["Subject"], *parts]


def test_digests_from_the_run_changes_on_disk_equal_those_from_memory(
    tmp_path: Path, rules: Rules
) -> None:
    results = applied(
        *[task(str(100 + n), f"Contact {n}", GRACE.id) for n in range(120)],
        promote("1", "Ada Lovelace", ALAN.id),
        attempted("2", "Bo Archived", ARCHIVED.id),  # to ops, with the reason
        promote("3", "Cy Nobody", None),
        promote("4", "Di Grace", GRACE.id),
    )
    failed = ChangeResult(promote("5", "Ed Failed", GRACE.id), Outcome.FAILED, "HTTP 500")
    results = [*results, failed]
    on_disk = RunChanges()
    for start in range(0, len(results), 50):
        on_disk.add(results[start : start + 50])
    settings = Settings(
        hubspot_access_token="pat-na1-bench", outbox_dir=tmp_path, hubspot_portal_id="12345"
    )

    tallies, messages = compose(on_disk, OWNERS, rules, settings, "run-1")

    links = {"portal_id": "12345", "run_name": "run-1"}
    digests = plan_digests(results, OWNERS, rules, **links, timezone=settings.timezone)
    summary = plan_ops_summary(results, digests, rules, **links)
    assert summary is not None and summary.failures
    expected = [*(render_digest(d, rules) for d in digests), render_ops_summary(summary, rules)]
    assert [m["Message-ID"] for m in messages] == [m["Message-ID"] for m in expected]
    assert [shown(m) for m in messages] == [shown(m) for m in expected]
    assert tallies == [d.tally() for d in digests]
    assert [(t.recipient, t.total, t.routed) for t in tallies] == [
        (ALAN.email, 1, 0),
        (GRACE.email, 121, 0),
        (rules.notify.ops_email, 2, 2),
    ]

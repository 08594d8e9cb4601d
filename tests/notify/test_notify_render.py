"""Rendering every template with hostile input: escaping, one-line headers, both parts."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from config.rules import Rules
from insights.build import ReportBuilder
from model.changes import ChangeResult, Outcome
from model.records import Owner, Record
from notify.breaches import plan_breach_alerts, render_breach_alert
from notify.ops_plan import FailureAlert, plan_ops_summary
from notify.plan import plan_digests
from notify.render import TEMPLATES, render_digest, render_failure_alert, render_ops_summary
from notify.report_charts import draw_charts
from notify.report_render import report_messages
from notify.text import one_line
from rules.sla import Breach

from notify_builders import (
    LABELS,
    OWNERS,
    applied,
    attempted,
    connected,
    new_lead,
    promote,
    recycle,
    task,
)

SCRIPT = "<script>alert('x')</script>"
QUOTES = 'O\'Brien "the \u201cboss\u201d"'
EMOJI = "Zoë 🚀🔥 Ünïcødé"
LONG = "Bartholomew-" * 60
CRLF = "Eve\r\nBcc: victim@evil.test\r\n\r\n<b>injected</b>"
HOSTILE = (SCRIPT, QUOTES, EMOJI, LONG, CRLF)
EVIL_OWNER = Owner("7", "grace@example.com", "Grace\r\nBcc: spy@evil.test", f"{SCRIPT} 🚀")


def hostile_results() -> list[ChangeResult]:
    changes = []
    for n, name in enumerate(HOSTILE):
        changes += [
            promote(f"1{n}", name, "7"),
            task(f"1{n}", name, "7", subject=f"First touch: {name}"),
            attempted(f"2{n}", name, None),
            *recycle(f"3{n}", name, "7", f"Nurture - {name}"),
        ]
    failed = ChangeResult(promote("9", SCRIPT, "7"), Outcome.FAILED, f"{SCRIPT} {CRLF}")
    return [*applied(*changes), failed]


def roundtrip(msg: EmailMessage) -> EmailMessage:
    """What a receiver sees: the message serialised and parsed back."""
    return message_from_bytes(msg.as_bytes(), policy=policy.default)


def digests(rules: Rules) -> list[EmailMessage]:
    planned = plan_digests(
        hostile_results(), {"7": EVIL_OWNER}, rules, portal_id="12345", run_name="run-1"
    )
    return [roundtrip(render_digest(d, rules)) for d in planned]


def ops_summary(rules: Rules) -> EmailMessage:
    results = hostile_results()
    planned = plan_digests(results, {"7": EVIL_OWNER}, rules, portal_id="1", run_name="run-1")
    summary = plan_ops_summary(results, planned, rules, portal_id="12345", run_name="run-1")
    assert summary is not None
    return roundtrip(render_ops_summary(summary, rules))


def alert(rules: Rules) -> EmailMessage:
    failure = FailureAlert(
        flow_name=one_line(f"cycle {SCRIPT}"),
        run_name=one_line(CRLF),
        state="Crashed",
        error=f"RuntimeError: {SCRIPT} {QUOTES} {EMOJI}\n{LONG}",
        url='https://prefect.example/runs/flow-run/abc?x=1&y="2"',
    )
    return roundtrip(render_failure_alert(failure, rules))


def lead_report(rules: Rules) -> EmailMessage:
    """The lead report listing hostile names as stuck New leads of a hostile owner."""
    new_since = datetime(2026, 11, 1, tzinfo=UTC)
    contacts = [
        Record(
            f"4{n}",
            {"firstname": name, "lifecyclestage": "salesqualifiedlead", "hs_lead_status": "NEW"},
            {"hs_lead_status": (("NEW", new_since),)},
        )
        for n, name in enumerate(HOSTILE)
    ]
    contacts = [
        Record(r.id, {**r.properties, "hubspot_owner_id": "7"}, r.history) for r in contacts
    ]
    builder = ReportBuilder(
        rules,
        since=datetime(2026, 10, 1, tzinfo=UTC),
        until=datetime(2026, 11, 23, tzinfo=UTC),
        owners={"7": EVIL_OWNER},
    )
    builder.add(contacts, {})
    report = builder.finish()
    [msg] = report_messages(
        report,
        draw_charts(report),
        rules,
        portal_id="12345",
        ui_domain="app.hubspot.com",
        run_name="run-1",
        notes=[f"note {SCRIPT}"],
    )
    return roundtrip(msg)


def breach_alerts(rules: Rules) -> list[EmailMessage]:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    breaches = [
        Breach(f"5{n}", name, "7", now, now, f"no outbound touch {name}")
        for n, name in enumerate(HOSTILE)
    ]
    planned = plan_breach_alerts(breaches, {"7": EVIL_OWNER}, rules, portal_id="12345")
    return [roundtrip(render_breach_alert(a, rules)) for a in planned]


def all_messages(rules: Rules) -> list[EmailMessage]:
    return [
        *digests(rules),
        ops_summary(rules),
        alert(rules),
        lead_report(rules),
        *breach_alerts(rules),
    ]


def test_every_template_is_exercised() -> None:
    names = {p.name for p in Path(TEMPLATES).glob("*.j2") if not p.name.startswith("_")}
    assert names == {
        f"{kind}.{ext}.j2"
        for kind in ("digest", "ops_summary", "failure_alert", "lead_report", "breach_alert")
        for ext in ("txt", "html")
    }


def test_messages_are_multipart_alternative_with_text_and_html(rules: Rules) -> None:
    for msg in all_messages(rules):
        assert msg.get_content_type() == "multipart/alternative"
        types = [part.get_content_type() for part in msg.iter_parts()]
        # The lead report's HTML sits in multipart/related with its inline charts.
        assert types in (["text/plain", "text/html"], ["text/plain", "multipart/related"])
        assert msg.get_body(("html",)).get_content_type() == "text/html"
        assert msg["From"] == rules.notify.sender
        assert msg["Message-ID"].strip().startswith("<") and msg["Date"]


def test_html_parts_escape_contact_controlled_text(rules: Rules) -> None:
    for msg in all_messages(rules):
        html = msg.get_body(("html",)).get_content()
        assert "<script" not in html.lower()
        assert "<b>injected" not in html
        assert "&lt;script&gt;" in html


def test_owner_digest_html_shows_names_escaped_and_linked(rules: Rules) -> None:
    [owner_digest, _ops] = digests(rules)
    html = owner_digest.get_body(("html",)).get_content()
    assert "O&#39;Brien &#34;the \u201cboss\u201d&#34;" in html
    assert "Zoë 🚀🔥 Ünïcødé" in html
    assert 'href="https://app.hubspot.com/contacts/12345/record/0-1/10"' in html
    assert "Eve Bcc: victim@evil.test &lt;b&gt;injected&lt;/b&gt;" in html


def test_text_parts_keep_names_readable_on_one_line(rules: Rules) -> None:
    [owner_digest, ops_digest] = digests(rules)
    text = owner_digest.get_body(("plain",)).get_content()
    assert f"- {SCRIPT}" in text and f"- {EMOJI}" in text
    assert "- Eve Bcc: victim@evil.test <b>injected</b>" in text
    assert not any(line.startswith("Bcc:") for line in text.splitlines())
    assert "https://app.hubspot.com/contacts/12345/record/0-1/30" in text
    assert "no owner" in ops_digest.get_body(("plain",)).get_content()


def test_very_long_names_are_shortened(rules: Rules) -> None:
    text = digests(rules)[0].get_body(("plain",)).get_content()
    assert LONG not in text
    shortened = next(line for line in text.splitlines() if "Bartholomew" in line)
    assert shortened.endswith("…") and len(shortened) < 220


def test_headers_are_single_lines_without_injection(rules: Rules) -> None:
    for msg in all_messages(rules):
        assert msg.get_all("Bcc") is None and msg.get_all("Cc") is None
        for name, value in msg.items():
            assert "\r" not in str(value) and "\n" not in str(value), name
    to = digests(rules)[0]["To"]
    assert to.addresses[0].addr_spec == "grace@example.com"
    assert "spy@evil.test" in to.addresses[0].display_name  # shown as text, not an address


def test_subject_from_config_with_total_and_owner(rules: Rules) -> None:
    notify = rules.notify.model_copy(update={"subject": "{{ owner }}: {{ total }} new"})
    custom = rules.model_copy(update={"notify": notify})
    planned = plan_digests(
        applied(promote("1", "Ada", "7")), {"7": EVIL_OWNER}, custom, portal_id="1", run_name="r"
    )
    msg = roundtrip(render_digest(planned[0], custom))
    assert msg["Subject"].startswith("Grace Bcc: spy@evil.test")
    assert msg["Subject"].endswith(": 1 new")


def test_ops_summary_lists_failures_escaped(rules: Rules) -> None:
    msg = ops_summary(rules)
    assert msg["To"].addresses[0].addr_spec == rules.notify.ops_email
    text, html = (msg.get_body((kind,)).get_content() for kind in ("plain", "html"))
    assert "FAILED (1)" in text and SCRIPT in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


@pytest.mark.parametrize("part", ["plain", "html"])
def test_failure_alert_shows_flow_run_error_and_link(rules: Rules, part: str) -> None:
    msg = alert(rules)
    body = msg.get_body((part,)).get_content()
    assert "Crashed" in body and "Eve Bcc: victim@evil.test" in body
    assert "Zoë 🚀🔥" in body
    if part == "html":
        assert "&lt;script&gt;" in body and "y=&#34;2&#34;" in body
    else:
        assert SCRIPT in body and "https://prefect.example/runs/flow-run/abc" in body


def test_the_docs_show_a_digest_rendered_from_the_real_template(rules: Rules) -> None:
    results = applied(
        promote("1001", "Pia Rossi", "7"),
        new_lead("1061", "Otto Larsen", "7"),
        task("1001", "Pia Rossi", "7"),
        attempted("1040", "Iris Tanaka", "7"),
        connected("1044", "Nia Sato", "7"),
        *recycle("1090", "Sam Haddad", "7", "Nurture - CRM"),
    )
    [digest] = plan_digests(
        results,
        OWNERS,
        rules,
        portal_id="12345",
        run_name="opalescent-turkey-34602c7d",
        labels=LABELS,
    )
    text = render_digest(digest, rules).get_body(("plain",)).get_content()
    readme = (Path(TEMPLATES).parent / "README.md").read_text(encoding="utf-8")
    assert text.strip() in readme, "re-render the digest sample in the README's Notifications"

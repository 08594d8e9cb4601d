"""Hostile and broken data in the portal: a full cycle applies what it can, skips what it
cannot judge (saying why), routes notices it cannot deliver to ops, and never lets a contact's
text break a report or an email.

The demo seed already holds unowned contacts, an archived owner, an owner without email and
odd names (emoji, HTML, very long); the test adds contacts HubSpot's API would not let us
create (a non-numeric score in a number property, a lead status without history) straight
into the sandbox's store.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from portal_state import (
    NOW,
    FastRetries,
    artifacts_of,
    demo_portal,
    outbox_files,
    point_at,
    run_state,
    snapshot,
)

from sandbox.server import SandboxHandle

pytestmark = pytest.mark.usefixtures("prefect_harness")

DAY_MS = 86_400_000
CRLF_NAME = "Mallory\r\nBcc: victim@evil.test\r\n"
LONG_NAME = "Wolfeschlegelsteinhausenbergerdorff" * 20  # 700 characters
UNKNOWN_OWNER = "99999999"
NEW_EMAILED = "1076"  # the demo seed's first new_emailed contact: New 3 d, email sent 1 d
HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}


def add_contact(handle: SandboxHandle, **props: str) -> str:
    created = int(NOW.timestamp() * 1000) - DAY_MS
    record = handle.store.insert("contacts", {"email": "x@example.test", **props}, created)
    return str(record.id)


def mql(score: str, **props: str) -> dict[str, str]:
    return {"lifecyclestage": "marketingqualifiedlead", "lead_score": score, **props}


@pytest.fixture
def hostile(fast: FastRetries, outbox: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        ids = {
            "crlf": add_contact(
                handle,
                **mql("80", firstname=CRLF_NAME, lastname="Smith", hubspot_owner_id="70000001"),
            ),
            "long": add_contact(
                handle, **mql("80", firstname=LONG_NAME, hubspot_owner_id="70000002")
            ),
            "html": add_contact(
                handle,
                **mql(
                    "80",
                    firstname="<script>alert(1)</script>",
                    lastname="O'Brien & <b>Co</b>",
                    hubspot_owner_id="70000003",
                ),
            ),
            "unknown_owner": add_contact(
                handle, **mql("80", firstname="Orphan", hubspot_owner_id=UNKNOWN_OWNER)
            ),
            "n/a": add_contact(handle, **mql("n/a", firstname="Nota")),
            "nan": add_contact(handle, **mql("nan", firstname="Nan")),
            "12abc": add_contact(handle, **mql("12abc", firstname="Abc")),
        }
        # HubSpot lost the New value from this emailed New lead's history, and it has no SQL
        # date: nobody can tell whether its email came after it became New.
        ids["no_date"] = NEW_EMAILED
        record = handle.store.get("contacts", NEW_EMAILED)
        assert record.props["hs_lead_status"] == "NEW"
        record.history["hs_lead_status"] = [("", record.created, "API")]
        record.props.pop("hs_lifecyclestage_salesqualifiedlead_date", None)
        state = run_state()
        yield handle, outbox, ids, state


def rows_of(state) -> list[dict]:  # type: ignore[no-untyped-def]
    artifacts = {a.key: a for a in artifacts_of(state.state_details.flow_run_id)}
    data = artifacts["lifecycle-cycle-changes"].data
    import json

    return json.loads(data) if isinstance(data, str) else data


def test_the_cycle_completes_and_reports_every_skip_with_its_reason(hostile) -> None:  # type: ignore[no-untyped-def]
    handle, _outbox, ids, state = hostile
    assert state.is_completed()
    summary = state.result()
    assert summary["failed"] == 0
    rows = rows_of(state)
    skipped = {r["contact"].rsplit("(", 1)[-1].rstrip(")"): r for r in rows
               if r["outcome"] == "skipped"}  # fmt: skip
    for key, value in (("n/a", "'n/a'"), ("nan", "'nan'"), ("12abc", "'12abc'")):
        assert f"lead_score is not a number: {value}" in skipped[ids[key]]["reason"]
    assert "cannot tell when lead status became NEW" in skipped[ids["no_date"]]["reason"]
    assert skipped[ids["no_date"]]["rule"] == "attempted"
    contacts = snapshot(handle).contacts
    for key in ("crlf", "long", "html", "unknown_owner"):
        assert contacts[ids[key]] == ("salesqualifiedlead", "NEW")
    for key in ("n/a", "nan", "12abc"):
        assert contacts[ids[key]] == ("marketingqualifiedlead", None)


def test_an_unknown_owner_gets_an_unassigned_task_and_ops_are_told(hostile) -> None:  # type: ignore[no-untyped-def]
    handle, outbox, ids, _state = hostile
    [task] = snapshot(handle).tasks[ids["unknown_owner"]]
    assert task[-1] == ""  # no hubspot_owner_id: HubSpot would refuse the whole batch
    ops = [p for p in outbox_files(outbox) if ".digest." in p.name and "ops@example.com"
           in message_from_bytes(p.read_bytes(), policy=policy.default)["To"]]  # fmt: skip
    [ops_digest] = ops
    text = (
        message_from_bytes(ops_digest.read_bytes(), policy=policy.default)
        .get_body(("plain",))
        .get_content()
    )
    assert f"owner {UNKNOWN_OWNER} not found" in text
    assert "owner archived: Dan Departed" in text
    assert "owner has no email: Eve Noemail" in text
    assert "no owner" in text


def test_names_cannot_inject_headers_or_markup(hostile) -> None:  # type: ignore[no-untyped-def]
    _handle, outbox, _ids, _state = hostile
    files = outbox_files(outbox)
    assert files
    htmls: list[str] = []
    for path in files:
        raw = path.read_bytes()
        message = message_from_bytes(raw, policy=policy.default)
        assert set(message.keys()) <= HEADERS, path.name
        assert b"\nBcc:" not in raw and b"victim@evil.test" not in raw.split(b"\n\n", 1)[0]
        for part in message.walk():
            if part.get_content_type() == "text/html":
                html = part.get_content()
                htmls.append(html)
                assert "<script>" not in html and "<b>Co</b>" not in html
            if part.get_content_type() == "text/plain":
                for line in part.get_content().splitlines():
                    assert not line.startswith("Bcc:")
                    assert len(line) <= 400
    assert any("&lt;script&gt;" in html for html in htmls)
    digests = "".join(
        message_from_bytes(p.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
        for p in files
        if ".digest." in p.name
    )
    assert "- Mallory Bcc: victim@evil.test Smith" in digests  # flattened to one line
    assert LONG_NAME[:150] in digests and LONG_NAME not in digests  # cut, with "…"
    assert "<script>alert(1)</script> O'Brien & <b>Co</b>" in digests  # plain text: as is
    assert "Zoë 🚀" in digests

"""Pure planning: grouping by owner, routing to ops, sections, the ops summary, message ids."""

from __future__ import annotations

from dataclasses import replace

from config.rules import Rules
from model.changes import Change, ChangeResult, Outcome
from model.records import Owner
from notify.ops_plan import plan_ops_summary
from notify.plan import (
    ATTEMPTED,
    BREACHED,
    NEW_MQLS,
    NEW_SQLS,
    RECYCLED,
    TASKS,
    Digest,
    plan_digests,
    route,
)
from notify.render import render_digest

from notify_builders import (
    GRACE,
    OWNERS,
    applied,
    attempted,
    cycle_results,
    promote,
    record_link,
    recycle,
    task,
)


def plan(results: list[ChangeResult], rules: Rules, owners=OWNERS) -> list[Digest]:
    return plan_digests(results, owners, rules, portal_id="12345", run_name="run-1")


def by_recipient(digests: list[Digest]) -> dict[str, Digest]:
    return {d.recipient: d for d in digests}


def test_one_digest_per_owner_with_news_and_one_for_ops(rules: Rules) -> None:
    digests = by_recipient(plan(cycle_results(), rules))
    assert set(digests) == {"grace@example.com", "alan@example.com", "ops@example.com"}
    assert "idle@example.com" not in digests  # nothing new: nothing sent
    grace = digests["grace@example.com"]
    assert grace.owner_name == "Grace Hopper" and not grace.for_ops
    assert [s.title for s in grace.sections] == [NEW_SQLS, TASKS, ATTEMPTED, RECYCLED]
    assert grace.total == 4  # the recycle update and list add are one line


def test_sections_carry_score_due_date_and_nurture_list(rules: Rules) -> None:
    grace = by_recipient(plan(cycle_results(), rules))["grace@example.com"]
    sections = {s.title: s for s in grace.sections}
    [sql] = sections[NEW_SQLS].shown
    assert (sql.name, sql.values) == ("Ada Lovelace", ("72", "score 72 ≥ 50"))
    assert sql.url == record_link("101")
    [todo] = sections[TASKS].shown
    assert todo.values[:2] == ("First touch: Ada Lovelace", "Mon 2026-11-23 16:00 UTC")
    [moved] = sections[ATTEMPTED].shown
    assert "NEW → ATTEMPTED_TO_CONTACT" in moved.values[0]
    [recycled] = sections[RECYCLED].shown
    assert recycled.values == ("Nurture - CRM", "lead status UNQUALIFIED")
    assert recycled.url == record_link("103")


def test_unreachable_owners_go_to_ops_with_the_reason_never_dropped(rules: Rules) -> None:
    ops = by_recipient(plan(cycle_results(), rules))["ops@example.com"]
    assert ops.for_ops and ops.owner_name == "ops"
    notes = {line.contact_id: line.note for s in ops.sections for line in s.shown}
    assert notes == {
        "301": "no owner",
        "302": "owner archived: Gone Away",
        "303": "owner has no email: No Email",
        "304": "owner 999 not found",
    }


def test_every_applied_contact_reaches_someone(rules: Rules) -> None:
    results = cycle_results()
    digests = plan(results, rules)
    told = {(line.contact_id, s.title) for d in digests for s in d.sections for line in s.shown}
    expected = {r.change.contact_id for r in results if r.outcome is Outcome.APPLIED}
    assert {contact for contact, _ in told} == expected


def test_owner_with_unusable_email_goes_to_ops(rules: Rules) -> None:
    owners = {"7": Owner("7", "not an address", "Bad", "Address")}
    [digest] = plan(applied(promote("1", "Ada", "7")), rules, owners)
    assert digest.recipient == "ops@example.com"
    assert digest.sections[0].shown[0].note == "owner email is not usable: Bad Address"


def test_only_applied_changes_are_told(rules: Rules) -> None:
    change = promote("1", "Ada", "7")
    results = [
        ChangeResult(change, Outcome.FAILED, "boom"),
        ChangeResult(change, Outcome.PLANNED),
        ChangeResult(replace(change, skip=True), Outcome.SKIPPED),
    ]
    assert plan(results, rules) == []


def test_owners_sharing_an_address_get_one_digest(rules: Rules) -> None:
    owners = {"7": GRACE, "12": Owner("12", "GRACE@example.com", "Grace", "Again")}
    results = applied(promote("1", "Ada", "7"), attempted("2", "Bob", "12"))
    [digest] = plan(results, rules, owners)
    assert digest.total == 2


def test_route_reasons() -> None:
    assert route(None, OWNERS) == (None, "no owner")
    assert route("7", OWNERS) == (GRACE, "")
    assert route("10", OWNERS)[1] == "owner archived: Gone Away"
    assert route("11", OWNERS)[1] == "owner has no email: No Email"


def test_recycle_list_without_update_still_shows_the_list(rules: Rules) -> None:
    update, membership = recycle("5", "Eve", "7", "Nurture - General")
    results = [ChangeResult(update, Outcome.FAILED, "409"), *applied(membership)]
    [digest] = plan(results, rules)
    assert digest.sections[0].shown[0].values == ("Nurture - General", "—")


def test_ops_summary_counts_failures_and_skips(rules: Rules) -> None:
    results = cycle_results()
    digests = plan(results, rules)
    summary = plan_ops_summary(results, digests, rules, portal_id="12345", run_name="run-1")
    assert summary is not None
    counts = {c.rule: (c.applied, c.failed, c.skipped) for c in summary.counts}
    assert counts["promote"] == (3, 1, 1)
    assert [f.text for f in summary.failures] == ["HTTP 500 from HubSpot"]
    assert [s.text for s in summary.skipped] == ["lead_score is 'n/a'"]
    assert summary.routed_to_ops == 4
    assert ("ops", "ops@example.com", 4) in summary.digests


def test_ops_summary_only_when_configured_and_something_happened(rules: Rules) -> None:
    notify = rules.notify.model_copy(update={"ops_summary": False})
    off = rules.model_copy(update={"notify": notify})
    results = cycle_results()
    assert plan_ops_summary(results, [], off, portal_id="1", run_name="r") is None
    assert plan_ops_summary([], [], rules, portal_id="1", run_name="r") is None


def test_message_id_is_deterministic_per_run_recipient_and_content(rules: Rules) -> None:
    results = applied(promote("1", "Ada", "7"), task("2", "Bob", "8"))
    first = [render_digest(d, rules)["Message-ID"] for d in plan(results, rules)]
    again = [render_digest(d, rules)["Message-ID"] for d in plan(results, rules)]
    assert first == again and len(set(first)) == 2
    other_run = plan_digests(results, OWNERS, rules, portal_id="12345", run_name="run-2")
    assert render_digest(other_run[0], rules)["Message-ID"] not in first
    more = plan(applied(promote("1", "Ada", "7"), promote("3", "Cy", "7")), rules)
    assert render_digest(more[0], rules)["Message-ID"] not in first


def test_ladder_moves_show_the_portals_labels_and_unlabelled_values_as_themselves(
    rules: Rules,
) -> None:
    from model.changes import Change
    from notify.plan import LADDER

    from notify_builders import LABELS, connected

    deal = Change(
        "open_deal",
        "1050",
        "Kai Byrne",
        "7",
        "open deal 'Renewal' in stage 'Qualified to buy'",
        before={"hs_lead_status": "CONNECTED", "lifecyclestage": "marketingqualifiedlead"},
        properties={"hs_lead_status": "OPEN_DEAL", "lifecyclestage": "opportunity"},
    )
    [digest] = plan_digests(
        applied(connected("1044", "Nia Sato", "7"), deal),
        OWNERS,
        rules,
        portal_id="1",
        run_name="r",
        labels=LABELS,
    )
    [section] = digest.sections
    assert section.title == LADDER
    assert [line.values[0] for line in section.shown] == [
        "Lead status: Attempted to contact → Connected",
        "Lead status: Connected → OPEN_DEAL; "
        "Lifecycle stage: Marketing qualified lead → opportunity",
    ]


def test_new_mqls_and_overdue_first_touches_lead_the_digest(rules: Rules) -> None:
    qualified = Change(
        "qualify",
        "201",
        "Lin Lead",
        "7",
        "fit 35 ≥ 30",
        before={"lifecyclestage": "lead"},
        properties={"lifecyclestage": "marketingqualifiedlead"},
    )
    overdue = Change("sla", "202", "Otto Overdue", "7", "no outbound touch 4 hour(s) after …")
    multi = replace(promote("203", "Mia Multi", "7"), reason="fit 42 ≥ 30 and engagement 25 ≥ 20")
    results = [ChangeResult(c, Outcome.APPLIED) for c in (multi, qualified, overdue)]
    grace = by_recipient(plan(results, rules))["grace@example.com"]
    assert [s.title for s in grace.sections] == [BREACHED, NEW_MQLS, NEW_SQLS]
    lines = {s.title: s.shown[0].values for s in grace.sections}
    assert lines[BREACHED] == ("no outbound touch 4 hour(s) after …",)
    assert lines[NEW_MQLS] == ("fit 35 ≥ 30",)
    assert lines[NEW_SQLS] == ("42", "fit 42 ≥ 30 and engagement 25 ≥ 20")  # first number
    summary = plan_ops_summary(results, [grace], rules, portal_id="1", run_name="r")
    assert summary is not None
    assert [c.rule for c in summary.counts] == ["promote", "qualify"]  # a notice is no change

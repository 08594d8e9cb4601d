"""Follow-up tasks: first touch for New, next attempt for Attempted; never duplicated."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

import pytest

from config.rules import BusinessHours, Rules
from model.changes import Change
from model.records import Engagement, Record
from rules.definition import Situation
from rules.followup import ENGAGEMENT_KINDS, plan_followups, search_filter_groups
from rules.tasks import due_at, task_kind, task_marker

from rule_builders import NOW, SQL, at, call, contact, email, task

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
NINE_TO_FIVE = BusinessHours()
NEW_SINCE = [("NEW", "2026-11-16 09:00")]
ATTEMPTED = [("ATTEMPTED_TO_CONTACT", "2026-11-17 09:00"), *NEW_SINCE]


def plan(record: Record, engagements: list[Engagement], rules: Rules) -> list[Change]:
    return plan_followups([record], {record.id: engagements}, Situation(rules, NOW, BERLIN))


class TestDueAt:
    @pytest.mark.parametrize(
        ("start", "hours", "due"),
        [
            ("2026-11-23 09:00", 4, "2026-11-23 13:00"),  # Mon 10:00 Berlin → 14:00
            ("2026-11-23 12:00", 4, "2026-11-23 16:00"),  # ends exactly at closing time
            ("2026-11-20 14:00", 4, "2026-11-23 10:00"),  # Fri 15:00 → Mon 11:00
            ("2026-11-21 10:00", 1, "2026-11-23 09:00"),  # Saturday → Mon 09:00 + 1 h
            ("2026-11-23 17:00", 1, "2026-11-24 09:00"),  # Mon 18:00 → Tue 10:00
            ("2026-11-23 05:00", 0, "2026-11-23 08:00"),  # before opening, 0 h → opening
            ("2026-11-23 10:30", 0, "2026-11-23 10:30"),  # inside hours, 0 h → now
            ("2026-11-23 08:00", 24, "2026-11-25 16:00"),  # three 8-hour days
            ("2026-10-23 14:00", 2, "2026-10-26 09:00"),  # Fri 16:00 CEST → Mon 10:00 CET
        ],
    )
    def test_berlin(self, start: str, hours: float, due: str) -> None:
        assert due_at(at(start), hours, NINE_TO_FIVE, BERLIN) == at(due)

    def test_new_york_across_the_end_of_dst(self) -> None:
        # Fri 2026-10-30 16:00 EDT + 2 h → Mon 2026-11-02 10:00 EST
        assert due_at(at("2026-10-30 20:00"), 2, NINE_TO_FIVE, NEW_YORK) == at("2026-11-02 15:00")

    def test_spring_forward_inside_business_hours_counts_real_hours(self) -> None:
        night = BusinessHours(start=time(1), end=time(5), skip_weekends=False)
        # Sun 2026-03-29 01:00 CET; clocks jump 02:00 → 03:00: 3 real hours end at 05:00 CEST
        assert due_at(at("2026-03-29 00:00"), 3, night, BERLIN) == at("2026-03-29 03:00")

    def test_weekends_count_when_not_skipped(self) -> None:
        every_day = BusinessHours(skip_weekends=False)
        assert due_at(at("2026-11-21 10:00"), 1, every_day, BERLIN) == at("2026-11-21 11:00")

    def test_returns_utc(self) -> None:
        assert due_at(NOW, 1, NINE_TO_FIVE, NEW_YORK).utcoffset().total_seconds() == 0


class TestMarker:
    def test_round_trip(self) -> None:
        made = task("t", f"Call her.\n\n{task_marker('first_touch')}")
        assert task_kind(made) == "first_touch"

    def test_recognised_inside_html(self) -> None:
        made = task("t", "<p>Call her.</p><p>[leadops:next_attempt]</p>")
        assert task_kind(made) == "next_attempt"

    def test_human_tasks_and_other_engagements_have_no_kind(self) -> None:
        assert task_kind(task("t", "Call her about [leadops] stuff")) is None
        assert task_kind(email("e", "2026-11-20 10:00")) is None

    def test_last_marker_wins(self) -> None:
        made = task("t", "Call [leadops:next_attempt] Ltd\n\n[leadops:first_touch]")
        assert task_kind(made) == "first_touch"


class TestFirstTouch:
    def test_new_lead_gets_a_first_touch_task(self, rules: Rules) -> None:
        [change] = plan(contact(stage=SQL, status="NEW", history=NEW_SINCE), [], rules)
        assert change.rule == "followup" and change.owner_id == "101" and not change.skip
        assert change.task is not None
        assert change.task.kind == "first_touch"
        assert change.task.subject == "First touch: Ada Lovelace"
        assert change.task.body == (
            "Ada Lovelace just became a sales-qualified lead (lead status NEW since "
            "2026-11-16 09:00 UTC). Reach out today.\n\n[leadops:first_touch]"
        )
        assert (change.task.type, change.task.priority) == ("CALL", "HIGH")
        assert change.task.due == at("2026-11-23 16:00")  # Mon 13:00 Berlin + 4 h
        assert change.reason == "lead status NEW since 2026-11-16 09:00 UTC"

    def test_unowned_contact_gets_an_unassigned_task(self, rules: Rules) -> None:
        [change] = plan(contact(status="NEW", owner=None), [], rules)
        assert change.task and change.owner_id is None
        assert change.reason == "lead status NEW"

    def test_open_first_touch_task_prevents_a_duplicate(self, rules: Rules) -> None:
        existing = task("t", "Call.\n\n[leadops:first_touch]", status="IN_PROGRESS")
        assert plan(contact(status="NEW"), [existing], rules) == []

    @pytest.mark.parametrize(
        "existing",
        [
            task("t", "Call.\n\n[leadops:first_touch]", status="COMPLETED"),
            task("t", "Call her, written by the rep"),
            task("t", "Call.\n\n[leadops:next_attempt]"),
        ],
    )
    def test_other_tasks_do_not_count(self, rules: Rules, existing: Engagement) -> None:
        [change] = plan(contact(status="NEW"), [existing], rules)
        assert change.task and change.task.kind == "first_touch"

    def test_subject_is_one_line_and_not_html_escaped(self, rules: Rules) -> None:
        record = contact(status="NEW", firstname="Tom & <Jerry>\r\nBcc:", lastname="x")
        [change] = plan(record, [], rules)
        assert change.task and change.task.subject == "First touch: Tom & <Jerry> Bcc: x"

    def test_template_variables(self) -> None:
        rules = Rules.model_validate(
            {
                "followup": {
                    "first_touch": {
                        "subject": "{{ contact.company }} / {{ contact.id }}",
                        "body": "{{ contact.email }} {{ days }} {{ attempts }}",
                    }
                }
            }
        )
        [change] = plan(contact("42", status="NEW"), [], rules)
        assert change.task and change.task.subject == "Engines Ltd / 42"
        assert change.task.body == "ada@example.com 0 0\n\n[leadops:first_touch]"

    def test_empty_body_is_just_the_marker(self) -> None:
        rules = Rules.model_validate({"followup": {"first_touch": {"body": ""}}})
        [change] = plan(contact(status="NEW"), [], rules)
        assert change.task and change.task.body == "[leadops:first_touch]"

    def test_failing_template_is_a_skip(self) -> None:
        rules = Rules.model_validate({"followup": {"first_touch": {"subject": "{{ 1 // 0 }}"}}})
        [change] = plan(contact(status="NEW"), [], rules)
        assert change.skip and "ZeroDivisionError" in change.reason


class TestNextAttempt:
    def test_idle_attempted_contact_gets_a_next_attempt_task(self, rules: Rules) -> None:
        touches = [call("c1", "2026-11-17 10:00"), email("e1", "2026-11-20 11:00")]
        [change] = plan(contact(status="ATTEMPTED_TO_CONTACT", history=ATTEMPTED), touches, rules)
        assert change.task is not None
        assert change.task.kind == "next_attempt"
        assert change.task.subject == "Try again: Ada Lovelace"
        assert change.task.body == (
            "No touch for 3 days after 2 attempt(s). Try another channel.\n\n[leadops:next_attempt]"
        )
        assert (change.task.type, change.task.priority) == ("CALL", "MEDIUM")
        assert change.task.due == at("2026-11-26 12:00")  # 24 working h: Mon 13:00 → Thu 13:00
        assert change.reason == "no outbound touch for 3 day(s) after 2 attempt(s)"

    def test_recent_touch_means_no_task(self, rules: Rules) -> None:
        touches = [call("c1", "2026-11-22 10:00")]
        assert plan(contact(status="ATTEMPTED_TO_CONTACT", history=ATTEMPTED), touches, rules) == []

    def test_inbound_activity_is_not_a_touch(self, rules: Rules) -> None:
        touches = [
            call("c1", "2026-11-17 10:00"),
            email("r", "2026-11-23 10:00", direction="INCOMING_EMAIL"),
        ]
        [change] = plan(contact(status="ATTEMPTED_TO_CONTACT", history=ATTEMPTED), touches, rules)
        assert change.task and change.task.kind == "next_attempt"

    def test_enough_attempts_means_no_task(self, rules: Rules) -> None:
        touches = [call(f"c{i}", f"2026-11-1{i} 10:00") for i in range(6, 9)]
        touches += [email("e1", "2026-11-19 10:00"), email("e2", "2026-11-20 10:00")]
        assert plan(contact(status="ATTEMPTED_TO_CONTACT", history=ATTEMPTED), touches, rules) == []

    def test_touches_before_new_do_not_count_as_attempts(self, rules: Rules) -> None:
        old = [call(f"c{i}", f"2026-11-0{i} 10:00") for i in range(1, 6)]
        [change] = plan(contact(status="ATTEMPTED_TO_CONTACT", history=ATTEMPTED), old, rules)
        assert change.task and "after 0 attempt(s)" in change.task.body

    def test_open_next_attempt_task_prevents_a_duplicate(self, rules: Rules) -> None:
        touches = [call("c1", "2026-11-17 10:00"), task("t", "x\n[leadops:next_attempt]")]
        assert plan(contact(status="ATTEMPTED_TO_CONTACT", history=ATTEMPTED), touches, rules) == []

    def test_unknown_new_time_is_a_skip(self, rules: Rules) -> None:
        [change] = plan(
            contact(status="ATTEMPTED_TO_CONTACT"), [call("c", "2026-11-17 10:00")], rules
        )
        assert change.skip and "cannot tell" in change.reason


@pytest.mark.parametrize("status", [None, "CONNECTED", "UNQUALIFIED", "OPEN_DEAL"])
def test_other_statuses_get_no_task(rules: Rules, status: str | None) -> None:
    assert plan(contact(status=status, history=NEW_SINCE), [], rules) == []


def test_fetch_needs(rules: Rules) -> None:
    groups = search_filter_groups(rules)
    assert [g[0]["value"] for g in groups] == ["NEW", "ATTEMPTED_TO_CONTACT"]
    assert "task" in ENGAGEMENT_KINDS

"""Every threshold and time window of the rules, pinned at the exact boundary on both sides.

Defaults from `lifecycle.yaml`: follow-up after 2 idle days, at most 5 attempts; recycle after
5 attempts with no answer for 14 days. `NOW` is 2026-11-23 12:00 UTC.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from config.rules import Rules
from model.changes import Change
from model.records import Engagement, Record
from rules.attempted import plan_attempted
from rules.definition import Situation
from rules.followup import plan_followups
from rules.recycle import plan_recycle

from rule_builders import CONNECTED_GUID, NOW, SQL, call, contact, email, meeting

ATTEMPTED = [("ATTEMPTED_TO_CONTACT", "2026-11-17 09:00"), ("NEW", "2026-11-16 09:00")]
RECYCLE_HISTORY = [("ATTEMPTED_TO_CONTACT", "2026-10-02 09:00"), ("NEW", "2026-10-01 09:00")]
FIVE_TOUCHES = [call(f"c{i}", f"2026-10-0{i + 1} 10:00") for i in range(1, 6)]  # Oct 2–6
FOURTEEN_DAYS_AGO = "2026-11-09 12:00:00"
JUST_BEFORE_FOURTEEN_DAYS = "2026-11-09 11:59:59"


def followups(engagements: list[Engagement], rules: Rules) -> list[Change]:
    record = contact(status="ATTEMPTED_TO_CONTACT", history=ATTEMPTED)
    situation = Situation(rules, NOW, ZoneInfo("Europe/Berlin"))
    return plan_followups([record], {record.id: engagements}, situation)


def recycled(record: Record, engagements: list[Engagement], rules: Rules) -> bool:
    changes = plan_recycle([record], {record.id: engagements}, Situation(rules, NOW))
    assert not any(c.skip for c in changes)
    return bool(changes)


def attempted(**props: str | None) -> Record:
    return contact(stage=SQL, status="ATTEMPTED_TO_CONTACT", history=RECYCLE_HISTORY, **props)


class TestFollowupIdleDays:
    def test_idle_exactly_after_days_gets_a_task(self, rules: Rules) -> None:
        [change] = followups([call("c", "2026-11-21 12:00:00")], rules)
        assert change.task and change.task.kind == "next_attempt"

    def test_idle_a_second_short_of_after_days_gets_none(self, rules: Rules) -> None:
        assert followups([call("c", "2026-11-21 12:00:01")], rules) == []


class TestFollowupMaxAttempts:
    def test_one_attempt_short_of_the_maximum_gets_a_task(self, rules: Rules) -> None:
        touches = [call(f"c{i}", f"2026-11-1{i} 10:00") for i in range(7, 10)]
        touches.append(email("e", "2026-11-20 10:00"))
        [change] = followups(touches, rules)
        assert change.task and "after 4 attempt(s)" in change.task.body

    def test_the_maximum_number_of_attempts_gets_none(self, rules: Rules) -> None:
        touches = [call(f"c{i}", f"2026-11-1{i} 10:00") for i in range(7, 10)]
        touches += [email("e1", "2026-11-20 10:00"), email("e2", "2026-11-20 11:00")]
        assert followups(touches, rules) == []


class TestRecycleAttempts:
    def test_exactly_min_attempts_is_recycled(self, rules: Rules) -> None:
        assert recycled(attempted(), FIVE_TOUCHES, rules)

    def test_one_short_of_min_attempts_is_not(self, rules: Rules) -> None:
        assert not recycled(attempted(), FIVE_TOUCHES[:4], rules)


@pytest.mark.parametrize(
    "answer_at",
    [
        lambda when: email("r", when, direction="INCOMING_EMAIL"),
        lambda when: call("c", when, disposition=CONNECTED_GUID),
        lambda when: meeting("m", when),
        lambda when: meeting("m", None, start=when),
        lambda when: meeting("m", None, created=when),
    ],
    ids=["reply", "connected-call", "meeting", "meeting-start", "meeting-booked"],
)
class TestRecycleReplyWindow:
    def test_answer_exactly_no_reply_days_ago_prevents_recycling(
        self, rules: Rules, answer_at
    ) -> None:
        assert not recycled(attempted(), [*FIVE_TOUCHES, answer_at(FOURTEEN_DAYS_AGO)], rules)

    def test_answer_a_second_before_the_window_does_not(self, rules: Rules, answer_at) -> None:
        answer = answer_at(JUST_BEFORE_FOURTEEN_DAYS)
        assert recycled(attempted(), [*FIVE_TOUCHES, answer], rules)


class TestRecycleNextActivity:
    def test_next_activity_exactly_now_does_not_hold_back(self, rules: Rules) -> None:
        record = attempted(notes_next_activity_date="2026-11-23T12:00:00Z")
        assert recycled(record, FIVE_TOUCHES, rules)

    def test_next_activity_a_second_from_now_holds_back(self, rules: Rules) -> None:
        record = attempted(notes_next_activity_date="2026-11-23T12:00:01Z")
        assert not recycled(record, FIVE_TOUCHES, rules)


class TestTouchesStrictlyAfterNew:
    """A touch logged at the very instant the lead became New is not an attempt at it."""

    def new_lead(self, touch_at: str, rules: Rules) -> list[Change]:
        record = contact(status="NEW", history=[("NEW", "2026-11-20 09:00")])
        return plan_attempted([record], {record.id: [call("c", touch_at)]}, Situation(rules, NOW))

    def test_touch_at_the_instant_of_new_is_not_an_attempt(self, rules: Rules) -> None:
        assert self.new_lead("2026-11-20 09:00:00", rules) == []

    def test_touch_a_second_later_is(self, rules: Rules) -> None:
        [change] = self.new_lead("2026-11-20 09:00:01", rules)
        assert change.properties == {"hs_lead_status": "ATTEMPTED_TO_CONTACT"}

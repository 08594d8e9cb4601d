"""The lead-status ladder's rules, planned directly: Connected, Meeting Scheduled, Open Deal,
Bad Timing, and the ladder itself (never a step back)."""

from __future__ import annotations

import pytest

from config.rules import Rules
from model.changes import Change
from model.records import DealStage, Engagement, Record
from rules.bad_timing import plan_bad_timing
from rules.connected import plan_connected
from rules.definition import Planner, Situation
from rules.ladder import can_move
from rules.meeting_scheduled import plan_meetings
from rules.open_deal import plan_open_deal
from rules.promote import plan_promote
from rules.recycle import plan_recycle
from rules.tasks import marker_of

from rule_builders import (
    CONNECTED_GUID,
    MQL,
    NOW,
    SQL,
    apply,
    at,
    call,
    contact,
    email,
    iso,
    steps_back,
    task,
)

NEW_SINCE = [("NEW", "2026-11-20 09:00")]
ATTEMPTED = [("ATTEMPTED_TO_CONTACT", "2026-11-21 09:00"), *NEW_SINCE]
STAGES = {
    ("default", "qualified"): DealStage(
        "default", "qualified", "Qualified to buy", False, 0.2, "Sales Pipeline"
    ),
    ("default", "closedlost"): DealStage("default", "closedlost", "Closed lost", True, 0.0),
    ("default", "closedwon"): DealStage("default", "closedwon", "Closed won", True, 1.0),
}


def plan(
    planner: Planner, record: Record, engagements: list[Engagement], rules: Rules
) -> list[Change]:
    return planner([record], {record.id: engagements}, Situation(rules, NOW, deal_stages=STAGES))


def meeting(
    id: str,
    start: str,
    *,
    booked: str,
    outcome: str | None = "SCHEDULED",
    end: str | None = None,
    title: str | None = "Discovery",
) -> Engagement:
    props = {
        "hs_timestamp": iso(at(start)),
        "hs_meeting_start_time": iso(at(start)),
        "hs_meeting_end_time": iso(at(end)) if end else None,
        "hs_createdate": iso(at(booked)),
        "hs_meeting_outcome": outcome,
        "hs_meeting_title": title,
    }
    return Engagement(id, "meeting", props)


def deal(id: str, stage: str, pipeline: str = "default") -> Engagement:
    return Engagement(
        id, "deal", {"dealname": f"Deal {id}", "dealstage": stage, "pipeline": pipeline}
    )


def new_lead(status: str = "NEW", history: list = NEW_SINCE, **props: str | None) -> Record:
    return contact(stage=SQL, status=status, history=history, **props)


class TestConnected:
    def test_a_reply_after_an_outbound_touch_connects(self, rules: Rules) -> None:
        touches = [
            email("out", "2026-11-21 09:00"),
            email("in", "2026-11-22 10:00", direction="INCOMING_EMAIL"),
        ]
        [change] = plan(plan_connected, new_lead(), touches, rules)
        assert change.properties == {"hs_lead_status": "CONNECTED"}
        assert change.before == {"hs_lead_status": "NEW"}
        assert change.reason == (
            "reply after an outbound email on 2026-11-21 09:00 UTC on 2026-11-22 10:00 UTC"
        )

    def test_attempted_contacts_connect_too(self, rules: Rules) -> None:
        touches = [
            call("c", "2026-11-21 09:00"),
            email("in", "2026-11-22 10:00", direction="INCOMING_EMAIL"),
        ]
        [change] = plan(plan_connected, new_lead("ATTEMPTED_TO_CONTACT", ATTEMPTED), touches, rules)
        assert change.before == {"hs_lead_status": "ATTEMPTED_TO_CONTACT"}

    @pytest.mark.parametrize("direction", ["INBOUND", "OUTBOUND"])
    def test_a_connected_call_in_either_direction_connects(
        self, rules: Rules, direction: str
    ) -> None:
        connected = call("c", "2026-11-22 10:00", direction=direction, disposition=CONNECTED_GUID)
        [change] = plan(plan_connected, new_lead(), [connected], rules)
        assert change.reason == f"connected {direction.lower()} call on 2026-11-22 10:00 UTC"

    @pytest.mark.parametrize(
        "engagements",
        [
            [email("in", "2026-11-22 10:00", direction="INCOMING_EMAIL")],  # no outbound touch
            [
                email("in", "2026-11-21 08:00", direction="INCOMING_EMAIL"),
                email("out", "2026-11-21 09:00"),
            ],
            [
                email("out", "2026-11-19 09:00"),
                email("in", "2026-11-19 10:00", direction="INCOMING_EMAIL"),
            ],
            [call("c", "2026-11-19 10:00", disposition=CONNECTED_GUID)],  # before New
            [call("c", "2026-11-22 10:00")],  # no answer
        ],
    )
    def test_what_does_not_connect(self, rules: Rules, engagements: list[Engagement]) -> None:
        assert plan(plan_connected, new_lead(), engagements, rules) == []

    @pytest.mark.parametrize(
        "status", ["MEETING_SCHEDULED", "OPEN_DEAL", "UNQUALIFIED", "BAD_TIMING", "CONNECTED"]
    )
    def test_higher_rungs_and_outcomes_stay(self, rules: Rules, status: str) -> None:
        connected = call("c", "2026-11-22 10:00", disposition=CONNECTED_GUID)
        assert plan(plan_connected, new_lead(status), [connected], rules) == []

    def test_each_sign_can_be_switched_off(self, rules: Rules) -> None:
        quiet = rules.model_copy(
            update={"connected": rules.connected.model_copy(update={"on_connected_call": False})}
        )
        connected = call("c", "2026-11-22 10:00", disposition=CONNECTED_GUID)
        assert plan(plan_connected, new_lead(), [connected], quiet) == []

    def test_the_old_attempted_option_names_its_new_home(self) -> None:
        with pytest.raises(ValueError, match="moved to the `connected` rule"):
            Rules.model_validate({"attempted": {"connected_calls_to_connected": True}})


class TestMeetingScheduled:
    def test_a_future_meeting_moves_up(self, rules: Rules) -> None:
        future = meeting("m", "2026-11-25 15:00", booked="2026-11-10 09:00")  # booked before New
        [change] = plan(plan_meetings, new_lead("CONNECTED"), [future], rules)
        assert change.properties == {"hs_lead_status": "MEETING_SCHEDULED"}
        assert change.reason == "meeting 'Discovery' on 2026-11-25 15:00 UTC is booked"

    def test_a_past_meeting_booked_since_new_moves_up(self, rules: Rules) -> None:
        held = meeting("m", "2026-11-22 15:00", booked="2026-11-21 09:00", outcome="COMPLETED")
        [change] = plan(plan_meetings, new_lead(), [held], rules)
        assert change.reason.endswith("booked on 2026-11-21 09:00 UTC")

    @pytest.mark.parametrize("outcome", ["CANCELED", "NO_SHOW"])
    def test_canceled_or_missed_meetings_do_not_count(self, rules: Rules, outcome: str) -> None:
        future = meeting("m", "2026-11-25 15:00", booked="2026-11-21 09:00", outcome=outcome)
        assert plan(plan_meetings, new_lead(), [future], rules) == []

    def test_an_old_meeting_booked_before_new_does_not_count(self, rules: Rules) -> None:
        old = meeting("m", "2026-11-12 15:00", booked="2026-11-10 09:00", outcome="COMPLETED")
        assert plan(plan_meetings, new_lead(), [old], rules) == []

    def test_open_deal_is_never_moved_back(self, rules: Rules) -> None:
        future = meeting("m", "2026-11-25 15:00", booked="2026-11-21 09:00")
        assert plan(plan_meetings, new_lead("OPEN_DEAL"), [future], rules) == []

    def test_a_meeting_that_ended_without_outcome_gets_one_task(self, rules: Rules) -> None:
        ended = meeting(
            "m7",
            "2026-11-22 15:00",
            booked="2026-11-21 09:00",
            outcome=None,
            end="2026-11-22 15:30",
        )
        record = new_lead(
            "MEETING_SCHEDULED", [("MEETING_SCHEDULED", "2026-11-21 09:00"), *NEW_SINCE]
        )
        [change] = plan(plan_meetings, record, [ended], rules)
        assert change.task is not None and change.task.kind == "meeting_outcome"
        assert change.task.body.endswith("[leadops:meeting_outcome:m7]")
        assert marker_of(change.task) == "[leadops:meeting_outcome:m7]"  # the journal's key
        assert "'Discovery' on 2026-11-22 15:00 UTC" in change.task.body
        after = apply([record], {record.id: [ended]}, [change])
        assert plan_meetings(after.contacts, after.engagements, Situation(rules, NOW)) == []

    def test_a_done_outcome_task_is_not_made_again(self, rules: Rules) -> None:
        ended = meeting("m7", "2026-11-22 15:00", booked="2026-11-21 09:00", outcome="SCHEDULED")
        done = task("t", "Record it\n[leadops:meeting_outcome:m7]", status="COMPLETED")
        record = new_lead(
            "MEETING_SCHEDULED", [("MEETING_SCHEDULED", "2026-11-21 09:00"), *NEW_SINCE]
        )
        assert plan(plan_meetings, record, [ended, done], rules) == []

    def test_a_recorded_outcome_needs_no_task(self, rules: Rules) -> None:
        ended = meeting("m7", "2026-11-22 15:00", booked="2026-11-21 09:00", outcome="COMPLETED")
        record = new_lead(
            "MEETING_SCHEDULED", [("MEETING_SCHEDULED", "2026-11-21 09:00"), *NEW_SINCE]
        )
        assert plan(plan_meetings, record, [ended], rules) == []


class TestOpenDeal:
    def test_an_open_deal_moves_up(self, rules: Rules) -> None:
        [change] = plan(plan_open_deal, new_lead("CONNECTED"), [deal("d1", "qualified")], rules)
        assert change.properties == {"hs_lead_status": "OPEN_DEAL"}
        assert change.reason == "open deal 'Deal d1' in stage 'Qualified to buy' (Sales Pipeline)"

    @pytest.mark.parametrize("status", ["UNQUALIFIED", "BAD_TIMING", "OPEN_DEAL", "IN_PROGRESS"])
    def test_outcomes_and_unknown_statuses_stay(self, rules: Rules, status: str) -> None:
        assert plan(plan_open_deal, new_lead(status), [deal("d1", "qualified")], rules) == []

    def test_closed_deals_alone_change_nothing(self, rules: Rules) -> None:
        deals = [deal("d1", "closedlost"), deal("d2", "closedwon")]
        assert plan(plan_open_deal, new_lead("CONNECTED"), deals, rules) == []

    def test_a_stage_no_pipeline_lists_is_a_skip_naming_it(self, rules: Rules) -> None:
        [change] = plan(plan_open_deal, new_lead(), [deal("d1", "gone", "p9")], rules)
        assert change.skip and "'gone' of pipeline 'p9'" in change.reason

    def test_optionally_the_stage_moves_to_opportunity(self, rules: Rules) -> None:
        syncing = rules.model_copy(
            update={
                "open_deal": rules.open_deal.model_copy(update={"lifecycle_to_opportunity": True})
            }
        )
        [change] = plan(plan_open_deal, new_lead(), [deal("d1", "qualified")], syncing)
        assert change.properties == {"hs_lead_status": "OPEN_DEAL", "lifecyclestage": "opportunity"}
        customer = contact(stage="customer", status="CONNECTED")
        [change] = plan(plan_open_deal, customer, [deal("d1", "qualified")], syncing)
        assert "lifecyclestage" not in change.properties


class TestBadTiming:
    SET = (("BAD_TIMING", "2026-10-01 09:00"), ("CONNECTED", "2026-09-20 09:00"))

    def test_a_reapproach_task_once_the_days_passed(self, rules: Rules) -> None:
        record = new_lead("BAD_TIMING", list(self.SET))
        [change] = plan(plan_bad_timing, record, [], rules)
        assert change.task is not None and change.task.kind == "reapproach"
        assert change.task.subject == "Re-approach: Ada Lovelace"
        assert change.reason == "lead status BAD_TIMING since 2026-10-01 09:00 UTC (53 days)"
        after = apply([record], {}, [change])
        assert plan_bad_timing(after.contacts, after.engagements, Situation(rules, NOW)) == []

    def test_not_before_the_days_passed(self, rules: Rules) -> None:
        record = new_lead("BAD_TIMING", [("BAD_TIMING", "2026-11-01 09:00")])
        assert plan(plan_bad_timing, record, [], rules) == []

    def test_a_done_task_is_never_made_again(self, rules: Rules) -> None:
        record = new_lead("BAD_TIMING", list(self.SET))
        ref = int(at("2026-10-01 09:00").timestamp() * 1000)
        done = task("t", f"Ask again\n[leadops:reapproach:{ref}]", status="COMPLETED")
        assert plan(plan_bad_timing, record, [done], rules) == []

    def test_set_again_later_gets_a_new_task(self, rules: Rules) -> None:
        ref = int(at("2026-10-01 09:00").timestamp() * 1000)
        done = task("t", f"[leadops:reapproach:{ref}]", status="COMPLETED")
        again = [("BAD_TIMING", "2026-10-10 09:00"), ("CONNECTED", "2026-10-05 09:00"), *self.SET]
        [change] = plan(plan_bad_timing, new_lead("BAD_TIMING", again), [done], rules)
        assert change.task is not None

    def test_without_history_it_is_a_skip(self, rules: Rules) -> None:
        [change] = plan(plan_bad_timing, new_lead("BAD_TIMING", []), [], rules)
        assert change.skip and "no hs_lead_status history" in change.reason


class TestLadder:
    @pytest.mark.parametrize(
        ("status", "target", "allowed"),
        [
            (None, "NEW", True),
            ("NEW", "CONNECTED", True),
            ("CONNECTED", "ATTEMPTED_TO_CONTACT", False),
            ("OPEN_DEAL", "MEETING_SCHEDULED", False),
            ("UNQUALIFIED", "CONNECTED", False),
            ("IN_PROGRESS", "CONNECTED", False),
        ],
    )
    def test_moves_only_up(
        self, rules: Rules, status: str | None, target: str, allowed: bool
    ) -> None:
        assert can_move(contact(status=status), target, rules) is allowed

    def test_outcomes_belong_to_their_rules(self, rules: Rules) -> None:
        assert steps_back("attempted", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", rules)
        assert steps_back("meeting_scheduled", "OPEN_DEAL", "MEETING_SCHEDULED", rules)
        assert not steps_back("recycle", "UNQUALIFIED", "", rules)

    def test_promote_keeps_a_status_a_person_set(self, rules: Rules) -> None:
        mql = contact(stage=MQL, status="CONNECTED", lead_score="90")
        [change] = plan(plan_promote, mql, [], rules)
        assert change.properties == {"lifecyclestage": SQL}


def test_bad_timing_contacts_are_never_recycled_however_exhausted(rules: Rules) -> None:
    touches = [call(f"c{n}", f"2026-10-0{n} 09:00") for n in range(1, 7)]
    exhausted = new_lead(
        "BAD_TIMING", [("BAD_TIMING", "2026-10-08 09:00"), ("NEW", "2026-09-20 09:00")]
    )
    assert plan(plan_recycle, exhausted, touches, rules) == []
    attempted = new_lead(
        "ATTEMPTED_TO_CONTACT",
        [("ATTEMPTED_TO_CONTACT", "2026-10-01 10:00"), ("NEW", "2026-09-20 09:00")],
    )
    assert plan(plan_recycle, attempted, touches, rules) != []  # the same touches recycle others

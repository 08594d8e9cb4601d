"""Incremental triggers: what each rule declares, and deadlines that are exact — before a
contact's deadline, time alone never changes the rule's decision about it."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from config.rules import Rules, load_rules
from model.records import Engagement, Record
from rules import followup, recycle
from rules.definition import Situation
from rules.registry import RULES
from rules.triggers import (
    DeadlinePassed,
    engagement_kinds,
    next_deadlines,
    rule_config_hash,
)

from rule_builders import CONNECTED_GUID, NOW, SQL, call, contact, email, iso, meeting

RULES_FILE = load_rules()
# Short deadlines, so that random engagements often fall near them
SHORT = RULES_FILE.model_copy(
    update={
        "followup": RULES_FILE.followup.model_copy(
            update={
                "next_attempt": RULES_FILE.followup.next_attempt.model_copy(
                    update={"after_days": 1, "max_attempts": 3}
                )
            }
        ),
        "recycle": RULES_FILE.recycle.model_copy(update={"min_attempts": 2, "no_reply_days": 2}),
    }
)
HOUR = timedelta(hours=1)
NEW_AT = NOW - timedelta(days=20)
HISTORY = [("ATTEMPTED_TO_CONTACT", iso(NEW_AT + HOUR)[:16]), ("NEW", iso(NEW_AT)[:16])]


def attempted(status: str = "ATTEMPTED_TO_CONTACT", **props: str | None) -> Record:
    history = [(value, when.replace("T", " ")) for value, when in HISTORY]
    if status != history[0][0]:  # set after the attempts
        history.insert(0, (status, history[0][1]))
    return contact(stage=SQL, status=status, history=history, **props)


def test_rules_declare_what_may_change_their_decisions() -> None:
    assert not RULES["promote"].triggers and RULES["promote"].incremental  # event-based
    assert engagement_kinds(RULES["attempted"].triggers) == ("email", "call")
    assert engagement_kinds(RULES["followup"].triggers) == ("email", "call", "task")
    assert engagement_kinds(RULES["recycle"].triggers) == ("email", "call", "meeting")
    timed = {n for n, r in RULES.items() if any(isinstance(t, DeadlinePassed) for t in r.triggers)}
    assert timed == {"followup", "recycle", "meeting_scheduled", "bad_timing"}


def test_followup_deadline_is_the_last_touch_plus_after_days() -> None:
    touch = call("c1", "2026-11-22 10:00")
    due = followup.next_deadline(attempted(), [touch], Situation(RULES_FILE, NOW))
    assert due == touch.timestamp + timedelta(days=RULES_FILE.followup.next_attempt.after_days)


def test_recycle_deadline_is_when_the_last_answer_grows_old_or_a_hold_ends() -> None:
    reply = email("e1", "2026-11-20 10:00", direction="INCOMING_EMAIL")
    window = timedelta(days=RULES_FILE.recycle.no_reply_days)
    due = recycle.next_deadline(attempted(), [reply], Situation(RULES_FILE, NOW))
    assert due is not None and reply.timestamp + window < due <= reply.timestamp + window + HOUR
    hold = attempted(notes_next_activity_date="2026-11-24T09:00:00Z")
    assert recycle.next_deadline(hold, [], Situation(RULES_FILE, NOW)) == NOW + timedelta(hours=21)
    # An Unqualified lead with a planned activity is held back until then, not forever
    held = attempted("UNQUALIFIED", notes_next_activity_date="2026-11-24T09:00:00Z")
    assert recycle.next_deadline(held, [reply], Situation(RULES_FILE, NOW)) == NOW + 21 * HOUR


def test_contacts_without_a_future_deadline_get_none() -> None:
    past = call("c1", "2026-01-01 10:00")
    found = next_deadlines(
        RULES["followup"].triggers,
        [attempted(), contact("2", stage=SQL, status="NEW")],
        {"1": [past]},
        Situation(RULES_FILE, NOW),
    )
    assert found == {"1": None, "2": None}


def test_a_rules_change_touches_only_the_rules_it_configures() -> None:
    names = list(RULES)
    lower = RULES_FILE.model_copy(
        update={"promote": RULES_FILE.promote.model_copy(update={"threshold": 10})}
    )
    before = {name: rule_config_hash(RULES_FILE, name, names) for name in names}
    after = {name: rule_config_hash(lower, name, names) for name in names}
    assert {name for name in names if before[name] != after[name]} == {"promote"}


def _engagement(kind: str, n: int, when: datetime) -> Engagement:
    text = iso(when)[:16].replace("T", " ")
    match kind:
        case "touch":
            return call(f"t{n}", text)
        case "email":
            return email(f"e{n}", text)
        case "reply":
            return email(f"r{n}", text, direction="INCOMING_EMAIL")
        case "connected":
            return call(f"k{n}", text, disposition=CONNECTED_GUID)
        case _:
            return meeting(f"m{n}", text)


engagement_lists = st.lists(
    st.tuples(
        st.sampled_from(("touch", "email", "reply", "connected", "meeting")),
        st.integers(-4 * 24, 24),  # hours from now
    ),
    max_size=8,
)


def _decision(rule: str, record: Record, engagements: list[Engagement], now: datetime) -> list:
    planned = RULES[rule].plan([record], {record.id: engagements}, Situation(SHORT, now))
    return [(c.key, c.properties, c.list_name) for c in planned]


@settings(max_examples=150, deadline=None)
@given(
    found=engagement_lists,
    minutes=st.integers(1, 59),
    next_activity=st.one_of(st.none(), st.integers(-48, 72)),
    rule=st.sampled_from(("followup", "recycle")),
    status=st.sampled_from(("ATTEMPTED_TO_CONTACT", "UNQUALIFIED")),
)
def test_time_alone_changes_no_decision_before_the_deadline(
    found: list[tuple[str, int]], minutes: int, next_activity: int | None, rule: str, status: str
) -> None:
    rules: Rules = SHORT
    engagements = [_engagement(kind, n, NOW + h * HOUR) for n, (kind, h) in enumerate(found)]
    extra = {}
    if next_activity is not None:
        extra["notes_next_activity_date"] = iso(NOW + next_activity * HOUR)
    record = attempted(status, **extra)
    situation = Situation(rules, NOW)
    deadline = next_deadlines(RULES[rule].triggers, [record], {"1": engagements}, situation)["1"]
    now_decision = _decision(rule, record, engagements, NOW)
    for hours in range(5 * 24):  # every hour of the next five days (off the hour)
        later = NOW + timedelta(hours=hours, minutes=minutes)
        if deadline is not None and later >= deadline:
            break
        assert _decision(rule, record, engagements, later) == now_decision, later

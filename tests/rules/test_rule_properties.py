"""Property-based checks over every rule: never raises, idempotent, stages only move forward
(except recycle), lead statuses only move up the ladder, and `due_at` counts exactly the
working hours asked for."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from config.rules import BusinessHours, Rules, load_rules
from model.records import STAGE_ORDER, DealStage, Engagement, Record
from rules.definition import Situation
from rules.registry import RULES
from rules.tasks import due_at

from rule_builders import NOW, apply, iso, steps_back

DEFAULT = load_rules()
EAGER = Rules.model_validate(  # reaches the time- and count-based branches more often
    {
        "connected": {"on_reply": True, "on_connected_call": True},
        "open_deal": {"lifecycle_to_opportunity": True},
        "bad_timing": {"reapproach_days": 1},
        "followup": {"next_attempt": {"after_days": 1, "max_attempts": 3}},
        "recycle": {"min_attempts": 1, "no_reply_days": 2, "lead_status": "BAD_TIMING"},
    }
)
MULTI = Rules.model_validate(  # promote and qualify on groups of conditions, every operator
    {
        "promote": {
            "when": [
                [
                    {"property": "lead_score", "op": ">=", "value": 30},
                    {"property": "product_interest", "op": "not-in", "value": ["hardware"]},
                ],
                [
                    {"property": "lead_score", "op": "<", "value": 0},
                    {"property": "product_interest", "op": "has"},
                ],
                [{"property": "product_interest", "op": "in", "value": ["crm", "payments"]}],
                [{"property": "lead_score", "op": "=", "value": 49.9}],
            ]
        },
        "qualify": {
            "enabled": True,
            "subscribers": True,
            "when": [
                [
                    {"property": "lead_score", "op": ">", "value": 10},
                    {"property": "lead_score", "op": "<=", "value": 60},
                    {"property": "product_interest", "op": "!=", "value": "hardware"},
                ],
                [{"property": "lead_score", "op": "not-has"}, {"property": "email", "op": "has"}],
                [{"property": "lead_score", "op": "!=", "value": 50}],
            ],
        },
    }
)
TZ = ZoneInfo("Europe/Berlin")
PLANNERS = {name: rule.plan for name, rule in RULES.items()}
DEAL_STAGES = {
    ("default", "qualified"): DealStage("default", "qualified", "Qualified", closed=False),
    ("default", "closedlost"): DealStage("default", "closedlost", "Closed lost", closed=True),
}


def situation(rules: Rules) -> Situation:
    return Situation(rules, NOW, TZ, DEAL_STAGES)


times = st.datetimes(
    min_value=datetime(2026, 9, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


def value(*meaningful: str) -> st.SearchStrategy[str | None]:
    """Mostly a meaningful value; else an arbitrary string, a timestamp string, or nothing."""
    noise = st.one_of(
        st.text(max_size=12),
        times.map(iso),
        times.map(lambda t: str(int(t.timestamp() * 1000))),
        st.none(),
    )
    if not meaningful:
        return noise
    return st.one_of(st.sampled_from(meaningful), st.sampled_from(meaningful), noise)


def rarely(strategy: st.SearchStrategy[str | None]) -> st.SearchStrategy[str | None]:
    """Mostly unset (so contacts are not always held back), sometimes `strategy`."""
    return st.one_of(st.none(), st.none(), st.none(), strategy)


# Hypothesis favours the first values: the stages and statuses the rules act on come first.
stages = value("marketingqualifiedlead", "salesqualifiedlead", *STAGE_ORDER, "other", "12345")
statuses = st.one_of(
    value("ATTEMPTED_TO_CONTACT", "NEW", "UNQUALIFIED", "IN_PROGRESS"),
    value(*DEFAULT.lead_status.model_dump().values()),
)
history = st.lists(st.tuples(statuses, st.one_of(times, st.none())), max_size=4).map(
    lambda versions: tuple(sorted(versions, key=lambda v: v[1] or NOW, reverse=True))
)


CONTACT_VALUES = {
    "firstname": value("Ada"),
    "lastname": value("Lovelace"),
    "email": value("ada@example.com"),
    "hubspot_owner_id": value("101", "archived-7"),
    "lifecyclestage": stages,
    "hs_lead_status": statuses,
    "lead_score": value("72", "50", "49.9", "n/a", "nan", "inf", "12abc"),
    "hs_lifecyclestage_salesqualifiedlead_date": value(),
    "hs_sequences_is_enrolled": rarely(value("false", "true")),
    "notes_next_activity_date": rarely(value()),
    "num_associated_deals": rarely(value("0", "1", "2.0")),
    "product_interest": value("crm", "analytics;payments", "hardware"),
}
timestamps = st.one_of(times.map(iso), times.map(iso), value())


ENGAGEMENT_VALUES = {
    "email": {
        "hs_email_direction": value("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
        "hs_email_status": value("SENT", "BOUNCED", "FAILED", "SCHEDULED"),
    },
    "call": {
        "hs_call_direction": value("OUTBOUND", "INBOUND"),
        "hs_call_status": value("COMPLETED", "NO_ANSWER", "CANCELED"),
        "hs_call_disposition": value(*DEFAULT.connected.call_dispositions),
    },
    "meeting": {
        "hs_meeting_start_time": value(),
        "hs_meeting_end_time": value(),
        "hs_meeting_outcome": value("SCHEDULED", "COMPLETED", "CANCELED", "NO_SHOW"),
        "hs_createdate": value(),
    },
    "task": {
        "hs_task_body": value(
            "x\n[leadops:first_touch]",
            "[leadops:next_attempt]",
            "[leadops:meeting_outcome:0-1] [leadops:meeting_outcome:1-2]",
            "[leadops:reapproach:1790000000000]",
        ),
        "hs_task_status": value("NOT_STARTED", "COMPLETED", "IN_PROGRESS"),
    },
    "deal": {
        "pipeline": value("default", "other"),
        "dealstage": value("qualified", "closedlost", "gone"),
        "dealname": value("Renewal"),
    },
}


CONTACT_DATA = st.fixed_dictionaries(CONTACT_VALUES)
ENGAGEMENT_DATA = {
    kind: st.fixed_dictionaries({**values, "hs_timestamp": timestamps})
    for kind, values in ENGAGEMENT_VALUES.items()
}
KINDS = st.sampled_from(sorted(ENGAGEMENT_DATA))


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Record], dict[str, list[Engagement]]]:
    """1–4 contacts with arbitrary-ish properties and history, 0–10 engagements each."""
    records, activity = [], {}
    for i in range(draw(st.integers(1, 4))):
        props = draw(CONTACT_DATA)
        if draw(st.booleans()):  # coherent: New at t0, the current status since t1
            t0, t1 = sorted((draw(times), draw(times)))
            versions = ((props["hs_lead_status"], t1), ("NEW", t0))
        else:
            versions = draw(history)
        record = Record(str(i), props, {"hs_lead_status": versions})
        records.append(record)
        activity[record.id] = [
            Engagement(f"{i}-{n}", kind, draw(ENGAGEMENT_DATA[kind]))
            for n, kind in enumerate(draw(st.lists(KINDS, max_size=10)))
        ]
    return records, activity


World = tuple[list[Record], dict[str, list[Engagement]]]
rule_sets = st.sampled_from([DEFAULT, EAGER, MULTI])


@settings(max_examples=200, deadline=None)
@given(worlds(), rule_sets)
def test_planning_never_raises_and_changes_are_well_formed(world: World, rules: Rules) -> None:
    records, activity = world
    names = {r.id: r.name for r in records}
    for rule, planner in PLANNERS.items():
        for change in planner(records, activity, situation(rules)):
            assert change.rule == rule
            assert change.contact_name == names[change.contact_id]
            effects = [bool(change.properties), change.task is not None, change.list_name]
            assert sum(map(bool, effects)) == (0 if change.skip else 1)
            assert change.reason


@settings(max_examples=200, deadline=None)
@given(worlds(), rule_sets)
def test_replanning_after_applying_plans_nothing(world: World, rules: Rules) -> None:
    records, activity = world
    for rule, planner in PLANNERS.items():
        after = apply(records, activity, planner(records, activity, situation(rules)))
        again = planner(after.contacts, after.engagements, situation(rules))
        assert [c for c in again if not c.skip] == [], rule


@settings(max_examples=200, deadline=None)
@given(worlds(), rule_sets)
def test_only_recycle_moves_a_stage_backward_and_only_from_mql_sql_or_none(
    world: World, rules: Rules
) -> None:
    records, activity = world
    for rule, planner in PLANNERS.items():
        for change in planner(records, activity, situation(rules)):
            if "lifecyclestage" not in change.properties:
                continue
            before = change.before["lifecyclestage"]
            after = change.properties["lifecyclestage"]
            if rule == "recycle":
                # No stage: a recycle that cleared the stage but could not set it, resumed.
                assert before in ("marketingqualifiedlead", "salesqualifiedlead", None)
                assert after == "lead"
            else:
                assert STAGE_ORDER.index(after) > STAGE_ORDER.index(before or ""), rule


@settings(max_examples=200, deadline=None)
@given(worlds(), rule_sets)
def test_no_rule_moves_a_lead_status_down_the_ladder_or_off_an_outcome(
    world: World, rules: Rules
) -> None:
    records, activity = world
    for rule, planner in PLANNERS.items():
        for change in planner(records, activity, situation(rules)):
            if "hs_lead_status" in change.properties:
                before, after = change.before["hs_lead_status"], change.properties["hs_lead_status"]
                assert not steps_back(rule, before, after, rules), (rule, before, after)


business_hours = st.builds(
    BusinessHours,
    start=st.integers(5, 12).map(time),
    end=st.integers(13, 22).map(time),
    skip_weekends=st.booleans(),
)
zones = st.sampled_from(
    ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe"]
).map(ZoneInfo)
starts = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


def working_time(start: datetime, end: datetime, hours: BusinessHours, tz: ZoneInfo) -> timedelta:
    """Working time between two instants, summed day by day (independent of due_at's loop)."""
    total, day = timedelta(), start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        if not (hours.skip_weekends and day.weekday() >= 5):
            opens = datetime.combine(day, hours.start, tzinfo=tz).astimezone(UTC)
            closes = datetime.combine(day, hours.end, tzinfo=tz).astimezone(UTC)
            total += max(timedelta(), min(closes, end) - max(opens, start))
        day += timedelta(days=1)
    return total


@settings(max_examples=500, deadline=None)
@given(starts, st.floats(0, 200), business_hours, zones)
def test_due_at_counts_exactly_the_working_hours(
    start: datetime, hours: float, opening: BusinessHours, tz: ZoneInfo
) -> None:
    due = due_at(start, hours, opening, tz)
    assert due.tzinfo == UTC and due >= start
    local = due.astimezone(tz)
    assert opening.start <= local.time().replace(tzinfo=None) <= opening.end
    if opening.skip_weekends:
        assert local.weekday() < 5
    assert abs(working_time(start, due, opening, tz) - timedelta(hours=hours)) < timedelta(
        microseconds=10
    )

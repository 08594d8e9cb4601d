"""The lead report's numbers from hand-made histories: percentiles, score bands, outcomes, and
a small portal whose every median, rate and band is worked out by hand below."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from config.report import ReportSettings
from config.rules import ConfigError, Rules, parse_rules
from insights.build import ReportBuilder
from insights.outcomes import ladder_level, outcome_now
from insights.stats import median, percentile, rate
from model.records import Engagement, Owner, Record

SINCE = datetime(2026, 9, 1, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SQL, OPP, LEAD = "salesqualifiedlead", "opportunity", "lead"
OWNERS = {
    "101": Owner("101", "ann@example.com", "Ann", "Ames"),
    "102": Owner("102", "bo@x.io", "Bo"),
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def contact(
    id: str,
    owner: str | None,
    *,
    stages: Sequence[tuple[str, str]] = (),
    statuses: Sequence[tuple[str, str]] = (),
    score: str | None = None,
) -> Record:
    """A contact whose stage and lead-status histories are given oldest first ("" clears);
    its current values are the last versions."""
    stage = stages[-1][0] if stages else None
    status = (statuses[-1][0] or None) if statuses else None
    props = {"firstname": f"C{id}", "lifecyclestage": stage, "hs_lead_status": status}
    props |= {"hubspot_owner_id": owner, "lead_score": score}
    history = {
        "lifecyclestage": tuple((v, at(t)) for v, t in reversed(stages)),
        "hs_lead_status": tuple((v or None, at(t)) for v, t in reversed(statuses)),
    }
    return Record(id, props, history)


def call(id: str, when: str) -> Engagement:
    props = {"hs_timestamp": at(when).isoformat(), "hs_call_direction": "OUTBOUND"}
    return Engagement(id, "call", props | {"hs_call_status": "COMPLETED"})


def email(id: str, when: str) -> Engagement:
    props = {"hs_timestamp": at(when).isoformat(), "hs_email_direction": "EMAIL"}
    return Engagement(id, "email", props | {"hs_email_status": "SENT"})


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 0.5, 2.5),
        ([1, 2, 3, 4], 0.9, 3.7),
        ([10, 0, 5], 0.5, 5),
        ([5], 0.9, 5),
        (list(range(1, 11)), 0.9, 9.1),
        ([], 0.5, None),
    ],
)
def test_percentiles_interpolate_between_ranks(values: list[float], q: float, expected) -> None:
    assert (
        percentile(values, q) == pytest.approx(expected)
        if expected
        else percentile(values, q) is None
    )


def test_median_and_rate() -> None:
    assert median([3, 1, 2]) == 2
    assert rate(1, 3) == 0.3333 and rate(0, 0) is None


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (None, "no score"),
        (-1, "< 0"),
        (0, "0–25"),
        (24.9, "0–25"),
        (25, "25–50"),
        (50, "50–75"),
        (99.99, "75–100"),
        (100, "≥ 100"),
        (250, "≥ 100"),
    ],
)
def test_scores_fall_in_bands_by_lower_edge(score: float | None, band: str) -> None:
    assert ReportSettings().band_of(score) == band


def test_what_if_thresholds_stay_positive() -> None:
    assert ReportSettings().thresholds_around(50) == [30, 40, 50, 60, 70]
    assert ReportSettings().thresholds_around(15) == [5, 15, 25, 35]


@pytest.mark.parametrize(
    ("stage", "status", "outcome"),
    [
        ("customer", "CONNECTED", "customer"),
        ("opportunity", None, "open_deal"),
        (SQL, "OPEN_DEAL", "open_deal"),
        (LEAD, None, "recycled"),
        (None, None, "recycled"),
        (SQL, "ATTEMPTED_TO_CONTACT", "attempted"),
        (SQL, "CONNECTED", "connected"),
        (SQL, "MEETING_SCHEDULED", "meeting_scheduled"),
        (SQL, "UNQUALIFIED", "unqualified"),
        (SQL, "NEW", "new"),
        (SQL, "BAD_TIMING", "other"),
        (SQL, None, "other"),
    ],
)
def test_what_an_sql_is_now(stage: str | None, status: str | None, outcome: str) -> None:
    record = Record("1", {"lifecyclestage": stage, "hs_lead_status": status})
    assert outcome_now(record, Rules()) == outcome


def test_meeting_status_name_comes_from_the_config() -> None:
    rules = parse_rules({"report": {"meeting_scheduled_status": "DEMO_BOOKED"}})
    record = Record("1", {"lifecyclestage": SQL, "hs_lead_status": "DEMO_BOOKED"})
    assert outcome_now(record, rules) == "meeting_scheduled"
    assert ladder_level(record, rules) == 2


def test_ladder_counts_what_the_history_ever_reached() -> None:
    was_in_a_deal = contact(
        "1",
        "101",
        stages=[(SQL, "2026-10-01 00:00"), (OPP, "2026-10-03 00:00"), (LEAD, "2026-10-09 00:00")],
    )
    assert ladder_level(was_in_a_deal, Rules()) == 3
    assert outcome_now(was_in_a_deal, Rules()) == "recycled"


def portal() -> tuple[list[Record], dict[str, list[Engagement]], list[Record]]:
    a = contact(
        "1",
        "101",
        score="80",
        stages=[(SQL, "2026-10-05 10:00"), (OPP, "2026-10-20 00:00")],
        statuses=[
            ("NEW", "2026-10-05 10:00"),
            ("ATTEMPTED_TO_CONTACT", "2026-10-05 14:00"),
            ("CONNECTED", "2026-10-07 14:00"),
        ],
    )
    b = contact(
        "2",
        "101",
        score="40",
        stages=[(SQL, "2026-10-10 09:00")],
        statuses=[("NEW", "2026-10-10 09:00"), ("ATTEMPTED_TO_CONTACT", "2026-10-12 09:00")],
    )
    c = contact(
        "3",
        "102",
        score="60",
        stages=[(SQL, "2026-11-20 12:00")],
        statuses=[("NEW", "2026-11-20 12:00")],
    )
    d = contact(
        "4", "102", stages=[(SQL, "2026-11-23 00:00")], statuses=[("NEW", "2026-11-23 00:00")]
    )
    e = contact(
        "5",
        "101",
        score="55",
        stages=[(SQL, "2026-09-15 00:00"), (LEAD, "2026-10-01 00:00")],
        statuses=[
            ("NEW", "2026-09-15 00:00"),
            ("UNQUALIFIED", "2026-09-20 00:00"),
            ("", "2026-10-01 00:00"),
        ],
    )
    f = contact(
        "6", None, stages=[(SQL, "2026-08-01 00:00")], statuses=[("NEW", "2026-08-01 00:00")]
    )
    touches = {
        "1": [call("c1", "2026-10-05 13:00")],
        "2": [email("e2", "2026-10-12 08:00")],
        "5": [call("c5", "2026-09-15 06:00")],
        "3": [call("late", "2026-11-24 00:00")],
    }
    mqls = [
        Record(str(n), {"lifecyclestage": "marketingqualifiedlead", "lead_score": s})
        for n, s in enumerate(["45", "50", "72", None, "n/a"], start=20)
    ]
    return [a, b, c, d, e, f], touches, mqls


def built(batch_size: int = 100) -> dict[str, list[dict]]:
    contacts, touches, mqls = portal()
    builder = ReportBuilder(Rules(), since=SINCE, until=UNTIL, owners=OWNERS)
    for start in range(0, len(contacts), batch_size):
        batch = contacts[start : start + batch_size]
        wanted = {r.id: touches.get(r.id, []) for r in batch if builder.needs_touches(r)}
        builder.add(batch, wanted)
    builder.add_mqls(mqls)
    return builder.finish().tables()


def pick(rows: list[dict], **match: object) -> dict:
    [row] = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return row


def test_funnel_by_month_counts_sqls_and_what_they_are_now() -> None:
    funnel = built()["funnel"]
    assert [(r["month"], r["sqls"]) for r in funnel] == [
        ("2026-09", 1),
        ("2026-10", 2),
        ("2026-11", 2),
        ("total", 5),
    ]
    october = pick(funnel, month="2026-10")
    assert (october["open_deal"], october["attempted"], october["open_deal_rate"]) == (1, 1, 0.5)
    assert pick(funnel, month="2026-09")["recycled_rate"] == 1.0
    assert pick(funnel, month="2026-11")["new"] == 2  # the SQL before the window is not counted
    reached = pick(built()["funnel_reached"], month="2026-10")
    assert [reached[k] for k in ("attempted", "connected", "meeting_scheduled", "open_deal")] == [
        2,
        1,
        1,
        1,
    ]
    assert reached["connected_rate"] == 0.5 and reached["customer"] == 0


@pytest.mark.parametrize(
    ("owner", "status", "spells", "median_hours", "p90_hours"),
    [
        ("All owners", "NEW", 3, 48.0, 105.6),  # 4 h, 48 h, 120 h (ongoing ones not counted)
        ("All owners", "ATTEMPTED_TO_CONTACT", 1, 48.0, 48.0),
        ("All owners", "UNQUALIFIED", 1, 264.0, 264.0),  # ended by clearing the status
        ("Ann Ames", "NEW", 3, 48.0, 105.6),
    ],
)
def test_time_in_status(owner: str, status: str, spells: int, median_hours, p90_hours) -> None:
    row = pick(built()["time_in_status"], owner=owner, status=status)
    assert (row["spells"], row["median_hours"], row["p90_hours"]) == (
        spells,
        median_hours,
        p90_hours,
    )


def test_no_time_in_status_for_spells_still_running() -> None:
    rows = built()["time_in_status"]
    assert not [r for r in rows if r["status"] == "CONNECTED" or r["owner"] == "Bo"]


def test_stuck_leads_past_their_status_threshold_per_owner() -> None:
    stuck = built()["stuck"]
    assert [(r["owner"], r["contact_id"], r["status"], r["days"]) for r in stuck] == [
        ("(no owner)", "6", "NEW", 114.5),
        ("Ann Ames", "2", "ATTEMPTED_TO_CONTACT", 42.1),
        ("Bo", "3", "NEW", 3.0),  # contact 4, New for 12 hours, is not stuck yet
    ]


@pytest.mark.parametrize(
    ("owner", "leads", "touched", "within", "share", "median_hours", "p90_hours", "breaches"),
    [
        ("All owners", 4, 3, 2, 0.5, 6.0, 38.8, 2),  # delays 3 h, 6 h, 47 h + one untouched
        ("Ann Ames", 3, 3, 2, 0.6667, 6.0, 38.8, 1),
        ("Bo", 1, 0, 0, 0.0, None, None, 1),  # touched after `until`: not yet, 72 h late
    ],
)
def test_first_touch_sla_per_owner(
    owner: str,
    leads: int,
    touched: int,
    within: int,
    share: float,
    median_hours,
    p90_hours,
    breaches: int,
) -> None:
    row = pick(built()["first_touch"], owner=owner)
    assert (row["leads"], row["touched"], row["within_sla"], row["share_within_sla"]) == (
        leads,
        touched,
        within,
        share,
    )
    assert (row["median_hours"], row["p90_hours"], row["breaches"]) == (
        median_hours,
        p90_hours,
        breaches,
    )


def test_sla_breaches_are_listed_with_their_delay() -> None:
    breaches = built()["sla_breaches"]
    assert [(r["contact_id"], r["hours"], r["first_touch_at"][:16]) for r in breaches] == [
        ("2", 47.0, "2026-10-12T08:00"),
        ("3", 72.0, ""),
    ]


@pytest.mark.parametrize(
    ("band", "mqls", "sqls", "converted", "conversion_rate"),
    [
        ("< 0", 0, 0, 0, None),
        ("25–50", 1, 1, 0, 0.0),
        ("50–75", 2, 2, 0, 0.0),
        ("75–100", 0, 1, 1, 1.0),
        ("no score", 2, 1, 0, 0.0),  # MQL scores unset and "n/a"
    ],
)
def test_score_bands(band: str, mqls: int, sqls: int, converted: int, conversion_rate) -> None:
    row = pick(built()["score_bands"], band=band)
    assert (row["mqls"], row["sqls"], row["converted"], row["conversion_rate"]) == (
        mqls,
        sqls,
        converted,
        conversion_rate,
    )


def test_what_if_thresholds_around_the_current_one() -> None:
    rows = built()["what_if"]
    assert [
        (
            r["threshold"],
            r["current"],
            r["mqls_promoted_now"],
            r["sqls_at_or_above"],
            r["conversion_rate"],
        )
        for r in rows
    ] == [
        (30, False, 3, 4, 0.25),
        (40, False, 3, 4, 0.25),
        (50, True, 2, 3, 0.3333),
        (60, False, 1, 2, 0.5),
        (70, False, 1, 1, 1.0),
    ]


def test_an_sql_is_banded_by_the_score_it_had_when_it_became_sql() -> None:
    sql_at = at("2026-10-01 00:00")
    history = {
        "lifecyclestage": ((SQL, sql_at),),
        "lead_score": (("95", at("2026-10-20 00:00")), ("40", at("2026-09-01 00:00"))),
    }
    record = Record("9", {"lifecyclestage": SQL, "lead_score": "95"}, history)
    builder = ReportBuilder(Rules(), since=SINCE, until=UNTIL, owners={})
    builder.add([record], {})
    bands = {row["band"]: row["sqls"] for row in builder.finish().tables()["score_bands"]}
    assert (bands["25–50"], bands["75–100"]) == (1, 0)


def test_batches_do_not_change_the_numbers() -> None:
    assert built(batch_size=1) == built(batch_size=100)


def test_a_manager_sees_their_owners_beside_the_portal() -> None:
    contacts, touches, _ = portal()
    builder = ReportBuilder(Rules(), since=SINCE, until=UNTIL, owners=OWNERS)
    builder.add(contacts, touches)
    tables = builder.finish().for_owners({"102"}).tables()
    assert {r["owner"] for r in tables["first_touch"]} == {"All owners", "Bo"}
    assert [r["contact_id"] for r in tables["stuck"]] == ["3"]
    assert tables["funnel"] == built()["funnel"]


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"score_bands": [50, 10]}, "report.score_bands: edges must be strictly ascending"),
        ({"stuck_days": {"new": 0}}, "report.stuck_days.new: 0 is not allowed"),
        ({"managers": {"boss": ["1"]}}, "'boss' is not an email address"),
        ({"managers": {"boss@example.com": ["ann"]}}, "owner ids must be a non-empty list"),
        ({"stuck_dayz": {}}, "report.stuck_dayz: unknown key"),
    ],
)
def test_bad_report_config_names_the_key_and_value(report: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules({"report": report})
    assert message in str(caught.value)

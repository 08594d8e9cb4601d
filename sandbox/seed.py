"""Deterministic demo data (`seed="demo"`) and the `empty` seed.

Dates count back from the store's anchor time T (the `now` given to the sandbox, else the
current hour). Ids are assigned in table order below: contacts from 1001, emails from 50001,
calls 60001, meetings 70001, tasks 80001, deals 30001. The same seed and `contacts` give the
same data.

Owners (5): 70000001 Alice Archer, 70000002 Bob Baker, 70000003 Chloé Dubois (active, with
email); 70000004 Dan Departed (archived, `userId` null, only with `archived=true`);
70000005 Eve Noemail (active, no email). Contacts in ordinary groups rotate over the three
active owners with email.

"Outbound touch" = email `hs_email_direction=EMAIL` with status SENT, or call
`hs_call_direction=OUTBOUND`. Every outbound touch of the NEW/ATTEMPTED groups is dated after
the contact became NEW (lead-status history), except in `new_touched_before`. Scores are
numbers: `lead_score` is a number property, so HubSpot refuses non-numeric values (no "n/a").
`product_interest` cycles analytics, crm, payments, (unset) in the recycle groups; one
UNQUALIFIED contact holds the value `hardware`, which is not among the property's options
(an option deleted after data was set).

Scenario groups (default 300 contacts; ids are consecutive in this order). "Expected" is what
each rule should do with the group on the seed as it is (each rule judged alone, default
config/lifecycle.yaml). d = days before T; "touch" = outbound touch.

| group | n | data | expected |
|---|---|---|---|
| mql_hot | 20 | MQL, lead_score 50..95 (first exactly 50) | promote → SQL + NEW |
| mql_cold | 8 | MQL, lead_score 0..49.5 (one 49.5, one 49) | nothing |
| mql_no_score | 10 | MQL, lead_score unset | nothing |
| late_stage_high_score | 10 | 5 opportunity + 5 customer, lead_score 90 | nothing |
| lead_high_score | 5 | lead, lead_score 80 | nothing |
| sql_no_status | 15 | SQL, hs_lead_status unset | new_lead → NEW |
| new_emailed | 15 | NEW 3 d; email SENT 1 d | attempted |
| new_called | 10 | NEW 3 d; call no answer 1 d | attempted |
| new_connected_call | 5 | NEW 3 d; call CONNECTED 1 d | attempted; connected |
| new_inbound_only | 8 | NEW 3 d; reply + inbound CONNECTED call after | connected (call) |
| new_forwarded | 5 | NEW 3 d; FORWARDED_EMAIL after | no attempted |
| new_bounced | 5 | NEW 3 d; email BOUNCED (3) / FAILED (2) | no attempted |
| new_touched_before | 8 | NEW 2 d; email 5 d + call 4 d (before NEW) | no attempted |
| new_imported | 5 | NEW since creation (3-13 d), no status write; email 1 d (*) | attempted |
| new_with_open_task | 6 | NEW 3 d; open `[leadops:first_touch]` task | no first-touch task |
| new_with_done_task | 4 | NEW 3 d; COMPLETED first-touch task | first-touch task |
| new_with_other_task | 4 | NEW 3 d; open task without a leadops marker | first-touch task |
| attempted_stale | 12 | ATTEMPTED; 2 touches, last 3 d | next-attempt task |
| attempted_recent | 8 | ATTEMPTED; 2 touches, last 1 d | nothing |
| attempted_stale_with_task | 4 | as stale + open `[leadops:next_attempt]` | nothing |
| attempted_four_old | 4 | ATTEMPTED; 4 touches, last 16 d | next-attempt task; no recycle |
| attempted_exhausted | 10 | ATTEMPTED; 5 touches, last 15 d | recycle |
| attempted_exhausted_old_reply | 3 | as exhausted, touches 2 d apart; reply 20 d | recycle; conn. |
| attempted_exhausted_replied | 5 | as exhausted + reply email 5 d | connected |
| attempted_exhausted_connected | 3 | as exhausted + 6th touch, CONNECTED call 6 d | connected |
| attempted_exhausted_meeting | 3 | as exhausted + COMPLETED meeting 7 d | meeting_scheduled |
| unqualified | 12 | SQL, UNQUALIFIED; product_interest (**) | recycle |
| unqualified_in_sequence | 3 | UNQUALIFIED, hs_sequences_is_enrolled=true | nothing (held) |
| unqualified_next_activity | 3 | UNQUALIFIED, notes_next_activity_date T+2 d | nothing (held) |
| unqualified_with_deal | 3 | UNQUALIFIED + an open deal (qualifiedtobuy) | nothing (held) |
| mql_hot_unowned | 4 | MQL, lead_score 70, no owner | promote (notice → ops) |
| mql_hot_archived_owner | 3 | MQL, score 70, owner 70000004 (archived) | promote (notice → ops) |
| mql_hot_owner_no_email | 3 | MQL, score 70, owner 70000005 (no email) | promote (notice → ops) |
| mql_hot_odd_names | 3 | MQL, lead_score 60; odd names (***) | promote |
| subscribers | 1 | subscriber | nothing |
| leads | 1 | lead; lead_score 0 | nothing |
| sql_other_status | 16 | SQL; OPEN/IN_PROGRESS/CONNECTED/OPEN_DEAL/BAD_TIMING | nothing |
| customers | 3 | customer (2) / evangelist (1) | nothing |
| other_stage | 1 | lifecyclestage other | nothing |
| **ladder** | | (`LADDER_GROUPS`; "CONNECTED 2 d" = status since 2 d, NEW before) | |
| ladder_replied | 3 | NEW 3 d; email 2 d; reply 1 d | connected (alone: attempted) |
| ladder_attempted_replied | 3 | ATTEMPTED; 2 touches, last 3 d; reply 1 d | connected |
| ladder_reply_unprompted | 2 | NEW 3 d; reply 1 d, no outbound touch | no connected; first touch |
| ladder_meeting_booked | 3 | CONNECTED 2 d; meeting T+2 d, booked 1 d | meeting_scheduled |
| ladder_meeting_canceled | 2 | as booked, outcome CANCELED | nothing |
| ladder_meeting_before_new | 2 | CONNECTED 2 d (NEW 6 d); meeting 9 d, booked 10 d | nothing |
| ladder_meeting_unrecorded | 3 | MEETING_SCHEDULED 5 d; meeting 2 d, outcome SCHEDULED | task |
| ladder_meeting_unrecorded_tasked | 1 | as unrecorded + its COMPLETED outcome task | nothing |
| ladder_open_deal | 3 | CONNECTED 5 d; deal in qualifiedtobuy (Sales Pipeline) | open_deal |
| ladder_open_deal_meeting | 2 | MEETING_SCHEDULED 5 d; deal in Renewals "Renewal due" | open_deal |
| ladder_deal_closed | 2 | CONNECTED 5 d; deal closedlost / closedwon | nothing |
| ladder_bad_timing_due | 2 | BAD_TIMING 40 d | re-approach task |
| ladder_bad_timing_tasked | 1 | BAD_TIMING 40 d + its COMPLETED re-approach task | nothing |
| ladder_no_step_back | 1 | OPEN_DEAL 5 d; email 3 d, reply 2 d, meeting T+3 d | nothing |
| **qualification** | | (`QUALIFICATION_GROUPS`; `config/scoring-example.yaml`) | |
| mql_fit_engaged | 3 | MQL, lead_score 10, fit 42, engagement 25, label B2 | promote (†) |
| mql_top_label | 3 | MQL, lead_score 10, label A1 | promote (†) |
| mql_fit_only | 2 | MQL, lead_score 10, fit 42, engagement 10, label C3 | nothing |
| lead_qualifies | 3 | lead, fit 35, engagement 15 | qualify → MQL (†) |
| lead_unfit | 2 | lead, fit 10, engagement 15 | nothing |
| subscriber_qualifies | 2 | subscriber, fit 35, engagement 15 | qualify → MQL (†) |
| sla_task_overdue | 2 | NEW 1 h; open first-touch task due 30 min ago | no task; SLA breach (†) |
| sla_new_recent | 2 | NEW 1 h; no task | first-touch task; no breach |

(*) history gives the value at creation; hs_lifecyclestage_salesqualifiedlead_date = creation + 3 h.
(**) analytics 3, crm 3, payments 3, unset 2, `hardware` 1 → lists Analytics 3, CRM 3,
Payments 3, General 3 (unset and unknown go to the default list).
(***) "Zoë 🚀" "Ünïcode"; "<b>Bold</b>" "& <i>Co</i>"; "Maximilian" x 15 + "Long" x 40.
(†) with `config/scoring-example.yaml` (promote.when: fit ≥ 30 and engagement ≥ 20, or label
A1/A2/B1, or lead_score ≥ 50; qualify on, with subscribers: fit ≥ 30; sla on, 4 hours). The
properties `fit_score`, `engagement_score` and `lead_score_label` are set only in these groups.

Totals at 300, each rule alone: promote 33 (mql_hot + the four mql_hot_* groups); new_lead 15;
open_deal 5 (ladder_open_deal, ladder_open_deal_meeting); meeting_scheduled 9 (6 moves:
attempted_exhausted_meeting, ladder_meeting_booked; 3 record-outcome tasks); connected 30
(new_connected_call 5, new_inbound_only 8, attempted_exhausted_replied 5, _connected 3,
_old_reply 3, ladder_replied 3, ladder_attempted_replied 3); attempted 38 (new_emailed,
new_called, new_connected_call, new_imported, ladder_replied); follow-up 93 (first-touch tasks
74: all 80 NEW contacts but new_with_open_task; next-attempt tasks 19: attempted_stale,
attempted_four_old, ladder_attempted_replied); bad_timing 2; recycle 25 contacts (unqualified,
attempted_exhausted, attempted_exhausted_old_reply), nurture lists Analytics 7, CRM 7,
Payments 6, General 5 (attempted groups cycle analytics, crm, payments, unset by position).
A whole cycle in rule order (promote, new_lead, open_deal, meeting_scheduled, connected,
attempted, followup, bad_timing, recycle) sees earlier rules' changes: connected takes
new_connected_call and ladder_replied before attempted (30 left) and new_inbound_only,
ladder_attempted_replied and attempted_exhausted_old_reply before follow-up and recycle;
first-touch tasks go to the 48 contacts promote and new_lead made NEW plus the 28 NEW contacts
nothing moved (76), next-attempt 16; recycle 22 contacts (44 changes).

Totals at 300: promote 33 (mql_hot + the four mql_hot_* groups); new_lead 15; attempted 35
(new_emailed, new_called, new_connected_call, new_imported); first-touch tasks 71 (all 79 NEW
contacts but new_with_open_task and sla_task_overdue); next-attempt tasks 16 (attempted_stale,
attempted_four_old);
recycle 25 (unqualified, attempted_exhausted, attempted_exhausted_old_reply), nurture lists
Analytics 7, CRM 7, Payments 6, General 5 (attempted groups cycle analytics, crm, payments,
unset by position). A whole cycle in rule order (promote, new_lead, attempted, followup,
recycle) sees earlier rules' changes: first-touch tasks then go to the 48 contacts promote and
new_lead made NEW plus the 36 NEW contacts attempted leaves NEW (84), next-attempt stays 16.
With `config/scoring-example.yaml` the cycle also qualifies 5 (lead_qualifies,
subscriber_qualifies), promotes 6 more (39) and gives them first-touch tasks (90); the
first-touch SLA finds 42 breaches: the 40 NEW contacts of the new_* groups with no outbound
touch since they became New days ago (new_inbound_only, new_forwarded, new_bounced,
new_touched_before, new_with_open_task, new_with_done_task, new_with_other_task) and
sla_task_overdue.
Every ATTEMPTED contact became NEW 2 d before its first touch and ATTEMPTED 1 h after it.
All engagements are associated with their contact and carry its owner; the contact's
roll-ups (notes_last_contacted, num_contacted_notes, hs_sales_email_last_replied,
notes_last_updated) agree with them.

`contacts=N` scales every group to `n * N // 300` and gives the remainder to `subscribers`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.seeder import (
    ARCHIVED_OWNER,
    BASE_CONTACTS,
    CONNECTED,
    DAY,
    HOUR,
    INTERESTS,
    NO_EMAIL_OWNER,
    ODD_NAMES,
    OWNERS,
    Builder,
    Seeder,
)
from sandbox.store import Store
from sandbox.tables import iso


@dataclass(frozen=True)
class Group:
    name: str
    count: int
    build: Builder


def _mql(
    score: Callable[[int], str | None],
    owner: Callable[[int], str | None] | None = None,
    names: bool = False,
) -> Builder:
    def build(s: Seeder, i: int) -> None:
        cid = s.contact(
            "marketingqualifiedlead", owner=owner(i) if owner else "rotate", lead_score=score(i)
        )
        if names:
            first, last = ODD_NAMES[i % len(ODD_NAMES)]
            s.store.tables["contacts"].records[cid].props.update(firstname=first, lastname=last)

    return build


def _new(then: Callable[[Seeder, int, int], None], new_days: float = 3) -> Builder:
    def build(s: Seeder, i: int) -> None:
        cid = s.contact("salesqualifiedlead", "NEW", status_at=s.ago(new_days, 6))
        then(s, cid, i)

    return build


def _attempted(
    touches: int,
    last_days: float,
    then: Callable[[Seeder, int], None] | None = None,
    spacing: float = 1.0,
) -> Builder:
    def build(s: Seeder, i: int) -> None:
        first_touch = last_days + (touches - 1) * spacing
        new_at = s.ago(first_touch + 2, 6)
        cid = s.contact(
            "salesqualifiedlead",
            "NEW",
            status_at=new_at,
            created_days=60,
            product_interest=INTERESTS[i % len(INTERESTS)],
        )
        s.touches(cid, touches, last_days, spacing)
        s.set_status(cid, "ATTEMPTED_TO_CONTACT", s.ago(first_touch) + HOUR)
        if then:
            then(s, cid)

    return build


def _unqualified(
    interest: Callable[[int], str | None], **extra: str
) -> Callable[[Seeder, int], int]:
    def build(s: Seeder, i: int) -> int:
        cid = s.contact(
            "salesqualifiedlead",
            "NEW",
            status_at=s.ago(20, 24),
            created_days=60,
            product_interest=interest(i),
            **extra,
        )
        s.call(cid, s.ago(18))
        s.set_status(cid, "UNQUALIFIED", s.ago(10, 24))
        return cid

    return build


def _plain(
    stage: str,
    status: Callable[[int], str | None] = lambda i: None,
    score: Callable[[int], str | None] = lambda i: None,
) -> Builder:
    def build(s: Seeder, i: int) -> None:
        st = status(i)
        s.contact(stage, st, status_at=s.ago(15, 48) if st else None, lead_score=score(i))

    return build


def _first_touch(status: str, marker: bool = True) -> Callable[[Seeder, int, int], None]:
    def then(s: Seeder, cid: int, i: int) -> None:
        body = "Reach out today.\n\n[leadops:first_touch]" if marker else "Send the pricing sheet."
        subject = "First touch" if marker else "Send pricing"
        s.task(cid, s.ago(2), subject, body, status)

    return then


# ---- qualification and escalation (issue #14): multi-criteria scores, Lead -> MQL, SLA ----
# Judged with config/scoring-example.yaml (promote.when, qualify on, sla on); with the default
# rules only sla_new_recent changes anything (a first-touch task).


def _scored(stage: str, fit: str | None, engagement: str | None, label: str | None) -> Builder:
    def build(s: Seeder, i: int) -> None:
        s.contact(
            stage,
            lead_score="10" if stage == "marketingqualifiedlead" else None,
            fit_score=fit,
            engagement_score=engagement,
            lead_score_label=label,
        )

    return build


def _sla(new_hours: float, task_due_hours: float | None) -> Builder:
    """NEW `new_hours` ago, untouched; with an open first-touch task due that long ago."""

    def build(s: Seeder, i: int) -> None:
        cid = s.contact("salesqualifiedlead", "NEW", status_at=s.ago(new_hours / 24))
        if task_due_hours is not None:
            body = "Reach out today.\n\n[leadops:first_touch]"
            s.task(cid, s.ago(task_due_hours / 24), "First touch", body)

    return build


QUALIFICATION_GROUPS: tuple[Group, ...] = (
    Group("mql_fit_engaged", 3, _scored("marketingqualifiedlead", "42", "25", "B2")),
    Group("mql_top_label", 3, _scored("marketingqualifiedlead", None, None, "A1")),
    Group("mql_fit_only", 2, _scored("marketingqualifiedlead", "42", "10", "C3")),
    Group("lead_qualifies", 3, _scored("lead", "35", "15", None)),
    Group("lead_unfit", 2, _scored("lead", "10", "15", None)),
    Group("subscriber_qualifies", 2, _scored("subscriber", "35", "15", None)),
    Group("sla_task_overdue", 2, _sla(1, 0.5)),
    Group("sla_new_recent", 2, _sla(1, None)),
)
# ---- end of issue #14 groups ---------------------------------------------------------------

UNQUALIFIED_INTERESTS = (
    "analytics",
    "analytics",
    "analytics",
    "crm",
    "crm",
    "crm",
    "payments",
    "payments",
    "payments",
    None,
    None,
    "hardware",
)
OTHER_STATUSES = ("OPEN", "IN_PROGRESS", "CONNECTED", "OPEN_DEAL", "BAD_TIMING")

# ---- the lead-status ladder (Connected, Meeting Scheduled, Open Deal, Bad Timing) ----------


def _on(status: str, since_days: float, new_days: float) -> Callable[[Seeder], int]:
    """A contact New `new_days` ago and `status` since `since_days` ago."""

    def make(s: Seeder) -> int:
        cid = s.contact("salesqualifiedlead", "NEW", status_at=s.ago(new_days), created_days=60)
        s.set_status(cid, status, s.ago(since_days))
        return cid

    return make


def _ladder(make: Callable[[Seeder], int], then: Callable[[Seeder, int], object]) -> Builder:
    return lambda s, i: then(s, make(s))


def _unrecorded_meeting(tasked: bool) -> Callable[[Seeder, int], None]:
    def then(s: Seeder, cid: int) -> None:
        meeting = s.meeting(cid, s.ago(2), outcome="SCHEDULED", booked=s.ago(5))
        if tasked:
            body = f"Record it.\n\n[leadops:meeting_outcome:{meeting}]"
            s.task(cid, s.ago(1), "Record the meeting outcome", body, "COMPLETED")

    return then


def _bad_timing(tasked: bool) -> Builder:
    def build(s: Seeder, i: int) -> None:
        since = s.ago(40)
        cid = s.contact("salesqualifiedlead", "BAD_TIMING", status_at=since, created_days=60)
        if tasked:
            body = f"Ask again.\n\n[leadops:reapproach:{since}]"
            s.task(cid, s.ago(3), "Re-approach", body, "COMPLETED")

    return build


LADDER_GROUPS: tuple[Group, ...] = (
    Group(
        "ladder_replied",
        3,
        _new(lambda s, c, i: (s.email(c, s.ago(2)), s.email(c, s.ago(1), "INCOMING_EMAIL"))),
    ),
    Group(
        "ladder_attempted_replied",
        3,
        _attempted(2, 3, lambda s, c: s.email(c, s.ago(1), "INCOMING_EMAIL")),
    ),
    Group(
        "ladder_reply_unprompted", 2, _new(lambda s, c, i: s.email(c, s.ago(1), "INCOMING_EMAIL"))
    ),
    Group(
        "ladder_meeting_booked",
        3,
        _ladder(
            _on("CONNECTED", 2, 6),
            lambda s, c: s.meeting(c, s.ago(-2), outcome="SCHEDULED", booked=s.ago(1)),
        ),
    ),
    Group(
        "ladder_meeting_canceled",
        2,
        _ladder(
            _on("CONNECTED", 2, 6),
            lambda s, c: s.meeting(c, s.ago(-2), outcome="CANCELED", booked=s.ago(1)),
        ),
    ),
    Group(
        "ladder_meeting_before_new",
        2,
        _ladder(_on("CONNECTED", 2, 6), lambda s, c: s.meeting(c, s.ago(9), booked=s.ago(10))),
    ),
    Group(
        "ladder_meeting_unrecorded",
        3,
        _ladder(_on("MEETING_SCHEDULED", 5, 8), _unrecorded_meeting(tasked=False)),
    ),
    Group(
        "ladder_meeting_unrecorded_tasked",
        1,
        _ladder(_on("MEETING_SCHEDULED", 5, 8), _unrecorded_meeting(tasked=True)),
    ),
    Group(
        "ladder_open_deal",
        3,
        _ladder(_on("CONNECTED", 5, 10), lambda s, c: s.deal(c, "qualifiedtobuy")),
    ),
    Group(
        "ladder_open_deal_meeting",
        2,
        _ladder(_on("MEETING_SCHEDULED", 5, 10), lambda s, c: s.deal(c, "1002", "1001")),
    ),
    Group(
        "ladder_deal_closed",
        2,
        lambda s, i: s.deal(_on("CONNECTED", 5, 10)(s), ("closedlost", "closedwon")[i % 2]),
    ),
    Group("ladder_bad_timing_due", 2, _bad_timing(tasked=False)),
    Group("ladder_bad_timing_tasked", 1, _bad_timing(tasked=True)),
    Group(
        "ladder_no_step_back",
        1,
        _ladder(
            _on("OPEN_DEAL", 5, 10),
            lambda s, c: (
                s.email(c, s.ago(3)),
                s.email(c, s.ago(2), "INCOMING_EMAIL"),
                s.meeting(c, s.ago(-3), outcome="SCHEDULED", booked=s.ago(2)),
            ),
        ),
    ),
)

GROUPS: tuple[Group, ...] = (
    Group("mql_hot", 20, _mql(lambda i: "50" if i == 0 else str(50 + (i * 7) % 46))),
    Group("mql_cold", 8, _mql(lambda i: ("49.5", "49")[i] if i < 2 else str((i * 13) % 49))),
    Group("mql_no_score", 10, _mql(lambda i: None)),
    Group(
        "late_stage_high_score",
        10,
        lambda s, i: s.contact("opportunity" if i % 2 == 0 else "customer", lead_score="90"),
    ),
    Group("lead_high_score", 5, _plain("lead", score=lambda i: "80")),
    Group("sql_no_status", 15, _plain("salesqualifiedlead")),
    Group("new_emailed", 15, _new(lambda s, c, i: s.email(c, s.ago(1, 6)))),
    Group("new_called", 10, _new(lambda s, c, i: s.call(c, s.ago(1, 6)))),
    Group(
        "new_connected_call", 5, _new(lambda s, c, i: s.call(c, s.ago(1, 6), disposition=CONNECTED))
    ),
    Group(
        "new_inbound_only",
        8,
        _new(
            lambda s, c, i: (
                s.email(c, s.ago(1, 6), "INCOMING_EMAIL"),
                s.call(c, s.ago(2, 6), "INBOUND", CONNECTED),
            )
        ),
    ),
    Group("new_forwarded", 5, _new(lambda s, c, i: s.email(c, s.ago(1, 6), "FORWARDED_EMAIL"))),
    Group(
        "new_bounced",
        5,
        _new(lambda s, c, i: s.email(c, s.ago(1, 6), status="BOUNCED" if i < 3 else "FAILED")),
    ),
    Group(
        "new_touched_before",
        8,
        _new(lambda s, c, i: (s.email(c, s.ago(5, 6)), s.call(c, s.ago(4, 6))), new_days=2),
    ),
    Group(
        "new_imported",
        5,
        lambda s, i: s.email(s.contact("salesqualifiedlead", "NEW", created_days=3), s.ago(1, 6)),
    ),
    Group("new_with_open_task", 6, _new(_first_touch("NOT_STARTED"))),
    Group("new_with_done_task", 4, _new(_first_touch("COMPLETED"))),
    Group("new_with_other_task", 4, _new(_first_touch("NOT_STARTED", marker=False))),
    Group("attempted_stale", 12, _attempted(2, 3)),
    Group("attempted_recent", 8, _attempted(2, 1)),
    Group(
        "attempted_stale_with_task",
        4,
        _attempted(
            2,
            3,
            lambda s, c: s.task(
                c, s.ago(-1), "Try again", "Try another channel.\n\n[leadops:next_attempt]"
            ),
        ),
    ),
    Group("attempted_four_old", 4, _attempted(4, 16)),
    Group("attempted_exhausted", 10, _attempted(5, 15)),
    Group(
        "attempted_exhausted_old_reply",
        3,
        _attempted(5, 15, lambda s, c: s.email(c, s.ago(20), "INCOMING_EMAIL"), spacing=2),
    ),
    Group(
        "attempted_exhausted_replied",
        5,
        _attempted(5, 15, lambda s, c: s.email(c, s.ago(5), "INCOMING_EMAIL")),
    ),
    Group(
        "attempted_exhausted_connected",
        3,
        _attempted(5, 15, lambda s, c: s.call(c, s.ago(6), disposition=CONNECTED)),
    ),
    Group("attempted_exhausted_meeting", 3, _attempted(5, 15, lambda s, c: s.meeting(c, s.ago(7)))),
    Group("unqualified", 12, _unqualified(lambda i: UNQUALIFIED_INTERESTS[i % 12])),
    Group(
        "unqualified_in_sequence", 3, _unqualified(lambda i: "crm", hs_sequences_is_enrolled="true")
    ),
    Group(
        "unqualified_next_activity",
        3,
        lambda s, i: _unqualified(
            lambda j: "analytics", notes_next_activity_date=iso(s.t + 2 * DAY)
        )(s, i),
    ),
    Group(
        "unqualified_with_deal",
        3,
        lambda s, i: s.deal(_unqualified(lambda j: "payments")(s, i), "qualifiedtobuy"),
    ),
    Group("mql_hot_unowned", 4, _mql(lambda i: "70", lambda i: None)),
    Group("mql_hot_archived_owner", 3, _mql(lambda i: "70", lambda i: ARCHIVED_OWNER)),
    Group("mql_hot_owner_no_email", 3, _mql(lambda i: "70", lambda i: NO_EMAIL_OWNER)),
    Group("mql_hot_odd_names", 3, _mql(lambda i: "60", names=True)),
    Group("subscribers", 1, _plain("subscriber")),  # room for the ladder and qualification groups
    Group("leads", 1, _plain("lead", score=lambda i: None if i % 2 else str(i * 2))),
    Group(
        "sql_other_status",
        16,
        _plain("salesqualifiedlead", lambda i: OTHER_STATUSES[i % len(OTHER_STATUSES)]),
    ),
    Group("customers", 3, lambda s, i: s.contact("customer" if i % 2 == 0 else "evangelist")),
    Group("other_stage", 1, _plain("other")),
    *LADDER_GROUPS,
    *QUALIFICATION_GROUPS,
)


def group_sizes(contacts: int | None) -> dict[str, int]:
    """Contacts per group for a demo of `contacts` (default 300)."""
    total = contacts if contacts is not None else BASE_CONTACTS
    sizes = {g.name: g.count * total // BASE_CONTACTS for g in GROUPS}
    sizes["subscribers"] += total - sum(sizes.values())
    return sizes


def seed_store(store: Store, seed: str, contacts: int | None = None) -> dict[str, range]:
    """Fill `store`; returns the contact id range of each demo group (empty for `empty`)."""
    for owner_id, email, first, last, archived in OWNERS:
        store.add_owner(email, first, last, archived=archived, owner_id=owner_id)
    if seed == "empty":
        return {}
    seeder = Seeder(store)
    ranges: dict[str, range] = {}
    sizes = group_sizes(contacts)
    for group in GROUPS:
        start = store.tables["contacts"].next_id
        for i in range(sizes[group.name]):
            group.build(seeder, i)
        ranges[group.name] = range(start, store.tables["contacts"].next_id)
    return ranges

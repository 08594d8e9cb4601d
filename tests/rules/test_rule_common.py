"""Shared rule logic: what counts as an outbound touch, and when a contact became New."""

from __future__ import annotations

import pytest

from config.rules import Rules
from model.records import Engagement
from rules.kit import (
    ENGAGEMENT_PROPERTIES,
    became_new_at,
    contact_properties,
    describe_touch,
    is_outbound_touch,
    touches_since,
)

from rule_builders import SQL, at, call, contact, email, meeting


@pytest.mark.parametrize(
    ("engagement", "counts"),
    [
        (email("e", "2026-11-20 10:00"), True),
        (email("e", "2026-11-20 10:00", status=None), True),  # logged by hand, no status
        (email("e", "2026-11-20 10:00", status="SENDING"), True),
        (email("e", "2026-11-20 10:00", status="BOUNCED"), False),
        (email("e", "2026-11-20 10:00", status="FAILED"), False),
        (email("e", "2026-11-20 10:00", status="SCHEDULED"), False),
        (email("e", "2026-11-20 10:00", direction="INCOMING_EMAIL"), False),
        (email("e", "2026-11-20 10:00", direction="FORWARDED_EMAIL"), False),
        (call("c", "2026-11-20 10:00"), True),
        (call("c", "2026-11-20 10:00", status="NO_ANSWER"), True),
        (call("c", "2026-11-20 10:00", status="BUSY"), True),
        (call("c", "2026-11-20 10:00", status="CANCELED"), False),
        (call("c", "2026-11-20 10:00", status="QUEUED"), False),
        (call("c", "2026-11-20 10:00", direction="INBOUND"), False),
        (meeting("m", "2026-11-20 10:00"), False),
        (Engagement("e", "email", {"hs_email_direction": "EMAIL", "hs_timestamp": "soon"}), False),
    ],
)
def test_outbound_touch(engagement: Engagement, counts: bool) -> None:
    assert is_outbound_touch(engagement) is counts


def test_touches_since_are_strictly_after_oldest_first_and_once_each() -> None:
    before = email("old", "2026-11-19 09:00")
    on_the_dot = call("dot", "2026-11-20 09:00")
    later, earlier = call("b", "2026-11-21 09:00"), email("a", "2026-11-20 12:00")
    found = touches_since([before, on_the_dot, later, earlier, later], at("2026-11-20 09:00"))
    assert [e.id for e in found] == ["a", "b"]


def test_describe_touch_names_kind_and_time() -> None:
    assert describe_touch(call("c", "2026-11-20 14:02")) == "outbound call on 2026-11-20 14:02 UTC"


class TestBecameNew:
    def test_start_of_the_latest_run_of_new(self, rules: Rules) -> None:
        record = contact(
            status="NEW",
            history=[
                ("NEW", "2026-11-20 10:00"),
                ("NEW", "2026-11-18 10:00"),
                ("ATTEMPTED_TO_CONTACT", "2026-11-10 10:00"),
                ("NEW", "2026-11-01 10:00"),
            ],
            **{"hs_lifecyclestage_salesqualifiedlead_date": "2026-10-01T00:00:00Z"},
        )
        assert became_new_at(record, rules) == at("2026-11-18 10:00")

    def test_latest_run_while_status_moved_on(self, rules: Rules) -> None:
        record = contact(
            status="ATTEMPTED_TO_CONTACT",
            history=[("ATTEMPTED_TO_CONTACT", "2026-11-21 10:00"), ("NEW", "2026-11-19 10:00")],
        )
        assert became_new_at(record, rules) == at("2026-11-19 10:00")

    def test_falls_back_to_sql_date_in_epoch_millis(self, rules: Rules) -> None:
        millis = str(int(at("2026-11-02 08:00").timestamp() * 1000))
        record = contact(stage=SQL, status="NEW", hs_lifecyclestage_salesqualifiedlead_date=millis)
        assert became_new_at(record, rules) == at("2026-11-02 08:00")

    def test_history_without_time_falls_back(self, rules: Rules) -> None:
        record = contact(
            status="NEW",
            history=[("NEW", None)],
            hs_lifecyclestage_salesqualifiedlead_date="2026-11-02T08:00:00Z",
        )
        assert became_new_at(record, rules) == at("2026-11-02 08:00")

    def test_unknown(self, rules: Rules) -> None:
        record = contact(status="NEW", hs_lifecyclestage_salesqualifiedlead_date="garbage")
        assert became_new_at(record, rules) is None

    def test_uses_the_portal_value_of_the_new_role(self) -> None:
        rules = Rules.model_validate({"lead_status": {"new": "🆕 New"}})
        record = contact(history=[("🆕 New", "2026-11-19 10:00"), ("NEW", "2026-11-01 10:00")])
        assert became_new_at(record, rules) == at("2026-11-19 10:00")


def test_contact_properties_have_owner_and_name_without_duplicates() -> None:
    props = contact_properties("lifecyclestage", "lead_score")
    assert {"hubspot_owner_id", "firstname", "lastname", "email", "lead_score"} <= set(props)
    assert len(props) == len(set(props))


def test_engagement_properties_cover_what_the_rules_read() -> None:
    assert "hs_email_direction" in ENGAGEMENT_PROPERTIES["email"]
    assert "hs_call_disposition" in ENGAGEMENT_PROPERTIES["call"]
    assert "hs_meeting_start_time" in ENGAGEMENT_PROPERTIES["meeting"]
    assert {"hs_task_body", "hs_task_status"} <= set(ENGAGEMENT_PROPERTIES["task"])
    engagements = {k: v for k, v in ENGAGEMENT_PROPERTIES.items() if k != "deal"}
    assert all("hs_timestamp" in props for props in engagements.values())
    assert {"dealstage", "pipeline"} <= set(ENGAGEMENT_PROPERTIES["deal"])

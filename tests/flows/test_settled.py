"""What an incremental cycle may skip: a contact or engagement a rule saw as it is now, and
nothing else (`flows.settled`, `runstate.judged`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from flows.settled import (
    engagements_seen,
    fingerprint,
    judged_prints,
    unchanged,
    unseen_contacts,
)
from model.changes import Change, ChangeResult, Outcome
from model.records import Engagement, Record
from runstate.deadlines import RunStateStore
from runstate.judged import JudgedStore
from tasks.changes import ChangedEngagement

NAMES = ["hs_lead_status", "lifecyclestage", "hubspot_owner_id"]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
values = st.one_of(st.none(), st.sampled_from(["", "NEW", "ATTEMPTED_TO_CONTACT", "lead", "7"]))


def _record(contact_id: str = "101", **props: str | None) -> Record:
    base = {"hs_lead_status": "NEW", "lifecyclestage": "salesqualifiedlead"}
    return Record(contact_id, {**base, "lastmodifieddate": "2026-11-23T12:00:00Z", **props})


def _result(outcome: Outcome, **properties: str) -> ChangeResult:
    change = Change("attempted", "101", "Pat", None, "outbound email", properties=properties)
    return ChangeResult(change, outcome)


@given(name=st.sampled_from(NAMES), before=values, after=values)
def test_a_changed_property_the_rule_reads_is_never_skipped(
    name: str, before: str | None, after: str | None
) -> None:
    kept = {"101": fingerprint(_record(**{name: before}).properties, NAMES)}
    now = _record(**{name: after})
    skipped = unchanged([now], kept, NAMES, set())
    assert skipped == ([] if (before or "") != (after or "") else ["101"])


def test_what_every_write_moves_and_what_the_rule_does_not_read_do_not_count() -> None:
    kept = {"101": fingerprint(_record().properties, NAMES)}
    later = _record(lastmodifieddate="2026-11-23T12:05:00Z", company="Globex")
    assert unchanged([later], kept, NAMES, set()) == ["101"]


def test_a_contact_another_trigger_names_is_judged_whatever_its_fingerprint() -> None:
    kept = {"101": fingerprint(_record().properties, NAMES)}
    assert unchanged([_record()], kept, NAMES, judge_anyway={"101"}) == []
    assert unchanged([_record("102")], kept, NAMES, set()) == []  # never judged: judged now


def test_the_fingerprint_kept_is_the_contact_after_the_rules_own_writes() -> None:
    read = _record()
    written = judged_prints([read], [_result(Outcome.APPLIED, hs_lead_status="ATTEMPTED")], NAMES)
    after = _record(hs_lead_status="ATTEMPTED")
    assert unchanged([after], written, NAMES, set()) == ["101"]
    assert unchanged([read], written, NAMES, set()) == []  # the write did not land: judged


def test_a_failed_change_forgets_the_contact() -> None:
    assert judged_prints([_record()], [_result(Outcome.FAILED, hs_lead_status="X")], NAMES) == {
        "101": None
    }


def test_an_engagement_is_skipped_only_while_it_is_as_the_rule_saw_it() -> None:
    task = ChangedEngagement("9", "2026-11-23T12:00:01Z", ("101",))
    edited = ChangedEngagement("9", "2026-11-23T12:20:00Z", ("101",))
    unstamped = ChangedEngagement("9", None, ("101",))
    seen = {"task/9@101": "2026-11-23T12:00:01Z"}
    assert unseen_contacts([task], "task", seen) == []
    assert unseen_contacts([edited], "task", seen) == ["101"]
    assert unseen_contacts([unstamped], "task", seen) == ["101"]
    assert unseen_contacts([task], "email", seen) == ["101"]  # ids are per object type
    # seen while judging one of its contacts is not seen for the other
    shared = ChangedEngagement("9", "2026-11-23T12:00:01Z", ("101", "102"))
    assert unseen_contacts([shared], "task", seen) == ["102"]


def test_the_rule_keeps_recent_engagements_it_read_and_the_tasks_it_created() -> None:
    recent = Engagement("5", "email", {"hs_lastmodifieddate": "2026-11-23T11:50:00Z"})
    old = Engagement("6", "email", {"hs_lastmodifieddate": "2026-11-20T11:50:00Z"})
    seen = engagements_seen(
        {"101": [recent, old]}, {"9": "2026-11-23T12:00:01Z"}, NOW - timedelta(minutes=30)
    )
    assert seen == {"email/5@101": "2026-11-23T11:50:00Z", "task/9@created": "2026-11-23T12:00:01Z"}


def test_a_task_the_rule_created_is_skipped_while_as_created_with_its_one_contact() -> None:
    seen = {"task/9@created": "2026-11-23T12:00:01Z"}
    created = ChangedEngagement("9", "2026-11-23T12:00:01Z", ("101",))
    assert unseen_contacts([created], "task", seen) == []
    completed = ChangedEngagement("9", "2026-11-23T12:20:00Z", ("101",))
    assert unseen_contacts([completed], "task", seen) == ["101"]
    shared = ChangedEngagement("9", "2026-11-23T12:00:01Z", ("101", "102"))
    assert unseen_contacts([shared], "task", seen) == ["101", "102"]


def test_the_store_keeps_replaces_forgets_and_prunes() -> None:
    store = JudgedStore(RunStateStore("sqlite://"))
    store.keep("1", "followup", {"101": "a", "102": "b"}, NOW - timedelta(hours=1))
    store.keep("1", "followup", {"101": "c", "102": None}, NOW)
    store.keep("2", "followup", {"101": "other portal"}, NOW)
    assert store.seen("1", "followup", ["101", "102", "103"]) == {"101": "c"}
    assert store.seen("1", "recycle", ["101"]) == {}
    store.keep("1", "recycle", {"101": "old"}, NOW - timedelta(hours=1))
    store.prune("1", NOW - timedelta(minutes=30))
    assert store.seen("1", "recycle", ["101"]) == {}
    assert store.seen("1", "followup", ["101"]) == {"101": "c"}
    assert store.seen("2", "followup", ["101"]) == {"101": "other portal"}

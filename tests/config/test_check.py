"""`leadops check` logic: the rules against what the portal has."""

from config.check import PortalFacts, PropertyFacts, check_rules, errors
from config.rules import Rules, parse_rules
from model.records import STAGE_ORDER, DealStage, Owner

STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
    "MEETING_SCHEDULED",  # not a HubSpot default: this portal added it
)
STAGES = (*STAGE_ORDER, "other")


def portal(**overrides: object) -> PortalFacts:
    properties = {
        "lifecyclestage": PropertyFacts("lifecyclestage", "enumeration", STAGES),
        "hs_lead_status": PropertyFacts("hs_lead_status", "enumeration", STATUSES),
        "lead_score": PropertyFacts("lead_score", "number"),
        "product_interest": PropertyFacts("product_interest", "enumeration", ("crm",)),
    }
    properties.update(overrides.pop("properties", {}))  # type: ignore[arg-type]
    values = {
        "properties": properties,
        "owners": [Owner("1", "a@example.com"), Owner("2", None, archived=True)],
        "lists": {"Nurture - General": None},
    }
    values.update(overrides)
    return PortalFacts(**values)  # type: ignore[arg-type]


def test_matching_portal_has_no_errors() -> None:
    assert errors(check_rules(Rules(), portal())) == []


def test_lead_status_value_the_portal_lacks_is_an_error_listing_options() -> None:
    rules = parse_rules({"lead_status": {"attempted": "TRIED"}})
    [problem] = errors(check_rules(rules, portal()))
    assert problem.subject == "lead_status.attempted"
    assert "'TRIED' is not an option of hs_lead_status" in problem.message
    assert "ATTEMPTED_TO_CONTACT" in problem.message


def test_missing_or_non_numeric_score_property() -> None:
    missing = errors(check_rules(Rules(), portal(properties={"lead_score": None})))
    assert [p.message for p in missing] == [
        "contact property 'lead_score' does not exist in the portal"
    ]
    text = portal(properties={"lead_score": PropertyFacts("lead_score", "string")})
    [problem] = errors(check_rules(Rules(), text))
    assert "must be a number property" in problem.message


def test_unknown_stage_and_no_active_owner() -> None:
    rules = parse_rules({"stages": {"sql": "sales_ready"}})
    facts = portal(owners=[Owner("2", None, archived=True)])
    subjects = {p.subject for p in errors(check_rules(rules, facts))}
    assert subjects == {"stages.sql", "owners"}


def test_missing_nurture_list_is_fine_it_gets_created() -> None:
    findings = check_rules(Rules(), portal())
    [list_finding] = [f for f in findings if f.subject.startswith("list")]
    assert list_finding.level == "ok"
    assert "created" in list_finding.message


def test_a_portal_without_meeting_scheduled_is_told_how_to_fix_it() -> None:
    defaults = PropertyFacts("hs_lead_status", "enumeration", STATUSES[:-1])
    [problem] = errors(check_rules(Rules(), portal(properties={"hs_lead_status": defaults})))
    assert problem.subject == "lead_status.meeting_scheduled"
    assert "'MEETING_SCHEDULED' is not an option" in problem.message
    assert "meeting_scheduled.enabled: false" in problem.message
    off = parse_rules(
        {"meeting_scheduled": {"enabled": False}, "lead_status": {"meeting_scheduled": ""}}
    )
    assert errors(check_rules(off, portal(properties={"hs_lead_status": defaults}))) == []


def test_deal_pipelines_are_summarised_when_open_deal_runs() -> None:
    stages = {
        ("default", "qualified"): DealStage("default", "qualified", "Qualified", False),
        ("default", "closedlost"): DealStage("default", "closedlost", "Closed lost", True),
    }
    findings = check_rules(Rules(), portal(deal_stages=stages))
    [finding] = [f for f in findings if f.subject == "deal pipelines"]
    assert finding.message == "1 pipeline(s), 1 open stage(s) of 2"


def test_conditions_are_checked_against_the_portal() -> None:
    rules = parse_rules(
        {
            "promote": {
                "when": [
                    [
                        {"property": "fit_score", "op": ">=", "value": 30},
                        {"property": "score_label", "op": "in", "value": ["A1", "Z9"]},
                    ],
                    [{"property": "missing_score", "op": "has"}],
                ]
            },
            "qualify": {
                "enabled": True,
                "when": [[{"property": "product_interest", "op": ">", "value": 3}]],
            },
        }
    )
    facts = portal(
        properties={
            "fit_score": PropertyFacts("fit_score", "number"),
            "score_label": PropertyFacts("score_label", "enumeration", ("A1", "A2", "B1")),
        }
    )
    problems = {p.subject: p.message for p in errors(check_rules(rules, facts))}
    assert problems == {
        "promote.when[0][1] score_label in A1, Z9 value 'Z9'": (
            "'Z9' is not an option of score_label; allowed: A1, A2, B1"
        ),
        "promote.when[1][0] missing_score has value": (
            "contact property 'missing_score' does not exist in the portal"
        ),
        "qualify.when[0][0] product_interest > 3": (
            "'product_interest' has type 'enumeration'; the score must be a number property "
            "(a condition compares it as a number)"
        ),
    }

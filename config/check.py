"""Check the rules against what the portal actually has. Pure: facts in, problems out.

Example:
    ```python
    from config.check import PortalFacts, check_rules
    from config.conditions import Condition, Group, condition_properties
from config.rules import Rules

    problems = check_rules(Rules(), PortalFacts(properties={}, owners=[], lists={}))
    print("\\n".join(p.message for p in problems))
    ```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from config.conditions import Condition, Group, condition_properties
from config.rules import Rules
from model.records import DealStage, Owner

NUMERIC_TYPES = {"number"}
STAGE_PROPERTY, STATUS_PROPERTY = "lifecyclestage", "hs_lead_status"


@dataclass(frozen=True)
class PropertyFacts:
    """What the portal says about one contact property (None where it does not exist)."""

    name: str
    type: str
    options: tuple[str, ...] = ()
    read_only: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # option value -> its label


@dataclass(frozen=True)
class PortalFacts:
    properties: Mapping[str, PropertyFacts | None]
    owners: Sequence[Owner]
    lists: Mapping[str, str | None]  # configured list name -> list id, None when missing
    problems_reading: Sequence[str] = field(default_factory=tuple)
    # Deal stages by (pipeline id, stage id); None when not read (open_deal disabled).
    deal_stages: Mapping[tuple[str, str], DealStage] | None = None

    def labels(self) -> dict[str, dict[str, str]]:
        """Option labels of every enumeration read: {property: {value: label}}."""
        return {name: dict(info.labels) for name, info in self.properties.items() if info}


@dataclass(frozen=True)
class Finding:
    level: Literal["ok", "warning", "error"]
    subject: str
    message: str


def condition_sets(rules: Rules) -> dict[str, tuple[Group, ...]]:
    """The conditions in force, by the config key that holds them (disabled rules' skipped)."""
    sets = {"promote": rules.promote.conditions}
    if rules.qualify.enabled:
        sets["qualify"] = rules.qualify.conditions
    return sets


def required_properties(rules: Rules) -> list[str]:
    read = [p for groups in condition_sets(rules).values() for p in condition_properties(groups)]
    return list(
        dict.fromkeys(
            [STAGE_PROPERTY, STATUS_PROPERTY, *read, rules.recycle.product_interest_property]
        )
    )


def _options(
    facts: PortalFacts, prop: str, wanted: Mapping[str, str], allow_empty: bool = False
) -> list[Finding]:
    info = facts.properties.get(prop)
    if info is None:
        return []
    found = []
    for key, value in wanted.items():
        if allow_empty and value == "":
            continue
        if value in info.options:
            found.append(Finding("ok", key, f"{prop} option {value!r} exists"))
        else:
            allowed = ", ".join(info.options) or "(none)"
            found.append(
                Finding("error", key, f"{value!r} is not an option of {prop}; allowed: {allowed}")
            )
    return found


def _property_exists(facts: PortalFacts, prop: str, numeric: bool = False) -> Finding:
    info = facts.properties.get(prop)
    if info is None:
        return Finding("error", prop, f"contact property {prop!r} does not exist in the portal")
    if numeric and info.type not in NUMERIC_TYPES:
        return Finding(
            "error",
            prop,
            f"{prop!r} has type {info.type!r}; the score must be a number property "
            "(a condition compares it as a number)",
        )
    return Finding("ok", prop, f"property exists ({info.type})")


def check_rules(rules: Rules, facts: PortalFacts) -> list[Finding]:
    """Every configured name checked against the portal; errors make a run refuse to write."""
    findings = [Finding("error", "portal", p) for p in facts.problems_reading]
    findings.append(_property_exists(facts, STAGE_PROPERTY))
    findings.append(_property_exists(facts, STATUS_PROPERTY))
    findings += _check_conditions(rules, facts)
    findings.append(_property_exists(facts, rules.recycle.product_interest_property))
    stages = {f"stages.{k}": v for k, v in rules.stages.model_dump().items()}
    findings += _options(facts, STAGE_PROPERTY, stages)
    statuses = {f"lead_status.{k}": v for k, v in rules.lead_status.model_dump().items()}
    statuses["recycle.lead_status"] = rules.recycle.lead_status
    if not rules.meeting_scheduled.enabled:  # its role matters to no rule then
        statuses.pop("lead_status.meeting_scheduled")
    findings += [_with_hint(f) for f in _options(facts, STATUS_PROPERTY, statuses, True)]
    findings += _check_deal_stages(rules, facts)
    findings += _check_owners(facts.owners)
    for name, list_id in facts.lists.items():
        if list_id:
            findings.append(Finding("ok", f"list {name!r}", f"exists (id {list_id})"))
        else:
            findings.append(
                Finding("ok", f"list {name!r}", "missing; it will be created on first recycle")
            )
    return findings


MEETING_HINT = (
    " (HubSpot's default Lead Status has no Meeting Scheduled option: add one in the "
    "portal's property settings, or set meeting_scheduled.enabled: false)"
)


def _with_hint(finding: Finding) -> Finding:
    if finding.level == "error" and finding.subject == "lead_status.meeting_scheduled":
        return Finding(finding.level, finding.subject, finding.message + MEETING_HINT)
    return finding


def _check_deal_stages(rules: Rules, facts: PortalFacts) -> list[Finding]:
    if not rules.open_deal.enabled or facts.deal_stages is None:
        return []
    stages = facts.deal_stages.values()
    if not stages:
        return [Finding("warning", "deal pipelines", "no deal stages: open_deal finds no deal")]
    open_count = sum(1 for stage in stages if not stage.closed)
    pipelines = len({stage.pipeline_id for stage in stages})
    message = f"{pipelines} pipeline(s), {open_count} open stage(s) of {len(stages)}"
    return [Finding("ok", "deal pipelines", message)]


def _check_conditions(rules: Rules, facts: PortalFacts) -> list[Finding]:
    """Each condition's property exists, is a number where compared as one, and the values
    it names are options of an enumeration property."""
    findings: list[Finding] = []
    for key, groups in condition_sets(rules).items():
        for g, group in enumerate(groups):
            for c, condition in enumerate(group):
                found = _property_exists(facts, condition.property, numeric=condition.numeric)
                if key != "promote" or rules.promote.when is not None:  # not the old score keys
                    found = replace(found, subject=f"{key}.when[{g}][{c}] {condition.describe()}")
                findings.append(found)
                findings += _condition_options(facts, condition, found.subject)
    return findings


def _condition_options(facts: PortalFacts, condition: Condition, subject: str) -> list[Finding]:
    info = facts.properties.get(condition.property)
    if info is None or not info.options or condition.numeric or condition.value is None:
        return []
    values = condition.value if isinstance(condition.value, tuple) else (str(condition.value),)
    wanted = {f"{subject} value {v!r}": v for v in values}
    return _options(facts, condition.property, wanted)


def _check_owners(owners: Sequence[Owner]) -> list[Finding]:
    active = [o for o in owners if not o.archived]
    if not active:
        hint = "no active owners readable (check the crm.objects.owners.read scope)"
        return [Finding("error", "owners", hint)]
    archived = len(owners) - len(active)
    findings = [Finding("ok", "owners", f"{len(active)} active, {archived} archived")]
    no_email = [o.id for o in active if not o.email]
    if no_email:
        findings.append(
            Finding("warning", "owners", f"owners without email (digests go to ops): {no_email}")
        )
    return findings


def errors(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]

"""Read what the portal has that the rules name: properties (with option labels), owners,
nurture lists, and deal pipelines when open_deal runs."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from config.check import PortalFacts, PropertyFacts, required_properties
from config.rules import Rules
from gateway.client import HubSpotError, HubSpotGateway


def _list_names(rules: Rules) -> list[str]:
    return list(dict.fromkeys([*rules.recycle.nurture_lists.values(), rules.recycle.default_list]))


@task(name="read-portal-facts", cache_policy=NO_CACHE)
def read_portal_facts(gateway: HubSpotGateway, rules: Rules) -> PortalFacts:
    """Properties with their options, owners and list ids. Reads only; writes nothing."""
    problems: list[str] = []
    properties: dict[str, PropertyFacts | None] = {}
    for name in required_properties(rules):
        info = gateway.property_info("contacts", name)
        properties[name] = (
            PropertyFacts(info.name, info.type, info.options, info.read_only, info.labels)
            if info
            else None
        )
    try:
        owners = gateway.owners()
    except HubSpotError as exc:
        owners = []
        problems.append(f"owners are not readable: {exc}")
    lists = {name: gateway.find_list(name) for name in _list_names(rules)}
    deal_stages = None
    if rules.open_deal.enabled:
        try:
            deal_stages = gateway.deal_stages()
        except HubSpotError as exc:
            problems.append(f"deal pipelines are not readable: {exc}")
    return PortalFacts(
        properties=properties,
        owners=owners,
        lists=lists,
        problems_reading=problems,
        deal_stages=deal_stages,
    )

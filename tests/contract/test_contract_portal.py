"""The contract fixture itself: every contract test starts from a portal it can reach."""

from __future__ import annotations


def test_portal_answers_an_authenticated_read(portal) -> None:  # type: ignore[no-untyped-def]
    """`GET /crm/v3/owners/` answers 200 with `results` for a valid private-app token.

    Source: HubSpot CRM Owners API reference (developers.hubspot.com/docs/api/crm/owners).
    """
    response = portal.request("GET", "/crm/v3/owners/", params={"limit": 1})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["results"], list)

"""The portal's identity, read from HubSpot once per run; configured values become checks.

Watermarks, journals and the run lock are keyed by the portal id, business hours follow its
timezone and record links its UI domain. Taking them from `GET /account-info/v3/details`
rather than from settings keeps two portals on one Prefect server apart with no setting at
all, and gives EU-hosted portals `app-eu1.hubspot.com` links. A setting that HubSpot
contradicts is a mistake (a token of another portal, a copied `.env`): the run stops before
any write, naming the setting and both values.

Example:
    ```python
    from config.settings import Settings
    from gateway.identity import settings_for_portal
    from gateway.types import PortalIdentity

    eu = PortalIdentity("123", "Europe/Berlin", "app-eu1.hubspot.com")
    settings = settings_for_portal(Settings(), eu)
    print(settings.hubspot_portal_id, settings.timezone, settings.hubspot_ui_domain)
    ```
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.settings import DEFAULT_UI_DOMAIN, Settings
from gateway.types import PortalIdentity


class PortalIdentityMismatch(RuntimeError):
    """A configured portal id, timezone or UI domain disagrees with HubSpot's."""


def settings_for_portal(settings: Settings, identity: PortalIdentity) -> Settings:
    """`settings` with the portal's id, timezone and UI domain from HubSpot.

    Raises `PortalIdentityMismatch` when a configured value disagrees. A timezone HubSpot
    names that Python does not know falls back to the configured one (else UTC).
    """
    zone = identity.time_zone if _zone(identity.time_zone) else None
    found = {
        "HUBSPOT_PORTAL_ID": (settings.hubspot_portal_id, identity.portal_id or None),
        "HUBSPOT_PORTAL_TIMEZONE": (settings.hubspot_portal_timezone, zone),
        "HUBSPOT_UI_DOMAIN": (settings.hubspot_ui_domain, identity.ui_domain or None),
    }
    wrong = [
        f"{name} is {configured!r} but HubSpot says the token's portal has {actual!r}"
        for name, (configured, actual) in found.items()
        if configured is not None and actual is not None and not _same(name, configured, actual)
    ]
    if wrong:
        raise PortalIdentityMismatch(
            "the settings do not match the portal, nothing was written: "
            + "; ".join(wrong)
            + ". Unset these settings (leadops reads them from HubSpot) or use the token "
            "of the portal they describe."
        )
    return settings.model_copy(
        update={
            "hubspot_portal_id": identity.portal_id or settings.hubspot_portal_id or "0",
            "hubspot_portal_timezone": zone or settings.hubspot_portal_timezone,
            "hubspot_ui_domain": identity.ui_domain
            or settings.hubspot_ui_domain
            or DEFAULT_UI_DOMAIN,
        }
    )


def _same(name: str, configured: str, actual: str) -> bool:
    if name == "HUBSPOT_PORTAL_TIMEZONE":
        return _same_zone(configured, actual)
    return configured.strip().casefold() == actual.strip().casefold()


def _same_zone(first: str, second: str) -> bool:
    """Equal names, or aliases (`US/Eastern`, `America/New_York`) with the same offsets in
    winter and in summer."""
    if first == second:
        return True
    zones = (_zone(first), _zone(second))
    if None in zones:
        return False
    year = datetime.now(UTC).year
    moments = (datetime(year, 1, 15, tzinfo=UTC), datetime(year, 7, 15, tzinfo=UTC))
    return all(
        moment.astimezone(zones[0]).utcoffset() == moment.astimezone(zones[1]).utcoffset()
        for moment in moments
    )


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None

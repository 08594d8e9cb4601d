"""Account info: the portal's identity (`/account-info/v3/details`) and its daily API usage.

Shapes follow HubSpot's Account Info v3 OpenAPI spec (`PortalInformationResponse`,
`CollectionResponseApiUsageNoPaging`). The identity comes from `SandboxConfig` (`portal_id`,
`time_zone`, `ui_domain`), so tests can stand up an EU portal or several portals at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from sandbox.tables import iso
from sandbox.web import Sandbox


def account_routes(api: FastAPI, sb: Sandbox) -> None:
    @api.get("/account-info/v3/details")
    async def details() -> JSONResponse:
        config = sb.config
        offset = datetime.now(ZoneInfo(config.time_zone)).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        return JSONResponse(
            {
                "portalId": int(config.portal_id),
                "accountType": "STANDARD",
                "timeZone": config.time_zone,
                "companyCurrency": "USD",
                "additionalCurrencies": [],
                "utcOffset": f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02}"
                f":{abs(minutes) % 60:02}",
                "utcOffsetMilliseconds": minutes * 60_000,
                "uiDomain": config.ui_domain,
                "dataHostingLocation": "eu1" if "-eu1" in config.ui_domain else "na1",
            }
        )

    @api.get("/account-info/v3/api-usage/daily/private-apps")
    async def daily_usage() -> JSONResponse:
        """The day's use of the daily budget (`ApiUsage`); 0 limit when the budget is off."""
        gate = sb.gate
        zone = ZoneInfo(sb.config.time_zone)
        today = datetime.fromtimestamp(sb.store.clock() / 1000, UTC).astimezone(zone).date()
        resets = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
        usage = {
            "name": "private-apps-api-calls-daily",
            "usageLimit": gate.limits.daily or 0,
            "currentUsage": gate.daily_used,
            "collectedAt": iso(sb.store.clock()),
            "fetchStatus": "SUCCESS",
            "resetsAt": iso(int(resets.timestamp() * 1000)),
        }
        return JSONResponse({"results": [usage]})

"""leadops' share of the portal's daily HubSpot API budget.

HubSpot's daily request budget (250,000 on Free/Starter, 625,000–650,000 on Professional,
1,000,000 on Enterprise; reset at the portal's midnight) is shared by every app on the
portal: a tool that spends most of it starves the customer's other integrations. A run
therefore stops, the way it stops at HubSpot's DAILY 429, once leadops has spent
`leadops_daily_budget_share` of the day's budget.

What leadops has spent today is the private-app usage HubSpot reports at the start of the run
(`GET /account-info/v3/api-usage/daily/private-apps`, legacy private apps only; other tokens
get 403/404, and then only this run's calls count) plus this run's calls. The day's budget
and what is left of it across all apps come from the `X-HubSpot-RateLimit-Daily` and
`-Daily-Remaining` headers on HubSpot's answers (or the usage endpoint's `usageLimit`).

Example:
    ```python
    from gateway.budget import DailyBudget

    budget = DailyBudget(share=0.2, spent_before=40_000, limit=250_000)
    budget.count_call()
    print(budget.exhausted(), budget.describe())
    ```
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class DailyBudget:
    """One run's view of the day's budget: what leadops may spend and has spent."""

    share: float
    spent_before: int = 0  # leadops' use today before this run (usage endpoint), if known
    limit: int | None = None  # the portal's daily budget
    remaining: int | None = None  # left today for every app on the portal (latest header)
    calls: int = 0  # this run's requests
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def cap(self) -> int | None:
        """Requests leadops may spend today, once the day's budget is known."""
        return int(self.limit * self.share) if self.limit else None

    @property
    def spent(self) -> int:
        return self.spent_before + self.calls

    def exhausted(self) -> bool:
        """Whether leadops' share is spent; a share of 1 leaves the stop to HubSpot's own
        DAILY 429 (which also counts the other apps' requests)."""
        cap = self.cap
        return self.share < 1 and cap is not None and self.spent >= cap

    def count_call(self) -> None:
        with self._lock:
            self.calls += 1

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the day's budget and what is left of it from a response's headers."""
        lowered = {str(k).lower(): v for k, v in headers.items()}
        limit = _number(lowered.get("x-hubspot-ratelimit-daily"))
        remaining = _number(lowered.get("x-hubspot-ratelimit-daily-remaining"))
        with self._lock:
            self.limit = limit or self.limit
            if remaining is not None:
                self.remaining = remaining

    def describe(self) -> str:
        """The day's use in one sentence, for the run report and the stop message."""
        if self.limit is None:
            return f"HubSpot daily budget: unknown (no daily headers); {self.calls} call(s)"
        text = (
            f"HubSpot daily budget: leadops has spent {self.spent:,} of its "
            f"{self.share:.0%} share ({self.cap:,} of the portal's {self.limit:,} requests a day)"
        )
        if self.remaining is not None:
            text += f"; {self.remaining:,} left today for every app on the portal"
        return text

    def stop_message(self, endpoint: str) -> str:
        return (
            f"leadops' share of HubSpot's daily API budget is used up (before {endpoint}): "
            f"{self.describe()}. The rest of the day's budget is left to the portal's other "
            "apps; raise LEADOPS_DAILY_BUDGET_SHARE to let leadops spend more, or run again "
            "after midnight in the portal's timezone."
        )


def _number(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
